"""Staff case pages: the inbox (tabs, scope, claim and assign), the case page with one form
per transition (roles, bad input, races) and the overdue list (超时件)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core.models import AuditEntry
from yiwang.core.models.org import OrgKind
from yiwang.core.tests.factories import make_staff, make_unit
from yiwang.core.validators import org_code_check_char, uscc_check_char
from yiwang.services import cases
from yiwang.services.models import Case, CaseStatus, Extension, Material, TimeState
from yiwang.services.tests.test_cases import attach_all, online_case, window_case
from yiwang.services.tests.test_cases import world as world  # the fixture
from yiwang.services.todo import case_todos

pytestmark = pytest.mark.django_db
S = CaseStatus
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def inbox(user, **params) -> str:
    response = client_for(user).get(reverse("services:inbox"), params)
    assert response.status_code == 200
    return response.content.decode()


def act(user, case: Case, action: str, client: Client | None = None, *, htmx: bool = False,
        revision: int | None = None, **fields):
    case.refresh_from_db()
    data = {f"{action}-revision": case.revision if revision is None else revision}
    data.update({k if k in ("from", "next") else f"{action}-{k}": v for k, v in fields.items()})
    extra = HTMX if htmx else {}
    return (client or client_for(user)).post(
        reverse(f"services:case_action_{action}", args=[case.number]), data, **extra)


def flash(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def sub_department(world):
    body = "MB2C9300"
    first17 = "11440300" + body + org_code_check_char(body)
    return make_unit(first17 + uscc_check_char(first17), "示范区住建局审批科",
                     OrgKind.DEPARTMENT, world.department)


# --- inbox -----------------------------------------------------------------------------


def test_inbox__window_queue_is_per_street(world):
    at_window = window_case(world)  # filed at street A's window for the department
    online = online_case(world)     # online: intake is the department itself
    page_a = inbox(world.users["clerk_a"], tab="intake")
    assert at_window.number in page_a and online.number not in page_a
    page_b = inbox(world.users["clerk_b"], tab="intake")
    assert at_window.number not in page_b and online.number not in page_b
    page_dept = inbox(world.users["dept_clerk"], tab="intake")
    assert online.number in page_dept and at_window.number not in page_dept
    # …but the department sees the window's case among all of its cases.
    assert at_window.number in inbox(world.users["dept_clerk"], tab="all")


def test_inbox__street_clerk_cannot_open_another_streets_case(world):
    case = window_case(world)
    response = client_for(world.users["clerk_b"]).get(
        reverse("services:case_detail", args=[case.number]))
    assert response.status_code == 404


def test_inbox__department_approver_sees_subtree_only(world):
    u = world.users
    section = sub_department(world)
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    Case.objects.filter(pk=case.pk).update(department=section)
    section_approver = make_staff("section_approver", section, Role.APPROVER)
    assert case.number in inbox(u["dept_approver"], tab="unassigned")  # the parent sees it
    assert case.number in inbox(section_approver, tab="unassigned")
    other = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    assert other.number not in inbox(section_approver, tab="unassigned")
    assert other.number not in inbox(u["clerk_b"], tab="all")


def test_inbox__tabs_follow_the_role(world):
    response = client_for(world.users["dept_approver"]).get(reverse("services:inbox"))
    tabs = [t["code"] for t in response.context["tabs"]]
    assert tabs == ["unassigned", "mine", "waiting", "suspended", "all"]
    response = client_for(world.users["clerk_a"]).get(reverse("services:inbox"))
    assert [t["code"] for t in response.context["tabs"]] == [
        "intake", "waiting", "suspended", "all"]


def test_inbox__filters_and_keyword(world):
    u = world.users
    first, second = online_case(world), online_case(world)
    Case.objects.filter(pk=second.pk).update(applicant_name="李四")
    page = inbox(u["dept_clerk"], tab="intake", q=first.number)
    assert first.number in page and second.number not in page
    page = inbox(u["dept_clerk"], tab="intake", q="李四")
    assert second.number in page and first.number not in page
    page = inbox(u["dept_clerk"], tab="intake", channel="window")
    assert first.number not in page
    page = inbox(u["dept_clerk"], tab="intake", time_state="overdue")
    assert first.number not in page


def test_inbox__masks_person_names_for_roles_without_personal_data(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    assert "张三" in inbox(u["dept_approver"], tab="unassigned")  # approvers may see it
    page = inbox(u["dept_handler"], tab="unassigned")
    assert case.number in page and "张三" not in page and "张*" in page


def test_inbox__constant_queries(world):
    u = world.users

    def count() -> int:
        client = client_for(u["dept_approver"])
        client.get(reverse("services:inbox"), {"tab": "unassigned"})  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("services:inbox"), {"tab": "unassigned"}).status_code == 200
        return len(ctx.captured_queries)

    cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    few = count()
    for _ in range(4):
        cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    assert count() == few


# --- claim and assign --------------------------------------------------------------------


def test_claim__htmx_replaces_the_row(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    response = act(u["dept_handler"], case, "claim", htmx=True, **{"from": "inbox"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<tr") and case.number in body
    case.refresh_from_db()
    assert case.assigned_to == u["dept_handler"]


def test_claim__without_js_redirects_back_to_the_inbox(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    back = reverse("services:inbox") + "?tab=unassigned"
    response = act(u["dept_handler"], case, "claim", **{"from": "inbox"}, next=back)
    assert response.status_code == 302 and response["Location"] == back
    case.refresh_from_db()
    assert case.assigned_to == u["dept_handler"]


def test_claim__taken_meanwhile__clear_message_nothing_changes(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    seen = case.revision
    cases.case_claim(actor=u["dept_approver"], case=case)
    response = act(u["dept_handler"], case, "claim", htmx=True, revision=seen,
                   **{"from": "inbox"})
    assert response.status_code == 200
    assert "该办件已被他人处理" in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to == u["dept_approver"]


def test_assign__approver_assigns_a_colleague(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    response = act(u["dept_approver"], case, "assign", assignee=u["dept_handler"].pk)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == u["dept_handler"]


def test_assign__handler_may_not(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    response = act(u["dept_handler"], case, "assign", assignee=u["dept_handler"].pk)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assigned_to is None


def test_assign__someone_outside_the_department__refused(world):
    u = world.users
    case = cases.case_accept(actor=u["dept_clerk"], case=online_case(world))
    response = act(u["dept_approver"], case, "assign", assignee=u["handler_a"].pk)
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.assigned_to is None


# --- the case page and its transitions ---------------------------------------------------


def test_case_page__shows_what_the_role_may_do(world):
    u = world.users
    case = window_case(world)
    page = client_for(u["clerk_a"]).get(reverse("services:case_detail", args=[case.number]))
    assert page.status_code == 200
    actions = [f.action for f in page.context["forms"]]
    assert set(actions) == {"accept", "accept_with_deficiency", "refuse", "request_supplement"}
    page = client_for(u["dept_handler"]).get(reverse("services:case_detail", args=[case.number]))
    assert [f.action for f in page.context["forms"]] == ["request_supplement"]


def test_full_journey_through_the_page(world):
    """Window: accept with a deficiency; department: claim, review, extend, suspend, resume;
    the applicant supplies; approve, deliver at the window, close."""
    u = world.users
    case = window_case(world)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    response = act(u["clerk_a"], case, "accept_with_deficiency", materials=[site_plan.pk])
    assert response.status_code == 302, flash(response)
    case.refresh_from_db()
    assert case.status == S.ACCEPTED_DEFICIENT and case.deficiency_due_at is not None
    assert act(u["dept_approver"], case, "claim").status_code == 302
    assert act(u["dept_approver"], case, "start_review").status_code == 302
    assert act(u["dept_approver"], case, "request_extension", days=5,
               reason="需专家论证").status_code == 302
    # The requester cannot approve their own extension; a supervisor can.
    assert act(u["dept_approver"], case, "decide_extension",
               decision="approve").status_code == 403
    assert act(u["supervisor"], case, "decide_extension", decision="approve").status_code == 302
    assert Extension.objects.get(case=case).status == Extension.Status.APPROVED
    assert act(u["dept_approver"], case, "suspend", procedure="expert_review",
               reason="专家评审").status_code == 302
    case.refresh_from_db()
    assert case.status == S.SUSPENDED and case.clock.paused_at is not None
    assert act(u["dept_approver"], case, "resume").status_code == 302
    # Approving while the deficient material is missing: a clear message, no change.
    response = act(u["dept_approver"], case, "approve", opinion="同意")
    assert response.status_code == 302 and "容缺材料尚未补齐" in flash(response)
    case.refresh_from_db()
    assert case.status == S.UNDER_REVIEW
    attach_all(case, world.citizen)
    cases.case_supplement(actor=world.citizen, case=case)
    assert act(u["dept_approver"], case, "approve", opinion="符合条件").status_code == 302
    assert act(u["clerk_a"], case, "deliver", method="window").status_code == 302
    assert act(u["clerk_a"], case, "close").status_code == 302
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.delivery_method == "window"
    page = client_for(u["dept_approver"]).get(reverse("services:case_detail", args=[case.number]))
    body = page.content.decode()
    for reason in ("需专家论证", "专家评审", "符合条件"):
        assert reason in body  # the timeline shows who did what and why


def test_refuse_reject_terminate_and_supplement_through_the_page(world):
    u = world.users
    refused = window_case(world)
    assert act(u["clerk_a"], refused, "refuse", reason="不属于本部门职权").status_code == 302
    refused.refresh_from_db()
    assert refused.status == S.REFUSED and refused.events.last().reason == "不属于本部门职权"

    asked = window_case(world)
    response = act(u["clerk_a"], asked, "request_supplement",
                   other_items="身份证复印件\n授权委托书", reason="请一次性补齐")
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == S.SUPPLEMENT and asked.deficiencies.count() == 2
    assert act(u["clerk_a"], asked, "terminate", reason="申请人未补正").status_code == 302
    asked.refresh_from_db()
    assert asked.status == S.TERMINATED

    rejected = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    cases.case_start_review(actor=u["dept_approver"], case=rejected)
    assert act(u["dept_approver"], rejected, "reject", reason="不符合条件").status_code == 302
    rejected.refresh_from_db()
    assert rejected.status == S.REJECTED


@pytest.mark.parametrize(("action", "fields", "field"), [
    ("refuse", {"reason": "  "}, "reason"),
    ("request_supplement", {"reason": "补正"}, "other_items"),
    ("accept_with_deficiency", {"other_items": ""}, "other_items"),
])
def test_bad_input__400_with_the_error_and_nothing_changes(world, action, fields, field):
    case = window_case(world)
    response = act(world.users["clerk_a"], case, action, **fields)
    assert response.status_code == 400
    failed = response.context["failed"]
    assert failed.action == action and field in failed.errors
    assert 'class="alert alert-danger' in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.SUBMITTED and case.revision == 1


def test_bad_input__extension_days_out_of_range(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    case = cases.case_start_review(actor=u["dept_approver"], case=case)
    response = act(u["dept_approver"], case, "request_extension", days=99, reason="x")
    assert response.status_code == 400 and "days" in response.context["failed"].errors
    assert not Extension.objects.filter(case=case).exists()


@pytest.mark.parametrize(("role", "action", "status"), [
    ("dept_handler", "accept", 403),       # a reviewer cannot accept at intake
    ("dept_approver", "refuse", 403),
    ("supervisor", "accept", 403),
    ("district_admin", "accept", 403),      # may read cases, may not act
    ("clerk_a", "approve", 403),            # a clerk cannot decide
    ("clerk_b", "accept", 404),             # another street's window: not even visible
    ("auditor", "accept", 403),             # cannot read cases at all
])
def test_permission__per_role(world, role, action, status):
    case = window_case(world)
    response = act(world.users[role], case, action, reason="x", opinion="x")
    assert response.status_code == status
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


def test_not_allowed_in_this_state__clear_message_nothing_changes(world):
    case = window_case(world)
    response = act(world.users["dept_approver"], case, "approve", opinion="同意")
    assert response.status_code == 302
    assert "不能" in flash(response)
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


def test_unknown_action__404(world):
    case = window_case(world)
    client = client_for(world.users["clerk_a"])
    url = reverse("services:case_detail", args=[case.number]) + "actions/frobnicate/"
    assert client.post(url, {"frobnicate-revision": 1}).status_code == 404


def test_two_clerks_same_revision__second_gets_reload_message(world):
    """Both clerks opened the case page; the first accepts, the second's refusal fails."""
    u = world.users
    case = window_case(world)
    first, second = client_for(u["clerk_a"]), client_for(u["clerk_a2"])
    url = reverse("services:case_detail", args=[case.number])
    seen_first = first.get(url).context["case"].revision
    seen_second = second.get(url).context["case"].revision
    assert act(u["clerk_a"], case, "accept", first, revision=seen_first).status_code == 302
    response = act(u["clerk_a2"], case, "refuse", second, revision=seen_second,
                   reason="材料不符")
    assert response.status_code == 302
    assert response["Location"] == url
    page = second.get(url)
    assert "该办件已被他人处理" in page.content.decode()
    case.refresh_from_db()
    assert case.status == S.ACCEPTED


