"""Account pages: sign in, registration, my account, staff directory, PII reveal, tokens."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.services import token_create
from yiwang.core.models import AuditEntry
from yiwang.core.tests.factories import PASSWORD, make_citizen

pytestmark = pytest.mark.django_db

GOOD_ID = "11010519491231002X"
REGISTRATION = {"name": "李四", "id_number": "440301199001011234", "phone": "13912345678",
                "username": "lisi", "password": PASSWORD, "password_again": PASSWORD}


def _valid_id(first17: str) -> str:
    from yiwang.core.validators import id_check_char

    return first17 + id_check_char(first17)


# --- sign in ----------------------------------------------------------------------------

def test_login__renders_form_with_labels(district):
    html = Client().get("/accounts/login/").content.decode()
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert 'autocomplete="current-password"' in html


def test_login__staff__lands_on_workbench(district):
    response = Client().post("/accounts/login/", {"username": "clerk_a",
                                                  "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/workbench/"


def test_login__wrong_password__error_shown(district):
    response = Client().post("/accounts/login/", {"username": "clerk_a", "password": "nope"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


@override_settings(AXES_FAILURE_LIMIT=2)
def test_login__repeated_failures__lockout_page(district):
    client = Client()
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "clerk_a", "password": "x"})
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()


def test_logout__post__signs_out(district, client_for):
    client = client_for(district.users["clerk_a"])
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/workbench/").status_code == 302


# --- citizen registration and account ---------------------------------------------------

def test_register__valid__creates_citizen_signs_in_and_masks(district):
    data = {**REGISTRATION, "id_number": _valid_id("44030119900101123")}
    client = Client()
    response = client.post("/accounts/register/", data)
    assert response.status_code == 302
    user = User.objects.get(username="lisi")
    assert user.kind == "citizen" and user.id_number == data["id_number"]
    html = client.get("/accounts/me/").content.decode()
    assert user.masked_id_number in html and data["id_number"] not in html
    assert "139****5678" in html and "13912345678" not in html


def test_register__legacy_15_digit_id__accepted_and_converted(district):
    client = Client()
    response = client.post("/accounts/register/", {**REGISTRATION,
                                                   "id_number": "110105491231002"})
    assert response.status_code == 302
    assert User.objects.get(username="lisi").id_number == GOOD_ID


def test_register__bad_checksum__error_next_to_field_nothing_saved(district):
    response = Client().post("/accounts/register/", {**REGISTRATION,
                                                     "id_number": "110105194912310021"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "id_number" in form.errors
    assert "校验位不正确" in response.content.decode()
    assert 'id="id_id_number_error"' in response.content.decode()
    assert not User.objects.filter(username="lisi").exists()


def test_register__bad_id__error_in_english_for_english_users(district):
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/register/", {**REGISTRATION, "id_number": "123"})
    assert "An ID number has 18 characters" in response.content.decode()


def test_register__duplicate_id_number__refused(district):
    make_citizen(id_number=GOOD_ID)
    response = Client().post("/accounts/register/", {**REGISTRATION, "id_number": GOOD_ID})
    assert response.status_code == 400
    assert "该身份证号码已注册账号" in response.content.decode()
    assert not User.objects.filter(username="lisi").exists()


def test_register__weak_or_mismatched_password__refused(district):
    response = Client().post("/accounts/register/", {
        **REGISTRATION, "id_number": _valid_id("44030119900101123"),
        "password": "1234567890", "password_again": "1234567899"})
    assert response.status_code == 400
    assert "password_again" in response.context["form"].errors
    assert not User.objects.filter(username="lisi").exists()


def test_register__bad_phone__refused(district):
    response = Client().post("/accounts/register/", {
        **REGISTRATION, "id_number": _valid_id("44030119900101123"), "phone": "12345"})
    assert "phone" in response.context["form"].errors
    assert not User.objects.filter(username="lisi").exists()


def test_me__anonymous__redirect_to_login():
    assert Client().get("/accounts/me/")["Location"].startswith("/accounts/login/")


# --- staff directory --------------------------------------------------------------------

def test_staff_list__street_clerk__only_own_street(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/accounts/staff/")
    names = {u.username for u in response.context["page_obj"]}
    assert "clerk_a" in names and "handler_a" in names
    assert "clerk_b" not in names and "d_admin" not in names


def test_staff_list__search_and_role_filter(district, client_for):
    client = client_for(district.users["district_admin"])
    response = client.get("/accounts/staff/", {"role": "window_clerk"})
    assert {u.username for u in response.context["page_obj"]} == {"clerk_a", "clerk_b"}
    response = client.get("/accounts/staff/", {"q": "clerk_b"})
    assert [u.username for u in response.context["page_obj"]] == ["clerk_b"]


def test_staff_list__unit_filter_offers_only_scoped_units(district, client_for):
    response = client_for(district.users["clerk_a"]).get("/accounts/staff/")
    codes = [c for c, _ in response.context["form"].fields["unit"].choices if c]
    assert "440399002000" not in codes and "440399001000" in codes


def test_staff_list__paginated(district, client_for):
    from yiwang.core.tests.factories import make_staff

    for i in range(30):
        make_staff(f"extra{i:02d}", district.street_a, "handler")
    client = client_for(district.users["district_admin"])
    first = client.get("/accounts/staff/")
    assert len(first.context["page_obj"]) == 25
    second = client.get("/accounts/staff/", {"page": 2})
    assert second.context["page_obj"].number == 2


def test_staff_list__anonymous__redirect_to_login():
    assert Client().get("/accounts/staff/").status_code == 302


def test_staff_detail__own_street__phone_masked(district, client_for):
    handler = district.users["handler_a"]
    html = client_for(district.users["clerk_a"]).get(
        f"/accounts/staff/{handler.pk}/").content.decode()
    assert "137****7000" in html and "13700137000" not in html
    assert "查看完整号码" in html  # window clerks may reveal


def test_staff_detail__role_without_pii_permission__no_reveal_button(district, client_for):
    clerk = district.users["clerk_a"]
    html = client_for(district.users["auditor"]).get(
        f"/accounts/staff/{clerk.pk}/").content.decode()
    assert "138****8000" in html and "查看完整号码" not in html


def test_staff_detail__other_street__404(district, client_for):
    clerk_b = district.users["clerk_b"]
    response = client_for(district.users["clerk_a"]).get(f"/accounts/staff/{clerk_b.pk}/")
    assert response.status_code == 404
    assert "clerk_b" not in response.content.decode()


def test_staff_phone__allowed_role__reveals_and_audits(district, client_for):
    handler = district.users["handler_a"]
    clerk = district.users["clerk_a"]
    response = client_for(clerk).post(f"/accounts/staff/{handler.pk}/phone",
                                      HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "13700137000" in response.content.decode()
    entry = AuditEntry.objects.get(action="pii.read")
    assert entry.actor_id == clerk.pk and entry.object_id == str(handler.pk)
    assert entry.after == {"fields": ["phone"]}


def test_staff_phone__without_htmx__full_page_with_number(district, client_for):
    handler = district.users["handler_a"]
    response = client_for(district.users["clerk_a"]).post(f"/accounts/staff/{handler.pk}/phone")
    assert response.status_code == 200
    assert "13700137000" in response.content.decode()


def test_staff_phone__role_without_pii_permission__403_and_no_audit(district, client_for):
    clerk = district.users["clerk_a"]
    response = client_for(district.users["auditor"]).post(f"/accounts/staff/{clerk.pk}/phone")
    assert response.status_code == 403
    assert "13800138000" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="pii.read").exists()


def test_staff_phone__other_street__404(district, client_for):
    clerk_b = district.users["clerk_b"]
    response = client_for(district.users["clerk_a"]).post(f"/accounts/staff/{clerk_b.pk}/phone")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="pii.read").exists()


def test_staff_phone__get__405(district, client_for):
    handler = district.users["handler_a"]
    assert client_for(district.users["clerk_a"]).get(
        f"/accounts/staff/{handler.pk}/phone").status_code == 405


# --- deactivate -------------------------------------------------------------------------

def test_staff_deactivate__admin_with_reason__deactivates_and_audits(district, client_for):
    clerk = district.users["clerk_a"]
    response = client_for(district.users["street_a_admin"]).post(
        f"/accounts/staff/{clerk.pk}/deactivate", {"reason": "调离本单位"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.is_active is False
    assert AuditEntry.objects.get(action="accounts.staff.deactivate").reason == "调离本单位"


def test_staff_deactivate__missing_reason__error_and_unchanged(district, client_for):
    clerk = district.users["clerk_a"]
    response = client_for(district.users["street_a_admin"]).post(
        f"/accounts/staff/{clerk.pk}/deactivate", {"reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    clerk.refresh_from_db()
    assert clerk.is_active is True


def test_staff_deactivate__own_account__refused(district, client_for):
    admin = district.users["street_a_admin"]
    response = client_for(admin).post(f"/accounts/staff/{admin.pk}/deactivate",
                                      {"reason": "test"})
    assert response.status_code == 400
    assert "不能停用自己的账号" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active is True


def test_staff_deactivate__other_street__404_and_unchanged(district, client_for):
    clerk_b = district.users["clerk_b"]
    response = client_for(district.users["street_a_admin"]).post(
        f"/accounts/staff/{clerk_b.pk}/deactivate", {"reason": "x"})
    assert response.status_code == 404
    clerk_b.refresh_from_db()
    assert clerk_b.is_active is True


def test_staff_deactivate__clerk_other_street__404(district, client_for):
    clerk_b = district.users["clerk_b"]
    response = client_for(district.users["clerk_a"]).post(
        f"/accounts/staff/{clerk_b.pk}/deactivate", {"reason": "x"})
    assert response.status_code == 404


def test_staff_deactivate__clerk_own_street__403(district, client_for):
    handler = district.users["handler_a"]
    response = client_for(district.users["clerk_a"]).post(
        f"/accounts/staff/{handler.pk}/deactivate", {"reason": "x"})
    assert response.status_code == 403
    handler.refresh_from_db()
    assert handler.is_active is True


# --- create staff -----------------------------------------------------------------------

def _new_staff(**extra: object) -> dict[str, object]:
    return {"name": "王五", "username": "wangwu", "org_unit": "440399001001",
            "roles": ["grid_worker"], "phone": "13611112222", "email": "",
            "password": PASSWORD, **extra}


def test_staff_create__admin__creates_in_scope_and_audits(district, client_for):
    response = client_for(district.users["street_a_admin"]).post("/accounts/staff/new/",
                                                                 _new_staff())
    assert response.status_code == 302
    user = User.objects.get(username="wangwu")
    assert user.org_unit == district.community_a and user.role_codes == ["grid_worker"]
    assert AuditEntry.objects.filter(action="accounts.staff.create").exists()


def test_staff_create__unit_out_of_scope__error_nothing_created(district, client_for):
    response = client_for(district.users["street_a_admin"]).post(
        "/accounts/staff/new/", _new_staff(org_unit="440399002001"))
    assert response.status_code == 400
    assert "org_unit" in response.context["form"].errors
    assert not User.objects.filter(username="wangwu").exists()


def test_staff_create__weak_password_or_taken_name__errors(district, client_for):
    client = client_for(district.users["street_a_admin"])
    response = client.post("/accounts/staff/new/", _new_staff(password="12345"))
    assert "password" in response.context["form"].errors
    response = client.post("/accounts/staff/new/", _new_staff(username="clerk_b"))
    assert "该用户名已被使用" in response.content.decode()
    assert not User.objects.filter(username="wangwu").exists()


def test_staff_create__clerk__403(district, client_for):
    client = client_for(district.users["clerk_a"])
    assert client.get("/accounts/staff/new/").status_code == 403
    assert client.post("/accounts/staff/new/", _new_staff()).status_code == 403
    assert not User.objects.filter(username="wangwu").exists()


# --- API tokens -------------------------------------------------------------------------

def test_tokens__create__secret_shown_once(district, client_for):
    clerk = district.users["clerk_a"]
    client = client_for(clerk)
    response = client.post("/accounts/tokens/", {"name": "12345 网关",
                                                 "org_unit": "440399001000",
                                                 "permissions": ["core.view_orgunit"]})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("yw_") and secret in response.content.decode()
    assert ApiToken.objects.get(user=clerk).name == "12345 网关"
    assert secret not in client.get("/accounts/tokens/").content.decode()


def test_tokens__permission_actor_lacks__not_offered_and_refused(district, client_for):
    response = client_for(district.users["clerk_a"]).post("/accounts/tokens/", {
        "name": "x", "org_unit": "440399001000", "permissions": ["core.view_auditentry"]})
    assert response.status_code == 400
    assert "permissions" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_tokens__list__own_and_in_scope_for_admin(district, client_for):
    token_create(actor=district.users["clerk_a"], name="a", permissions=[])
    token_create(actor=district.users["clerk_b"], name="b", permissions=[])
    admin_tokens = client_for(district.users["street_a_admin"]).get(
        "/accounts/tokens/").context["tokens"]
    assert [t.name for t in admin_tokens] == ["a"]
    clerk_tokens = client_for(district.users["clerk_b"]).get(
        "/accounts/tokens/").context["tokens"]
    assert [t.name for t in clerk_tokens] == ["b"]


def test_tokens__revoke_own__revoked_and_audited(district, client_for):
    clerk = district.users["clerk_a"]
    token, _ = token_create(actor=clerk, name="a", permissions=[])
    assert client_for(clerk).post(f"/accounts/tokens/{token.pk}/revoke").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="accounts.token.revoke").exists()


def test_tokens__revoke_other_streets__404_and_active(district, client_for):
    token, _ = token_create(actor=district.users["clerk_b"], name="b", permissions=[])
    response = client_for(district.users["street_a_admin"]).post(
        f"/accounts/tokens/{token.pk}/revoke")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens__citizen__403(district, client_for):
    assert client_for(make_citizen()).get("/accounts/tokens/").status_code == 403
