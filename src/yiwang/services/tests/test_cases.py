"""The case state machine: transitions, permissions per role, clocks, 容缺 and races."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile

from yiwang.core.models import AuditEntry, Notification
from yiwang.core.tests.factories import make_citizen
from yiwang.services import cases
from yiwang.services.models import Case, CaseMaterial, CaseStatus, Channel, Material, TimeState
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db
S = CaseStatus
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def world(district):
    add_case_staff(district)
    district.version = make_matter(district)
    district.citizen = make_citizen(phone="13800138000")
    return district


def attach_all(case: Case, actor) -> None:
    for material in Material.objects.filter(version=case.version):
        CaseMaterial.objects.create(
            case=case, material=material, file=ContentFile(b"%PDF-1.4 test", name="a.pdf"),
            original_name=f"{material.code}.pdf", content_type="application/pdf", size=13,
            sha256="0" * 64, uploaded_by=actor)


def supply(case: Case, material: Material, actor) -> None:
    """A new file for a material asked for (补正 / 容缺)."""
    CaseMaterial.objects.create(
        case=case, material=material, kind="supplement",
        file=ContentFile(b"%PDF-1.4 clear copy", name="b.pdf"),
        original_name=f"{material.code}-new.pdf", content_type="application/pdf", size=19,
        sha256="1" * 64, uploaded_by=actor)


def online_case(world, *, attach: bool = True) -> Case:
    case = cases.case_create(actor=world.citizen, version=world.version,
                             applicant=world.citizen, channel=Channel.MOBILE,
                             form_data={"project": "示范小学扩建工程"})
    if attach:
        attach_all(case, world.citizen)
    return cases.case_submit(actor=world.citizen, case=case)


def window_case(world) -> Case:
    clerk = world.users["clerk_a"]
    case = cases.case_create(actor=clerk, version=world.version, applicant=world.citizen,
                             channel=Channel.WINDOW)
    attach_all(case, clerk)
    return cases.case_submit(actor=clerk, case=case)


def test_case_number__documented_pattern_and_daily_sequence(world):
    first, second = online_case(world), online_case(world)
    assert first.number[:6] == "440399" and len(first.number) == 20
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_full_path__window_accepts_department_decides_applicant_notified(world):
    u = world.users
    case = window_case(world)
    assert case.intake_unit == world.street_a and case.department == world.department
    case = cases.case_accept(actor=u["clerk_a"], case=case)
    assert case.clock is not None
    case = cases.case_start_review(actor=u["dept_handler"], case=case)
    assert case.assigned_to == u["dept_handler"]
    case = cases.case_approve(actor=u["dept_approver"], case=case, opinion="符合条件")
    case = cases.case_deliver(actor=u["clerk_a"], case=case, method="window")
    case = cases.case_close(actor=u["clerk_a"], case=case)
    assert case.status == S.CLOSED
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["create", "submit", "accept", "start_review", "approve", "deliver",
                       "close"]
    assert AuditEntry.objects.filter(object_id=str(case.pk),
                                     action__startswith="services.case.").count() == 7
    assert Notification.objects.filter(recipient=world.citizen).count() >= 5


def test_submit__missing_required_material__refused_and_still_draft(world):
    case = cases.case_create(actor=world.citizen, version=world.version,
                             applicant=world.citizen, channel=Channel.PC)
    with pytest.raises(ValidationError) as exc:
        cases.case_submit(actor=world.citizen, case=case)
    assert "materials" in exc.value.message_dict
    case.refresh_from_db()
    assert case.status == S.DRAFT and case.revision == 0


def test_refuse__without_reason__nothing_changes(world):
    case = online_case(world)
    with pytest.raises(ValidationError):
        cases.case_refuse(actor=world.users["dept_clerk"], case=case, reason=" ")
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


@pytest.mark.parametrize(("role", "allowed"), [
    ("dept_clerk", True), ("clerk_a", False), ("clerk_b", False), ("dept_handler", False),
    ("dept_approver", False), ("supervisor", False), ("auditor", False),
    ("district_admin", False),
])
def test_accept__only_clerks_in_scope(world, role, allowed):
    case = online_case(world)  # online: intake is the department itself
    actor = world.users[role]
    if allowed:
        assert cases.case_accept(actor=actor, case=case).status == S.ACCEPTED
    else:
        with pytest.raises(PermissionDenied):
            cases.case_accept(actor=actor, case=case)
        case.refresh_from_db()
        assert case.status == S.SUBMITTED


@pytest.mark.parametrize(("role", "allowed"), [
    ("dept_approver", True), ("dept_handler", False), ("dept_clerk", False),
    ("clerk_a", False), ("supervisor", False),
])
def test_approve__only_department_approvers(world, role, allowed):
    case = window_case(world)
    case = cases.case_accept(actor=world.users["clerk_a"], case=case)
    case = cases.case_start_review(actor=world.users["dept_handler"], case=case)
    if allowed:
        assert cases.case_approve(actor=world.users[role], case=case).status == S.APPROVED
    else:
        with pytest.raises(PermissionDenied):
            cases.case_approve(actor=world.users[role], case=case)


def test_withdraw__applicant_only(world):
    case = online_case(world)
    with pytest.raises(PermissionDenied):
        cases.case_withdraw(actor=world.users["dept_clerk"], case=case, reason="x")
    other = make_citizen(username="other", id_number="440304199003071235")
    with pytest.raises(PermissionDenied):
        cases.case_withdraw(actor=other, case=case, reason="x")
    assert cases.case_withdraw(actor=world.citizen, case=case,
                               reason="不需要了").status == S.WITHDRAWN


def test_transition__wrong_state__clear_error_and_state_kept(world):
    case = online_case(world)
    with pytest.raises(cases.TransitionError) as exc:
        cases.case_approve(actor=world.users["dept_approver"], case=case)
    assert exc.value.code == "bad_state"
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


def test_two_clerks__same_revision__second_refused(world):
    """Optimistic locking: both clerks opened the case at revision 1."""
    case = window_case(world)
    seen = case.revision
    cases.case_accept(actor=world.users["clerk_a"], case=case, expected_revision=seen)
    with pytest.raises(cases.TransitionError) as exc:
        cases.case_refuse(actor=world.users["clerk_a2"], case=case, reason="材料不符",
                          expected_revision=seen)
    assert exc.value.code == "stale"
    case.refresh_from_db()
    assert case.status == S.ACCEPTED


def test_supplement_during_review__clock_paused_and_resumed(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    case = cases.case_start_review(actor=u["dept_handler"], case=case)
    due_before = case.clock.due_at
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    case = cases.case_request_supplement(actor=u["dept_handler"], case=case,
                                         items=[(site_plan, "规划许可证复印件不清晰")],
                                         reason="材料不清晰")
    assert case.status == S.SUPPLEMENT and case.clock.paused_at is not None
    with pytest.raises(ValidationError):  # the unclear copy filed first does not count
        cases.case_supplement(actor=world.citizen, case=case)
    supply(case, site_plan, world.citizen)
    case = cases.case_supplement(actor=world.citizen, case=case)
    assert case.status == S.UNDER_REVIEW and case.clock.paused_at is None
    assert case.clock.due_at >= due_before


def test_suspend_across_spring_festival__due_moves_by_working_days(world):
    """Suspended on 2026-02-13 (Fri) and resumed on 2026-02-24 (Tue): Feb 14 (Sat) is a
    make-up working day, Feb 15–23 are the holiday, Feb 24 counts: 2 working days lost."""
    from yiwang.core.workdays import WorkCalendar, clock_pause, clock_resume

    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    case = cases.case_start_review(actor=u["dept_handler"], case=case)
    clock = case.clock
    clock.started_at = dt.datetime(2026, 2, 9, 10, tzinfo=SHANGHAI)
    clock.due_at = WorkCalendar().add_working_days(clock.started_at, 5)
    clock.save()
    assert clock.due_at.date() == dt.date(2026, 2, 14)
    clock_pause(clock, at=dt.datetime(2026, 2, 13, 9, tzinfo=SHANGHAI))
    clock_resume(clock, at=dt.datetime(2026, 2, 24, 9, tzinfo=SHANGHAI))
    assert clock.paused_total == 2
    assert clock.due_at.date() == dt.date(2026, 2, 25)


def test_deficiency__expiry_reminds_then_terminates(world, settings):
    settings.YIWANG_DEFICIENCY_GRACE_DAYS = 2
    u = world.users
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    case = cases.case_accept_with_deficiency(actor=u["clerk_a"], case=window_case(world),
                                             items=[(site_plan, "规划许可证原件")])
    assert case.status == S.ACCEPTED_DEFICIENT and case.deficiency_due_at is not None
    with pytest.raises(cases.TransitionError):
        review = cases.case_start_review(actor=u["dept_handler"], case=case)
        cases.case_approve(actor=u["dept_approver"], case=review)
    case.refresh_from_db()
    later = case.deficiency_due_at + dt.timedelta(days=1)
    counts = cases.cases_refresh_deadlines(at=later)
    assert counts["reminded"] == 1
    case.refresh_from_db()
    assert case.status == S.UNDER_REVIEW and case.deficiency_reminded_at is not None
    counts = cases.cases_refresh_deadlines(at=later + dt.timedelta(days=10))
    case.refresh_from_db()
    assert counts["terminated"] == 1 and case.status == S.TERMINATED


def test_deficiency__supplied_in_time__back_to_accepted(world):
    u = world.users
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    case = cases.case_create(actor=u["clerk_a"], version=world.version,
                             applicant=world.citizen, channel=Channel.WINDOW)
    attach_all(case, u["clerk_a"])
    case = cases.case_submit(actor=u["clerk_a"], case=case)
    case = cases.case_accept_with_deficiency(actor=u["clerk_a"], case=case,
                                             items=[(site_plan, "原件")])
    supply(case, site_plan, world.citizen)
    case = cases.case_supplement(actor=world.citizen, case=case)
    assert case.status == S.ACCEPTED and case.deficiency_due_at is None


def test_material_not_deficiency_eligible__refused(world):
    application = Material.objects.get(version=world.version, code="application")
    with pytest.raises(ValidationError):
        cases.case_accept_with_deficiency(actor=world.users["clerk_a"], case=window_case(world),
                                          items=[(application, "申请表")])


def test_extension__requester_cannot_approve_own(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    case = cases.case_start_review(actor=u["dept_approver"], case=case)
    extension = cases.case_request_extension(actor=u["dept_approver"], case=case, days=10,
                                             reason="需专家论证")
    with pytest.raises(PermissionDenied):
        cases.case_decide_extension(actor=u["dept_approver"], extension=extension, approve=True)
    due_before = case.clock.due_at
    cases.case_decide_extension(actor=u["dept_approver2"], extension=extension, approve=True)
    case.refresh_from_db()
    case.clock.refresh_from_db()
    assert case.clock.due_at > due_before and case.clock.limit == 15


def test_time_state__warning_then_overdue(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    due = case.clock.due_at
    cases.cases_refresh_deadlines(at=due - dt.timedelta(hours=30))
    case.refresh_from_db()
    assert case.time_state == TimeState.WARNING
    cases.cases_refresh_deadlines(at=due + dt.timedelta(hours=1))
    case.refresh_from_db()
    assert case.time_state == TimeState.OVERDUE
    assert Notification.objects.filter(template="case_deadline").exists()


def test_citizen_cannot_file_for_someone_else(world):
    other = make_citizen(username="other", id_number="440304199003071235")
    with pytest.raises(PermissionDenied):
        cases.case_create(actor=world.citizen, version=world.version, applicant=other,
                          channel=Channel.PC)


def test_allowed_transitions__buttons_follow_role_and_state(world):
    case = online_case(world)
    names = {t.name for t in cases.allowed_transitions(case, world.users["dept_clerk"])}
    assert names == {"accept", "accept_with_deficiency", "refuse", "request_supplement"}
    assert {t.name for t in cases.allowed_transitions(case, world.citizen)} == {"withdraw"}
    assert cases.allowed_transitions(case, world.users["clerk_b"]) == []
