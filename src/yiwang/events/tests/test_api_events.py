"""The events API: the catalog, classification, intake, scoped lists and details, the
timeline, token narrowing and idempotent registration.

Every response goes through ``OpenAPIClient``, so it must also match the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from yiwang.accounts.services import token_create
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.core.tests.factories import make_citizen
from yiwang.events import services
from yiwang.events.models import Channel, Event, EventStatus, EventUpdate
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

pytestmark = pytest.mark.django_db
S = EventStatus
IN_COMMUNITY_A = {"lat": 22.53, "lon": 114.03}
IN_STREET_B = {"lat": 22.55, "lon": 114.15}


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    district.citizen = make_citizen(phone="13800138000")
    district.stranger = make_citizen(username="stranger", id_number="440304199003071235",
                                     name="李四")
    return district


def api(user: Any = None, **extra: Any) -> OpenAPIClient:
    return OpenAPIClient(user=user, **extra)


def post(client: OpenAPIClient, url: str, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(url, body, content_type="application/json", **extra)


def numbers(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["items"]}


# --- the dispatch catalog -----------------------------------------------------------------


def test_catalog__public_list_of_dispatchable_items(d):
    body = api().get("/api/dispatch-catalog", {"level": 3, "limit": 500}).json()
    assert body["count"] == 179
    first = body["items"][0]
    assert first["code"] == "010101" and first["name"] == "占道经营"
    assert first["handler_type"] == "territorial" and first["parent_code"] == "0101"


def test_catalog__search_and_children(d):
    found = api().get("/api/dispatch-catalog", {"q": "走鬼"}).json()["items"]
    assert [c["code"] for c in found] == ["010102"]
    children = api().get("/api/dispatch-catalog", {"parent": "0101"}).json()["items"]
    assert children and all(c["code"].startswith("0101") for c in children)


def test_catalog__detail_with_ancestors_and_children(d):
    body = api().get("/api/dispatch-catalog/010101").json()
    assert [a["code"] for a in body["ancestors"]] == ["01", "0101"]
    assert body["children"] == []
    group = api().get("/api/dispatch-catalog/0101").json()
    assert "010101" in [c["code"] for c in group["children"]]
    assert api().get("/api/dispatch-catalog/999999").status_code == 404


# --- classification -------------------------------------------------------------------------


def test_classify__ranked_items_with_the_handler_they_imply(d):
    client = api(d.users["dispatcher"])
    body = post(client, "/api/events/classify",
                {"text": "楼下有人摆摊占道经营，桌椅都摆到人行道上了"}).json()
    top = body["items"][0]
    assert top["code"] == "010101" and 0 < top["score"] <= 1
    assert top["handler_type"] == "territorial" and top["handler"] == "territorial"
    assert body["street"] is None and body["model"] == "keywords"


def test_classify__a_point_names_the_street_of_territorial_items(d):
    client = api(d.users["dispatcher"])
    body = post(client, "/api/events/classify",
                {"text": "路边流动摊贩走鬼占道", **IN_STREET_B}).json()
    assert body["street"]["code"] == d.street_b.code
    assert body["items"][0]["handler"] == "territorial: 乙街道"


def test_classify__functional_items_name_their_department(d):
    client = api(d.users["grid_worker_a"])
    body = post(client, "/api/events/classify", {"text": "小区电梯困人，有人被关在电梯里"}).json()
    item = body["items"][0]
    assert item["handler_type"] in ("functional", "enterprise")
    assert item["handler"] is not None


def test_classify__warm_model_and_places_read_a_bounded_few_rows(
        d, django_assert_max_num_queries):
    """Classification and placing run on every intake: once warm they read at most two
    rows (the active model's and the point's unit), never the catalog or the boundaries
    again (latency is measured in bench/, never asserted here)."""
    client = api(d.users["dispatcher"])
    body = {"text": "晚上十一点工地还在施工，噪音太大睡不着", **IN_COMMUNITY_A}
    post(client, "/api/events/classify", body)  # warm the caches
    from yiwang.events.catalog import published_catalog
    from yiwang.events.classify import classify
    from yiwang.events.intake import place

    catalog = published_catalog()
    first = classify(body["text"], catalog=catalog)
    with django_assert_max_num_queries(2 * 3):
        for _ in range(3):
            assert classify(body["text"], catalog=catalog) == first
            assert place(lat=body["lat"], lon=body["lon"], address="")


@pytest.mark.parametrize("who", ["clerk_a", "auditor", "citizen"])
def test_classify__refused_to_those_who_neither_read_nor_register_events(d, who):
    user = d.citizen if who == "citizen" else d.users[who]
    response = post(api(user), "/api/events/classify", {"text": "占道经营"})
    assert response.status_code == 403


def test_classify__blank_text__422(d):
    response = post(api(d.users["dispatcher"]), "/api/events/classify", {"text": "   "})
    assert response.status_code == 422 and "text" in response.json()["fields"]


# --- registering events ---------------------------------------------------------------------


def test_create__hotline_classified_located_and_auto_dispatched(d):
    response = post(api(d.users["dispatcher"]), "/api/events", {
        "description": "甲一社区和平路有流动摊贩占道经营，走鬼天天来", "appeal_type": "complaint",
        "reporter_name": "王先生", "reporter_phone": "13800138001", **IN_COMMUNITY_A})
    assert response.status_code == 201, response.content
    body = response.json()
    event = Event.objects.get(number=body["number"])
    assert event.channel == Channel.HOTLINE and event.intake_by == d.users["dispatcher"]
    assert body["category"]["code"] == "010102"
    assert body["status"] == S.DISPATCHED and body["handler_unit"]["code"] == d.street_a.code
    assert body["reporter_phone"] == "138****8001"  # masked for staff
    assert {a["name"] for a in body["allowed_actions"]} >= {"reassign"}


def test_create__grid_worker_reports_through_the_grid_channel(d):
    response = post(api(d.users["grid_worker_a"]), "/api/events", {
        "description": "井盖缺失，有行人差点掉下去", **IN_COMMUNITY_A})
    assert response.status_code == 201
    assert Event.objects.get(number=response.json()["number"]).channel == Channel.GRID


def test_create__citizen_reports_through_the_portal_as_themselves(d):
    response = post(api(d.citizen), "/api/events", {
        "description": "家门口垃圾堆了三天没人清运，臭气熏天", "channel": "hotline",
        "reporter_name": "别人", "urgent": True})
    assert response.status_code == 201
    event = Event.objects.get(number=response.json()["number"])
    assert event.channel == Channel.PORTAL and event.reporter == d.citizen
    assert event.reporter_name == d.citizen.name and not event.urgent
    assert response.json()["reporter_phone"] == "13800138000"  # their own, in full


def test_create__the_street_clerk_sees_what_they_registered_into_the_district_queue(d):
    response = post(api(d.users["street_dispatcher"]), "/api/events",
                    {"description": "有人反映一些情况，需要进一步了解"})
    assert response.status_code == 201
    assert response.json()["status"] == S.RECEIVED


def test_create__idempotency_key__a_retry_creates_nothing_new(d):
    client = api(d.users["dispatcher"])
    body = {"description": "小区门口乱停车堵住消防通道"}
    first = post(client, "/api/events", body, HTTP_IDEMPOTENCY_KEY="call-20261122-0001")
    again = post(client, "/api/events", body, HTTP_IDEMPOTENCY_KEY="call-20261122-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Event.objects.count() == 1
    other = post(client, "/api/events", body, HTTP_IDEMPOTENCY_KEY="call-20261122-0002")
    assert other.status_code == 201 and Event.objects.count() == 2


def test_create__idempotency_keys_are_per_caller(d):
    body = {"description": "小区门口乱停车堵住消防通道"}
    post(api(d.users["dispatcher"]), "/api/events", body, HTTP_IDEMPOTENCY_KEY="k1")
    response = post(api(d.users["dispatcher2"]), "/api/events", body,
                    HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201 and Event.objects.count() == 2


def test_create__bad_idempotency_key__422(d):
    response = post(api(d.users["dispatcher"]), "/api/events", {"description": "占道"},
                    HTTP_IDEMPOTENCY_KEY="有空格 的键")
    assert response.status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({"description": "  "}, "description"),
    ({"description": "占道", "category_code": "999999"}, "category_code"),
    ({"description": "占道", "category_code": "0101"}, "category_code"),
    ({"description": "占道", "lat": 22.5}, "lat"),
    ({"description": "占道", "reporter_phone": "12345"}, "reporter_phone"),
    ({"description": "占道", "appeal_type": "praise"}, "appeal_type"),
])
def test_create__bad_input__422_and_nothing_stored(d, body, field):
    response = post(api(d.users["dispatcher"]), "/api/events", body)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("who", ["handler_a", "clerk_a", "event_supervisor"])
def test_create__staff_who_do_not_register_events__403(d, who):
    response = post(api(d.users[who]), "/api/events", {"description": "占道经营"})
    assert response.status_code == 403 and not Event.objects.exists()


def test_create__anonymous__401(d):
    assert post(api(), "/api/events", {"description": "占道经营"}).status_code == 401


# --- scoped reads -------------------------------------------------------------------------


@pytest.fixture
def events(d):
    """One event in street A (dispatched to street A), one in street B, one reported by
    the citizen."""
    a = new_event(d)
    services.event_dispatch(actor=d.users["dispatcher"], event=a, unit=d.street_a)
    b = new_event(d, location_unit=d.community_b, street=d.street_b, address="乙街道")
    mine = new_event(d, channel=Channel.PORTAL, reporter=d.citizen, reporter_phone="")
    return {"a": Event.objects.get(pk=a.pk), "b": b, "mine": mine}


def test_list__staff_see_their_subtree(d, events):
    a, b, mine = events["a"].number, events["b"].number, events["mine"].number
    assert numbers(api(d.users["dispatcher"]).get("/api/events")) == {a, b, mine}
    assert numbers(api(d.users["street_handler"]).get("/api/events")) == {a, mine}
    assert numbers(api(d.users["handler_a"]).get("/api/events")) == {a, mine}
    assert numbers(api(d.users["street_b_handler"]).get("/api/events")) == {b}


def test_list__co_handlers_see_what_they_co_handle(d, events):
    event = events["b"]
    assert numbers(api(d.users["dept_handler"]).get("/api/events")) == set()
    services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_b,
                            co_units=[d.department])
    assert numbers(api(d.users["dept_handler"]).get("/api/events")) == {event.number}
    detail = api(d.users["dept_handler"]).get(f"/api/events/{event.number}")
    assert detail.status_code == 200
    assert [a["role"] for a in detail.json()["assignments"]] == ["lead", "co"]


def test_list__citizens_see_what_they_reported(d, events):
    assert numbers(api(d.citizen).get("/api/events")) == {events["mine"].number}
    assert numbers(api(d.stranger).get("/api/events")) == set()


def test_list__roles_without_events__empty(d, events):
    for who in ("clerk_a", "auditor"):
        assert numbers(api(d.users[who]).get("/api/events")) == set()


def test_list__filters(d, events):
    client = api(d.users["dispatcher"])
    a, b = events["a"].number, events["b"].number
    assert numbers(client.get("/api/events", {"status": "dispatched"})) == {a}
    assert numbers(client.get("/api/events", {"street": d.street_b.code})) == {b}
    assert numbers(client.get("/api/events", {"channel": "portal"})) == {events["mine"].number}
    assert numbers(client.get("/api/events", {"category": "0101"})) == {
        a, b, events["mine"].number}
    assert numbers(client.get("/api/events", {"category": "0302"})) == set()
    assert numbers(client.get("/api/events", {"q": a})) == {a}
    assert numbers(client.get("/api/events", {"time_state": "overdue"})) == set()
    today = timezone.localtime(events["a"].received_at).date().isoformat()
    assert len(numbers(client.get("/api/events", {"received_from": today,
                                                   "received_to": today}))) == 3
    assert numbers(client.get("/api/events", {"received_to": "2001-01-01"})) == set()


def test_list__constant_queries(d, events, django_assert_max_num_queries):
    client = api(d.users["dispatcher"])
    client.get("/api/events")
    for n in range(5):
        new_event(d, title=f"more {n}")
    with django_assert_max_num_queries(12):
        assert len(numbers(client.get("/api/events"))) == 8


def test_detail__scoped(d, events):
    a = events["a"].number
    assert api(d.users["street_handler"]).get(f"/api/events/{a}").status_code == 200
    assert api(d.users["street_b_handler"]).get(f"/api/events/{a}").status_code == 404
    assert api(d.users["clerk_a"]).get(f"/api/events/{a}").status_code == 404
    assert api(d.stranger).get(f"/api/events/{events['mine'].number}").status_code == 404
    assert api(d.users["dispatcher"]).get("/api/events/440399197001019999999"
                                          ).status_code == 404


def test_detail__allowed_actions_deadlines_and_masking(d, events):
    a = events["a"]
    body = api(d.users["street_handler"]).get(f"/api/events/{a.number}").json()
    assert {x["name"] for x in body["allowed_actions"]} == {"accept", "contact", "return",
                                                              "summon"} - {"summon"}
    accept = next(x for x in body["allowed_actions"] if x["name"] == "accept")
    assert accept["path"] == f"/api/events/{a.number}/accept"
    assert body["deadline"]["unit"] == "workdays" and body["deadline"]["limit"] == 15
    assert body["response_deadline"]["unit"] == "hours"
    assert body["reporter_phone"] == "138****8001" and body["reporter_name"] != "王先生"
    assert body["suggestions"] == [] or isinstance(body["suggestions"], list)


def test_detail__citizens_see_their_own_without_internal_data(d, events):
    body = api(d.citizen).get(f"/api/events/{events['mine'].number}").json()
    assert body["allowed_actions"] == [] and body["confidence"] is None
    assert body["suggestions"] == []


def test_updates__timeline__citizens_see_public_steps_only(d, events):
    event = events["mine"]
    services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=d.street_a,
                            note="请属地处理")
    services.event_accept(actor=d.users["street_handler"], event=event)
    services.event_contact(actor=d.users["street_handler"], event=event, note="已电话联系")
    staff = api(d.users["dispatcher"]).get(f"/api/events/{event.number}/updates").json()
    assert [u["action"] for u in staff["items"]] == ["create", "dispatch", "accept",
                                                     "contact"]
    assert staff["items"][2]["actor"] == d.users["street_handler"].name
    mine = api(d.citizen).get(f"/api/events/{event.number}/updates").json()
    assert [u["action"] for u in mine["items"]] == ["create", "dispatch", "accept"]
    assert all(u["data"] == {} for u in mine["items"])
    assert d.users["street_handler"].name not in str(mine)
    assert api(d.stranger).get(f"/api/events/{event.number}/updates").status_code == 404


# --- tokens narrow ------------------------------------------------------------------------


def test_token__narrowed_to_its_unit(d, events):
    _token, raw = token_create(actor=d.users["dispatcher"], name="hotline", org_unit=d.street_b,
                              permissions=["events.view_event", "events.intake_event"])
    client = api(token=raw)
    assert numbers(client.get("/api/events")) == {events["b"].number}
    assert client.get(f"/api/events/{events['a'].number}").status_code == 404


def test_token__narrowed_to_its_permissions(d, events):
    _token, raw = token_create(actor=d.users["dispatcher"], name="read only",
                               permissions=["events.view_event"])
    client = api(token=raw)
    assert len(numbers(client.get("/api/events"))) == 3
    assert post(client, "/api/events", {"description": "占道"}).status_code == 403
    event = events["b"]
    response = post(client, f"/api/events/{event.number}/dispatch",
                     {"revision": event.revision, "unit": d.street_b.code})
    assert response.status_code == 403
    body = client.get(f"/api/events/{event.number}").json()
    assert body["allowed_actions"] == []
    _token, raw = token_create(actor=d.users["dispatcher"], name="no events",
                               permissions=["core.view_orgunit"])
    assert numbers(api(token=raw).get("/api/events")) == set()


def test_updates__public_flag_shown_to_staff(d, events):
    event = events["a"]
    rows = api(d.users["dispatcher"]).get(f"/api/events/{event.number}/updates").json()
    assert [r["public"] for r in rows["items"]] == [True, True]
    assert EventUpdate.objects.filter(event=event).count() == 2
