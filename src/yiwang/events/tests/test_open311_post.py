"""POST requests: the key, the spec's errors, intake (located, auto-dispatched), retries
that never make a second event, personal data kept out of every answer."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.audit import AuditEntry
from yiwang.events.clients import client_for_key, client_issue, client_revoke
from yiwang.events.models import Channel, Event, EventStatus, EventUpdate
from yiwang.events.open311_impl.records import SUBMITTED
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.open311_schemas import spark, structures, validate_json, validate_xml
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
    _client, value = client_issue(actor=None, system=True, name="随手拍 App", kind="open311",
                                  unit=d.district)
    return value


def report(**extra) -> dict:
    data = {"service_code": "010102", "lat": "22.51", "long": "114.01",
            "description": "地铁口好多走鬼推车卖东西，堵住出口", "device_id": "dev-1",
            "first_name": "小明", "last_name": "王", "phone": "13800138009",
            "email": "wang@example.com", "media_url": "https://img.example.com/1.jpg"}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def post(client: Client, fmt: str = "json", **headers):
    headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")  # the assertions read English words

    def send(data: dict):
        return client.post(f"{BASE}/requests.{fmt}", data, **headers)
    return send


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post__creates_located_dispatched_event_and_answers_its_number(d, client, key, fmt):
    response = post(client, fmt)(report(api_key=key, account_id="u-42"))
    assert response.status_code == 200, response.content
    if fmt == "json":
        body = json.loads(response.content)
        validate_json("post_request", body)
        (answer,) = body
    else:
        (answer,) = spark(validate_xml("post_request", response.content),
                          structures()["post_request"])
    event = Event.objects.get(number=answer["service_request_id"])
    assert answer["account_id"] == "u-42"
    assert "15" in answer["service_notice"]  # 投诉: 15 working days
    assert event.channel == Channel.OPEN311
    assert event.category is not None and event.category.code == "010102"
    assert event.location_unit == d.grid_a and event.street == d.street_a
    assert event.status == S.DISPATCHED and event.handler_unit == d.street_a
    assert event.reporter_name == "王小明" and event.reporter_phone == "13800138009"
    assert event.appeal_type == "complaint"  # the item's typical type


def test_post__appeal_type_attribute_in_english_or_chinese(d, client, key):
    send = post(client)
    first = json.loads(send(report(api_key=key, **{"attribute[appeal_type]": "consult"}))
                       .content)[0]
    second = json.loads(send(report(api_key=key, description="另一个", **{
        "attribute[appeal_type]": "建议"})).content)[0]
    assert Event.objects.get(number=first["service_request_id"]).appeal_type == "consult"
    assert Event.objects.get(number=second["service_request_id"]).appeal_type == "suggestion"
    response = send(report(api_key=key, description="第三个",
                           **{"attribute[appeal_type]": "party"}))
    assert response.status_code == 400 and b"appeal_type" in response.content


def test_post__address_only_is_placed_by_its_names_and_waits_if_unplaceable(d, client, key):
    send = post(client)
    placed = json.loads(send(report(api_key=key, lat=None, long=None,
                                    address_string="乙街道乙一社区幸福路3号")).content)[0]
    event = Event.objects.get(number=placed["service_request_id"])
    assert event.street == d.street_b and event.status == S.DISPATCHED
    lost = json.loads(send(report(api_key=key, lat=None, long=None, description="又来了",
                                  address_string="不知道哪里")).content)[0]
    event = Event.objects.get(number=lost["service_request_id"])
    assert event.status == S.RECEIVED and event.location_missing  # the dispatcher's queue


def test_post__description_may_be_left_out(d, client, key):
    response = post(client)(report(api_key=key, description=None))
    event = Event.objects.get(number=json.loads(response.content)[0]["service_request_id"])
    assert event.description == "流动摊贩"


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("api_key", [None, "", "nonsense", "ywc_deadbeef_" + "x" * 40])
def test_post__missing_or_invalid_key_is_403_and_changes_nothing(d, client, key, fmt,
                                                                 api_key):
    response = post(client, fmt)(report(api_key=api_key))
    assert response.status_code == 403
    check_error(response, fmt, 403)
    assert not Event.objects.exists()


def test_post__revoked_or_other_kind_of_key_is_403(d, client, key):
    _video, video_key = client_issue(actor=None, system=True, name="camera AI",
                                     kind="video_ai", unit=d.district)
    assert post(client)(report(api_key=video_key)).status_code == 403
    issued = client_for_key(key)
    assert issued is not None
    client_revoke(actor=None, system=True, client=issued, reason="leaked")
    response = post(client)(report(api_key=key))
    assert response.status_code == 403 and b"revoked" in response.content
    assert not Event.objects.exists()


def test_post__a_session_is_no_key(d, client_for):
    response = post(client_for(d.users["district_admin"]))(report())
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("change, status, words", [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "999999"}, 404, "999999"),
    ({"service_code": "0101"}, 404, "0101"),
    ({"lat": "abc"}, 400, "lat"),
    ({"lat": "95", "long": "114"}, 400, "lat"),
    ({"long": "200"}, 400, "long"),
    ({"lat": "nan"}, 400, "lat"),
    ({"long": None}, 400, "lat and long"),
    ({"lat": None, "long": None}, 400, "location"),
    ({"description": "长" * 4001}, 400, "4000"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"phone": "12345"}, 400, "phone"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"jurisdiction_id": "sfgov.org"}, 404, "sfgov.org"),
])
def test_post__bad_input_gets_the_spec_error_and_changes_nothing(d, client, key, fmt, change,
                                                                 status, words):
    response = post(client, fmt)(report(api_key=key, **change))
    assert response.status_code == status, response.content
    errors = check_error(response, fmt, status)
    assert any(words in e["description"] for e in errors), errors
    assert not Event.objects.exists()


def test_post__every_problem_is_listed_at_once(d, client, key):
    response = post(client)(report(api_key=key, lat="x", long="y", email="bad"))
    errors = check_error(response, "json", 400)
    assert len(errors) == 3


def test_post__errors_in_the_callers_language(d, client, key):
    response = client.post(f"{BASE}/requests.json", report(api_key=key, service_code=None),
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "service_code" in json.loads(response.content)[0]["description"]
    assert response.status_code == 400


def test_retry__same_idempotency_key_same_answer_one_event(d, client, key):
    send = post(client, HTTP_IDEMPOTENCY_KEY="app-7f3a-0001")
    first = send(report(api_key=key))
    again = send(report(api_key=key))
    assert first.status_code == again.status_code == 200
    assert json.loads(first.content) == json.loads(again.content)
    assert Event.objects.count() == 1
    changed = send(report(api_key=key, description="完全不同的内容"))
    assert changed.status_code == 422
    check_error(changed, "json", 422)
    assert Event.objects.count() == 1
    bad = post(client, HTTP_IDEMPOTENCY_KEY="有 空格")(report(api_key=key))
    assert bad.status_code == 400


def test_retry__same_request_in_the_window_is_one_event_and_later_a_new_one(d, client, key,
                                                                           monkeypatch):
    send = post(client)
    first = json.loads(send(report(api_key=key)).content)[0]["service_request_id"]
    again = json.loads(send(report(api_key=key)).content)[0]["service_request_id"]
    assert first == again and Event.objects.count() == 1
    other = json.loads(send(report(api_key=key, device_id="dev-2")).content)[0]
    assert other["service_request_id"] != first  # someone else, same words: a new report
    real_now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: real_now + dt.timedelta(minutes=11))
    later = json.loads(send(report(api_key=key)).content)[0]["service_request_id"]
    assert later != first and Event.objects.count() == 3


def test_retry__two_clients_same_key_are_two_events(d, client, key):
    _other, other_key = client_issue(actor=None, system=True, name="another app",
                                     kind="open311", unit=d.district)
    send = post(client, HTTP_IDEMPOTENCY_KEY="same-key")
    a = json.loads(send(report(api_key=key)).content)[0]["service_request_id"]
    b = json.loads(send(report(api_key=other_key)).content)[0]["service_request_id"]
    assert a != b


def test_personal_data__never_in_answers_and_email_encrypted_at_rest(d, client, key):
    answer = json.loads(post(client)(report(api_key=key)).content)[0]
    number = answer["service_request_id"]
    for path in (f"requests/{number}.json", f"requests/{number}.xml", "requests.json",
                 "servicerequestupdates.xml"):
        text = client.get(f"{BASE}/{path}").content.decode()
        for secret in ("13800138009", "wang@example.com", "王小明", "小明", "dev-1"):
            assert secret not in text, (path, secret)
    stored = EventUpdate.objects.get(action=SUBMITTED).data
    assert "wang@example.com" not in json.dumps(stored) and stored["email_sm4"]
    assert "dev-1" not in json.dumps(stored)
    entry = AuditEntry.objects.filter(action="events.open311.submit").get()
    assert entry.after is not None and entry.after["client"] == "随手拍 App"


def test_throttle__too_many_posts_for_one_key_is_429_with_retry_after(d, client, key,
                                                                      settings):
    settings.YIWANG_OPEN311_POSTS_PER_MINUTE = 2
    send = post(client)
    assert send(report(api_key=key)).status_code == 200
    assert send(report(api_key=key, description="二")).status_code == 200
    response = send(report(api_key=key, description="三"))
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    check_error(response, "json", 429)
    assert Event.objects.count() == 2


def test_post__is_csrf_exempt_for_real_clients(d, key):
    strict = Client(enforce_csrf_checks=True)
    # The spec's own encoding: application/x-www-form-urlencoded; charset=utf-8.
    response = strict.generic("POST", f"{BASE}/requests.xml", urlencode(report(api_key=key)),
                              content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert response.status_code == 200, response.content
    assert b"<service_request_id>" in response.content


def test_post__query_count_does_not_grow_with_the_list(d, client, key):
    send = post(client)
    for i in range(3):
        send(report(api_key=key, description=f"第{i}个"))
    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/requests.json")
    for i in range(3, 9):
        send(report(api_key=key, description=f"第{i}个"))
    with CaptureQueriesContext(connection) as many:
        body = json.loads(client.get(f"{BASE}/requests.json").content)
    assert len(body) == 9 and len(many) == len(few)


def test_staff_helpers__who_sent_it_and_the_reporters_email(d, client, key):
    from yiwang.events.open311_impl.submit import reporter_email, submitted_by

    answer = json.loads(post(client)(report(api_key=key)).content)[0]
    event = Event.objects.get(number=answer["service_request_id"])
    sender = submitted_by(event)
    assert sender is not None and sender.name == "随手拍 App"
    assert reporter_email(event) == "wang@example.com"
    assert submitted_by(new_event(d)) is None


def test_post__api_key_in_the_query_string_is_accepted_too(d, client, key):
    response = client.post(f"{BASE}/requests.json?api_key={key}", report())
    assert response.status_code == 200, response.content
