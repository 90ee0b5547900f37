"""Synthetic cases in bulk, for benchmarks: a million cases in minutes, not hours.

``bulk_load_cases(count=1_000_000)`` adds cases on top of the demo district (its
published matters, departments, street windows, staff and applicant accounts — load it
first with ``manage.py demo_setup``). Cases are spread over the last ``days`` days with a
realistic mix: most are final (办结, a few refused, withdrawn or terminated), open cases
are recent (filed within about their promised limit) and carry clocks and time states,
online channels dominate matters that can be handled online, a share of window cases
is taken in at a street's comprehensive window (综合窗口), about 40 % of closed cases
are rated (好差评) and the few bad ratings have rectifications (整改) in every state.
Every case has its timeline (``CaseEvent``) and, once accepted, its clock.

Rows are written with PostgreSQL ``COPY`` (SQLite, for smoke runs: ``executemany``),
never through ``Model.save()``: the point is the size, not the business rules, which
``services.cases`` enforces for real cases. Deterministic for a seed and a ``now``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from yiwang.core.audit import audit_log
from yiwang.core.models import Clock, OrgUnit
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.workdays import WorkCalendar

from .demo import PATHS, REASONS, _target
from .models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Channel,
    Deficiency,
    MatterVersion,
    Rating,
    Rectification,
    RectificationStatus,
    TimeState,
    VersionStatus,
)

S = CaseStatus
FINAL = (S.CLOSED, S.REFUSED, S.WITHDRAWN, S.TERMINATED)
# Cases older than their matter's handling window have ended, nearly all of them 办结.
FINAL_WEIGHTS = [(S.CLOSED, 90), (S.REFUSED, 3), (S.WITHDRAWN, 5), (S.TERMINATED, 2)]
# Cases filed within their handling window: the demo's mix of every state.
RECENT_WEIGHTS = [
    (S.CLOSED, 40), (S.UNDER_REVIEW, 12), (S.ACCEPTED, 8), (S.SUBMITTED, 6),
    (S.ACCEPTED_DEFICIENT, 3), (S.SUPPLEMENT, 3), (S.SUSPENDED, 2), (S.APPROVED, 5),
    (S.REJECTED, 1), (S.DELIVERED, 5), (S.REFUSED, 3), (S.WITHDRAWN, 3), (S.TERMINATED, 1),
    (S.DRAFT, 4),
]
RATING_SHARE = 0.4
RATING_LEVELS = [(5, 72), (4, 16), (3, 7), (2, 3), (1, 2)]
RATING_CHANNELS = [("pc", 28), ("mobile", 40), ("qr", 10), ("tablet", 14), ("phone", 5),
                   ("sms", 3)]
GOOD_TAGS = ["办事效率高", "服务态度好", "材料一次讲清", "无需跑动"]
BAD_TAGS = ["等待时间长", "材料要求不清", "多次跑动"]
INDEX_REBUILD_FROM = 200_000  # cases; below, updating the indexes is cheaper
NUMBER_OFFSET = 500_000  # daily sequence numbers of bulk cases (demo cases use 900,000+)

CLOCK_COLUMNS = ("id", "unit", "limit", "started_at", "due_at", "paused_at", "paused_total",
                 "stopped_at")
CASE_COLUMNS = (
    "id", "number", "matter_id", "version_id", "department_id", "intake_unit_id",
    "applicant_id", "applicant_name", "filed_by_id", "channel", "status", "form_data",
    "assigned_to_id", "clock_id", "deficiency_due_at", "deficiency_reminded_at",
    "time_state", "delivery_method", "submitted_at", "accepted_at", "decided_at",
    "closed_at", "revision", "created_at", "updated_at")
EVENT_COLUMNS = ("case_id", "action", "from_status", "to_status", "actor_id", "reason",
                 "data", "at")
DEFICIENCY_COLUMNS = ("case_id", "kind", "material_id", "description", "due_at",
                      "supplied_at")
RATING_COLUMNS = ("id", "case_id", "matter_id", "department_id", "window_staff_id",
                  "rater_id", "channel", "level", "tags", "text", "created_at")
RECTIFICATION_COLUMNS = (
    "rating_id", "department_id", "status", "clock_id", "verification", "contact_note",
    "result", "callback_level", "callback_note", "appeal_reason", "appeal_decision",
    "appeal_decided_by_id", "created_at", "closed_at", "revision")


@dataclass
class _Rows:
    """One chunk's rows, per table, in insertion order (clocks before what uses them)."""

    clocks: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    deficiencies: list[tuple[Any, ...]] = field(default_factory=list)
    ratings: list[tuple[Any, ...]] = field(default_factory=list)
    rectifications: list[tuple[Any, ...]] = field(default_factory=list)

    def tables(self) -> list[tuple[str, Sequence[str], list[tuple[Any, ...]]]]:
        return [
            (Clock._meta.db_table, CLOCK_COLUMNS, self.clocks),
            (Case._meta.db_table, CASE_COLUMNS, self.cases),
            (CaseEvent._meta.db_table, EVENT_COLUMNS, self.events),
            (Deficiency._meta.db_table, DEFICIENCY_COLUMNS, self.deficiencies),
            (Rating._meta.db_table, RATING_COLUMNS, self.ratings),
            (Rectification._meta.db_table, RECTIFICATION_COLUMNS, self.rectifications),
        ]


