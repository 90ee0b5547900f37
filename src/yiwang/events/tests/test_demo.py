"""The demo district's events: every state and channel, inside the district, timelines
the state machine can produce, deadlines and audit as the services write them, loaded
once, and the demo Open311 key works."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.core.audit import verify_chain
from yiwang.core.generator import build_district, generate
from yiwang.core.generator.loader import load_org
from yiwang.core.geo import locate
from yiwang.core.models import AuditEntry, OrgUnit
from yiwang.core.workdays import WorkCalendar
from yiwang.events import demo, learning, services
from yiwang.events.clients import demo_open311_key
from yiwang.events.models import (
    Callback,
    Channel,
    ClassifierModel,
    Event,
    EventStatus,
    EventUpdate,
    ResponsibleParty,
    ReturnRequest,
    Summons,
    Supervision,
)
from yiwang.events.supervision import time_state_of

pytestmark = pytest.mark.django_db
S = EventStatus
COUNT = 300


def _load(out: Path) -> tuple[dict, object]:
    spec = build_district()
    load_org(spec=spec)
    generate(out_dir=out, seed=spec.seed, district_seed=spec.seed,
             district_code=spec.district.code, progress=False, persons=600,
             enterprises=300, buildings=160)
    district = OrgUnit.objects.get(code=spec.district.code)
    result = demo.setup_demo(district=district, spec=spec, persons_csv=out / "persons.csv",
                             buildings_csv=out / "buildings.csv",
                             enterprises_csv=out / "enterprises.csv", count=COUNT, days=60)
    return result, spec


# Transitions that are not in ``services.TRANSITIONS`` but are written by services.
SPECIAL = {
    ("create", "", S.RECEIVED), ("close", S.RECEIVED, S.CLOSED),  # 直接办结 / 自处置
    ("callback", S.RESOLVED, S.CLOSED), ("callback", S.RESOLVED, S.IN_PROGRESS),
    ("external_fixed", S.EXTERNAL, S.RESOLVED), ("internal", S.EXTERNAL, S.MERGED),
    ("decide_dispute", S.RECEIVED, S.DISPATCHED),
}


def _check_timeline(event: Event, updates: list[EventUpdate]) -> None:
    status, last = "", None
    for update in updates:
        if last is not None:
            assert update.at >= last, (event.number, update.action)
        last = update.at
        if not update.to_status:
            continue  # merged_in, summons responses, detections: not a state change
        assert update.from_status == status, (event.number, update.action, status)
        transition = services.TRANSITIONS.get(update.action)
        allowed = (transition is not None and update.from_status in transition.sources
                   and update.to_status == (transition.target or update.from_status))
        assert allowed or (update.action, update.from_status, update.to_status) in SPECIAL, \
            (event.number, update.action, update.from_status, update.to_status)
        status = update.to_status
    assert status == event.status, event.number


def test_demo__every_state_and_channel_inside_the_district_consistent_and_loaded_once(
        tmp_path):
    started = timezone.now()
    result, spec = _load(tmp_path)
    assert result["events"] == Event.objects.count() >= COUNT * 0.95
    # Every state and every channel, with the side paths a district sees.
    assert set(Event.objects.values_list("status", flat=True)) == set(S.values)
    assert set(Event.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Callback.objects.values_list("satisfaction", flat=True)) == {1, 2, 3}
    assert Event.objects.filter(reopen_count__gt=0).exists()  # 重办
    assert ReturnRequest.objects.exists() and Event.objects.filter(reassign_count__gt=0).exists()
    assert Event.objects.filter(escalated=True).exists()
    assert Summons.objects.filter(responses__responded_at__isnull=False).exists()
    assert Supervision.objects.filter(kind=Supervision.Kind.URGE).exists()
    assert Event.objects.filter(extensions__status="approved").exists()
    assert ResponsibleParty.objects.exists() and Event.objects.filter(
        external_task__isnull=False).exists()
    assert ClassifierModel.objects.filter(active=True).exists()
    # Inside the district: a point lies in the grid the event is located in.
    district = OrgUnit.objects.get(code=spec.district.code)
    for event in Event.objects.select_related("location_unit"):
        assert event.received_at <= started
        if event.lat is not None:
            placement = locate(event.lon, event.lat)
            assert placement.grid is not None, event.number
            assert event.location_unit == placement.grid, event.number
        if event.location_unit is not None:
            assert event.location_unit.path.startswith(district.path)
    # Timelines the state machine can produce, each step audited.
    updates: dict[int, list[EventUpdate]] = {}
    for update in EventUpdate.objects.order_by("at", "id"):
        updates.setdefault(update.event_id, []).append(update)
    audited = Counter(AuditEntry.objects.filter(action__startswith="events.event.")
                      .values_list("object_id", "action"))
    for event in Event.objects.all():
        _check_timeline(event, updates[event.pk])
        steps = Counter(u.action for u in updates[event.pk]
                        if u.action in services.TRANSITIONS or u.action in (
                            "create", "close", "callback", "external_fixed", "internal"))
        for action, n in steps.items():
            assert audited[(str(event.pk), f"events.event.{action}")] == n, \
                (event.number, action)
    assert verify_chain().ok
    # Deadlines and time states as the services and the sweep keep them.
    calendar = WorkCalendar.load()
    now = timezone.now()
    for event in Event.objects.filter(status__in=services.OPEN).select_related("clock"):
        assert event.time_state == time_state_of(event, at=now, calendar=calendar) or \
            event.status in (S.RECEIVED, S.EXTERNAL), event.number
    for event in Event.objects.exclude(clock=None).select_related("clock")[:200]:
        unit, limit = services.limits_for(event.appeal_type, event.urgent)
        extended = sum(event.extensions.filter(status="approved").values_list("days",
                                                                             flat=True))
        assert event.clock.unit == unit and event.clock.limit == limit + extended, \
            event.number
    # Texts: never from the held-out split of the corpus.
    _train, held_out = learning.split_corpus(learning.load_corpus())
    held = {r["text"] for r in held_out}
    assert not held & set(Event.objects.values_list("description", flat=True))
    # Phones of callers are stored encrypted.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM events_event WHERE reporter_phone <> '' "
                       "LIMIT 5")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored and not any(s.isdigit() for s in stored)

    # A second run changes nothing.
    counts = (Event.objects.count(), AuditEntry.objects.count(),
              EventUpdate.objects.count(), ResponsibleParty.objects.count())
    again = demo.setup_demo(district=district, spec=spec,
                            persons_csv=tmp_path / "persons.csv",
                            buildings_csv=tmp_path / "buildings.csv",
                            enterprises_csv=tmp_path / "enterprises.csv")
    assert again == {}
    assert counts == (Event.objects.count(), AuditEntry.objects.count(),
                      EventUpdate.objects.count(), ResponsibleParty.objects.count())

    # The demo Open311 key reads and reports.
    key = demo_open311_key(seed=spec.seed)
    assert result["key"] == key
    client = Client()
    listed = client.get("/open311/v2/requests.json", {"api_key": key})
    assert listed.status_code == 200 and json.loads(listed.content)
    posted = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "010101", "description": "店门口桌椅摆到人行道上",
        "lat": str(Event.objects.exclude(lat=None).first().lat),  # type: ignore[union-attr]
        "long": str(Event.objects.exclude(lat=None).first().lon)})  # type: ignore[union-attr]
    assert posted.status_code in (200, 201), posted.content
    number = json.loads(posted.content)[0]["service_request_id"]
    assert Event.objects.filter(number=number, channel=Channel.OPEN311).exists()
    refused = client.post("/open311/v2/requests.json", {
        "api_key": key[:-2] + "xx", "service_code": "010101", "description": "x",
        "lat": "22.6", "long": "114.1"})
    assert refused.status_code in (400, 401, 403)


def test_demo_clock__moves_now_and_always_gives_it_back():
    real = timezone.now()
    then = real - dt.timedelta(days=30)
    with pytest.raises(RuntimeError), demo.demo_clock(then) as clock:
        assert timezone.now() == then and timezone.now().utcoffset() == dt.timedelta(0)
        clock[0] = then + dt.timedelta(hours=1)
        assert timezone.now() == then + dt.timedelta(hours=1)
        raise RuntimeError
    assert abs((timezone.now() - real).total_seconds()) < 60
