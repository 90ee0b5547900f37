"""Intake: classification by keywords, location, auto-dispatch or the dispatcher queue;
supervision rules from the sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.core.models import Clock
from yiwang.events import supervision
from yiwang.events.classify import classify
from yiwang.events.intake import intake_event, place
from yiwang.events.models import Channel, EventStatus, ResponsibleParty, Supervision, TimeState
from yiwang.events.tests.factories import add_event_staff, item, load_catalog

pytestmark = pytest.mark.django_db
S = EventStatus


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


def test_keywords__colloquial_words_and_longest_match_win(d):
    assert classify("地铁口好多走鬼推车卖东西")[0].name == "流动摊贩"
    top = classify("工地欠薪三个月了，老板跑路")[0]
    assert "欠薪" in top.name and top.code == item(top.code).code
    assert classify("   ") == []


def test_place__point_inside_a_grid_and_address_names(d):
    finest, street = place(lat=22.51, lon=114.01, address="")
    assert finest == d.grid_a and street == d.street_a
    finest, street = place(lat=None, lon=None, address="乙街道乙一社区幸福路3号")
    assert finest == d.community_b and street == d.street_b
    assert place(lat=None, lon=None, address="不知道在哪") == (None, None)


def test_confident_territorial_report__dispatched_to_the_street(d):
    event = intake_event(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                         description="地铁口好多走鬼推车卖东西，堵住出口", lat=22.51, lon=114.01,
                         reporter_phone="13800138009")
    assert event.category.name == "流动摊贩"
    assert event.status == S.DISPATCHED and event.handler_unit == d.street_a
    assert event.updates.get(action="dispatch").actor is None  # by the system
    assert event.suggestions and event.suggestions[0]["code"] == event.category.code


def test_no_location__stays_in_the_queue_flagged(d):
    event = intake_event(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                         description="走鬼推车卖东西")
    assert event.status == S.RECEIVED and event.location_missing


def test_unclassifiable__queue_with_no_category(d):
    event = intake_event(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                         description="你好，我想问一下", lat=22.51, lon=114.01)
    assert event.status == S.RECEIVED and event.category is None


def test_external_loop_item_with_a_registered_party__goes_to_the_party(
        d, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.YIWANG_SMS_DIR = tmp_path
    category = item(_external_code())
    party = ResponsibleParty.objects.create(name="示范物业", kind="property",
                                            phone="13600136002", unit=d.community_a)
    party.categories.add(category)
    with django_capture_on_commit_callbacks(execute=True):
        event = intake_event(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                             description=category.keywords[0] + "，已经好几天了", lat=22.51,
                             lon=114.01, category=category)
    assert event.status == S.EXTERNAL
    assert list(tmp_path.glob("*.jsonl")), "the party got its SMS link"


def _external_code() -> str:
    from yiwang.events.models import Category

    return Category.objects.filter(catalog__status="published", external_loop=True,
                                   level=3).values_list("code", flat=True).first()


def test_sweep_rules__warn_then_urge_then_escalate_once(d):
    event = intake_event(actor=d.users["dispatcher"], channel=Channel.HOTLINE,
                         description="地铁口好多走鬼推车卖东西", lat=22.51, lon=114.01)
    assert event.status == S.DISPATCHED
    due = event.clock.due_at
    supervision.events_supervise(at=due - dt.timedelta(hours=3))
    event.refresh_from_db()
    assert event.time_state == TimeState.WARNING
    assert Supervision.objects.filter(event=event, kind="warning").count() == 1
    counts = supervision.events_supervise(at=due + dt.timedelta(hours=1))
    event.refresh_from_db()
    assert event.time_state == TimeState.OVERDUE and counts["urged"] == 1
    again = supervision.events_supervise(at=due + dt.timedelta(hours=2))
    assert again["urged"] == 0  # once per rule
    Clock.objects.filter(pk=event.clock_id).update(due_at=timezone.now()
                                                   - dt.timedelta(hours=60))
    supervision.events_supervise()
    event.refresh_from_db()  # dispatched by the district centre: district supervision
    assert event.supervised
    assert Supervision.objects.filter(event=event, kind="supervise", rule="stuck-48h").exists()
