"""Import of closed historical events (历史工单): years of a hotline's or a previous
system's records, loaded in bulk with their final assignment and a compact timeline.

The file is CSV, JSON Lines or Parquet, one event a row, with these columns (English
names, or the Chinese ones in ``ALIASES``):

==================  ========  ==========================================================
column              required  meaning
==================  ========  ==========================================================
source_ref          yes       the sender's id; unique per channel (a second import of
                              the same row adds nothing)
channel             yes       hotline, grid, opinion, video_ai, portal, open311
received_at         yes       ISO 8601; without an offset it is local time
text                yes       the appeal text (the event's description)
title                         default: the start of the text
appeal_type                   consult / help / complaint / report / suggestion or
                              咨询 / 求助 / 投诉 / 举报 / 建议 (default: the item's)
category_code                 a level-3 item of the published dispatch catalog
lat, lon                      WGS 84 point; placed in its grid, community and street
address                       placed by the unit names in it when there is no point
handler_unit_code             the org unit that handled it (the final lead assignment)
status                        closed (default) or resolved (办结, no callback yet)
dispatched_at                 when it went to the handler
responded_at                  first contact with the citizen
resolved_at         yes*      办结; *required, as every imported event is finished
closed_at                     default: resolved_at for closed events
result                        what was done
satisfaction                  3 / 2 / 1 or 满意 / 基本满意 / 不满意
urgent                        1 / 0, true / false, 是 / 否
==================  ========  ==========================================================

Rows are read in batches (``batch_size``). Each batch is one transaction: its events
(numbered like live ones, ``<district><yyyymmdd><daily sequence>`` of the day received),
their lead assignment and timeline (create, dispatch, resolve or close), one audit entry
for the batch and the checkpoint (``HistoryImport.rows_done``). A crash loses at most the
batch in progress; running the same file again resumes after the last committed batch,
and rows already in the database (same channel and source_ref) are counted, not added.
A bad row is refused with its row number and the reason; the rest of its batch goes in.

PostgreSQL gets the rows with ``COPY`` (psycopg 3), other databases with
``bulk_create``. After the import the figures rollup, where the deployment has one, is
rebuilt from the oldest day imported.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import importlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.sequences import reserve_values

from .catalog import published_catalog
from .models import (
    APPEAL_TYPE_BY_CHINESE,
    AppealType,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Category,
    Channel,
    Event,
    EventStatus,
    EventUpdate,
    HistoryImport,
)

FORMATS = ("csv", "jsonl", "parquet")
DEFAULT_BATCH = 20_000
MAX_KEPT_ERRORS = 1_000
ALIASES = {
    "来源编号": "source_ref", "工单编号": "source_ref", "渠道": "channel",
    "来源渠道": "channel", "受理时间": "received_at", "标题": "title", "内容": "text",
    "诉求内容": "text", "诉求类型": "appeal_type", "分类编码": "category_code",
    "纬度": "lat", "经度": "lon", "地址": "address", "承办单位编码": "handler_unit_code",
    "状态": "status", "分拨时间": "dispatched_at", "响应时间": "responded_at",
    "办结时间": "resolved_at", "结案时间": "closed_at", "办理结果": "result",
    "满意度": "satisfaction", "紧急": "urgent", "description": "text",
}
STATUSES = {"closed": EventStatus.CLOSED, "已结案": EventStatus.CLOSED,
            "结案": EventStatus.CLOSED, "resolved": EventStatus.RESOLVED,
            "已办结": EventStatus.RESOLVED, "办结": EventStatus.RESOLVED}
SATISFACTION = {"3": 3, "2": 2, "1": 1, "满意": 3, "基本满意": 2, "不满意": 1}
TRUE, FALSE = {"1", "true", "yes", "是", "y", "t"}, {"", "0", "false", "no", "否", "n", "f"}
CHANNELS = set(Channel.values)


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = the first data row (the header is not counted)
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    file_name: str
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    batches: int = 0
    resumed_from_row: int = 0
    already_done: bool = False
    seconds: float = 0.0
    rollup_rebuilt: bool | None = None  # None: no figures rollup in this deployment

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file_name, "rows": self.rows, "created": self.created,
                "duplicates": self.duplicates, "error_count": self.error_count,
                "errors": [e.as_dict() for e in self.errors], "batches": self.batches,
                "resumed_from_row": self.resumed_from_row, "already_done": self.already_done,
                "seconds": round(self.seconds, 2), "rollup_rebuilt": self.rollup_rebuilt}


class ImportError_(ValueError):
    """The file as a whole cannot be read (format, encoding, header)."""


# --- reading ----------------------------------------------------------------------------------


def file_format(path: Path, given: str | None = None) -> str:
    fmt = (given or path.suffix.lower().lstrip(".")).lower()
    fmt = {"jsonlines": "jsonl", "ndjson": "jsonl", "pq": "parquet"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ImportError_("Say the format: csv, jsonl or parquet.")
    return fmt


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes as such, else GB18030
    (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        head = handle.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        try:
            decoder.decode(head)
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _canonical(name: str) -> str:
    name = name.strip().lstrip("\ufeff")
    return ALIASES.get(name, name.lower())


def read_rows(path: Path, fmt: str, encoding: str | None = None
              ) -> Iterator[dict[str, Any] | RowError]:
    """The file's rows as dicts of canonical column names (a row that is not even a
    record comes as a RowError)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several kinds for a bad file
            raise ImportError_(f"Not a Parquet file: {exc}") from None
        names = [_canonical(n) for n in reader.schema_arrow.names]
        for batch in reader.iter_batches(batch_size=10_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                yield dict(zip(names, values, strict=True))
        return
    encoding = encoding or detect_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        if fmt == "csv":
            reader_ = csv.reader(handle)
            header = next(reader_, None)
            if not header:
                raise ImportError_("The file is empty: it needs a header row.")
            names = [_canonical(n) for n in header]
            width = len(names)
            for index, cells in enumerate(reader_, start=1):
                if len(cells) != width:
                    if not any(v.strip() for v in cells):
                        yield RowError(index, "", "empty row")
                        continue
                    yield RowError(index, "", f"{len(cells)} fields instead of {width}")
                    continue
                yield dict(zip(names, cells, strict=True))
            return
        for index, line in enumerate(handle, start=1):
            if not line.strip():
                yield RowError(index, "", "empty line")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RowError(index, "", f"not JSON: {exc.msg}")
                continue
            if not isinstance(record, dict):
                yield RowError(index, "", "not a JSON object")
                continue
            yield {_canonical(str(k)): v for k, v in record.items()}


# --- checking one row ----------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    number: int
    source_ref: str
    channel: str
    received_at: dt.datetime
    text: str
    title: str
    appeal_type: str
    category: Category | None
    lat: float | None
    lon: float | None
    address: str
    handler: OrgUnit | None
    status: str
    dispatched_at: dt.datetime | None
    responded_at: dt.datetime | None
    resolved_at: dt.datetime
    closed_at: dt.datetime | None
    result: str
    satisfaction: int | None
    urgent: bool


class _Bad(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


class RowChecker:
    """Turns a raw record into a ``Row``, or says what is wrong with it."""

    def __init__(self) -> None:
        catalog = published_catalog()
        self.categories = {c.code: c for c in Category.objects.filter(
            catalog=catalog, level=3).select_related("handler_unit")} if catalog else {}
        self.units = {u.code: u for u in OrgUnit.objects.only(
            "id", "code", "name", "kind", "path", "parent_id")}
        self.tz = timezone.get_default_timezone()
        self.now = timezone.now()

    def time(self, record: dict[str, Any], name: str, *, required: bool = False
             ) -> dt.datetime | None:
        value = record.get(name)
        if isinstance(value, dt.datetime):
            moment = value
        else:
            text = _text(record, name)
            if not text:
                if required:
                    raise _Bad(name, "missing")
                return None
            try:
                moment = dt.datetime.fromisoformat(text.replace("/", "-"))
            except ValueError:
                raise _Bad(name, f"not a date and time (ISO 8601): {text[:40]!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment

    def check(self, number: int, record: dict[str, Any]) -> Row:
        source_ref = _text(record, "source_ref")
        if not source_ref:
            raise _Bad("source_ref", "missing")
        if len(source_ref) > 200:
            raise _Bad("source_ref", "longer than 200 characters")
        channel = _text(record, "channel").lower()
        if channel not in CHANNELS:
            raise _Bad("channel", f"unknown channel {channel!r} "
                                  f"(one of {', '.join(sorted(CHANNELS))})")
        text = _text(record, "text")
        if not text:
            raise _Bad("text", "missing")
        received_at = self.time(record, "received_at", required=True)
        assert received_at is not None
        if received_at > self.now:
            raise _Bad("received_at", "in the future")
        code = _text(record, "category_code")
        category = None
        if code:
            category = self.categories.get(code)
            if category is None:
                raise _Bad("category_code", f"{code} is not a level-3 item of the "
                                            "published dispatch catalog")
        raw_type = _text(record, "appeal_type")
        appeal_type = APPEAL_TYPE_BY_CHINESE.get(raw_type, raw_type.lower())
        if not appeal_type:
            appeal_type = (category.appeal_types[0] if category and category.appeal_types
                           else AppealType.HELP)
        if appeal_type not in AppealType.values:
            raise _Bad("appeal_type", f"unknown appeal type {raw_type!r}")
        lat, lon = self.number(record, "lat", -90, 90), self.number(record, "lon", -180, 180)
        if (lat is None) != (lon is None):
            raise _Bad("lat", "give both latitude and longitude")
        handler = None
        handler_code = _text(record, "handler_unit_code")
        if handler_code:
            handler = self.units.get(handler_code)
            if handler is None:
                raise _Bad("handler_unit_code", f"no org unit {handler_code}")
        raw_status = _text(record, "status").lower() or "closed"
        status = STATUSES.get(raw_status)
        if status is None:
            raise _Bad("status", f"{raw_status!r}: only finished events are imported "
                                 "(closed or resolved)")
        dispatched_at = self.time(record, "dispatched_at")
        responded_at = self.time(record, "responded_at")
        resolved_at = self.time(record, "resolved_at", required=True)
        assert resolved_at is not None
        closed_at = self.time(record, "closed_at")
        if status == EventStatus.CLOSED:
            closed_at = closed_at or resolved_at
        elif closed_at is not None:
            raise _Bad("closed_at", "a resolved event has no closing time")
        order = [("received_at", received_at), ("dispatched_at", dispatched_at),
                 ("resolved_at", resolved_at), ("closed_at", closed_at)]
        known = [(n, t) for n, t in order if t is not None]
        for (_before, earlier), (name, later) in itertools.pairwise(known):
            if later < earlier:
                raise _Bad(name, f"earlier than {_before}")
        if closed_at is not None and closed_at > self.now:
            raise _Bad("closed_at", "in the future")
        raw_satisfaction = _text(record, "satisfaction")
        satisfaction = None
        if raw_satisfaction:
            satisfaction = SATISFACTION.get(raw_satisfaction.removesuffix(".0"))
            if satisfaction is None:
                raise _Bad("satisfaction", f"{raw_satisfaction!r}: 3 / 2 / 1 or "
                                           "满意 / 基本满意 / 不满意")
        raw_urgent = _text(record, "urgent").lower()
        if raw_urgent not in TRUE | FALSE:
            raise _Bad("urgent", f"{raw_urgent!r}: 1 or 0")
        title = _text(record, "title") or text
        return Row(number=number, source_ref=source_ref, channel=channel,
                   received_at=received_at, text=text, title=title[:200].strip(),
                   appeal_type=appeal_type, category=category, lat=lat, lon=lon,
                   address=_text(record, "address")[:300], handler=handler, status=status,
                   dispatched_at=dispatched_at, responded_at=responded_at,
                   resolved_at=resolved_at, closed_at=closed_at,
                   result=_text(record, "result"), satisfaction=satisfaction,
                   urgent=raw_urgent in TRUE)

    @staticmethod
    def number(record: dict[str, Any], name: str, low: float, high: float) -> float | None:
        value = record.get(name)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _Bad(name, f"not a number: {str(value)[:20]!r}") from None
        if math.isnan(number):
            return None
        if not low <= number <= high:
            raise _Bad(name, f"outside {low}…{high}")
        return number


# --- placing many points at once ------------------------------------------------------------


class Locator:
    """(finest unit, street) of many points with one spatial index, and of addresses by
    the unit names in them (the same answers as ``intake.place``, without a query each)."""

    def __init__(self) -> None:
        from shapely import STRtree
        from shapely.geometry import shape

        units = list(OrgUnit.objects.filter(
            kind__in=[OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID], is_active=True,
            boundary__isnull=False).only("id", "code", "name", "short_name", "kind", "path",
                                         "depth", "parent_id", "boundary"))
        self.units = [u for u in units if u.boundary]
        self.by_id = {u.pk: u for u in OrgUnit.objects.only(
            "id", "code", "name", "short_name", "kind", "path", "depth", "parent_id")}
        self.tree = STRtree([shape(u.boundary) for u in self.units]) if self.units else None
        self.named = [u for u in self.by_id.values()
                      if u.kind in (OrgKind.STREET, OrgKind.COMMUNITY)]
        self._address_cache: dict[str, tuple[OrgUnit | None, OrgUnit | None]] = {}

    def street_of(self, unit: OrgUnit) -> OrgUnit | None:
        current: OrgUnit | None = unit
        while current is not None and current.kind != OrgKind.STREET:
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return current

    def points(self, lons: list[float], lats: list[float]
               ) -> list[tuple[OrgUnit | None, OrgUnit | None]]:
        out: list[tuple[OrgUnit | None, OrgUnit | None]] = [(None, None)] * len(lons)
        if self.tree is None or not lons:
            return out
        import numpy as np
        from shapely import points

        geoms = points(np.array(lons), np.array(lats))
        found: dict[int, dict[str, OrgUnit]] = {}
        pairs = self.tree.query(geoms, predicate="within")
        for i, j in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
            unit = self.units[j]
            found.setdefault(i, {}).setdefault(unit.kind, unit)
        rank = (OrgKind.GRID, OrgKind.COMMUNITY, OrgKind.STREET)
        for i, kinds in found.items():
            finest = next(kinds[k] for k in rank if k in kinds)
            out[i] = (finest, kinds.get(OrgKind.STREET) or self.street_of(finest))
        return out

    def address(self, text: str) -> tuple[OrgUnit | None, OrgUnit | None]:
        if not text:
            return None, None
        cached = self._address_cache.get(text)
        if cached is not None:
            return cached
        units = [u for u in self.named if u.name in text
                 or (u.short_name and u.short_name in text)]
        answer: tuple[OrgUnit | None, OrgUnit | None] = (None, None)
        if units:
            finest = max(units, key=lambda u: u.depth)
            answer = (finest, self.street_of(finest))
        if len(self._address_cache) < 100_000:
            self._address_cache[text] = answer
        return answer


# --- writing a batch --------------------------------------------------------------------------


def _level(unit: OrgUnit) -> str:
    from .services import level_of

    return level_of(unit)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class BatchWriter:
    """Writes the events of one batch with their assignment and timeline."""

    def __init__(self, *, district: OrgUnit, locator: Locator, job: HistoryImport) -> None:
        self.district = district
        self.locator = locator
        self.job = job
        self.postgres = connection.vendor == "postgresql"
        self.event_fields = [f for f in Event._meta.concrete_fields]
        self.defaults = {}
        for f in self.event_fields:
            default = f.get_default()
            self.defaults[f.attname] = _json(default) if (
                self.postgres and f.get_internal_type() == "JSONField") else default
        self.prefix = settings.YIWANG_DISTRICT_CODE[:6]

    def write(self, rows: list[Row]) -> tuple[int, str, str]:
        """Insert ``rows`` (already free of duplicates); (count, first, last number)."""
        if not rows:
            return 0, "", ""
        now = timezone.now()
        tz = timezone.get_default_timezone()
        days = [r.received_at.astimezone(tz).strftime("%Y%m%d") for r in rows]
        first = reserve_values("event", Counter(days))
        numbers = []
        for day in days:
            numbers.append(f"{self.prefix}{day}{first[day]:07d}")
            first[day] += 1
        with_point = [i for i, r in enumerate(rows) if r.lat is not None]
        places = self.locator.points([rows[i].lon for i in with_point],  # type: ignore[misc]
                                     [rows[i].lat for i in with_point])  # type: ignore[misc]
        placed: dict[int, tuple[OrgUnit | None, OrgUnit | None]] = dict(
            zip(with_point, places, strict=True))
        events = []
        for i, (row, number) in enumerate(zip(rows, numbers, strict=True)):
            finest, street = placed.get(i, (None, None))
            if finest is None:
                finest, street = self.locator.address(row.address)
            handler = row.handler
            category = row.category
            values = {
                "number": number, "channel": row.channel, "source_ref": row.source_ref,
                "appeal_type": row.appeal_type, "urgent": row.urgent, "title": row.title,
                "description": row.text, "category_id": category.pk if category else None,
                "confidence": 1.0 if category else None, "address": row.address,
                "lat": row.lat, "lon": row.lon,
                "location_unit_id": finest.pk if finest else None,
                "street_id": street.pk if street else None,
                "location_missing": finest is None, "status": row.status,
                "dispatch_unit_id": self.district.pk,
                "handler_unit_id": handler.pk if handler else None,
                "dispatch_level": _level(handler) if handler else "",
                "resolution": row.result, "satisfaction": row.satisfaction,
                "received_at": row.received_at, "responded_at": row.responded_at,
                "dispatched_at": row.dispatched_at, "resolved_at": row.resolved_at,
                "closed_at": row.closed_at, "revision": 1, "updated_at": now,
            }
            events.append(values)
        ids = self._insert_events(events)
        assignments: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        batch = {"import": self.job.pk}
        for row, event_id in zip(rows, ids, strict=True):
            handler = row.handler
            final = row.status
            updates.append((event_id, "create", "", EventStatus.RECEIVED, None, True,
                            _json({"channel": row.channel, **batch}), row.received_at))
            if handler is not None:
                at = row.dispatched_at or row.received_at
                assignments.append((event_id, handler.pk, AssignmentRole.LEAD,
                                    _level(handler), AssignmentStatus.DONE, at, at,
                                    row.resolved_at))
                updates.append((event_id, "dispatch", EventStatus.RECEIVED,
                                EventStatus.DISPATCHED, handler.pk, True,
                                _json({"unit": handler.code}), at))
            data: dict[str, Any] = {"resolved_at": row.resolved_at.isoformat()}
            if row.satisfaction is not None:
                data["satisfaction"] = row.satisfaction
            updates.append((event_id, "close" if final == EventStatus.CLOSED else "resolve",
                            EventStatus.DISPATCHED if handler else EventStatus.RECEIVED,
                            final, handler.pk if handler else None, True, _json(data),
                            row.closed_at or row.resolved_at))
        self._insert_assignments(assignments)
        self._insert_updates(updates)
        return len(rows), numbers[0], numbers[-1]

    # PostgreSQL: COPY; elsewhere bulk_create.

    def _insert_events(self, events: list[dict[str, Any]]) -> list[int]:
        if not self.postgres:
            objs = [Event(**{**{k: v for k, v in self.defaults.items() if k != "id"}, **e})
                    for e in events]
            created = Event.objects.bulk_create(objs, batch_size=500)
            return [e.pk for e in created]
        table = Event._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [table, len(events)])
            ids = [r[0] for r in cursor.fetchall()]
        columns = [f.attname for f in self.event_fields]
        defaults = [self.defaults[c] for c in columns]
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            sql = (f'COPY "{table}" ({", ".join(_q(c) for c in columns)}) FROM STDIN')
            with raw.copy(sql) as copy:
                for event_id, values in zip(ids, events, strict=True):
                    values["id"] = event_id
                    copy.write_row([values.get(c, d) for c, d in zip(columns, defaults,
                                                                        strict=True)])
        return ids

    def _insert_assignments(self, rows: list[tuple[Any, ...]]) -> None:
        if not self.postgres:
            Assignment.objects.bulk_create([Assignment(
                event_id=e, unit_id=u, role=r, level=lv, status=s, created_at=c,
                accepted_at=a, done_at=d) for e, u, r, lv, s, c, a, d in rows],
                batch_size=1000)
            # created_at is auto_now_add, so bulk_create set it to now; it is the
            # dispatch time, as accepted_at is.
            Assignment.objects.filter(event_id__in=[r[0] for r in rows]).update(
                created_at=F("accepted_at"))
            return
        columns = ["event_id", "unit_id", "role", "level", "status", "created_at",
                   "accepted_at", "done_at", "note"]
        self._copy(Assignment._meta.db_table, columns, ((*r, "") for r in rows))

    def _insert_updates(self, rows: list[tuple[Any, ...]]) -> None:
        if not self.postgres:
            EventUpdate.objects.bulk_create([EventUpdate(
                event_id=e, action=a, from_status=f, to_status=t, unit_id=u, public=p,
                data=json.loads(d), at=at) for e, a, f, t, u, p, d, at in rows],
                batch_size=1000)
            return
        columns = ["event_id", "action", "from_status", "to_status", "unit_id", "public",
                   "data", "at", "note"]
        self._copy(EventUpdate._meta.db_table, columns, ((*r, "") for r in rows))

    @staticmethod
    def _copy(table: str, columns: list[str], rows: Any) -> None:
        with connection.cursor() as cursor:
            sql = f'COPY "{table}" ({", ".join(_q(c) for c in columns)}) FROM STDIN'
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)


def _q(name: str) -> str:
    return f'"{name}"'


# --- the import -------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _existing(rows: list[Row]) -> set[tuple[str, str]]:
    by_channel: dict[str, list[str]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row.source_ref)
    found: set[tuple[str, str]] = set()
    for channel, refs in by_channel.items():
        for start in range(0, len(refs), 5_000):
            found.update(Event.objects.filter(channel=channel,
                                              source_ref__in=refs[start:start + 5_000])
                         .exclude(source_ref="").values_list("channel", "source_ref"))
    return found


def _rebuild_rollup(since: dt.date | None) -> bool | None:
    """Keep the figures right: rebuild the rollup from the oldest day imported, where
    the deployment has one (``yiwang.events.figures.rebuild_rollup``)."""
    try:
        figures = importlib.import_module("yiwang.events.figures")
    except ImportError:
        return None
    if not hasattr(figures, "rebuild_rollup"):
        return None
    figures.rebuild_rollup(since=since)
    return True


def history_import(
    *, actor: Any, path: Path | str, fmt: str | None = None, encoding: str | None = None,
    batch_size: int = DEFAULT_BATCH, system: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import a file of finished historical events; see the module's docstring."""
    import time

    began = time.perf_counter()
    if not system and not policies.has_perm(actor, "events.intake_event"):
        raise PermissionDenied
    path = Path(path)
    fmt = file_format(path, fmt)
    if batch_size < 1:
        raise ImportError_("The batch size must be at least 1.")
    sha = file_sha256(path)
    job, _created = HistoryImport.objects.get_or_create(
        file_sha256=sha, defaults={"file_name": path.name[:300], "format": fmt,
                                   "started_by": actor if getattr(
                                       actor, "is_authenticated", False) else None})
    report = ImportReport(file_name=path.name, resumed_from_row=job.rows_done)
    if job.status == HistoryImport.Status.DONE:
        report.already_done = True
        report.rows, report.created = job.rows_done, job.created
        report.duplicates, report.error_count = job.duplicates, job.error_count
        report.errors = [RowError(**e) for e in job.errors]
        report.seconds = time.perf_counter() - began
        return report
    checker = RowChecker()
    writer = BatchWriter(district=OrgUnit.objects.get(code=settings.YIWANG_DISTRICT_CODE),
                         locator=Locator(), job=job)
    earliest: dt.date | None = None
    skip = job.rows_done
    pending: list[Row] = []
    errors: list[RowError] = []
    last_row = skip
    tz = timezone.get_default_timezone()

    def flush(upto: int) -> None:
        nonlocal earliest
        seen: set[tuple[str, str]] = set()
        fresh: list[Row] = []
        duplicates = 0
        existing = _existing(pending)
        for row in pending:
            key = (row.channel, row.source_ref)
            if key in existing or key in seen:
                duplicates += 1
                continue
            seen.add(key)
            fresh.append(row)
        with transaction.atomic():
            created, first, last = writer.write(fresh)
            locked = HistoryImport.objects.select_for_update().get(pk=job.pk)
            if locked.rows_done != job.rows_done:  # another process imports this file
                raise ImportError_("This file is being imported by another process.")
            locked.rows_done = upto
            locked.created += created
            locked.duplicates += duplicates
            locked.error_count += len(errors)
            room = MAX_KEPT_ERRORS - len(locked.errors)
            locked.errors = locked.errors + [e.as_dict() for e in errors[:max(room, 0)]]
            locked.batches += 1
            locked.save(update_fields=["rows_done", "created", "duplicates", "error_count",
                                       "errors", "batches"])
            audit_log(actor=actor if not system else None,
                      action="events.history.import_batch", obj=locked,
                      object_label=path.name[:200], scope_path=writer.district.path,
                      after={"file_sha256": sha, "rows": [job.rows_done + 1, upto],
                             "created": created, "duplicates": duplicates,
                             "refused": len(errors), "numbers": [first, last]})
        job.rows_done = upto
        report.created += created
        report.duplicates += duplicates
        report.error_count += len(errors)
        report.errors += errors[:max(MAX_KEPT_ERRORS - len(report.errors), 0)]
        report.batches += 1
        for row in fresh:
            day = row.received_at.astimezone(tz).date()
            if earliest is None or day < earliest:
                earliest = day
        if progress:
            progress(f"rows {upto:,}: {report.created:,} created, {report.duplicates:,} "
                     f"already there, {report.error_count:,} refused")
        pending.clear()
        errors.clear()

    for index, record in enumerate(read_rows(path, fmt, encoding), start=1):
        last_row = index
        if index <= skip:
            continue
        if isinstance(record, RowError):
            errors.append(record)
        else:
            try:
                pending.append(checker.check(index, record))
            except _Bad as bad:
                errors.append(RowError(index, bad.field, bad.message))
        if index - job.rows_done >= batch_size:
            flush(index)
    if last_row > job.rows_done or pending or errors:
        flush(last_row)
    HistoryImport.objects.filter(pk=job.pk).update(status=HistoryImport.Status.DONE,
                                                   finished_at=timezone.now())
    report.rows = last_row
    if report.created:
        report.rollup_rebuilt = _rebuild_rollup(earliest)
    report.seconds = time.perf_counter() - began
    return report
