"""The 好差评 API: the applicant rates once per channel; a bad rating opens a
rectification that the department works through the API (409 stale, 422 wrong step)."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.accounts.roles import Role
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import ratings
from yiwang.services.models import Case, Rating, Rectification
from yiwang.services.models import RectificationStatus as R
from yiwang.services.tests.test_ratings import closed_case  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def post(user: Any, url: str, body: dict[str, Any]) -> Any:
    return OpenAPIClient(user=user).post(url, body, content_type="application/json")


def rate(case: Any, user: Any = None, **body: Any) -> Any:
    return post(user or case.applicant, f"/api/cases/{case.number}/ratings",
                {"level": 5, "channel": "pc", **body})


def test_rate__once_per_channel(closed_case):  # noqa: F811
    response = rate(closed_case, tags=["态度好"])
    assert response.status_code == 201
    body = response.json()
    assert (body["case"], body["level"], body["rectification_id"]) == (
        closed_case.number, 5, None)
    again = rate(closed_case, level=4)
    assert again.status_code == 422 and "case" in again.json()["fields"]
    assert rate(closed_case, channel="sms", level=4).status_code == 201
    assert Rating.objects.filter(case=closed_case).count() == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"level": 0}, "level"), ({"level": 6}, "level"), ({"level": "5"}, "level"),
    ({"channel": "fax"}, "channel"), ({"level": 1}, "text"),  # a bad rating says why
])
def test_rate__bad_input__422_and_nothing_saved(closed_case, body, field):  # noqa: F811
    response = rate(closed_case, **body)
    assert response.status_code == 422 and field in response.json()["fields"]
    assert not Rating.objects.exists()


def test_rate__someone_elses_case_404_staff_403_undecided_422(closed_case):  # noqa: F811
    stranger = make_citizen(username="stranger", id_number="440304199003071235")
    assert rate(closed_case, stranger).status_code == 404
    assert rate(closed_case, closed_case.users["dept_clerk"]).status_code == 403
    assert rate(closed_case, closed_case.users["clerk_b"]).status_code == 404
    Case.objects.filter(pk=closed_case.pk).update(status="under_review")
    assert rate(closed_case).status_code == 422
    assert not Rating.objects.exists()


def test_ratings__own_for_applicants_subtree_for_staff(closed_case):  # noqa: F811
    rate(closed_case)
    rate(closed_case, level=1, channel="sms", text="等太久")
    u = closed_case.users

    def levels(user: Any, query: str = "") -> list[int]:
        response = OpenAPIClient(user=user).get(f"/api/ratings{query}")
        assert response.status_code == 200
        return sorted(row["level"] for row in response.json()["items"])

    assert levels(closed_case.applicant) == [1, 5]
    assert levels(make_citizen(username="other", id_number="440304199003071235")) == []
    assert levels(u["dept_handler"]) == [1, 5]
    assert levels(u["dept_handler"], "?bad=true") == [1]
    assert levels(u["dept_handler"], "?channel=pc") == [5]
    assert levels(u["clerk_b"]) == []
    assert levels(u["district_admin"]) == []  # no rating role


@pytest.fixture
def rectification(closed_case) -> Rectification:  # noqa: F811
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=1,
                                   channel="pc", text="窗口态度差")
    found = Rectification.objects.get(rating=rating)
    found.users = closed_case.users
    found.users["outsider"] = make_staff("outsider", closed_case.users["clerk_b"].org_unit,
                                         Role.APPROVER)
    return found


def step(user: Any, rectification: Rectification, action: str, **body: Any) -> Any:
    body.setdefault("revision", Rectification.objects.get(pk=rectification.pk).revision)
    return post(user, f"/api/rectifications/{rectification.pk}/actions/{action}", body)


def test_rectification__contact_rectify_callback_closes_it(rectification):
    handler = rectification.users["dept_handler"]
    detail = OpenAPIClient(user=handler).get(f"/api/rectifications/{rectification.pk}").json()
    assert detail["status"] == R.OPEN and detail["allowed_actions"] == ["contact", "appeal"]
    assert detail["rating"]["level"] == 1 and detail["due_at"]
    for action, body, status in [
        ("contact", {"verification": "属实", "contact_note": "电话致歉"}, R.CONTACTED),
        ("rectify", {"result": "已培训窗口人员"}, R.RECTIFIED),
        ("callback", {"level": 4, "note": "满意"}, R.CLOSED),
    ]:
        response = step(handler, rectification, action, **body)
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    assert response.json()["callback_level"] == 4 and response.json()["closed_at"]


def test_rectification__appeal_decided_by_a_supervisor(rectification):
    u = rectification.users
    assert step(u["dept_handler"], rectification, "appeal",
                reason="评价与办件无关").json()["status"] == R.APPEALED
    assert step(u["dept_handler"], rectification, "decide_appeal", uphold=True,
                decision="x").status_code == 403
    response = step(u["supervisor"], rectification, "decide_appeal", uphold=True,
                    decision="经核实为误评")
    assert response.status_code == 200 and response.json()["status"] == R.VOIDED


def test_rectification__stale_409_wrong_step_422_scope_404(rectification):
    u = rectification.users
    stale = step(u["dept_handler"], rectification, "contact", revision=5,
                 verification="属实", contact_note="电话")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    wrong = step(u["dept_handler"], rectification, "rectify", result="x")
    assert wrong.status_code == 422 and wrong.json()["code"] == "bad_state"
    blank = step(u["dept_handler"], rectification, "rectify", result=" ")
    assert blank.status_code == 422 and set(blank.json()["fields"]) == {"result"}
    assert step(u["outsider"], rectification, "contact", verification="x",
                contact_note="x").status_code == 404
    assert step(u["dept_clerk"], rectification, "contact", verification="x",
                contact_note="x").status_code == 403  # sees it, does not handle it
    assert Rectification.objects.get(pk=rectification.pk).status == R.OPEN


def test_rectifications__listed_in_scope_only(rectification):
    u = rectification.users

    def ids(user: Any, query: str = "") -> list[int]:
        return [row["id"] for row in OpenAPIClient(user=user).get(
            f"/api/rectifications{query}").json()["items"]]

    assert ids(u["dept_handler"]) == [rectification.pk]
    assert ids(u["supervisor"], "?status=open") == [rectification.pk]
    assert ids(u["supervisor"], "?status=closed") == []
    assert ids(u["outsider"]) == []
    assert ids(rectification.rating.rater) == []  # a staff matter
    assert OpenAPIClient(user=rectification.rating.rater).get(
        f"/api/rectifications/{rectification.pk}").status_code == 404
