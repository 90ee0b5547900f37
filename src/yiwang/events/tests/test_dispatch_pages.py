"""Staff event pages: the dispatch queue (tabs, scope, quick dispatch), the handler inbox
(sign for, co-handling, summonses), the event page with one form per allowed transition
(roles, bad input, races), the reporter's contact (audited) and attachments."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yiwang.accounts.roles import Role
from yiwang.core.models import AuditEntry
from yiwang.core.tests.factories import make_staff
from yiwang.events import services
from yiwang.events.models import (
    AssignmentRole,
    Event,
    EventAttachment,
    EventStatus,
    ReturnRequest,
    Summons,
)
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.todo import event_todos

pytestmark = pytest.mark.django_db
S = EventStatus
HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


@pytest.fixture
def d(district, settings):
    settings.LANGUAGE_CODE = "en"  # assertions on English text, whatever is compiled
    load_catalog()
    add_event_staff(district)
    return district


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, name: str, **params) -> str:
    response = client_for(user).get(reverse(f"events:{name}"), params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def act(user, event: Event, action: str, client: Client | None = None, *, htmx: bool = False,
        revision: int | None = None, files=None, **fields):
    event.refresh_from_db()
    data = {f"{action}-revision": event.revision if revision is None else revision}
    data.update({k if k in ("from", "next") else f"{action}-{k}": v for k, v in fields.items()})
    if files:
        data.update({f"{action}-{k}": v for k, v in files.items()})
    extra = HTMX if htmx else {}
    return (client or client_for(user)).post(
        reverse(f"events:event_action_{action}", args=[event.number]), data, **extra)


def flash(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def dispatched(d, unit=None) -> Event:
    return services.event_dispatch(actor=d.users["dispatcher"], event=new_event(d),
                                   unit=unit or d.street_a)


# --- the queue ---------------------------------------------------------------------------


def test_queue__waiting_events_with_suggestion_location_flag_and_deadline(d):
    waiting = new_event(d)
    lost = new_event(d, location_unit=None, street=None, address="不知道在哪", title="无地址诉求")
    done = dispatched(d)
    text = page(d.users["dispatcher"], "queue")
    assert waiting.number in text and lost.number in text and done.number not in text
    assert "Location to check" in text and "Shopfront" not in text
    assert 'name="dispatch-unit"' in text and "(suggested)" in text  # quick dispatch
    suggested = services.default_handler(waiting)
    assert suggested is not None
    assert f'<option value="{suggested.pk}" selected>{suggested.name} (suggested)</option>' \
        in text
    assert done.number in page(d.users["dispatcher"], "queue", tab="all")


def test_queue__returned_events_show_the_reason_disputed_ones_wait_for_a_supervisor(d):
    event = services.event_return(actor=d.users["street_handler"], event=dispatched(d),
                                  reason="不属于本街道")
    text = page(d.users["dispatcher"], "queue")
    assert event.number in text and "不属于本街道" in text
    services.event_dispute_return(actor=d.users["dispatcher"], event=event, reason="属于")
    assert event.number not in page(d.users["dispatcher"], "queue")
    assert event.number in page(d.users["event_supervisor"], "queue", tab="disputed")


def test_queue__extension_requests_and_callbacks_have_their_tabs(d):
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched(d))
    services.event_request_extension(actor=d.users["street_handler"], event=event, days=3,
                                     reason="需要协调")
    assert event.number in page(d.users["dispatcher"], "queue", tab="extension")
    other = services.event_resolve(
        actor=d.users["street_handler"],
        event=services.event_accept(actor=d.users["street_handler"], event=dispatched(d)),
        result="已清理")
    assert other.number in page(d.users["dispatcher"], "queue", tab="callback")


def test_queue__a_street_centre_does_not_see_the_district_queue(d):
    event = new_event(d)
    text = page(d.users["street_dispatcher"], "queue")
    assert event.number not in text


def test_queue__roles_without_dispatch_get_403(d):
    assert client_for(d.users["street_handler"]).get(reverse("events:queue")).status_code == 403
    assert client_for(d.users["clerk_a"]).get(reverse("events:queue")).status_code == 403


def test_queue__quick_dispatch_with_htmx_swaps_the_row(d):
    event = new_event(d)
    response = act(d.users["dispatcher"], event, "dispatch", htmx=True, unit=d.street_a.pk,
                   co_units=[d.department.pk], **{"from": "queue", "next": "/events/queue/"})
    assert response.status_code == 200
    text = response.content.decode()
    assert f'id="event-{event.pk}"' in text and "dispatched to" in text
    event.refresh_from_db()
    assert event.status == S.DISPATCHED and event.handler_unit == d.street_a
    assert event.assignments.filter(role=AssignmentRole.CO, unit=d.department).exists()


def test_queue__quick_dispatch_without_js_returns_to_the_queue(d):
    event = new_event(d)
    response = act(d.users["dispatcher"], event, "dispatch", unit=d.street_a.pk,
                   **{"from": "queue", "next": "/events/queue/?tab=received"})
    assert response.status_code == 302 and response["Location"] == "/events/queue/?tab=received"
    assert "dispatched" in flash(response)


def test_queue__quick_dispatch_refuses_a_foreign_next(d):
    event = new_event(d)
    response = act(d.users["dispatcher"], event, "dispatch", unit=d.street_a.pk,
                   **{"from": "queue", "next": "https://evil.example/"})
    assert response["Location"] == reverse("events:event_detail", args=[event.number])


def _list_queries(user, name: str, n: int, make) -> int:
    client = client_for(user)
    for _ in range(n):
        make()
    client.get(reverse(f"events:{name}"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(f"events:{name}")).status_code == 200
    return len(queries)


def test_queue__constant_queries(d):
    few = _list_queries(d.users["dispatcher"], "queue", 2, lambda: new_event(d))
    many = _list_queries(d.users["dispatcher"], "queue", 8, lambda: new_event(
        d, location_unit=d.community_b, street=d.street_b, code="010102"))
    assert many == few


def test_inbox__constant_queries(d):
    few = _list_queries(d.users["street_handler"], "inbox", 2, lambda: dispatched(d))
    many = _list_queries(d.users["street_handler"], "inbox", 8, lambda: dispatched(d))
    assert many == few


# --- the inbox ---------------------------------------------------------------------------


def test_inbox__to_sign_for_and_sign_with_htmx(d):
    event = dispatched(d)
    other = dispatched(d, unit=d.street_b)
    text = page(d.users["street_handler"], "inbox")
    assert event.number in text and other.number not in text
    response = act(d.users["street_handler"], event, "accept", htmx=True,
                   **{"from": "inbox", "next": "/events/inbox/"})
    assert response.status_code == 200 and "signed for" in response.content.decode()
    event.refresh_from_db()
    assert event.status == S.ACCEPTED and event.assigned_to == d.users["street_handler"]
    assert event.number in page(d.users["street_handler"], "inbox", tab="handling")


def test_inbox__co_handlers_and_summoned_units_see_their_events(d):
    event = services.event_dispatch(actor=d.users["dispatcher"], event=new_event(d),
                                    unit=d.street_a, co_units=[d.street_b])
    text = page(d.users["street_b_handler"], "inbox", tab="co")
    assert event.number in text
    assert event.number in page(d.users["street_b_handler"], "inbox", tab="all")
    # …and may open it, though it is located in street A.
    assert client_for(d.users["street_b_handler"]).get(
        reverse("events:event_detail", args=[event.number])).status_code == 200
    services.event_accept(actor=d.users["street_handler"], event=event)
    summons = services.event_summon(actor=d.users["street_handler"], event=event,
                                    kind=Summons.Kind.SUMMONS, units=[d.department],
                                    subject="请到场处置", hours=24)
    assert event.number in page(d.users["dept_handler"], "inbox", tab="summons")
    detail = client_for(d.users["dept_handler"]).get(
        reverse("events:event_detail", args=[event.number])).content.decode()
    assert "请到场处置" in detail and "Send the response" in detail
    response = client_for(d.users["dept_handler"]).post(
        reverse("events:summons_respond", args=[summons.pk]),
        {f"s{summons.responses.get().pk}-response": "已到场"})
    assert response.status_code == 302
    assert summons.responses.get().response == "已到场"
    assert event.number not in page(d.users["dept_handler"], "inbox", tab="summons")


def test_summons_response__empty_is_refused(d):
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched(d))
    summons = services.event_summon(actor=d.users["street_handler"], event=event,
                                    kind=Summons.Kind.SUMMONS, units=[d.department],
                                    subject="请到场处置", hours=24)
    response = client_for(d.users["dept_handler"]).post(
        reverse("events:summons_respond", args=[summons.pk]),
        {f"s{summons.responses.get().pk}-response": " "})
    assert response.status_code == 400
    assert summons.responses.get().responded_at is None


def test_summons_response__another_unit_gets_404(d):
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched(d))
    summons = services.event_summon(actor=d.users["street_handler"], event=event,
                                    kind=Summons.Kind.SUMMONS, units=[d.department],
                                    subject="请到场处置", hours=24)
    response = client_for(d.users["street_b_handler"]).post(
        reverse("events:summons_respond", args=[summons.pk]), {"s1-response": "x"})
    assert response.status_code == 404


# --- the event page ----------------------------------------------------------------------


def detail(user, event: Event) -> str:
    response = client_for(user).get(reverse("events:event_detail", args=[event.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_detail__everything_about_the_event(d):
    event = dispatched(d)
    text = detail(d.users["dispatcher"], event)
    assert event.number in text and event.description in text
    assert "甲一社区" in text and "甲街道" in text  # the unit chain
    assert "王*生" in text and "138****8001" in text and "13800138001" not in text
    assert "Timeline" in text and "Registered" in text and "Dispatch" in text
    assert f'action="/events/{event.number}/actions/reassign/"' in text


def test_detail__outside_scope_is_404_and_non_readers_403(d):
    event = dispatched(d)
    assert client_for(d.users["street_b_handler"]).get(
        reverse("events:event_detail", args=[event.number])).status_code == 404
    assert client_for(d.users["clerk_a"]).get(
        reverse("events:event_detail", args=[event.number])).status_code == 403
    assert client_for(d.users["dispatcher"]).get("/events/440399197001019999999/").status_code \
        == 404


def test_detail__forms_follow_the_state_and_the_role(d):
    event = dispatched(d)
    handler = detail(d.users["street_handler"], event)
    assert "/actions/accept/" in handler and "/actions/return/" in handler
    assert "/actions/reassign/" not in handler
    dispatcher = detail(d.users["dispatcher"], event)
    assert "/actions/accept/" not in dispatcher and "/actions/reassign/" in dispatcher


def test_action__the_whole_path_from_dispatch_to_close(d, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    event = new_event(d)
    assert act(d.users["dispatcher"], event, "dispatch", unit=d.street_a.pk).status_code == 302
    assert act(d.users["street_handler"], event, "accept").status_code == 302
    assert act(d.users["street_handler"], event, "start").status_code == 302
    assert act(d.users["street_handler"], event, "contact", note="电话联系，约定明天处理"
               ).status_code == 302
    photo = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    response = act(d.users["street_handler"], event, "resolve", result="已清理占道桌椅",
                   files={"photos": photo})
    assert response.status_code == 302, response.content.decode()[:2000]
    event.refresh_from_db()
    assert event.status == S.RESOLVED and event.resolution == "已清理占道桌椅"
    attachment = EventAttachment.objects.get(event=event)
    assert attachment.stage == "result" and attachment.content_type == "image/png"
    got = client_for(d.users["dispatcher"]).get(reverse("events:attachment", args=[attachment.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert client_for(d.users["street_b_handler"]).get(
        reverse("events:attachment", args=[attachment.pk])).status_code == 404
    assert AuditEntry.objects.filter(action="events.attachment.read").exists()
    assert act(d.users["dispatcher"], event, "callback", satisfaction=3, method="phone",
               note="满意").status_code == 302
    event.refresh_from_db()
    assert event.status == S.CLOSED


def test_action__resolve_with_a_bad_file_changes_nothing(d, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched(d))
    fake = SimpleUploadedFile("after.png", b"MZ\x90\x00 not a picture", content_type="image/png")
    response = act(d.users["street_handler"], event, "resolve", result="已处理",
                   files={"photos": fake})
    assert response.status_code == 400 and "not a file type we accept" in \
        response.content.decode()
    event.refresh_from_db()
    assert event.status == S.ACCEPTED and not EventAttachment.objects.exists()


@pytest.mark.parametrize("action, user, fields, field", [
    ("return", "street_handler", {"reason": " "}, "reason"),
    ("contact", "street_handler", {"note": ""}, "note"),
    ("dispatch", "dispatcher", {"unit": "999999"}, "unit"),
    ("reassign", "dispatcher", {"unit": "", "reason": "改派"}, "unit"),
    ("summon", "street_handler", {"units": [], "subject": "x", "hours": 24}, "units"),
    ("summon", "street_handler", {"units": ["1"], "subject": "x", "hours": 999}, "hours"),
    ("merge", "dispatcher", {"into": "123", "reason": "重复"}, "into"),
])
def test_action__bad_input_is_explained_and_changes_nothing(d, action, user, fields, field):
    event = dispatched(d)
    if action in ("summon",):
        event = services.event_accept(actor=d.users["street_handler"], event=event)
    if action == "dispatch":
        event = new_event(d)
    before = Event.objects.get(pk=event.pk)
    response = act(d.users[user], event, action, **fields)
    assert response.status_code == 400
    assert response.context["failed"].errors.get(field), response.context["failed"].errors
    after = Event.objects.get(pk=event.pk)
    assert (after.status, after.revision) == (before.status, before.revision)


def test_action__not_allowed_for_the_role_is_403(d):
    event = dispatched(d)
    assert act(d.users["street_handler"], event, "reassign", unit=d.street_b.pk,
               reason="x").status_code == 403
    assert act(d.users["dispatcher"], event, "accept").status_code == 403


def test_action__outside_scope_is_404(d):
    event = dispatched(d)
    assert act(d.users["street_b_handler"], event, "accept").status_code == 404


def test_action__not_possible_now_says_so(d):
    event = new_event(d)
    response = act(d.users["dispatcher"], event, "close", reason="x")
    assert response.status_code == 302 and "not possible" in flash(response)


def test_action__two_dispatchers_one_wins(d):
    event = new_event(d)
    first, second = client_for(d.users["dispatcher"]), client_for(d.users["dispatcher2"])
    seen = event.revision
    ok = act(d.users["dispatcher"], event, "dispatch", first, revision=seen, unit=d.street_a.pk)
    late = act(d.users["dispatcher2"], event, "dispatch", second, revision=seen,
               unit=d.street_b.pk)
    assert ok.status_code == 302 and late.status_code == 302
    assert "Someone else changed this event" in flash(late)
    event.refresh_from_db()
    assert event.handler_unit == d.street_a and event.assignments.count() == 1


def test_action__decide_extension_not_by_the_one_who_asked(d):
    event = services.event_accept(actor=d.users["street_handler"], event=dispatched(d))
    services.event_request_extension(actor=d.users["street_handler"], event=event, days=2,
                                     reason="协调")
    text = detail(d.users["dispatcher"], event)
    assert "/actions/decide_extension/" in text and "asks for 2 more working days" in text
    response = act(d.users["dispatcher"], event, "decide_extension", decision="approve")
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.extensions.get().status == "approved"


def test_action__return_dispute_and_decision(d):
    event = dispatched(d)
    act(d.users["street_handler"], event, "return", reason="不属于本街道")
    assert act(d.users["dispatcher"], event, "dispute_return", reason="属于").status_code == 302
    assert act(d.users["event_supervisor"], event, "decide_dispute", decision="reject",
               reason="退单理由不成立").status_code == 302
    event.refresh_from_db()
    assert event.status == S.DISPATCHED and event.handler_unit == d.street_a
    assert ReturnRequest.objects.get().status == "refused"


def test_action__merge_into_another_event(d):
    main, duplicate = new_event(d), new_event(d)
    response = act(d.users["dispatcher"], duplicate, "merge", into=main.number, reason="同一问题")
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == S.MERGED and duplicate.merged_into == main
    assert duplicate.number in detail(d.users["dispatcher"], main)


# --- the reporter ------------------------------------------------------------------------


def test_reporter__reveal_is_audited_for_those_who_call_back(d):
    event = dispatched(d)
    url = reverse("events:event_reporter_reveal", args=[event.number])
    response = client_for(d.users["street_handler"]).post(url, **HTMX)
    text = response.content.decode()
    assert response.status_code == 200 and "13800138001" in text and "王先生" in text
    assert AuditEntry.objects.filter(action="pii.read", object_id=str(event.pk)).exists()
    admin = make_staff("ev_admin", d.district, Role.DISTRICT_ADMIN)
    assert client_for(admin).post(url).status_code == 403


def test_reporter__anonymous_stays_hidden_from_the_handler(d):
    event = services.event_dispatch(actor=d.users["dispatcher"],
                                    event=new_event(d, anonymous=True), unit=d.street_a)
    text = detail(d.users["street_handler"], event)
    assert "138****8001" not in text and "Anonymous" in text
    url = reverse("events:event_reporter_reveal", args=[event.number])
    assert client_for(d.users["street_handler"]).post(url).status_code == 403
    assert "138****8001" in detail(d.users["dispatcher"], event)


# --- to-do -------------------------------------------------------------------------------


def test_todo__dispatch_sign_and_summons(d):
    new_event(d)
    dispatched(d)
    titles = [i.title for i in event_todos(d.users["dispatcher"])]
    assert any("to dispatch" in t for t in titles)
    titles = [i.title for i in event_todos(d.users["street_handler"])]
    assert any("to sign for" in t for t in titles)
    assert event_todos(d.users["clerk_a"]) == []