def test_get_on_an_action__405(world):
    case = window_case(world)
    response = client_for(world.users["clerk_a"]).get(
        reverse("services:case_action_accept", args=[case.number]))
    assert response.status_code == 405


def test_applicant_pii__reveal_is_audited_and_role_bound(world):
    u = world.users
    case = window_case(world)
    url = reverse("services:case_applicant_reveal", args=[case.number])
    page = client_for(u["clerk_a"]).get(reverse("services:case_detail", args=[case.number]))
    assert "138****8000" in page.content.decode()
    assert "13800138000" not in page.content.decode()
    response = client_for(u["clerk_a"]).post(url, **HTMX)
    assert response.status_code == 200 and "13800138000" in response.content.decode()
    assert AuditEntry.objects.filter(action="pii.read", actor_id=u["clerk_a"].pk).exists()
    assert client_for(u["dept_handler"]).post(url).status_code == 403


def test_case_page__form_data_with_schema_titles(world):
    world.version.form_schema = {"type": "object", "properties": {
        "project": {"type": "string", "title": "项目名称"}}}
    world.version.save()
    case = window_case(world)
    Case.objects.filter(pk=case.pk).update(form_data={"project": "示范小学扩建工程"})
    body = client_for(world.users["clerk_a"]).get(
        reverse("services:case_detail", args=[case.number])).content.decode()
    assert "项目名称" in body and "示范小学扩建工程" in body


