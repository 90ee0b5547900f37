"""The 12345 hotline screen: a call registered by keyboard-speed input, the caller's
earlier appeals (scoped, masked), live category and place suggestions, 直接办结, bad
input that saves nothing, and a double submit that registers one event."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_staff
from yiwang.events.models import Event, EventStatus
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

pytestmark = pytest.mark.django_db
URL = "/events/hotline/"


@pytest.fixture
def d(district, settings):
    settings.LANGUAGE_CODE = "en"  # assertions on English text, whatever is compiled
    load_catalog()
    add_event_staff(district)
    return district


def call(**extra):
    data = {"call_id": "c1", "phone": "13800138001", "appeal_type": "complaint",
            "description": "甲街道和平路店门口摆摊占道，桌椅摆到人行道上",
            "address": "甲街道甲一社区和平路1号", "reporter_name": "王先生"}
    data.update(extra)
    return data


def test_hotline__registers_the_call_and_shows_the_number_to_read_back(d, client_for):
    client = client_for(d.users["dispatcher"])
    assert client.get(URL).status_code == 200
    response = client.post(URL, call())
    assert response.status_code == 302 and response["Location"] == URL
    event = Event.objects.get()
    assert event.channel == "hotline" and event.appeal_type == "complaint"
    assert event.category.code == "010101" and event.street == d.street_a
    assert event.reporter_phone == "13800138001" and event.intake_by == d.users["dispatcher"]
    page = client.get(URL).content.decode()
    spoken = " ".join(event.number[i:i + 4] for i in range(0, len(event.number), 4))
    assert spoken in page and reverse("events:event_detail", args=[event.number]) in page
    # …once: the next call starts with a clean screen.
    assert spoken not in client.get(URL).content.decode()


def test_hotline__a_double_submit_registers_one_event(d, client_for):
    client = client_for(d.users["dispatcher"])
    client.post(URL, call())
    client.post(URL, call())
    assert Event.objects.count() == 1


def test_hotline__chosen_category_overrides_the_classifier(d, client_for):
    client_for(d.users["dispatcher"]).post(URL, call(category="010102"))
    event = Event.objects.get()
    assert event.category.code == "010102" and event.confidence == 1.0


def test_hotline__consultation_answered_from_the_knowledge_base_closes_at_once(d, client_for):
    client_for(d.users["dispatcher"]).post(URL, call(
        appeal_type="consult", answered="on", answer="办理时间为工作日9:00-17:00。",
        description="请问社保卡在哪里办理"))
    event = Event.objects.get()
    assert event.status == EventStatus.CLOSED and "9:00" in event.resolution


@pytest.mark.parametrize("bad, field, text", [
    ({"description": " "}, "description", "This field is required"),
    ({"appeal_type": ""}, "appeal_type", "This field is required"),
    ({"phone": "12345"}, "phone", "11-digit"),
    ({"phone": ""}, "phone", "anonymous"),
    ({"lat": "22.5"}, "lon", "both"),
    ({"lat": "99", "lon": "114"}, "lat", "less than or equal"),
    ({"category": "999999"}, "category", "published dispatch catalog"),
    ({"answered": "on", "answer": "x"}, "answered", "consultation"),
    ({"appeal_type": "consult", "answered": "on", "answer": ""}, "answer", "answer"),
])
def test_hotline__bad_input_is_explained_and_saves_nothing(d, client_for, bad, field, text):
    client = client_for(d.users["dispatcher"])
    response = client.post(URL, call(**bad))
    assert response.status_code == 400
    assert text in response.context["form"].errors[field][0]
    assert not Event.objects.exists()
    # What was typed stays on the screen.
    assert "王先生" in response.content.decode()


def test_hotline__anonymous_caller_without_number_is_registered(d, client_for):
    client_for(d.users["dispatcher"]).post(URL, call(phone="", anonymous="on"))
    event = Event.objects.get()
    assert event.anonymous and event.reporter_phone == ""


def test_hotline__only_roles_that_register_events(d, client_for):
    assert client_for(d.users["street_handler"]).get(URL).status_code == 403
    assert client_for(d.users["event_supervisor"]).get(URL).status_code == 403
    assert client_for(d.users["grid_worker_a"]).get(URL).status_code == 200


# --- the look-ups ------------------------------------------------------------------------


def test_history__earlier_appeals_of_the_caller_masked_and_scoped(d, client_for):
    mine = new_event(d, reporter_phone="138 0013 8001")
    other_street = new_event(d, reporter_phone="13800138001", location_unit=d.community_b,
                             street=d.street_b, title="乙街道的诉求")
    other_caller = new_event(d, reporter_phone="13900139001", title="别人的诉求")
    url = reverse("events:hotline_history")
    page = client_for(d.users["dispatcher"]).get(url, {"phone": "+86 13800138001"})
    text = page.content.decode()
    assert mine.number in text and other_street.number in text
    assert other_caller.number not in text
    assert "138****8001" in text and "13800138001" not in text
    # A grid worker of street B sees only the events of its community.
    b = client_for(make_staff("gw_b", d.community_b, Role.GRID_WORKER))
    text_b = b.get(url, {"phone": "13800138001"}).content.decode()
    assert other_street.number in text_b and mine.number not in text_b


def test_history__a_bad_number_says_so(d, client_for):
    page = client_for(d.users["dispatcher"]).get(reverse("events:hotline_history"),
                                                  {"phone": "abc"})
    assert page.status_code == 200 and "11-digit" in page.content.decode()


def test_suggest__top_five_with_scores_and_implied_handler(d, client_for):
    page = client_for(d.users["dispatcher"]).get(
        reverse("events:hotline_suggest"), {"text": "店门口摆摊占道，还有流动摊贩推车卖东西"})
    text = page.content.decode()
    assert page.status_code == 200
    assert 'value="010101"' in text and 'value="010102"' in text
    assert text.count('name="category"') <= 6 and "%" in text
    assert "The street where it happens" in text  # territorial


def test_suggest__empty_text_suggests_nothing(d, client_for):
    page = client_for(d.users["dispatcher"]).get(reverse("events:hotline_suggest"), {"text": ""})
    assert 'name="category"' not in page.content.decode()


def test_suggest__constant_queries(d, client_for):
    client = client_for(d.users["dispatcher"])
    url = reverse("events:hotline_suggest")
    client.get(url, {"text": "店门口摆摊占道"})
    with CaptureQueriesContext(connection) as short:
        client.get(url, {"text": "店门口摆摊占道"})
    with CaptureQueriesContext(connection) as long:
        client.get(url, {"text": "店门口摆摊占道，流动摊贩，噪音扰民，垃圾清运，井盖缺失"})
    assert len(long) == len(short)


def test_places__streets_and_communities_by_name(d, client_for):
    client = client_for(d.users["dispatcher"])
    text = client.get(reverse("events:hotline_places"), {"address": "甲一"}).content.decode()
    assert "甲一社区" in text and "乙一社区" not in text
    text = client.get(reverse("events:hotline_places"),
                      {"address": "乙街道某某路3号"}).content.decode()
    assert 'data-yw-place="乙街道"' in text


def test_history__constant_queries(d, client_for):
    client = client_for(d.users["dispatcher"])
    url = reverse("events:hotline_history")
    new_event(d)
    client.get(url, {"phone": "13800138001"})
    with CaptureQueriesContext(connection) as one:
        client.get(url, {"phone": "13800138001"})
    for _ in range(4):
        new_event(d, code="010102")
    with CaptureQueriesContext(connection) as five:
        text = client.get(url, {"phone": "13800138001"}).content.decode()
    assert text.count("/events/44039") == 5 and len(five) == len(one)


def test_hotline__the_telephony_system_opens_the_screen_with_the_number(d, client_for):
    earlier = new_event(d, reporter_phone="13800138001")
    text = client_for(d.users["dispatcher"]).get(URL, {"phone": "13800138001"}).content.decode()
    assert 'value="13800138001"' in text and earlier.number in text
