"""The event figures (考核指标): the numbers against an independent count of a generated
set, the rollup against the live computation, scope per role, the page, its exports and
the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Any

import pytest
from django.utils import timezone

from yiwang.core.testing.openapi import assert_matches_openapi
from yiwang.events import figures, services
from yiwang.events.figures import Filters, event_figures, figures_refresh, rebuild_rollup
from yiwang.events.models import (
    Assignment,
    Callback,
    Event,
    EventDayFigures,
    EventFiguresWatermark,
    EventUpdate,
    ExtensionRequest,
    ReturnRequest,
)
from yiwang.events.tests.factories import add_event_staff, item, load_catalog
from yiwang.events.tests.figures_data import TZ, generate

pytestmark = pytest.mark.django_db
FIRST = dt.date(2026, 9, 1)
START = dt.datetime(2026, 9, 1, tzinfo=TZ)
END = dt.datetime(2026, 10, 1, tzinfo=TZ)


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


@pytest.fixture
def events(d):
    return generate(d, first_day=FIRST)


def expected_by_unit(events: list[Event], now: dt.datetime) -> dict[Any, dict[str, Any]]:
    """The figures counted one event at a time, straight from the definitions."""
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for e in Event.objects.filter(pk__in=[x.pk for x in events]).select_related(
            "clock", "response_clock"):
        row = out[e.handler_unit_id]
        if e.status == "merged":
            row["merged"] += 1
            continue
        row["received"] += 1
        # 直接办结 and granted extensions from the timeline and the requests, not from the
        # counters the services keep on the event.
        if EventUpdate.objects.filter(event=e, action="close", data__on_spot=True).exists():
            row["on_spot"] += 1
            continue
        row["handled"] += 1
        if e.responded_at or e.response_clock.due_at <= now:
            row["response_due"] += 1
            if e.responded_at and e.responded_at <= e.response_clock.due_at:
                row["responded_on_time"] += 1
        if e.status in ("resolved", "closed"):
            row["resolved"] += 1
            row["hours"] += (e.resolved_at - e.received_at).total_seconds() / 3600
            if e.resolved_at <= e.clock.due_at:
                row["resolved_on_time"] += 1
        row["reopened"] += e.reopen_count
        row["extensions"] += ExtensionRequest.objects.filter(event=e,
                                                             status="approved").count()
        for c in Callback.objects.filter(event=e):
            row["callbacks"] += 1
            row["satisfied"] += c.satisfaction in (2, 3)
    for r in ReturnRequest.objects.filter(event__in=events):
        out[r.unit_id]["returns"] += 1
    for a in Assignment.objects.filter(event__in=events, role="lead", status="withdrawn"):
        out[a.unit_id]["reassigns"] += 1
    return out


def by_key(rows):
    return {r.key: r for r in rows}


def test_figures__per_unit_match_an_independent_count(d, events):
    now = timezone.now()
    rows, total = event_figures(actor=d.users["event_supervisor"], start=START, end=END,
                                by="unit", now=now)
    expected = expected_by_unit(events, now)
    got = by_key(rows)
    assert set(got) == {k for k, v in expected.items() if any(v.values())}
    for unit, want in expected.items():
        row = got[unit]
        for name in ("received", "merged", "on_spot", "handled", "response_due",
                     "responded_on_time", "resolved", "resolved_on_time", "callbacks",
                     "satisfied", "reopened", "extensions", "returns", "reassigns"):
            assert row.counts[name] == want[name], (unit, name)
        if want["resolved"]:
            assert row.avg_handling_hours == pytest.approx(want["hours"] / want["resolved"],
                                                           abs=0.01)
            assert row.resolution_rate == round(want["resolved"] / want["handled"], 4)
    assert total.received == sum(1 for e in events if e.status != "merged")
    assert total.returns == ReturnRequest.objects.count() > 0
    assert total.reassigns > 0 and total.callbacks > 0 and total.on_spot > 0
    assert total.extensions > 0 and total.reopened > 0
    # Rows are in code order, never by satisfaction.
    codes = [r.code for r in rows if r.key is not None]
    assert codes == sorted(codes)


def test_figures__dimensions_add_up_to_the_same_total(d, events):
    actor = d.users["event_supervisor"]
    _rows, total = event_figures(actor=actor, start=START, end=END, by="unit")
    for by in figures.DIMENSIONS:
        rows, other = event_figures(actor=actor, start=START, end=END, by=by)
        assert other.counts == total.counts, by
        assert sum(r.received for r in rows) == total.received, by
    weeks, _t = event_figures(actor=actor, start=START, end=END, by="week")
    assert weeks[0].key == dt.date(2026, 8, 31)  # the Monday of the first week
    days, _t = event_figures(actor=actor, start=START, end=END, by="day")
    assert len(days) == 30  # empty days too


def test_figures__filters(d, events):
    actor = d.users["event_supervisor"]
    rows, total = event_figures(actor=actor, start=START, end=END, by="channel",
                                filters=Filters(channel="grid"))
    assert [r.key for r in rows] == ["grid"]
    assert total.received == sum(1 for e in events if e.channel == "grid"
                                 and e.status != "merged")
    level1 = item("010101").parent.parent
    _rows, total = event_figures(actor=actor, start=START, end=END, by="category3",
                                 filters=Filters(category=level1))
    assert total.received == sum(1 for e in events if e.status != "merged"
                                 and e.category.code.startswith(level1.code))
    _rows, total = event_figures(actor=actor, start=START, end=END, by="street",
                                 filters=Filters(street_id=d.street_b.pk))
    assert total.received == sum(1 for e in events if e.status != "merged"
                                 and e.street_id == d.street_b.pk)


def compare_all(actor: Any, now: dt.datetime) -> dict[str, Any]:
    found = {}
    for by in figures.DIMENSIONS:
        for start, end in ((START, END), (START + dt.timedelta(hours=5), END),
                           (dt.datetime(2026, 9, 10, tzinfo=TZ),
                            dt.datetime(2026, 9, 20, 12, tzinfo=TZ))):
            rows, total = event_figures(actor=actor, start=start, end=end, by=by, now=now)
            found[(by, start, end)] = ([r.as_dict() for r in rows], total.as_dict())
    return found


def test_rollup__equals_the_live_computation(d, events):
    actor, now = d.users["event_supervisor"], timezone.now()
    live = compare_all(actor, now)
    result = figures_refresh(now=now + dt.timedelta(minutes=10))
    assert result["rows"] > 0 and EventDayFigures.objects.exists()
    assert compare_all(actor, now) == live
    # A closed event reopened after the refresh: its day is counted live, not twice.
    closed = next(e for e in events if e.status == "closed" and not e.on_spot)
    services.event_reopen(actor=d.users["event_supervisor"], event=closed, reason="复核不实")
    EventFiguresWatermark.objects.all().delete()
    live_now = compare_all(actor, now)
    figures_refresh(now=now + dt.timedelta(minutes=10))
    Event.objects.filter(pk=closed.pk).update(updated_at=timezone.now() + dt.timedelta(hours=1))
    assert compare_all(actor, now) == live_now
    # An incremental refresh after it rebuilds that day only, to the same figures.
    later = figures_refresh(now=timezone.now() + dt.timedelta(hours=2))
    assert later["days"] == 1
    assert compare_all(actor, now) == live_now
    assert rebuild_rollup(since=FIRST) > 0
    assert compare_all(actor, now) == live_now
    assert rebuild_rollup() > 0
    assert compare_all(actor, now) == live_now


def test_scope__a_street_sees_its_units_only(d, events):
    street_rows, street_total = event_figures(actor=d.users["street_dispatcher"],
                                              start=START, end=END, by="unit")
    assert {r.key for r in street_rows} <= {d.street_a.pk, d.community_a.pk, d.grid_a.pk}
    assert street_rows
    everything, total = event_figures(actor=d.users["event_supervisor"], start=START,
                                      end=END, by="unit")
    assert street_total.received < total.received
    mine = next(r for r in everything if r.key == d.street_a.pk)
    assert street_total.received == mine.received
    assert event_figures(actor=d.users["clerk_a"], start=START, end=END)[0] == []
    figures_refresh(now=timezone.now() + dt.timedelta(minutes=10))
    again, _t = event_figures(actor=d.users["street_dispatcher"], start=START, end=END,
                              by="unit")
    assert [r.as_dict() for r in again] == [r.as_dict() for r in street_rows]


# --- the page ----------------------------------------------------------------------------

def test_page__renders_the_figures_side_by_side(client, d, events):
    client.force_login(d.users["event_supervisor"])
    response = client.get("/events/figures/", {"period": "custom", "start": "2026-09-01",
                                               "end": "2026-09-30", "by": "unit"})
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("响应率", "解决率", "满意率", "按时办结率", "退单", "改派"):
        assert text in html
    assert d.street_a.name in html and "<svg" in html


def test_page__bad_parameters_are_a_form_error(client, d):
    client.force_login(d.users["event_supervisor"])
    response = client.get("/events/figures/", {"period": "custom", "start": "2026-09-30",
                                               "end": "2026-09-01"})
    assert response.status_code == 400
    assert "结束日期早于开始日期" in response.content.decode()
    response = client.get("/events/figures/", {"by": "satisfaction"})
    assert response.status_code == 400


def test_page__street_dispatcher_cannot_pick_another_street(client, d, events):
    client.force_login(d.users["street_dispatcher"])
    response = client.get("/events/figures/", {"period": "2026-09", "by": "unit"})
    assert response.status_code == 200
    html = response.content.decode()
    assert d.street_a.name in html and d.department.name not in html
    response = client.get("/events/figures/", {"period": "2026-09",
                                               "street": d.street_b.code})
    assert response.status_code == 400


def test_export__csv_and_excel_hold_the_same_figures(client, d, events):
    client.force_login(d.users["event_supervisor"])
    params = {"period": "2026-09", "by": "street"}
    rows, total = event_figures(actor=d.users["event_supervisor"], start=START, end=END,
                                by="street")
    response = client.get("/events/figures/", {**params, "format": "csv"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][0] == "街道" and "满意率 (%)" in table[0]
    body = {line[0]: line for line in table[1:]}
    assert body["合计"][table[0].index("受理量")] == str(total.received)
    street_a = next(r for r in rows if r.key == d.street_a.pk)
    assert body[street_a.label][table[0].index("退单")] == str(street_a.returns)
    response = client.get("/events/figures/", {**params, "format": "xlsx"})
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and last[header.index("受理量")] == total.received
    assert last[header.index("满意率 (%)")] == total.satisfaction_rate
    assert "响应率" in [row[0].value for row in book.worksheets[1].iter_rows()]


# --- the API -----------------------------------------------------------------------------

def test_api__same_numbers_as_the_page_and_schema_valid(client, d, events):
    client.force_login(d.users["event_supervisor"])
    response = client.get("/api/events/figures", {"start": "2026-09-01", "end": "2026-09-30",
                                                  "by": "unit"})
    assert response.status_code == 200
    body = response.json()
    assert_matches_openapi(response)
    rows, total = event_figures(actor=d.users["event_supervisor"], start=START, end=END,
                                by="unit")
    assert body["total"]["received"] == total.received
    assert [r["received"] for r in body["rows"]] == [r.received for r in rows]
    assert body["rows"][0]["key"] == rows[0].code and body["rows"][0]["label"] == rows[0].label


@pytest.mark.parametrize("params", [{"by": "satisfaction"}, {"start": "2026-13-01"},
                                    {"start": "2026-09-30", "end": "2026-09-01"},
                                    {"category": "nope"}, {"channel": "fax"}])
def test_api__bad_parameters_are_422(client, d, params):
    client.force_login(d.users["event_supervisor"])
    response = client.get("/api/events/figures", params)
    assert response.status_code == 422, response.content


def test_migration__fills_in_on_spot_and_extensions_of_earlier_events(d, events):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("yiwang.events.migrations.0003_figures")
    want = dict(Event.objects.values_list("pk", "on_spot"))
    extensions = dict(Event.objects.values_list("pk", "extension_count"))
    assert any(want.values()) and any(extensions.values())
    Event.objects.update(on_spot=False, extension_count=0)
    migration.backfill(apps, None)
    assert dict(Event.objects.values_list("pk", "on_spot")) == want
    assert dict(Event.objects.values_list("pk", "extension_count")) == extensions
