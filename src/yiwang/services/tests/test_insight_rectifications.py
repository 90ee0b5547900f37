"""The rectification (整改) inbox and detail pages: a bad rating worked through contact,
rectification and callback, an appeal decided by a supervisor, and who may do what."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.tests.factories import make_citizen
from yiwang.services import ratings
from yiwang.services.models import Rectification
from yiwang.services.models import RectificationStatus as R
from yiwang.services.tests import test_ratings

pytestmark = pytest.mark.django_db
closed_case = test_ratings.closed_case  # a closed case and its staff (a fixture)
LIST = "/services/rectifications/"


@pytest.fixture
def rectification(closed_case) -> Rectification:
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=1,
                                   channel="mobile", tags=["办理慢"], text="等了很久")
    item = rating.rectification
    item.users = closed_case.users
    return item


def _url(item: Rectification, step: str = "") -> str:
    return f"/services/rectifications/{item.pk}/" + (f"actions/{step}/" if step else "")


def _post(client, item: Rectification, step: str, revision: int | None = None, **fields):
    if revision is None:
        revision = Rectification.objects.get(pk=item.pk).revision
    return client.post(_url(item, step), {f"{step}-revision": revision,
                                          **{f"{step}-{k}": v for k, v in fields.items()}})


def _status(item: Rectification) -> str:
    return Rectification.objects.get(pk=item.pk).status


def test_rectification__worked_from_the_inbox_to_the_callback(rectification, client_for):
    u = rectification.users
    handler = client_for(u["dept_handler"])
    number = rectification.rating.case.number

    inbox = handler.get(LIST)
    assert inbox.status_code == 200
    html = inbox.content.decode()
    assert number in html and _url(rectification) in html
    assert str(R.OPEN.label) in html and _("Normal") in html  # 15 working days left

    page = handler.get(_url(rectification))
    html = page.content.decode()
    assert f"/services/cases/{number}/" in html and "等了很久" in html
    assert [e["step"].name for e in page.context["step_forms"]] == ["contact", "appeal"]

    empty = _post(handler, rectification, "contact", verification=" ", contact_note="")
    assert empty.status_code == 400 and _status(rectification) == R.OPEN
    errors = empty.context["step_forms"][0]["form"].errors
    assert set(errors) == {"verification", "contact_note"}
    assert "yw-error-summary" in empty.content.decode()

    done = _post(handler, rectification, "contact", verification="核实属实",
                 contact_note="电话联系申请人")
    assert done.status_code == 302 and done["Location"] == _url(rectification)
    assert _status(rectification) == R.CONTACTED

    assert _post(handler, rectification, "rectify", result="优化审查流程").status_code == 302
    assert _status(rectification) == R.RECTIFIED
    page = handler.get(_url(rectification))
    assert [e["step"].name for e in page.context["step_forms"]] == ["callback"]

    bad_level = _post(handler, rectification, "callback", level="9", note="")
    assert bad_level.status_code == 400 and _status(rectification) == R.RECTIFIED
    assert _post(handler, rectification, "callback", level="4",
                 note="认可整改").status_code == 302
    item = Rectification.objects.get(pk=rectification.pk)
    assert item.status == R.CLOSED and item.callback_level == 4 and item.closed_at

    page = handler.get(_url(rectification))
    html = page.content.decode()
    assert page.context["step_forms"] == [] and _("This rectification is finished.") in html
    assert [h["label"] for h in page.context["history"]][1:] == [
        _("Verified and applicant contacted"), _("Rectified"), _("Called back, closed")]
    assert "优化审查流程" in html and _("Closed in time") in html
    # Finished: out of the default inbox, in the list of closed ones.
    assert number not in handler.get(LIST).content.decode()
    assert number in handler.get(LIST, {"status": "closed"}).content.decode()


def test_rectification__stale_form__sent_back_with_the_reason_nothing_changed(
        rectification, client_for):
    u = rectification.users
    seen = rectification.revision
    ratings.rectification_contact(actor=u["dept_handler2"], rectification=rectification,
                                  verification="a", contact_note="b")
    client = client_for(u["dept_handler"])
    response = _post(client, rectification, "appeal", revision=seen, reason="乱评")
    assert response.status_code == 302
    assert _status(rectification) == R.CONTACTED
    page = client.get(response["Location"])
    assert _("Someone else changed this rectification meanwhile; reload it.") in \
        page.content.decode()


def test_rectification__step_the_state_does_not_allow__sent_back_with_the_reason(
        rectification, client_for):
    client = client_for(rectification.users["dept_handler"])
    response = _post(client, rectification, "callback", level="5")
    assert response.status_code == 302 and _status(rectification) == R.OPEN
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages and str(R.OPEN.label) in messages[0]


def test_rectification__appeal_decided_by_a_supervisor_voids_the_rating(rectification,
                                                                        client_for):
    u = rectification.users
    handler = client_for(u["dept_handler"])
    assert _post(handler, rectification, "appeal", reason="评价内容与办件无关").status_code == 302
    assert _status(rectification) == R.APPEALED
    # The department cannot decide its own appeal.
    assert _post(client_for(u["dept_approver"]), rectification, "decide_appeal",
                 outcome="uphold", decision="x").status_code == 403
    assert _post(handler, rectification, "decide_appeal", outcome="uphold",
                 decision="x").status_code == 403
    supervisor = client_for(u["supervisor"])
    page = supervisor.get(_url(rectification))
    assert [e["step"].name for e in page.context["step_forms"]] == ["decide_appeal"]
    assert "评价内容与办件无关" in page.content.decode()
    missing = _post(supervisor, rectification, "decide_appeal", outcome="uphold", decision="")
    assert missing.status_code == 400 and _status(rectification) == R.APPEALED
    assert _post(supervisor, rectification, "decide_appeal", outcome="uphold",
                 decision="经复核属恶意差评").status_code == 302
    item = Rectification.objects.get(pk=rectification.pk)
    assert item.status == R.VOIDED and item.appeal_decided_by == u["supervisor"]
    html = supervisor.get(_url(rectification)).content.decode()
    assert _("Appeal upheld: rating voided") in html and "经复核属恶意差评" in html


def test_rectification__appeal_dismissed__back_to_open(rectification, client_for):
    u = rectification.users
    _post(client_for(u["dept_handler"]), rectification, "appeal", reason="乱评")
    _post(client_for(u["supervisor"]), rectification, "decide_appeal", outcome="dismiss",
          decision="评价属实，继续整改")
    assert _status(rectification) == R.OPEN


@pytest.mark.parametrize("who, step, status", [
    ("dept_clerk", "contact", 403),     # sees the department's rectifications, cannot act
    ("supervisor", "contact", 403),     # decides appeals only
    ("dept_approver", "contact", 302),  # approvers handle rectifications too
    ("clerk_a", "contact", 404),        # street A: not the responsible department
    ("clerk_b", "appeal", 404),
    ("grid_worker_a", "contact", 403),  # no access to rectifications at all
    ("citizen", "contact", 403),
])
def test_rectification__step__per_role(rectification, client_for, who, step, status):
    user = make_citizen(username="other", id_number="440304199003071235") \
        if who == "citizen" else rectification.users[who]
    response = _post(client_for(user), rectification, step, verification="a",
                     contact_note="b", reason="c")
    assert response.status_code == status
    if status != 302:
        assert _status(rectification) == R.OPEN


@pytest.mark.parametrize("who, list_status, shows, detail_status", [
    ("dept_handler", 200, True, 200), ("dept_clerk", 200, True, 200),
    ("supervisor", 200, True, 200), ("clerk_a", 200, False, 404),
    ("grid_worker_a", 403, False, 403), ("district_admin", 403, False, 403),
])
def test_rectification__pages__per_role_and_scope(rectification, client_for, who,
                                                  list_status, shows, detail_status):
    client = client_for(rectification.users[who])
    inbox = client.get(LIST)
    assert inbox.status_code == list_status
    if list_status == 200:
        assert (rectification.rating.case.number in inbox.content.decode()) is shows
    assert client.get(_url(rectification)).status_code == detail_status


def test_rectification__anonymous__sent_to_sign_in(rectification, client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_rectification_list__filters(rectification, client_for):
    client = client_for(rectification.users["dept_handler"])
    number = rectification.rating.case.number
    assert number in client.get(LIST, {"level": "1"}).content.decode()
    assert number not in client.get(LIST, {"level": "2"}).content.decode()
    assert number in client.get(LIST, {"q": number[-6:]}).content.decode()
    assert number not in client.get(LIST, {"overdue": "on"}).content.decode()
    clock = rectification.clock
    clock.due_at = timezone.now() - timezone.timedelta(days=3)
    clock.save()
    overdue = client.get(LIST, {"overdue": "on"})
    assert number in overdue.content.decode() and _("Overdue") in overdue.content.decode()
    assert client.get(LIST, {"status": "nonsense"}).status_code == 400


def test_rectification_list__constant_queries(rectification, client_for):
    """More rows, the same number of queries (no N+1): the pins freeze what is left."""
    client = client_for(rectification.users["dept_handler"])
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    item = rectification
    for _i in range(4):  # more rectifications of the same department
        clone = Rectification.objects.get(pk=item.pk)
        rating = clone.rating
        rating.pk = None
        rating.channel = ["sms", "qr", "tablet", "phone"][_i]
        rating.save()
        clock = clone.clock
        clock.pk = None
        clock.save()
        Rectification.objects.create(rating=rating, department=clone.department, clock=clock)
    with CaptureQueriesContext(connection) as five:
        response = client.get(LIST)
    assert len(response.context["rows"]) == 5
    assert len(five) == len(one)