@dataclass(frozen=True)
class _Matter:
    version: MatterVersion
    limit: int  # promised working days (0 for 即办件)
    online_share: float
    window_days: float  # how long a case of this matter stays open, in calendar days


class _World:
    """What the generated cases refer to: matters, units, staff, applicants."""

    def __init__(self) -> None:
        from yiwang.accounts.models import User

        versions = list(MatterVersion.objects.filter(status=VersionStatus.PUBLISHED)
                        .select_related("matter", "department").order_by("matter_id"))
        if not versions:
            raise ValueError("no published matters: load the demo district first "
                             "(manage.py demo_setup)")
        self.matters = [_Matter(
            version=v,
            limit=v.promised_limit if v.case_kind == CaseKind.PROMISED else 0,
            online_share={4: 0.8, 3: 0.55}.get(v.online_depth, 0.0),
            window_days=max(2.0, v.promised_limit * 1.45)) for v in versions]
        self.applicants = [
            (u.pk, u.enterprise_name or u.name or u.username)
            for u in User.objects.filter(kind__in=["citizen", "enterprise"], is_active=True)
            .order_by("pk")]
        if not self.applicants:
            raise ValueError("no applicant accounts: load the demo district first")
        self.streets = list(OrgUnit.objects.filter(kind=OrgKind.STREET)
                            .order_by("pk").values_list("pk", flat=True))
        self.staff: dict[tuple[int, str], int] = {}
        for user in (User.objects.filter(kind="staff", is_active=True,
                                         org_unit__isnull=False)
                     .prefetch_related("groups").order_by("pk")):
            for group in user.groups.all():
                self.staff.setdefault((user.org_unit_id, group.name), user.pk)

    def user(self, unit_id: int, *roles: str) -> int | None:
        for role in roles:
            if (unit_id, role) in self.staff:
                return self.staff[(unit_id, role)]
        return None


class _Deadlines:
    """``WorkCalendar.add_working_days`` cached by local start date and limit."""

    def __init__(self) -> None:
        self.calendar = WorkCalendar.load()
        self.cache: dict[tuple[dt.date, int], dt.datetime] = {}
        self.tz = timezone.get_current_timezone()

    def due(self, start: dt.datetime, days: int) -> dt.datetime:
        key = (start.astimezone(self.tz).date(), days)
        due = self.cache.get(key)
        if due is None:
            # In UTC: comparing datetimes of one fixed zone is far cheaper.
            due = self.cache[key] = self.calendar.add_working_days(start, days).astimezone(
                dt.UTC)
        return due


