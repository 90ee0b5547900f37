"""The cases API: filing, scoped reads, every transition as its own operation, optimistic
locking (409), state (422) and role (403) refusals, token narrowing and races.

Every response goes through ``OpenAPIClient``, so it must also match the OpenAPI document.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from yiwang.accounts.roles import Role
from yiwang.accounts.services import token_create
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import cases
from yiwang.services.models import Case, CaseEvent, CaseStatus, Channel, Extension, TimeState
from yiwang.services.tests.factories import add_case_staff, make_matter
from yiwang.services.tests.test_cases import attach_all

pytestmark = pytest.mark.django_db
S = CaseStatus
FORM = {"type": "object", "required": ["project", "contact_phone"], "properties": {
    "project": {"type": "string", "title": "项目名称", "maxLength": 20},
    "contact_phone": {"type": "string", "title": "联系电话"},
    "site": {"type": "object", "properties": {
        "area": {"type": "number", "minimum": 1}}},
}}
GOOD_FORM = {"project": "示范小学扩建工程", "contact_phone": "13812345678"}
CITIZEN_ID = "11010519491231002X"


@pytest.fixture
def world(district):
    add_case_staff(district)
    u = district.users
    u["dept_clerk2"] = make_staff("dept_clerk2", district.department, Role.WINDOW_CLERK)
    district.version = make_matter(district, form_schema=FORM)
    district.citizen = make_citizen(phone="13800138000", id_number=CITIZEN_ID)
    district.stranger = make_citizen(username="stranger", id_number="440304199003071235",
                                     name="李四")
    return district


def api(user: Any = None, **headers: Any) -> OpenAPIClient:
    return OpenAPIClient(user=user, **headers)


def post(client: OpenAPIClient, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def draft(world, **extra: Any) -> Case:
    return cases.case_create(actor=world.citizen, version=world.version,
                             applicant=world.citizen, channel=Channel.MOBILE,
                             form_data=dict(GOOD_FORM), **extra)


def submitted(world) -> Case:
    case = draft(world)
    attach_all(case, world.citizen)
    return cases.case_submit(actor=world.citizen, case=case)


def act(user: Any, case: Case | str, action: str, **body: Any) -> Any:
    """POST a transition with the case's current revision unless one is given."""
    number = case if isinstance(case, str) else case.number
    body.setdefault("revision", Case.objects.get(number=number).revision)
    return post(api(user), f"/api/cases/{number}/actions/{action}", body)


def status_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).status


# --- filing -----------------------------------------------------------------------------


