"""GET requests, requests/{id}, tokens/{token} and servicerequestupdates: the spec's
filters and limits, the status mapping, what Open311 publishes and what it never does."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.events import services
from yiwang.events.clients import client_issue
from yiwang.events.models import Channel, Event, EventStatus, Satisfaction
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.open311_schemas import (
    as_text,
    spark,
    structures,
    validate_json,
    validate_xml,
)
from yiwang.events.tests.test_open311_read import check_error

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
S = EventStatus


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


@pytest.fixture
def key(d):
    return client_issue(actor=None, system=True, name="随手拍 App", kind="open311",
                        unit=d.district)[1]


def submit(client: Client, key: str, **extra) -> Event:
    data = {"api_key": key, "service_code": "010102", "lat": "22.51", "long": "114.01",
            "description": "地铁口好多走鬼推车卖东西", **extra}
    response = client.post(f"{BASE}/requests.json", {k: v for k, v in data.items() if v})
    assert response.status_code == 200, response.content
    return Event.objects.get(number=json.loads(response.content)[0]["service_request_id"])


def get_both(client: Client, path: str, name: str, **query) -> list[dict]:
    xml = client.get(f"{BASE}/{path}.xml", query)
    js = client.get(f"{BASE}/{path}.json", query)
    assert xml.status_code == js.status_code == 200, (xml.content[:300], js.content[:300])
    root = validate_xml(name, xml.content)
    body = json.loads(js.content)
    validate_json(name, body)
    assert spark(root, structures()[name]) == as_text(body)
    return body


def numbers(body: list[dict]) -> list[str]:
    return [r["service_request_id"] for r in body]


def test_round_trip__posted_request_reads_back_in_both_formats(d, client, key):
    event = submit(client, key, media_url="https://img.example.com/1.jpg",
                   address_string="甲街道和平路1号")
    (item,) = get_both(client, f"requests/{event.number}", "requests")
    assert item["service_request_id"] == event.number
    assert item["status"] == "open" and item["service_code"] == "010102"
    assert item["service_name"] == "流动摊贩"
    assert item["description"] == "地铁口好多走鬼推车卖东西"
    assert item["agency_responsible"] == d.street_a.name  # auto-dispatched
    assert item["lat"] == 22.51 and item["long"] == 114.01
    assert item["address"] == "甲街道和平路1号"
    assert item["media_url"] == "https://img.example.com/1.jpg"
    assert item["requested_datetime"].endswith("+08:00")
    assert item["expected_datetime"] > item["requested_datetime"]
    assert get_both(client, "requests", "requests")[0] == item


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_request__unknown_number_is_404(d, client, fmt):
    response = client.get(f"{BASE}/requests/440399197001019999999.{fmt}")
    assert response.status_code == 404
    check_error(response, fmt, 404)


def test_visibility__only_open311_events_are_published(d, client, key):
    mine = submit(client, key)
    hotline = new_event(d)  # a caller's private conversation with 12345
    portal = new_event(d, channel=Channel.PORTAL, description="我家楼下占道", title="占道")
    assert numbers(get_both(client, "requests", "requests")) == [mine.number]
    for hidden in (hotline, portal):
        assert client.get(f"{BASE}/requests/{hidden.number}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json",
                      {"service_request_id": hotline.number}).content == b"[]"


def test_visibility__a_district_may_publish_more_channels(d, client, key, settings):
    settings.YIWANG_OPEN311_PUBLIC_CHANNELS = ["open311", "portal"]
    portal = new_event(d, channel=Channel.PORTAL, description="我家楼下占道", title="占道")
    assert client.get(f"{BASE}/requests/{portal.number}.json").status_code == 200


def test_visibility__a_report_of_wrongdoing_is_seen_only_by_its_sender(d, client, key):
    report = submit(client, key, **{"attribute[appeal_type]": "report"})
    assert report.appeal_type == "report"
    assert client.get(f"{BASE}/requests/{report.number}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json").content == b"[]"
    other = client_issue(actor=None, system=True, name="other", kind="open311",
                         unit=d.district)[1]
    assert client.get(f"{BASE}/requests/{report.number}.json",
                      {"api_key": other}).status_code == 404
    own = client.get(f"{BASE}/requests/{report.number}.json", {"api_key": key})
    assert own.status_code == 200
    assert client.get(f"{BASE}/requests.json", {"api_key": "wrong"}).status_code == 403


def test_filters__service_request_id_list_overrides_the_rest(d, client, key):
    a = submit(client, key)
    b = submit(client, key, description="天桥上摆地摊", service_code="010102")
    c = submit(client, key, description="墙上喷电话号码", service_code="010103")
    Event.objects.filter(pk=a.pk).update(received_at=timezone.now() - dt.timedelta(days=200))
    body = get_both(client, "requests", "requests",
                    service_request_id=f"{a.number},{c.number}", service_code="010102",
                    status="open")
    assert sorted(numbers(body)) == sorted([a.number, c.number])
    assert numbers(get_both(client, "requests", "requests", service_code="010103")) == [
        c.number]
    assert sorted(numbers(get_both(client, "requests", "requests",
                                   service_code="010102,010103"))) == sorted(
        [b.number, c.number])  # a is older than 90 days


def test_filters__status_open_closed(d, client, key):
    open_one = submit(client, key)
    done = submit(client, key, description="天桥上摆地摊")
    handler = d.users["street_handler"]
    services.event_accept(actor=handler, event=done)
    services.event_resolve(actor=handler, event=done, result="已联合执法队清理摊点")
    assert numbers(get_both(client, "requests", "requests", status="open")) == [
        open_one.number]
    (closed,) = get_both(client, "requests", "requests", status="closed")
    assert closed["service_request_id"] == done.number
    assert closed["status_notes"] == "已联合执法队清理摊点"
    assert closed["expected_datetime"] is None
    assert len(get_both(client, "requests", "requests", status="open,closed")) == 2
    response = client.get(f"{BASE}/requests.xml", {"status": "pending"})
    assert response.status_code == 400
    check_error(response, "xml", 400)


def test_filters__dates_w3c_with_zone_and_the_90_day_limit(d, client, key):
    old = submit(client, key)
    new = submit(client, key, description="天桥上摆地摊")
    Event.objects.filter(pk=old.pk).update(
        received_at=timezone.make_aware(dt.datetime(2026, 3, 10, 9, 0)))
    body = get_both(client, "requests", "requests", start_date="2026-03-01T00:00:00+08:00",
                    end_date="2026-03-31T00:00:00Z")
    assert numbers(body) == [old.number]
    assert numbers(get_both(client, "requests", "requests")) == [new.number]  # 90 days
    # An unquoted '+' arrives as a space; the date is still understood.
    response = client.get(f"{BASE}/requests.json?start_date=2026-03-01T00:00:00 08:00"
                          "&end_date=2026-03-31T00:00:00 08:00")
    assert numbers(json.loads(response.content)) == [old.number]
    for query, words in (({"start_date": "yesterday"}, "start_date"),
                         ({"start_date": "2026-01-01T00:00:00Z",
                           "end_date": "2026-06-01T00:00:00Z"}, "90"),
                         ({"start_date": "2026-06-01T00:00:00Z",
                           "end_date": "2026-01-01T00:00:00Z"}, "start_date")):
        response = client.get(f"{BASE}/requests.json", query)
        assert response.status_code == 400
        assert words in check_error(response, "json", 400)[0]["description"]


def test_limits__at_most_1000_and_pages(d, client, key, settings):
    for i in range(5):
        submit(client, key, description=f"第{i}处摊贩")
    everything = numbers(get_both(client, "requests", "requests"))
    assert len(everything) == 5  # newest first
    first = numbers(get_both(client, "requests", "requests", page_size=2))
    second = numbers(get_both(client, "requests", "requests", page_size=2, page=2))
    assert first + second == everything[:4]
    assert client.get(f"{BASE}/requests.json", {"page_size": 1001}).status_code == 400


def test_status__merged_is_closed_and_points_at_the_main_request(d, client, key):
    main = submit(client, key)
    duplicate = submit(client, key, description="地铁口又有人推车卖水果")
    services.event_merge(actor=d.users["dispatcher"], event=duplicate, into=main,
                         reason="同一地点同一问题")
    (item,) = get_both(client, f"requests/{duplicate.number}", "requests")
    assert item["status"] == "closed"
    assert main.number in item["status_notes"]


def test_tokens__the_idempotency_key_finds_the_request(d, client, key):
    response = client.post(f"{BASE}/requests.json", {
        "api_key": key, "service_code": "010102", "lat": "22.51", "long": "114.01"},
        HTTP_IDEMPOTENCY_KEY="app-0001")
    number = json.loads(response.content)[0]["service_request_id"]
    client_id = Event.objects.get(number=number).source_ref.split(":")[0]
    token = f"{client_id}-app-0001"
    (item,) = get_both(client, f"tokens/{token}", "tokens")
    assert item == {"service_request_id": number, "token": token}
    for fmt in ("xml", "json"):
        missing = client.get(f"{BASE}/tokens/{client_id}-nope.{fmt}")
        assert missing.status_code == 404
        check_error(missing, fmt, 404)
        assert client.get(f"{BASE}/tokens/nodash.{fmt}").status_code == 404


def test_updates__dispatch_accept_resolve_and_callback_in_order(d, client, key):
    event = submit(client, key)  # created and auto-dispatched
    handler = d.users["street_handler"]
    services.event_accept(actor=handler, event=event)
    services.event_start(actor=handler, event=event)  # not a public step
    event.updates.update(at=timezone.now() - dt.timedelta(hours=1))  # an hour ago
    services.event_resolve(actor=handler, event=event, result="摊贩已劝离，设置了巡查点")
    services.event_callback(actor=d.users["dispatcher"], event=event,
                            satisfaction=Satisfaction.SATISFIED, method="phone")
    body = get_both(client, "servicerequestupdates", "servicerequestupdates")
    assert {u["service_request_id"] for u in body} == {event.number}
    steps = [(u["status"], u["description"]) for u in body]
    assert [s for s, _d in steps] == ["open", "open", "open", "closed", "closed"]
    assert steps[3][1] == "摊贩已劝离，设置了巡查点"
    assert d.street_a.name in steps[1][1]  # dispatched to the street
    assert [int(u["update_id"]) for u in body] == sorted(int(u["update_id"]) for u in body)
    times = [u["updated_datetime"] for u in body]
    assert times == sorted(times)
    # Filters: a window, and one request.
    later = get_both(client, "servicerequestupdates", "servicerequestupdates",
                     start_date=body[3]["updated_datetime"])
    assert [u["update_id"] for u in later] == [u["update_id"] for u in body[3:]]
    other = submit(client, key, description="天桥上摆地摊")
    only = get_both(client, "servicerequestupdates", "servicerequestupdates",
                    service_request_id=other.number)
    assert {u["service_request_id"] for u in only} == {other.number}


def test_updates__default_is_the_last_day_and_private_steps_stay_out(d, client, key):
    event = submit(client, key)
    services.event_contact(actor=d.users["street_handler"], event=services.event_accept(
        actor=d.users["street_handler"], event=event), note="已电话联系王先生 138...")
    event.updates.filter(action="create").update(at=timezone.now() - dt.timedelta(days=2))
    body = get_both(client, "servicerequestupdates", "servicerequestupdates")
    assert [u["description"] for u in body if "王先生" in u["description"]] == []
    assert len(body) == 2  # dispatch and accept; create is older than a day
    hidden = new_event(d)
    services.event_dispatch(actor=d.users["dispatcher"], event=hidden, unit=d.street_a)
    assert len(get_both(client, "servicerequestupdates", "servicerequestupdates")) == 2


def test_updates__query_count_is_constant(d, client, key, django_assert_max_num_queries):
    for i in range(6):
        submit(client, key, description=f"第{i}处摊贩")
    with django_assert_max_num_queries(6):
        body = json.loads(client.get(f"{BASE}/servicerequestupdates.json").content)
    assert len(body) == 12  # create and dispatch of each
