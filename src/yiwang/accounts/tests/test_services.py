"""Account use cases: real-name registration, staff management and API tokens."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.accounts import services
from yiwang.accounts.models import ApiToken, User
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Liang-shan-po-2026"


def test_citizen_register__legacy_15_digit_id__stored_as_18_digits():
    user = services.citizen_register(username="wangfang", password=GOOD_PASSWORD,
                                      name="王芳", id_number="110105491231002")
    user.refresh_from_db()
    assert user.id_number == "11010519491231002X"
    assert User.objects.by_id_number("11010519491231002X").get() == user


@pytest.mark.parametrize("bad_id", ["11010519491231002Y", "110105194912310021",
                                    "11010519490231002X", "abc", "99999919491231002X"])
def test_citizen_register__malformed_id__refused_and_nothing_written(bad_id):
    before = (User.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.citizen_register(username="x1", password=GOOD_PASSWORD, name="李四",
                                  id_number=bad_id)
    assert "id_number" in exc.value.message_dict
    assert (User.objects.count(), AuditEntry.objects.count()) == before


def test_citizen_register__same_id_twice__refused():
    services.citizen_register(username="a1", password=GOOD_PASSWORD, name="王芳",
                              id_number="11010519491231002X")
    with pytest.raises(ValidationError) as exc:
        services.citizen_register(username="a2", password=GOOD_PASSWORD, name="王芳",
                                  id_number="11010519491231002x")
    assert "id_number" in exc.value.message_dict


def test_enterprise_register__bad_credit_code__refused():
    with pytest.raises(ValidationError) as exc:
        services.enterprise_register(username="ent", password=GOOD_PASSWORD,
                                     enterprise_name="深圳市某某科技有限公司",
                                     credit_code="91440300MA5DC0HX0X", name="联系人")
    assert "credit_code" in exc.value.message_dict
    assert not User.objects.filter(username="ent").exists()


def test_staff_deactivate__in_scope__audited_and_tokens_revoked(district):
    admin = district.users["street_a_admin"]
    clerk = district.users["clerk_a"]
    token, _ = services.token_create(actor=clerk, name="kiosk",
                                     permissions=["core.view_orgunit"])
    services.staff_deactivate(actor=admin, user=clerk, reason="调离")
    clerk.refresh_from_db()
    token.refresh_from_db()
    assert not clerk.is_active
    assert token.revoked_at is not None
    entry = AuditEntry.objects.filter(action="accounts.staff.deactivate").get()
    assert entry.actor_id == admin.pk and entry.reason == "调离"
    assert entry.before["is_active"] is True and entry.after["is_active"] is False


def test_staff_deactivate__other_street__refused(district):
    with pytest.raises(PermissionDenied):
        services.staff_deactivate(actor=district.users["street_a_admin"],
                                  user=district.users["clerk_b"], reason="x")
    assert User.objects.get(username="clerk_b").is_active


def test_staff_deactivate__clerk_is_not_admin__refused(district):
    with pytest.raises(PermissionDenied):
        services.staff_deactivate(actor=district.users["clerk_a"],
                                  user=district.users["handler_a"], reason="x")


def test_staff_create__unit_outside_scope__refused(district):
    with pytest.raises(PermissionDenied):
        services.staff_create(actor=district.users["street_a_admin"], username="n1", name="新",
                              org_unit=district.street_b, roles=["window_clerk"],
                              password=GOOD_PASSWORD)
    assert not User.objects.filter(username="n1").exists()


def test_token_create__permission_owner_lacks__refused(district):
    with pytest.raises(ValidationError):
        services.token_create(actor=district.users["clerk_a"], name="x",
                              permissions=["accounts.manage_staff"])


def test_token_create__unit_above_owner__refused(district):
    with pytest.raises(ValidationError):
        services.token_create(actor=district.users["clerk_a"], name="x",
                              org_unit=district.district, permissions=[])


def test_token_authenticate__secret_hashed_and_checked(district):
    token, raw = services.token_create(actor=district.users["clerk_a"], name="sys",
                                       permissions=["core.view_orgunit"])
    assert raw.split("_", 2)[2] not in token.secret_hash
    user = services.token_authenticate(raw)
    assert user == district.users["clerk_a"] and user.api_token == token
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert services.token_authenticate(raw[:-2] + "zz") is None
    assert services.token_authenticate("garbage") is None


def test_token_authenticate__revoked_or_expired__refused(district):
    clerk = district.users["clerk_a"]
    token, raw = services.token_create(actor=clerk, name="sys", permissions=[])
    services.token_revoke(actor=clerk, token=token)
    assert services.token_authenticate(raw) is None
    _, raw2 = services.token_create(
        actor=clerk, name="old", permissions=[],
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.token_authenticate(raw2) is None


def test_by_id_number__any_accepted_spelling_finds_the_user():
    user = services.citizen_register(username="wf", password=GOOD_PASSWORD, name="王芳",
                                     id_number="11010519491231002X")
    spellings = ("11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", "110105491231002")
    for spelling in spellings:
        assert User.objects.by_id_number(spelling).get() == user


def test_citizen_register__service_number_is_not_a_personal_phone():
    with pytest.raises(ValidationError) as exc:
        services.citizen_register(username="p1", password=GOOD_PASSWORD, name="王芳",
                                  id_number="11010519491231002X", phone="12345")
    assert "phone" in exc.value.message_dict


def test_staff_create__weak_password__refused(district):
    with pytest.raises(ValidationError) as exc:
        services.staff_create(actor=district.users["street_a_admin"], username="n2", name="新人",
                              org_unit=district.street_a, roles=["window_clerk"],
                              password="1111111111")
    assert "password" in exc.value.message_dict
    assert not User.objects.filter(username="n2").exists()