# --- overdue (超时件) -------------------------------------------------------------------


def _make_late(case: Case, *, due_days_ago: int) -> None:
    clock = case.clock
    clock.due_at = timezone.now() - dt.timedelta(days=due_days_ago)
    clock.started_at = clock.due_at - dt.timedelta(days=10)
    clock.save()


def test_overdue__counts_per_department_and_days_overdue(world):
    u = world.users
    late = [cases.case_accept(actor=u["clerk_a"], case=window_case(world)) for _ in range(2)]
    for case in late:
        _make_late(case, due_days_ago=14)  # two calendar weeks: about 10 working days
    on_time = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    cases.cases_refresh_deadlines()
    assert Case.objects.get(pk=on_time.pk).time_state == TimeState.NORMAL
    response = client_for(u["supervisor"]).get(reverse("services:overdue"))
    assert response.status_code == 200
    assert response.context["total_overdue"] == 2
    (row,) = response.context["by_department"]
    assert row["department__name"] == world.department.name and row["overdue"] == 2
    shown = {r["case"].number: r["deadline"].overdue_by for r in response.context["rows"]}
    assert set(shown) == {c.number for c in late}
    assert all(8 <= days <= 12 for days in shown.values())
    assert on_time.number not in response.content.decode()
    # Street B's clerk has no department in scope: nothing.
    response = client_for(u["clerk_b"]).get(reverse("services:overdue"))
    assert response.context["total_overdue"] == 0 and not response.context["rows"]


def test_overdue__csv_export(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    _make_late(case, due_days_ago=7)
    cases.cases_refresh_deadlines()
    response = client_for(u["supervisor"]).get(reverse("services:overdue"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and case.number in lines[1]


# --- the workbench to-do ------------------------------------------------------------------


def test_todo__window_queue_and_my_cases(world):
    u = world.users
    window_case(world)
    (item,) = case_todos(u["clerk_a"])
    assert item.count == 1 and item.url.endswith("tab=intake")
    assert case_todos(u["clerk_b"]) == []
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    cases.case_claim(actor=u["dept_approver"], case=case)
    mine = case_todos(u["dept_approver"])
    assert any(item.url.endswith("tab=mine") and item.count == 1 for item in mine)
    assert case_todos(u["auditor"]) == []


def test_todo__overdue_in_my_department(world):
    u = world.users
    case = cases.case_accept(actor=u["clerk_a"], case=window_case(world))
    _make_late(case, due_days_ago=7)
    cases.cases_refresh_deadlines()
    items = case_todos(u["supervisor"])
    assert any(item.overdue and item.count == 1 for item in items)