def _weighted(pairs: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values = [value for value, _weight in pairs]
    cumulative, total = [], 0
    for _value, weight in pairs:
        total += weight
        cumulative.append(total)
    return values, cumulative


class _Generator:
    def __init__(self, *, world: _World, seed: int, now: dt.datetime, days: int,
                 first_ids: dict[str, int]) -> None:
        self.world, self.now, self.days = world, now, days
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.deadlines = _Deadlines()
        self.ids = dict(first_ids)
        self.final = _weighted(FINAL_WEIGHTS)
        self.recent = _weighted(RECENT_WEIGHTS)
        self.levels = _weighted(RATING_LEVELS)
        self.rating_channels = _weighted(RATING_CHANNELS)
        self.district = settings.YIWANG_DISTRICT_CODE[:6]
        self.daily = _daily_sequences(self.district)
        self.tz = timezone.get_current_timezone()
        self.form_data = json.dumps({"contact_phone": "138****0000", "note": "申请办理"},
                                    ensure_ascii=False)

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _pick(self, table: tuple[list[Any], list[int]]) -> Any:
        values, cumulative = table
        return self.rng.choices(values, cum_weights=cumulative)[0]

    def _filed_at(self, max_days: float) -> dt.datetime:
        """More cases lately (the service grows), mostly in office hours."""
        rng = self.rng
        age = max_days * (1 - rng.random() ** 0.85)  # skewed towards the recent end
        filed = self.now - dt.timedelta(days=age)
        local = filed.astimezone(self.tz)
        hour = rng.choice((9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17, 20, 21))
        local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        return min(local.astimezone(dt.UTC), self.now - dt.timedelta(minutes=5))

    def chunk(self, count: int) -> _Rows:
        rows = _Rows()
        for _ in range(count):
            self._case(rows)
        return rows

    def _case(self, rows: _Rows) -> None:
        rng, world, now = self.rng, self.world, self.now
        matter = rng.choice(world.matters)
        version = matter.version
        department = version.department_id
        if rng.random() * self.days < matter.window_days:
            state = self._pick(self.recent)
            filed = self._filed_at(min(self.days, matter.window_days))
        else:
            state = self._pick(self.final)
            filed = self._filed_at(self.days)
        applicant, applicant_name = rng.choice(world.applicants)
        online = rng.random() < matter.online_share
        if online:
            channel = Channel.MOBILE if rng.random() < 0.58 else Channel.PC
            intake, filed_by = department, applicant
        else:
            channel = rng.choices((Channel.WINDOW, Channel.POST, Channel.SELF_SERVICE),
                                  (92, 4, 4))[0]
            intake = department
            if channel == Channel.WINDOW and world.streets and rng.random() < 0.35:
                intake = rng.choice(world.streets)  # 综合窗口 of a street
            filed_by = world.user(intake, "window_clerk", "handler") or applicant
        clerk = world.user(department, "window_clerk", "handler", "approver") or filed_by
        reviewer = world.user(department, "approver", "handler") or clerk
        path = PATHS[state]
        case_id = self._next("case")
        accepted = decided = closed = clock_due = deficiency_due = None
        clock_id = assigned = None
        time_state = TimeState.NORMAL
        if "accept" in path or "accept_with_deficiency" in path:
            accepted = min(now, filed + dt.timedelta(hours=rng.uniform(0.2, 20)))
            clock_due = self.deadlines.due(accepted, matter.limit)
        if accepted is not None and {"approve", "reject"} & set(path):
            span = max(clock_due - accepted, dt.timedelta(hours=2))
            late = rng.random() < 0.06
            factor = rng.uniform(1.05, 1.5) if late else rng.uniform(0.05, 0.95)
            decided = min(now, accepted + span * factor)
        if state in FINAL:
            base = decided or accepted or filed
            closed = min(now, base + dt.timedelta(hours=rng.uniform(1, 48)))
        if state in (S.UNDER_REVIEW, S.SUSPENDED, S.APPROVED, S.REJECTED, S.DELIVERED,
                     S.CLOSED):
            assigned = reviewer
        events = self._timeline(rows, case_id, state, filed, accepted, decided, closed,
                                actors=(filed_by, clerk, reviewer))
        if closed is not None:
            closed = events[-1][-1]
        if accepted is not None:
            assert clock_due is not None
            clock_id = self._next("clock")
            paused = stopped = None
            if state in (S.SUSPENDED, S.SUPPLEMENT):
                paused = min(now, accepted + dt.timedelta(days=1))
            if state not in (S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW, S.SUSPENDED,
                             S.SUPPLEMENT):
                stopped = decided or closed
            rows.clocks.append((clock_id, ClockUnit.WORKDAYS, matter.limit, accepted,
                                clock_due, paused, 0, stopped))
            end = stopped or paused or now
            late = decided is not None and clock_due < decided
            if late or (stopped is None and end > clock_due):
                time_state = TimeState.OVERDUE
            elif stopped is None and (clock_due - now).days < version.warning_days * 1.4:
                time_state = TimeState.WARNING
            if state in (S.ACCEPTED_DEFICIENT, S.TERMINATED):
                deficiency_due = self.deadlines.due(accepted, version.supplement_days)
        number = self._number(filed)
        delivery = ""
        if state in (S.DELIVERED, S.CLOSED):
            delivery = rng.choice(("download", "download", "post", "window"))
        rows.cases.append((
            case_id, number, version.matter_id, version.pk, department, intake, applicant,
            applicant_name, filed_by, channel, state, self.form_data, assigned, clock_id,
            deficiency_due, None, time_state, delivery,
            filed if state != S.DRAFT else None, accepted, decided, closed, len(path),
            filed, events[-1][-1]))
        if state in (S.ACCEPTED_DEFICIENT, S.SUPPLEMENT, S.TERMINATED):
            kind = (Deficiency.Kind.SUPPLEMENT if state == S.SUPPLEMENT
                    else Deficiency.Kind.DEFICIENT)
            rows.deficiencies.append((case_id, kind, None, "补充材料", deficiency_due, None))
        if state == S.CLOSED and rng.random() < RATING_SHARE:
            assert closed is not None
            self._rating(rows, case_id, version, department, applicant, filed_by, channel,
                         closed)

    def _number(self, filed: dt.datetime) -> str:
        day = filed.astimezone(self.tz).strftime("%Y%m%d")
        sequence = max(self.daily.get(day, 0), NUMBER_OFFSET) + 1
        self.daily[day] = sequence
        return f"{self.district}{day}{sequence:06d}"

    def _timeline(self, rows: _Rows, case_id: int, state: str, filed: dt.datetime,
                  accepted: dt.datetime | None, decided: dt.datetime | None,
                  closed: dt.datetime | None, *, actors: tuple[int, int, int],
                  ) -> list[tuple[Any, ...]]:
        applicant_side, clerk, reviewer = actors
        planned = {"accept": accepted, "accept_with_deficiency": accepted, "approve": decided,
                   "reject": decided, "close": closed}
        by = {"submit": applicant_side, "withdraw": applicant_side, "accept": clerk,
              "accept_with_deficiency": clerk, "refuse": clerk, "request_supplement": clerk,
              "terminate": None}
        at, status = filed, str(S.DRAFT)
        events: list[tuple[Any, ...]] = [
            (case_id, "create", "", status, applicant_side, "", "{}", at)]
        for step in PATHS[state]:
            when = planned.get(step) or at + dt.timedelta(hours=2)
            at = min(max(when, at + dt.timedelta(minutes=1)), self.now)
            target = _target(step, status)
            events.append((case_id, step, status, target, by.get(step, reviewer),
                           REASONS.get(step, ""), "{}", at))
            status = target
        rows.events.extend(events)
        return events

    def _rating(self, rows: _Rows, case_id: int, version: MatterVersion, department: int,
                applicant: int, filed_by: int, channel: str, closed: dt.datetime) -> None:
        rng, now = self.rng, self.now
        level = self._pick(self.levels)
        created = min(now, closed + dt.timedelta(hours=rng.uniform(0.1, 72)))
        rating_id = self._next("rating")
        bad = level <= 2
        tags = [rng.choice(BAD_TAGS if bad else GOOD_TAGS)] if rng.random() < 0.5 else []
        rows.ratings.append((
            rating_id, case_id, version.matter_id, department,
            filed_by if channel == Channel.WINDOW and filed_by != applicant else None,
            applicant, self._pick(self.rating_channels), level,
            json.dumps(tags, ensure_ascii=False), "窗口人员态度需改进" if bad else "", created))
        if not bad:
            return
        due = self.deadlines.due(created, 15)
        settled = (now - created).days > 25
        if settled:
            status = rng.choices((RectificationStatus.CLOSED, RectificationStatus.VOIDED),
                                 (93, 7))[0]
        else:
            status = rng.choice((RectificationStatus.OPEN, RectificationStatus.CONTACTED,
                                 RectificationStatus.RECTIFIED, RectificationStatus.APPEALED))
        ended = (min(now, created + dt.timedelta(days=rng.uniform(2, 18)))
                 if status in (RectificationStatus.CLOSED, RectificationStatus.VOIDED)
                 else None)
        clock_id = self._next("clock")
        rows.clocks.append((clock_id, ClockUnit.WORKDAYS, 15, created, due, None, 0, ended))
        done = status == RectificationStatus.CLOSED
        voided = status == RectificationStatus.VOIDED
        rows.rectifications.append((
            rating_id, department, status, clock_id,
            "经核实，情况属实" if not voided else "经核实，评价与事实不符",
            "已电话联系申请人" if status != RectificationStatus.OPEN else "",
            "已优化窗口服务流程" if done or status == RectificationStatus.RECTIFIED else "",
            rng.choice((3, 4, 4, 5)) if done else None, "申请人认可整改结果" if done else "",
            "差评与事实不符，申请复核" if voided or status == RectificationStatus.APPEALED
            else "", "申诉成立，评价作废" if voided else "", None, created, ended,
            {RectificationStatus.OPEN: 0, RectificationStatus.CONTACTED: 1,
             RectificationStatus.RECTIFIED: 2, RectificationStatus.APPEALED: 1,
             RectificationStatus.CLOSED: 3, RectificationStatus.VOIDED: 2}[status]))


# --- writing ---------------------------------------------------------------------------------


def _next_ids() -> dict[str, int]:
    tables = {"clock": Clock, "case": Case, "rating": Rating}
    out = {}
    with connection.cursor() as cursor:
        for key, model in tables.items():
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608
            out[key] = int(cursor.fetchone()[0]) + 1
    return out


def _write_postgres(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
                    ) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _write_sqlite(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
                  ) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    quoted = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("%s" for _ in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',  # noqa: S608
            [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row)
             for row in rows])


