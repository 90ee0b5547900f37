"""The historical import: idempotent, resumable, bad rows reported, GBK and UTF-8, and
events numbered, placed, assigned and audited like live ones."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.core.models.audit import AuditEntry
from yiwang.core.models.sequence import Sequence
from yiwang.core.sequences import next_value
from yiwang.events import history
from yiwang.events.history import history_import
from yiwang.events.historygen import generate_history
from yiwang.events.models import (
    Assignment,
    AssignmentStatus,
    Event,
    EventStatus,
    EventUpdate,
    HistoryImport,
)
from yiwang.events.tests.factories import add_event_staff, load_catalog

pytestmark = pytest.mark.django_db

HEADER = ["source_ref", "channel", "received_at", "text", "appeal_type", "category_code",
          "lat", "lon", "address", "handler_unit_code", "status", "dispatched_at",
          "resolved_at", "closed_at", "result", "satisfaction"]


@pytest.fixture
def d(district):
    load_catalog()
    add_event_staff(district)
    return district


def _row(ref: str, **extra: str) -> dict[str, str]:
    row = {"source_ref": ref, "channel": "hotline", "received_at": "2025-03-04 09:15:00",
           "text": "地铁口好多走鬼推车卖东西，堵住出口", "appeal_type": "投诉",
           "category_code": "010102", "lat": "22.51", "lon": "114.01", "address": "",
           "handler_unit_code": "440399001000", "status": "closed",
           "dispatched_at": "2025-03-04T10:00:00+08:00",
           "resolved_at": "2025-03-06T16:00:00+08:00", "closed_at": "2025-03-07 09:00",
           "result": "已清理", "satisfaction": "满意"}
    row.update(extra)
    return row


def _csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_history__imports_closed_events_with_assignment_timeline_and_numbers(d, tmp_path):
    next_value("event", "20250304")  # a live event of that day took number 1
    report = history_import(actor=None, system=True,
                            path=_csv(tmp_path / "h.csv", [_row("A1"), _row("A2")]))
    assert (report.created, report.duplicates, report.error_count) == (2, 0, 0)
    first, second = Event.objects.order_by("number")
    assert first.number == "44039920250304" + "0000002"
    assert second.number.endswith("0000003")
    assert Sequence.objects.get(name="event", period="20250304").value == 3
    assert first.status == EventStatus.CLOSED and first.satisfaction == 3
    assert first.location_unit == d.grid_a and first.street == d.street_a
    assert first.handler_unit == d.street_a and first.category.code == "010102"
    assert first.appeal_type == "complaint" and first.dispatch_unit == d.district
    assert first.closed_at.isoformat() == "2025-03-07T01:00:00+00:00"  # local time
    lead = Assignment.objects.get(event=first)
    assert lead.status == AssignmentStatus.DONE and lead.unit == d.street_a
    assert lead.created_at == first.dispatched_at
    assert list(first.updates.values_list("action", flat=True)) == [
        "create", "dispatch", "close"]
    batch_entries = AuditEntry.objects.filter(action="events.history.import_batch")
    assert batch_entries.count() == 1  # one per batch, not per event
    assert batch_entries.get().after["created"] == 2


def test_history__same_file_twice_adds_nothing(d, tmp_path):
    path = _csv(tmp_path / "h.csv", [_row("A1"), _row("A2")])
    history_import(actor=None, system=True, path=path)
    again = history_import(actor=None, system=True, path=path)
    assert again.already_done and Event.objects.count() == 2
    # Another file with the same rows (say, re-exported) adds nothing either.
    overlapping = _csv(tmp_path / "h2.csv", [_row("A2"), _row("A3"), _row("A3")])
    report = history_import(actor=None, system=True, path=overlapping)
    assert (report.created, report.duplicates) == (1, 2)
    assert Event.objects.count() == 3
    # The same reference from another channel is another event.
    other = _csv(tmp_path / "h3.csv", [_row("A1", channel="grid")])
    assert history_import(actor=None, system=True, path=other).created == 1


def test_history__resumes_after_a_failure_in_a_batch(d, tmp_path, monkeypatch):
    path = _csv(tmp_path / "h.csv", [_row(f"R{i}") for i in range(1, 8)])
    real = history.BatchWriter.write
    calls = {"n": 0}

    def failing(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(self, rows)

    monkeypatch.setattr(history.BatchWriter, "write", failing)
    with pytest.raises(RuntimeError):
        history_import(actor=None, system=True, path=path, batch_size=2)
    assert Event.objects.count() == 4  # two batches committed, the third rolled back
    job = HistoryImport.objects.get()
    assert job.rows_done == 4 and job.status == HistoryImport.Status.RUNNING
    monkeypatch.setattr(history.BatchWriter, "write", real)
    report = history_import(actor=None, system=True, path=path, batch_size=2)
    assert report.resumed_from_row == 4 and report.created == 3
    assert report.duplicates == 0
    assert sorted(Event.objects.values_list("source_ref", flat=True)) == [
        f"R{i}" for i in range(1, 8)]
    job.refresh_from_db()
    assert job.status == HistoryImport.Status.DONE and job.created == 7
    assert AuditEntry.objects.filter(action="events.history.import_batch").count() == 4


def test_history__bad_rows_are_reported_and_the_rest_imported(d, tmp_path):
    rows = [_row("OK1"),
            _row("B1", channel="fax"),
            _row("B2", received_at="yesterday"),
            _row("B3", category_code="999999"),
            _row("B4", status="in_progress"),
            _row("B5", resolved_at="2025-03-01T00:00:00+08:00"),
            _row("B6", lat="22.5", lon=""),
            _row("B7", handler_unit_code="000"),
            _row("", text="没有编号"),
            _row("OK2", satisfaction="", lat="", lon="", address="乙街道乙一社区幸福路3号",
                 handler_unit_code="")]
    report = history_import(actor=None, system=True, path=_csv(tmp_path / "h.csv", rows))
    assert report.created == 2
    refused = {(e.row, e.field) for e in report.errors}
    assert refused == {(2, "channel"), (3, "received_at"), (4, "category_code"),
                       (5, "status"), (6, "resolved_at"), (7, "lat"),
                       (8, "handler_unit_code"), (9, "source_ref")}
    ok2 = Event.objects.get(source_ref="OK2")
    assert ok2.location_unit == d.community_b and ok2.street == d.street_b
    assert ok2.handler_unit is None and not ok2.assignments.exists()
    assert HistoryImport.objects.get().errors[0] == {
        "row": 2, "field": "channel",
        "message": "unknown channel 'fax' (one of grid, hotline, open311, opinion, portal, "
                   "video_ai)"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_history__reads_utf8_and_gbk(d, tmp_path, encoding):
    path = _csv(tmp_path / "h.csv", [_row("G1", result="已清理占道摊档")], encoding=encoding)
    report = history_import(actor=None, system=True, path=path)
    assert report.created == 1 and not report.errors
    event = Event.objects.get()
    assert event.description == "地铁口好多走鬼推车卖东西，堵住出口"
    assert event.resolution == "已清理占道摊档"


def test_history__json_lines_and_chinese_headers(d, tmp_path):
    path = tmp_path / "h.jsonl"
    lines = [json.dumps({"来源编号": "J1", "渠道": "grid", "受理时间": "2025-05-01T08:00:00",
                         "内容": "小区电梯坏了三天没人修", "办结时间": "2025-05-02T08:00:00",
                         "满意度": 2}, ensure_ascii=False),
             "not json", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = history_import(actor=None, system=True, path=path)
    assert report.created == 1
    assert [(e.row, e.message[:8]) for e in report.errors] == [(2, "not JSON"),
                                                              (3, "empty li")]
    event = Event.objects.get()
    assert event.channel == "grid" and event.satisfaction == 2
    assert event.appeal_type == "help" and event.category is None


def test_history__generated_file_round_trips_in_every_format(d, tmp_path):
    for fmt in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"g.{fmt}"
        written = generate_history(out=path, events=120, fmt=fmt, seed=7)
        assert written["events"] == 120
    report = history_import(actor=None, system=True, path=tmp_path / "g.csv")
    assert report.created == 120 and not report.errors, report.errors[:3]
    # The same events in the other formats are recognised by their source_ref.
    for fmt in ("jsonl", "parquet"):
        again = history_import(actor=None, system=True, path=tmp_path / f"g.{fmt}")
        assert (again.created, again.duplicates, again.error_count) == (0, 120, 0)
    assert Event.objects.filter(location_unit__isnull=False).count() > 100
    assert not EventUpdate.objects.filter(event__in=Event.objects.all()).exclude(
        action__in=["create", "dispatch", "close", "resolve"]).exists()


def test_history__command_reports_and_refuses_a_missing_file(d, tmp_path):
    path = _csv(tmp_path / "h.csv", [_row("C1"), _row("C2", channel="fax")])
    out = io.StringIO()
    call_command("events_import_history", str(path), "--quiet", stdout=out)
    assert "1 events created" in out.getvalue()
    assert "row 2 channel: unknown channel 'fax'" in out.getvalue()
    with pytest.raises(CommandError, match="No such file"):
        call_command("events_import_history", str(tmp_path / "missing.csv"))
    other = _csv(tmp_path / "other.csv", [_row("C3")])
    with pytest.raises(CommandError, match="Parquet"):
        call_command("events_import_history", str(other), "--format", "parquet")
    assert not Event.objects.filter(source_ref="C3").exists()