def test_create__citizen_online__draft_they_may_submit_or_withdraw(world):
    response = post(api(world.citizen), "/api/cases",
                    {"matter_code": world.version.implementation_code, "form_data": GOOD_FORM,
                     "channel": "mobile"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["channel"] == "mobile"
    assert body["applicant_name"] == "张三"  # the applicant sees their own name
    assert body["form_data"]["contact_phone"] == "13812345678"
    assert {a["name"] for a in body["allowed_actions"]} == {"submit", "withdraw"}
    case = Case.objects.get(number=body["number"])
    assert case.applicant == world.citizen and case.filed_by == world.citizen


def test_create__form_data_invalid__422_with_field_paths_and_nothing_created(world):
    response = post(api(world.citizen), "/api/cases", {
        "matter_code": world.version.implementation_code,
        "form_data": {"project": "x" * 21, "site": {"area": 0}}})
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert set(fields) == {"form_data.project", "form_data.contact_phone",
                           "form_data.site.area"}
    assert Case.objects.count() == 0


def test_create__errors_in_the_requests_language(world):
    body = {"matter_code": world.version.implementation_code, "form_data": {}}
    english = post(api(world.citizen, HTTP_ACCEPT_LANGUAGE="en"), "/api/cases", body).json()
    chinese = post(api(world.citizen, HTTP_ACCEPT_LANGUAGE="zh-hans"), "/api/cases", body).json()
    assert english["fields"]["form_data.project"] == ["This field is required."]
    assert chinese["fields"]["form_data.project"] != english["fields"]["form_data.project"]
    assert chinese["message"] != english["message"]


def test_create__clerk_files_for_a_registered_applicant_at_the_window(world):
    clerk = world.users["clerk_a"]
    response = post(api(clerk), "/api/cases", {
        "matter_code": world.version.implementation_code, "form_data": GOOD_FORM,
        "applicant_id_number": CITIZEN_ID.lower()})
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()["number"])
    assert (case.applicant, case.filed_by, case.channel, case.intake_unit) == (
        world.citizen, clerk, Channel.WINDOW, world.street_a)


@pytest.mark.parametrize(("who", "body", "status", "field"), [
    ("clerk_a", {"applicant_id_number": "440304199003071211"}, 422, "applicant_id_number"),
    ("clerk_a", {}, 422, "applicant_id_number"),
    ("clerk_a", {"channel": "pc", "applicant_id_number": CITIZEN_ID}, 422, "channel"),
    ("citizen", {"applicant_id_number": "440304199003071235"}, 422, "applicant_id_number"),
    ("citizen", {"channel": "window"}, 422, "channel"),
    ("dept_approver", {"applicant_id_number": CITIZEN_ID}, 403, None),
])
def test_create__refused_with_a_reason_and_nothing_created(world, who, body, status, field):
    user = world.citizen if who == "citizen" else world.users[who]
    response = post(api(user), "/api/cases", {
        "matter_code": world.version.implementation_code, "form_data": GOOD_FORM, **body})
    assert response.status_code == status
    if field:
        assert field in response.json()["fields"]
    assert Case.objects.count() == 0


def test_create__unknown_or_unpublished_matter__404(world):
    citizen = api(world.citizen)
    assert post(citizen, "/api/cases", {"matter_code": "NOPE"}).status_code == 404
    world.version.status = "retired"
    world.version.save()
    assert post(citizen, "/api/cases", {
        "matter_code": world.version.implementation_code}).status_code == 404


# --- reading ----------------------------------------------------------------------------


def test_list__applicants_see_their_own_staff_their_subtree(world):
    u = world.users
    mine = submitted(world)
    window = cases.case_create(actor=u["clerk_a"], version=world.version,
                               applicant=world.stranger, channel=Channel.WINDOW)

    def numbers(user: Any, query: str = "") -> set[str]:
        response = api(user).get(f"/api/cases{query}")
        assert response.status_code == 200
        return {row["number"] for row in response.json()["items"]}

    assert numbers(world.citizen) == {mine.number}
    assert numbers(world.stranger) == {window.number}
    assert numbers(u["clerk_a"]) == {window.number}  # filed at street A's window
    assert numbers(u["clerk_b"]) == set()  # street B: neither
    assert numbers(u["dept_handler"]) == {mine.number, window.number}
    assert numbers(u["supervisor"]) == {mine.number, window.number}
    assert numbers(u["grid_worker_a"]) == set()  # no services role


def test_list__filters(world):
    u = world.users
    first, second = submitted(world), submitted(world)
    cases.case_accept(actor=u["dept_clerk"], case=first)
    Case.objects.filter(pk=first.pk).update(time_state=TimeState.WARNING)
    handler = api(u["dept_handler"])
    cases.case_claim(actor=u["dept_handler"], case=Case.objects.get(pk=first.pk))

    def numbers(query: str) -> list[str]:
        return [row["number"] for row in handler.get(f"/api/cases?{query}").json()["items"]]

    assert numbers("status=accepted") == [first.number]
    assert numbers("status=submitted") == [second.number]
    assert numbers("time_state=warning") == [first.number]
    assert numbers("assigned_to=me") == [first.number]
    assert set(numbers(f"matter={world.version.implementation_code}")) == {
        first.number, second.number}
    assert numbers(f"department={world.street_a.code}") == []
    assert numbers("submitted_from=2000-01-01&submitted_to=2000-12-31") == []
    today = second.submitted_at.astimezone().date().isoformat()
    assert len(numbers(f"submitted_from={today}&submitted_to={today}")) == 2
    assert handler.get("/api/cases?submitted_from=20260101").status_code == 422


def test_list__constant_queries(world, django_assert_max_num_queries):
    for _ in range(3):
        submitted(world)
    client = api(world.users["dept_handler"])
    client.get("/api/cases")  # warm the session and permission caches
    with django_assert_max_num_queries(8) as few:
        client.get("/api/cases")
    for _ in range(5):
        submitted(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/cases").json()["count"] == 8


def test_detail__own_stranger_outside__200_404_404(world):
    case = submitted(world)
    assert api(world.citizen).get(f"/api/cases/{case.number}").status_code == 200
    assert api(world.stranger).get(f"/api/cases/{case.number}").status_code == 404
    assert api(world.users["clerk_b"]).get(f"/api/cases/{case.number}").status_code == 404
    assert api(world.users["dept_handler"]).get(f"/api/cases/{case.number}").status_code == 200
    assert api(world.citizen).get("/api/cases/44039919700101999999").status_code == 404


def test_detail__personal_data_masked_unless_applicant_or_allowed(world):
    case = submitted(world)
    url = f"/api/cases/{case.number}"
    handler = api(world.users["dept_handler"]).get(url).json()  # no personal-data role
    assert handler["applicant_name"] == "张*"
    assert handler["form_data"]["contact_phone"] == "138****5678"
    clerk = api(world.users["dept_clerk"]).get(url).json()
    assert clerk["applicant_name"] == "张三"
    assert clerk["form_data"]["contact_phone"] == "13812345678"


def test_detail__allowed_actions_follow_role_and_state(world):
    u = world.users
    case = submitted(world)
    url = f"/api/cases/{case.number}"

    def names(user: Any) -> set[str]:
        return {a["name"] for a in api(user).get(url).json()["allowed_actions"]}

    assert names(world.citizen) == {"withdraw"}
    assert names(u["dept_clerk"]) == {"accept", "accept_with_deficiency", "refuse",
                                      "request_supplement"}
    assert names(u["dept_approver"]) == {"request_supplement"}
    assert names(u["supervisor"]) == set()


def test_detail__deadline_after_acceptance(world):
    case = cases.case_accept(actor=world.users["dept_clerk"], case=submitted(world))
    body = api(world.citizen).get(f"/api/cases/{case.number}").json()
    assert body["deadline"]["limit"] == 5 and body["deadline"]["unit"] == "workdays"
    assert body["deadline"]["remaining"] == 5 and not body["deadline"]["paused"]
    assert body["due_at"] == body["deadline"]["due_at"]
    assert body["time_state"] == "normal"


def test_events__the_timeline_in_order_applicant_masked_for_staff_without_the_role(world):
    case = cases.case_accept(actor=world.users["dept_clerk"], case=submitted(world))
    mine = api(world.citizen).get(f"/api/cases/{case.number}/events").json()["items"]
    assert [e["action"] for e in mine] == ["create", "submit", "accept"]
    assert mine[1]["actor"] == "张三" and mine[2]["actor"] == "dept_clerk"
    staff = api(world.users["dept_handler"]).get(f"/api/cases/{case.number}/events").json()
    assert staff["items"][1]["actor"] == "张*"
    assert api(world.stranger).get(f"/api/cases/{case.number}/events").status_code == 404


# --- every transition -------------------------------------------------------------------


def test_transitions__window_to_delivery_with_supplement_suspension_and_extension(world):
    u = world.users
    case = draft(world)
    attach_all(case, world.citizen)
    steps = [
        (world.citizen, "submit", {}, S.SUBMITTED),
        (u["dept_clerk"], "request_supplement",
         {"items": [{"material": "site_plan", "description": ""}], "reason": "规划许可证过期"},
         S.SUPPLEMENT),
        (world.citizen, "supplement", {}, S.SUBMITTED),
        (u["dept_clerk"], "accept", {}, S.ACCEPTED),
        (u["dept_handler"], "claim", {}, S.ACCEPTED),
        (u["dept_approver"], "assign", {"assignee": "dept_approver2"}, S.ACCEPTED),
        (u["dept_approver2"], "start_review", {}, S.UNDER_REVIEW),
        (u["dept_approver2"], "suspend", {"procedure": "inspection", "reason": "现场核查"},
         S.SUSPENDED),
        (u["dept_approver2"], "resume", {}, S.UNDER_REVIEW),
        (u["dept_handler"], "request_extension", {"days": 3, "reason": "需专家论证"},
         S.UNDER_REVIEW),
        (u["dept_approver"], "decide_extension", {"approve": True, "reason": "同意"},
         S.UNDER_REVIEW),
        (u["dept_approver"], "approve", {"opinion": "符合条件"}, S.APPROVED),
        (u["dept_clerk"], "deliver", {"method": "post"}, S.DELIVERED),
        (u["dept_clerk"], "close", {}, S.CLOSED),
    ]
    for user, action, body, expected in steps:
        if action == "supplement":
            attach_all(case, world.citizen)
        before = Case.objects.get(pk=case.pk).revision
        response = act(user, case, action, **body)
        assert response.status_code == 200, (action, response.json())
        assert response.json()["status"] == expected, action
        assert response.json()["revision"] == before + 1, action
    case.refresh_from_db()
    assert case.assigned_to == u["dept_approver2"] and case.delivery_method == "post"
    assert Extension.objects.get(case=case).status == Extension.Status.APPROVED
    assert list(case.events.values_list("action", flat=True))[1:] == [a for _u, a, _b, _s
                                                                      in steps]


def test_transitions__deficiency_refusal_rejection_withdrawal_termination(world):
    u = world.users
    deficient = submitted(world)
    response = act(u["dept_clerk"], deficient, "accept_with_deficiency",
                   items=[{"material": "site_plan"}, {"description": "法人授权书"}])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == S.ACCEPTED_DEFICIENT and body["deficiency_due_at"]
    assert [(d["kind"], d["material"], d["description"]) for d in body["deficiencies"]] == [
        ("deficient", "site_plan", "建设工程规划许可证"), ("deficient", None, "法人授权书")]

    refused = submitted(world)
    assert act(u["dept_clerk"], refused, "refuse", reason="不属于受理范围").json()[
        "status"] == S.REFUSED

    rejected = cases.case_start_review(actor=u["dept_handler"], case=cases.case_accept(
        actor=u["dept_clerk"], case=submitted(world)))
    assert act(u["dept_approver"], rejected, "reject", reason="不符合条件").json()[
        "status"] == S.REJECTED

    withdrawn = draft(world)
    assert act(world.citizen, withdrawn, "withdraw", reason="不办了").json()[
        "status"] == S.WITHDRAWN

    terminated = cases.case_request_supplement(
        actor=u["dept_clerk"], case=submitted(world), items=[(None, "身份证明")], reason="缺")
    assert act(u["dept_clerk"], terminated, "terminate", reason="逾期未补正").json()[
        "status"] == S.TERMINATED


def test_transition__stale_revision__409_and_nothing_changes(world):
    case = submitted(world)
    response = act(world.users["dept_clerk"], case, "accept", revision=case.revision - 1)
    assert response.status_code == 409
    assert response.json()["code"] == "stale" and response.json()["message"]
    assert status_of(case) == S.SUBMITTED
    # The transitions whose service takes no revision check it too.
    assert act(world.users["dept_clerk"], case, "terminate", reason="x",
               revision=99).status_code == 409


def test_transition__not_allowed_from_the_state__422_and_nothing_changes(world):
    case = submitted(world)
    response = act(world.users["dept_approver"], case, "approve")
    assert response.status_code == 422 and response.json()["code"] == "bad_state"
    assert status_of(case) == S.SUBMITTED
    pending = act(world.users["dept_approver"], case, "decide_extension", approve=True)
    assert pending.status_code == 422 and pending.json()["code"] == "nothing_pending"
    started = cases.case_accept(actor=world.users["dept_clerk"], case=case)
    missing = act(world.users["dept_clerk"], started, "accept_with_deficiency",
                  revision=started.revision, items=[{"material": "application"}])
    assert missing.status_code == 422


@pytest.mark.parametrize(("who", "action", "body", "status"), [
    ("dept_approver", "accept", {}, 403),       # reviewers do not accept at intake
    ("dept_handler", "refuse", {"reason": "x"}, 403),
    ("supervisor", "accept", {}, 403),          # sees the case, may not act
    ("citizen", "accept", {}, 403),             # the applicant's own case
    ("stranger", "withdraw", {"reason": "x"}, 404),   # someone else's case
    ("clerk_b", "accept", {}, 404),             # outside street B's subtree
    ("grid_worker_a", "accept", {}, 404),       # no services role at all
])
def test_transition__role_and_scope__403_or_404(world, who, action, body, status):
    case = submitted(world)
    user = {"citizen": world.citizen, "stranger": world.stranger}.get(who) or world.users[who]
    assert act(user, case, action, **body).status_code == status
    assert status_of(case) == S.SUBMITTED


def test_transition__field_errors__422_by_field(world):
    case = submitted(world)
    clerk = world.users["dept_clerk"]
    assert set(act(clerk, case, "refuse", reason=" ").json()["fields"]) == {"reason"}
    unknown = act(clerk, case, "accept_with_deficiency", items=[{"material": "nope"}])
    assert set(unknown.json()["fields"]) == {"items.0.material"}
    assert set(act(clerk, case, "accept", revision="1").json()["fields"]) == {"revision"}
    assert status_of(case) == S.SUBMITTED


def test_transition__only_post(world):
    case = submitted(world)
    assert api(world.users["dept_clerk"]).get(
        f"/api/cases/{case.number}/actions/accept").status_code == 405


# --- tokens -----------------------------------------------------------------------------


def test_token__narrows_permissions(world):
    clerk = world.users["dept_clerk"]
    case = submitted(world)
    _token, read_only = token_create(actor=clerk, name="大厅屏", permissions=[
        "services.view_case"])
    reader = OpenAPIClient(token=read_only)
    assert reader.get(f"/api/cases/{case.number}").status_code == 200
    assert [a["name"] for a in reader.get(f"/api/cases/{case.number}").json()[
        "allowed_actions"]] == []
    response = reader.post(f"/api/cases/{case.number}/actions/accept",
                           {"revision": case.revision}, content_type="application/json")
    assert response.status_code == 403
    _token, acting = token_create(actor=clerk, name="受理系统", permissions=[
        "services.view_case", "services.accept_case"])
    assert OpenAPIClient(token=acting).post(
        f"/api/cases/{case.number}/actions/accept", {"revision": case.revision},
        content_type="application/json").status_code == 200
    _token, blind = token_create(actor=clerk, name="other", permissions=["core.view_orgunit"])
    assert OpenAPIClient(token=blind).get("/api/cases").json()["count"] == 0
    assert OpenAPIClient(token=blind).get(f"/api/cases/{case.number}").status_code == 404


def test_token__narrows_scope_to_its_unit(world):
    admin = world.users["district_admin"]
    case = submitted(world)  # handled by the department
    _token, street = token_create(actor=admin, name="甲街道大屏", org_unit=world.street_a,
                                  permissions=["services.view_case"])
    _token, district = token_create(actor=admin, name="全区", permissions=["services.view_case"])
    assert OpenAPIClient(token=street).get(f"/api/cases/{case.number}").status_code == 404
    assert OpenAPIClient(token=street).get("/api/cases").json()["count"] == 0
    assert OpenAPIClient(token=district).get(f"/api/cases/{case.number}").status_code == 200


# --- races ------------------------------------------------------------------------------

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                 reason="threads need PostgreSQL's row locks")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_race__two_clerks_same_case__only_one_wins(district):
    add_case_staff(district)
    district.version = make_matter(district, form_schema=FORM)
    district.citizen = make_citizen(phone="13800138000", id_number=CITIZEN_ID)
    case = submitted(district)
    clerks = [district.users["dept_clerk"], make_staff("dept_clerk3", district.department,
                                                       Role.WINDOW_CLERK)]
    clients = [api(clerk) for clerk in clerks]
    start = threading.Barrier(len(clients))
    answers: list[int | str] = []
    actions = ["accept", "refuse"]
    api(clerks[0]).get(f"/api/cases/{case.number}")  # the OpenAPI checker built once, here

    def race(client: OpenAPIClient, action: str) -> None:
        try:
            start.wait()
            answers.append(post(client, f"/api/cases/{case.number}/actions/{action}",
                                {"revision": case.revision, "reason": "不予受理"}).status_code)
        except Exception as exc:
            answers.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=pair) for pair in zip(clients, actions,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=str) == [200, 409], answers
    case.refresh_from_db()
    assert case.status in (S.ACCEPTED, S.REFUSED) and case.revision == 2
    assert CaseEvent.objects.filter(case=case, action__in=actions).count() == 1