def _daily_sequences(district: str) -> dict[str, int]:
    """The highest bulk sequence number per day so far, so a second load never collides."""
    numbers = Case.objects.filter(number__startswith=district).values_list("number", flat=True)
    daily: dict[str, int] = {}
    for number in numbers.iterator(chunk_size=20_000):
        day, sequence = number[6:14], int(number[14:] or 0)
        if NUMBER_OFFSET < sequence < 900_000 and sequence > daily.get(day, 0):
            daily[day] = sequence
    return daily


def _defer_checks() -> None:
    """On PostgreSQL, skip the foreign-key triggers for this transaction when allowed.

    The rows refer only to ids read from the database or allocated here, so the checks
    cannot fail; run for each of millions of rows they cost as much as the load itself
    (``pg_restore --disable-triggers`` does the same). Without the superuser right the
    checks simply run.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Clock, Case, Rating):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))")


def _load_chunks(generator: _Generator, *, count: int, chunk: int,
                 write: Callable[..., None], totals: dict[str, int], began: float,
                 progress: Callable[[str], None] | None) -> None:
    done = 0
    while done < count:
        size = min(chunk, count - done)
        rows = generator.chunk(size)
        with transaction.atomic():
            _defer_checks()
            for table, columns, table_rows in rows.tables():
                write(table, columns, table_rows)
                totals[table] = totals.get(table, 0) + len(table_rows)
        done += size
        if progress is not None:
            elapsed = time.perf_counter() - began
            progress(f"{done:,}/{count:,} cases, {sum(totals.values()):,} rows, "
                     f"{sum(totals.values()) / max(elapsed, 1e-9):,.0f} rows/s")


def _drop_indexes() -> list[str]:
    """PostgreSQL: drop the plain indexes of the big tables; their definitions.

    Building an index once after the load is several times cheaper than updating it
    for every row. Primary keys and unique constraints stay (they guard the load).
    """
    if connection.vendor != "postgresql":
        return []
    tables = [Case._meta.db_table, CaseEvent._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND c.oid IS NULL", [tables])
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return [definition for _name, definition in found]


def _recreate_indexes(definitions: list[str], progress: Callable[[str], None] | None
                      ) -> None:
    if not definitions:
        return
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for definition in definitions:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    if progress is not None:
        progress(f"rebuilt {len(definitions)} indexes in {time.perf_counter() - began:.1f} s")


def bulk_load_cases(*, count: int, seed: int = 2026, now: dt.datetime | None = None,
                    days: int = 730, chunk: int = 50_000,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Add ``count`` cases (with events, clocks, ratings, rectifications); the figures.

    Each chunk is its own transaction, so memory stays bounded and an interrupted load
    leaves whole chunks. Returns rows per table, seconds and rows per second.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    now = now or timezone.now()
    write = _write_postgres if connection.vendor == "postgresql" else _write_sqlite
    generator = _Generator(world=_World(), seed=seed, now=now, days=days,
                           first_ids=_next_ids())
    totals: dict[str, int] = {}
    began = time.perf_counter()
    dropped = _drop_indexes() if count >= INDEX_REBUILD_FROM else []
    try:
        _load_chunks(generator, count=count, chunk=chunk, write=write, totals=totals,
                     began=began, progress=progress)
    finally:
        _recreate_indexes(dropped, progress)
    _reset_sequences()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in totals:
                cursor.execute(f'ANALYZE "{table}"')
    # Past-dated cases went in behind the statistics rollup's watermark: rebuild it,
    # settled through the load's ``now`` at least (nothing loaded is later). With the
    # periodic refresh's margin alone, everything the load dated in its last minutes
    # would stay live: a pile-up the steady state never has (a district closes a few
    # cases in five minutes, not the tens of thousands a generator clamps to ``now``).
    from .statistics import SETTLE_MARGIN, statistics_refresh

    rollup_began = time.perf_counter()
    rollup = statistics_refresh(full=True, now=max(timezone.now(), now + SETTLE_MARGIN))
    rollup_seconds = time.perf_counter() - rollup_began
    if progress is not None:
        progress(f"statistics rollup: {rollup['rows']:,} rows in {rollup_seconds:.1f} s")
    seconds = time.perf_counter() - began
    rows_total = sum(totals.values())
    audit_log(actor=None, action="services.bulk_load_cases", object_type="services.case",
              object_id="*", after={"cases": count, "seed": seed, "rows": rows_total})
    return {"cases": count, "rows": totals, "rows_total": rows_total,
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows_total / seconds) if seconds else None,
            "cases_per_second": round(count / seconds) if seconds else None,
            "rollup_rows": rollup["rows"], "rollup_seconds": round(rollup_seconds, 1)}
