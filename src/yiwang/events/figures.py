"""The event center's figures (考核指标): 三率 (response, resolution, satisfaction), on-time
resolution, handling time, returns, reassignments, extensions and 重办, per unit, street,
category, channel or period.

The cohort is the events **received** in the period (local days). Definitions, shown on
the page and in the exports too (``MEASURES`` in ``views/insight.py``):

- 受理量 (received): events received in the period, merged duplicates (并单) left out;
  merged ones are counted apart. 直接办结 (``on_spot``): answered or fixed at intake (a
  咨询 from the knowledge base, a grid worker's 自处置); no unit handled them, so every
  figure below except the counts of received and 直接办结 leaves them out.
- 响应率 (response rate): events whose first contact with the citizen (``responded_at``:
  a recorded contact, or the resolution when none came first) came no later than the
  24-hour response deadline (``response_clock.due_at``, natural hours) ÷ events *due for
  response*: contacted already, or past that deadline without contact.
- 解决率 / 办结率 (resolution rate): events resolved or closed (办结, waiting for the
  callback or closed after it) ÷ events handled (received − 直接办结). An event reopened
  (重办) counts as resolved again only once it is resolved again.
- 按时办结率 (on-time rate): resolved no later than the resolution deadline (``clock``:
  working days by appeal type, hours when urgent; extended by granted 延期, renewed by
  重办) ÷ resolved.
- 平均办理时长 (average handling time): natural **hours** from receipt to resolution,
  averaged over the resolved events.
- 满意率 (satisfaction rate): callbacks answered 满意 or 基本满意 ÷ callbacks answered
  (every round counts: a 不满意 followed by 重办 and a 满意 is two callbacks, one
  satisfied).
- 退单 (returns): return requests, counted for the unit that returned the event; 改派
  (reassignments): times the lead was taken from a unit, counted for that unit; 延期
  (extensions) granted and 重办 (reopened), counted for the lead unit.

``unit`` is the unit a figure is counted for: the event's lead handler (承办单位) for its
own figures. A caller sees the units of their subtree only; a district-wide caller also
sees events that have no lead unit (not dispatched yet, or fixed by the responsible party
of the external loop). Satisfaction is one column among the others: rows are never ranked
by it (the national guidance on 12345 assessment warns against it).

Speed at a million events: figures are sums of two exact halves, like
``services.statistics``: the rollup ``EventDayFigures`` holds the events *settled* at its
watermark (closed or merged, and unchanged since), per local day of receipt; the live
half aggregates everything else — events still open, events changed since the
watermark, and whole days that hold such a changed event (``dirty`` days), plus partial
days at the edges. ``figures_refresh`` (periodic, from the sweep) moves settled days into
the rollup; ``rebuild_rollup`` rebuilds it after a bulk import. Without a rollup all is
live, so the figures never depend on when it last ran; only the speed does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import (
    TruncDate,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.models import Clock, OrgUnit

from .models import (
    OPEN_STATUSES,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Category,
    Channel,
    Event,
    EventDayFigures,
    EventFiguresWatermark,
    EventStatus,
    ReturnRequest,
    Satisfaction,
    TimeState,
)
from .models import Assignment as AssignmentModel

Dimension = Literal["unit", "street", "category1", "category3", "channel", "day", "week",
                    "month", "quarter", "year"]
DIMENSIONS: tuple[str, ...] = ("unit", "street", "category1", "category3", "channel", "day",
                               "week", "month", "quarter", "year")
PERIODS = ("day", "week", "month", "quarter", "year")
SETTLED_STATUSES = [EventStatus.CLOSED, EventStatus.MERGED]
RESOLVED_STATUSES = [EventStatus.RESOLVED, EventStatus.CLOSED]
SATISFIED = [Satisfaction.SATISFIED, Satisfaction.BASICALLY]
# Only what changed this long ago is rolled up: a transaction that stamped updated_at
# earlier but commits after a refresh must still be found live.
SETTLE_MARGIN = dt.timedelta(minutes=5)
COUNTS = ("received", "merged", "on_spot", "response_due", "responded_on_time", "handled",
          "resolved", "resolved_on_time", "callbacks", "satisfied", "reopened", "extensions",
          "returns", "reassigns")
LIVE_ONLY = ("overdue_open",)  # open events are never settled


# --- the figures of one row ---------------------------------------------------------------

@dataclass
class EventFigures:
    key: Any
    label: str
    code: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (*COUNTS, *LIVE_ONLY), 0))
    handling_seconds: int = 0

    def __getattr__(self, name: str) -> int:
        counts = self.__dict__.get("counts", {})
        if name in counts:
            return int(counts[name])
        raise AttributeError(name)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.counts["responded_on_time"], self.counts["response_due"])

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.counts["resolved"], self.counts["handled"])

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.counts["resolved_on_time"], self.counts["resolved"])

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.counts["satisfied"], self.counts["callbacks"])

    @property
    def avg_handling_hours(self) -> float | None:
        resolved = self.counts["resolved"]
        return round(self.handling_seconds / resolved / 3600, 2) if resolved else None

    def add(self, other: EventFigures) -> None:
        for name, value in other.counts.items():
            self.counts[name] += value
        self.handling_seconds += other.handling_seconds

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "code": self.code, **self.counts,
                "response_rate": self.response_rate,
                "resolution_rate": self.resolution_rate,
                "on_time_rate": self.on_time_rate,
                "satisfaction_rate": self.satisfaction_rate,
                "avg_handling_hours": self.avg_handling_hours}


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    street_id: int | None = None
    category: Category | None = None  # any level: its subtree

    def on(self, prefix: str = "") -> dict[str, Any]:
        """As lookups on an event (``prefix``: the path to it, e.g. ``event__``)."""
        found: dict[str, Any] = {}
        if self.channel:
            found[f"{prefix}channel"] = self.channel
        if self.street_id:
            found[f"{prefix}street_id"] = self.street_id
        if self.category is not None:
            path = {3: "category_id", 2: "category__parent_id",
                    1: "category__parent__parent_id"}[self.category.level]
            found[f"{prefix}{path}"] = self.category.pk
        return found


# --- scope --------------------------------------------------------------------------------

def scope_units(actor: Any) -> list[int] | None:
    """The units whose figures ``actor`` may see: None for every unit (and the events
    without one), else the ids of the actor's subtree (empty: nothing)."""
    if not policies.is_active_actor(actor) or (
            getattr(actor, "kind", "staff") != "staff" and not actor.is_superuser):
        return []
    if not policies.has_perm(actor, "events.view_event"):
        return []
    root = policies.scope_path(actor)
    if root is None:
        return []
    if root == "/" or not OrgUnit.objects.exclude(path__startswith=root).exists():
        return None
    return list(OrgUnit.objects.filter(path__startswith=root).values_list("pk", flat=True))


# --- what each source counts --------------------------------------------------------------

MERGED = Q(status=EventStatus.MERGED)
HANDLED = ~MERGED & Q(on_spot=False)
RESOLVED = HANDLED & Q(status__in=RESOLVED_STATUSES, resolved_at__isnull=False)


def _event_measures(now: dt.datetime) -> dict[str, Any]:
    # The deadlines as scalar subqueries, not joins: on the live part (a few percent of
    # the events) PostgreSQL then looks each clock up by its key instead of hashing the
    # whole clock table (two rows per event).
    response_due = Subquery(Clock.objects.filter(pk=OuterRef("response_clock_id"))
                            .values("due_at")[:1])
    due = Subquery(Clock.objects.filter(pk=OuterRef("clock_id")).values("due_at")[:1])
    responded = Q(responded_at__isnull=False)
    owed = HANDLED & Q(response_clock_id__isnull=False) & (
        responded | Q(GreaterThanOrEqual(Value(now), response_due)))
    handling = ExpressionWrapper(F("resolved_at") - F("received_at"),
                                 output_field=DurationField())
    # Named n_*: an annotation may not shadow a field (on_spot) that a filter reads.
    return {
        "n_received": Count("id", filter=~MERGED),
        "n_merged": Count("id", filter=MERGED),
        "n_on_spot": Count("id", filter=~MERGED & Q(on_spot=True)),
        "n_handled": Count("id", filter=HANDLED),
        "n_response_due": Count("id", filter=owed),
        # Responded implies due: the deadline is looked up once per event.
        "n_responded_on_time": Count("id", filter=HANDLED & responded & Q(
            response_clock_id__isnull=False) & Q(
            LessThanOrEqual(F("responded_at"), response_due))),
        "n_resolved": Count("id", filter=RESOLVED),
        "n_resolved_on_time": Count("id", filter=RESOLVED & Q(
            clock_id__isnull=False) & Q(LessThanOrEqual(F("resolved_at"), due))),
        "n_handling": Sum(handling, filter=RESOLVED),
        "n_reopened": Sum("reopen_count", filter=HANDLED),
        "n_extensions": Sum("extension_count", filter=HANDLED),
        "n_overdue_open": Count("id", filter=Q(status__in=OPEN_STATUSES,
                                             time_state=TimeState.OVERDUE)),
    }


CALLBACK_MEASURES = {"n_callbacks": Count("id"),
                     "n_satisfied": Count("id", filter=Q(satisfaction__in=SATISFIED))}


def _returns() -> QuerySet[Any]:
    return ReturnRequest.objects.all()


def _reassigns() -> QuerySet[Any]:
    return AssignmentModel.objects.filter(role=AssignmentRole.LEAD,
                                          status=AssignmentStatus.WITHDRAWN)


def _callbacks() -> QuerySet[Any]:
    return Callback.objects.all()


# The lookups of the dimension fields from each source (the unit a fact is counted for).
_EVENT_PATHS = {"unit": "handler_unit_id", "street": "street_id", "category3": "category_id",
                "category1": "category__parent__parent_id", "channel": "channel",
                "received": "received_at"}


def _paths(source: str) -> dict[str, str]:
    if source == "event":
        return _EVENT_PATHS
    paths = {k: f"event__{v}" for k, v in _EVENT_PATHS.items()}
    if source in ("return", "reassign"):
        paths["unit"] = "unit_id"
    return paths


def _group(queryset: QuerySet[Any], by: str, paths: dict[str, str]) -> QuerySet[Any]:
    """``queryset`` annotated with ``g``, the row key of dimension ``by``."""
    if by in PERIODS:
        return queryset.annotate(g=_trunc(by, paths["received"], local=True))
    return queryset.annotate(g=F(paths[by]))


def _trunc(by: str, path: str, *, local: bool) -> Any:
    tz = timezone.get_default_timezone() if local else None
    if by == "day":
        return TruncDate(path, tzinfo=tz) if local else F(path)
    kind = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter,
            "year": TruncYear}[by]
    return kind(path, output_field=DateField(), tzinfo=tz)


# --- the computation -----------------------------------------------------------------------

def event_figures(*, actor: Any, start: dt.datetime, end: dt.datetime, by: str = "unit",
                  filters: Filters | None = None, now: dt.datetime | None = None
                  ) -> tuple[list[EventFigures], EventFigures]:
    """The rows of dimension ``by`` and their total, for events received in [start, end)
    that the actor may see."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    filters = filters or Filters()
    now = now or timezone.now()
    units = scope_units(actor)
    sums: dict[Any, EventFigures] = {}
    if units == []:
        return [], EventFigures(key="total", label="")
    events = Event.objects.filter(received_at__gte=start, received_at__lt=end,
                                  **filters.on())
    if units is not None:
        events = events.filter(handler_unit_id__in=units)
    mark = _watermark()
    days = _whole_days(start, end) if mark is not None else None
    live_ids: QuerySet[Any] | None = None
    if mark is not None and days is not None:
        dirty = _dirty_days(mark, days)
        _add_rollup(sums, by, days, dirty, units, filters)
        live_q = ~_settled(mark) | Q(received_at__lt=days[0]) | Q(received_at__gte=days[1])
        if dirty:
            live_q |= _in_days(dirty, "received_at")
        events = events.filter(live_q)
        live_ids = Event.objects.filter(received_at__gte=start, received_at__lt=end,
                                        **filters.on()).filter(live_q).values("id")
    _add_events(sums, events, by, now)
    # The live events' own rows; with the rollup, their ids already carry the period and
    # the filters (repeating them on the join makes PostgreSQL scan the whole period).
    base = (Q(event_id__in=live_ids) if live_ids is not None else
            Q(event__received_at__gte=start, event__received_at__lt=end,
              **filters.on("event__")))
    for source, queryset, measures in (("callback", _callbacks(), CALLBACK_MEASURES),
                                       ("return", _returns(), {"n_returns": Count("id")}),
                                       ("reassign", _reassigns(), {"n_reassigns": Count("id")})):
        paths = _paths(source)
        part = queryset.filter(base)
        if units is not None:
            part = part.filter(**{f"{paths['unit']}__in": units})
        _add_rows(sums, _group(part, by, paths).values("g").annotate(**measures).order_by())
    rows = _labelled(sums, by, start, end)
    total = EventFigures(key="total", label=_("Total"))
    for row in rows:
        total.add(row)
    return rows, total


def _add_rows(sums: dict[Any, EventFigures], rows: Any) -> None:
    for row in rows:
        one = sums.setdefault(row["g"], EventFigures(key=row["g"], label=""))
        for name, value in row.items():
            name = name.removeprefix("n_")
            if name in one.counts:
                one.counts[name] += int(value or 0)
            elif name == "handling" and value is not None:  # n_handling
                one.handling_seconds += _seconds(value)
            elif name == "handling_seconds":
                one.handling_seconds += int(value or 0)


def _seconds(value: dt.timedelta) -> int:
    return value.days * 86_400 + value.seconds


def _add_events(sums: dict[Any, EventFigures], events: QuerySet[Event], by: str,
                now: dt.datetime) -> None:
    rows = _group(events, by, _EVENT_PATHS).values("g").annotate(
        **_event_measures(now)).order_by()
    _add_rows(sums, rows)


def _add_rollup(sums: dict[Any, EventFigures], by: str, days: tuple[dt.datetime, dt.datetime],
                dirty: list[dt.date], units: list[int] | None, filters: Filters) -> None:
    rollup = EventDayFigures.objects.filter(day__gte=days[0].date(), day__lt=days[1].date(),
                                            **filters.on())
    if dirty:
        rollup = rollup.exclude(day__in=dirty)
    if units is not None:
        rollup = rollup.filter(unit_id__in=units)
    if by in PERIODS:
        rollup = rollup.annotate(g=_trunc(by, "day", local=False))
    else:
        rollup = rollup.annotate(g=F({"unit": "unit_id", "street": "street_id",
                                      "category3": "category_id",
                                      "category1": "category__parent__parent_id",
                                      "channel": "channel"}[by]))
    # Summed under other names: an annotation may not shadow the field it sums.
    measures: dict[str, Any] = {f"s_{name}": Sum(name) for name in COUNTS}
    measures["s_handling"] = Sum("handling_seconds")
    for row in rollup.values("g").annotate(**measures).order_by():
        _add_rows(sums, [{"g": row["g"], **{k[2:]: v for k, v in row.items()
                                             if k not in ("g", "s_handling")},
                          "handling_seconds": row["s_handling"]}])


def _labelled(sums: dict[Any, EventFigures], by: str, start: dt.datetime,
              end: dt.datetime) -> list[EventFigures]:
    """Labels and the order of the rows: by code (never by a figure), periods in time
    order with the empty ones too (a gap in the trend)."""
    rows = [row for row in sums.values() if any(row.counts.values())]
    if by in ("unit", "street"):
        units = {u.pk: u for u in OrgUnit.objects.filter(
            pk__in=[r.key for r in rows if r.key is not None]).only("code", "name")}
        for row in rows:
            unit = units.get(row.key)
            row.code = unit.code if unit else ""
            row.label = unit.name if unit else (
                _("No lead unit (not dispatched, or the responsible party)") if by == "unit"
                else _("Street not known"))
        return sorted(rows, key=lambda r: (r.key is None, r.code))
    if by in ("category1", "category3"):
        categories = {c.pk: c for c in Category.objects.filter(
            pk__in=[r.key for r in rows if r.key is not None]).only("code", "name")}
        for row in rows:
            category = categories.get(row.key)
            row.code = category.code if category else ""
            row.label = category.name if category else _("Not classified")
        return sorted(rows, key=lambda r: (r.key is None, r.code))
    if by == "channel":
        order = list(Channel.values)
        for row in rows:
            row.code, row.label = str(row.key), str(Channel(row.key).label)
        return sorted(rows, key=lambda r: order.index(r.key))
    found = {_as_date(r.key): r for r in rows}
    result = []
    # Periods still to come have no figures yet: none after today (unless they hold some).
    until = max([timezone.localdate() + dt.timedelta(days=1), *[
        k + dt.timedelta(days=1) for k in found]])
    for first in period_starts(by, timezone.localtime(start).date(),
                               min(timezone.localtime(end).date(), until)):
        row = found.get(first) or EventFigures(key=first, label="")
        row.key, row.code, row.label = first, first.isoformat(), period_label(by, first)
        result.append(row)
    return result


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def period_starts(by: str, first: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every period of kind ``by`` that meets [first, end)."""
    starts = []
    if by == "day":
        day = first
    elif by == "week":
        day = first - dt.timedelta(days=first.weekday())
    elif by == "month":
        day = first.replace(day=1)
    elif by == "quarter":
        day = first.replace(month=(first.month - 1) // 3 * 3 + 1, day=1)
    else:
        day = first.replace(month=1, day=1)
    while day < end:
        starts.append(day)
        if by == "day":
            day += dt.timedelta(days=1)
        elif by == "week":
            day += dt.timedelta(days=7)
        else:
            months = {"month": 1, "quarter": 3, "year": 12}[by]
            index = day.year * 12 + day.month - 1 + months
            day = dt.date(index // 12, index % 12 + 1, 1)
    return starts


def period_label(by: str, first: dt.date) -> str:
    if by == "week":
        year, week, _weekday = first.isocalendar()
        return f"{year}-W{week:02d}"  # ISO 8601, short enough for a chart's axis
    if by == "month":
        return f"{first:%Y-%m}"
    if by == "quarter":
        return _("Q%(quarter)d %(year)d") % {"quarter": (first.month - 1) // 3 + 1,
                                              "year": first.year}
    if by == "year":
        return str(first.year)
    return first.isoformat()


# --- rollup and live: where the line is -------------------------------------------------------

def _settled(mark: dt.datetime) -> Q:
    """Closed or merged, and unchanged since ``mark``: nothing it counts can change."""
    return Q(status__in=SETTLED_STATUSES, updated_at__lte=mark)


def _watermark() -> dt.datetime | None:
    return (EventFiguresWatermark.objects.order_by("-pk")
            .values_list("settled_through", flat=True).first())


def _local_day(path: str) -> TruncDate:
    return TruncDate(path, tzinfo=timezone.get_default_timezone())


def _whole_days(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The local midnights bounding the whole days inside [start, end), if any."""
    tz = timezone.get_default_timezone()
    first = timezone.localtime(start, tz)
    first_day = first.date() + dt.timedelta(days=0 if first.time() == dt.time.min else 1)
    last_day = timezone.localtime(end, tz).date()
    if first_day >= last_day:
        return None
    return (dt.datetime.combine(first_day, dt.time.min, tzinfo=tz),
            dt.datetime.combine(last_day, dt.time.min, tzinfo=tz))


def _dirty_days(mark: dt.datetime, days: tuple[dt.datetime, dt.datetime]) -> list[dt.date]:
    """Days of receipt (within ``days``) of the events changed since the watermark: the
    rollup may hold an older state of them, so those days are counted live."""
    return sorted(Event.objects.filter(updated_at__gt=mark, received_at__gte=days[0],
                                       received_at__lt=days[1])
                  .annotate(d=_local_day("received_at")).values_list("d", flat=True)
                  .distinct().order_by())


def _in_days(days: list[dt.date], path: str) -> Q:
    """``path`` (a datetime) falls on one of the local ``days``: merged ranges, indexable."""
    tz = timezone.get_default_timezone()
    condition, run_start, previous = Q(pk__in=[]), None, None
    for day in [*sorted(days), None]:
        if day is not None and previous is not None and day == previous + dt.timedelta(1):
            previous = day
            continue
        if run_start is not None and previous is not None:
            condition |= Q(**{
                f"{path}__gte": dt.datetime.combine(run_start, dt.time.min, tzinfo=tz),
                f"{path}__lt": dt.datetime.combine(previous + dt.timedelta(1), dt.time.min,
                                                   tzinfo=tz)})
        run_start = previous = day
    return condition


# --- the rollup -----------------------------------------------------------------------------

def figures_refresh(*, now: dt.datetime | None = None, full: bool = False) -> dict[str, int]:
    """Periodic: move what has settled since the last refresh into ``EventDayFigures``.

    Recomputes, whole, every day (of receipt) holding an event changed since the
    previous watermark; ``full`` (or the first run) rebuilds every day. Returns how many
    days and rows were written.
    """
    mark = (now or timezone.now()) - SETTLE_MARGIN
    with transaction.atomic():
        state = EventFiguresWatermark.objects.select_for_update().order_by("-pk").first()
        previous = None if full or state is None else state.settled_through
        if previous is not None and mark <= previous:
            return {"days": 0, "rows": 0}
        if previous is None:
            EventDayFigures.objects.all().delete()
            days: list[dt.date] | None = None
        else:
            days = sorted(Event.objects.filter(updated_at__gt=previous, updated_at__lte=mark)
                          .annotate(d=_local_day("received_at")).values_list("d", flat=True)
                          .distinct().order_by())
            EventDayFigures.objects.filter(day__in=days).delete()
        rows = _rollup_rows(mark, days)
        EventDayFigures.objects.bulk_create(rows, batch_size=5000)
        if state is None:
            state = EventFiguresWatermark(settled_through=mark, refreshed_at=timezone.now())
        state.settled_through, state.refreshed_at = mark, timezone.now()
        state.save()
        EventFiguresWatermark.objects.exclude(pk=state.pk).delete()
    if days is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics for the planner
            cursor.execute(f"ANALYZE {EventDayFigures._meta.db_table}")
    return {"days": len({row.day for row in rows}) if days is None else len(days),
            "rows": len(rows)}


def rebuild_rollup(*, since: dt.date | None = None) -> int:
    """Rebuild the rollup after a bulk import: every day from ``since`` (a local day of
    receipt; None: all). Keeps the watermark (or sets the first one). Returns the rows
    written."""
    if since is None:
        return figures_refresh(full=True)["rows"]
    with transaction.atomic():
        state = EventFiguresWatermark.objects.select_for_update().order_by("-pk").first()
        if state is None:
            return figures_refresh(full=True)["rows"]
        mark = state.settled_through
        days = sorted(Event.objects.filter(received_at__gte=dt.datetime.combine(
            since, dt.time.min, tzinfo=timezone.get_default_timezone()))
            .annotate(d=_local_day("received_at")).values_list("d", flat=True)
            .distinct().order_by())
        EventDayFigures.objects.filter(day__gte=since).delete()
        rows = _rollup_rows(mark, days)
        EventDayFigures.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


ROLLUP_KEY = ("day", "unit", "street", "category3", "channel")


def _rollup_rows(mark: dt.datetime, days: list[dt.date] | None) -> list[EventDayFigures]:
    events = Event.objects.filter(_settled(mark))
    if days is not None:
        if not days:
            return []
        events = events.filter(_in_days(days, "received_at"))
    ids = events.values("id")
    rows: dict[tuple[Any, ...], EventDayFigures] = {}

    def target(values: dict[str, Any]) -> EventDayFigures:
        key = tuple(values[k] for k in ROLLUP_KEY)
        if key not in rows:
            rows[key] = EventDayFigures(day=key[0], unit_id=key[1], street_id=key[2],
                                        category_id=key[3], channel=key[4])
        return rows[key]

    def keyed(queryset: QuerySet[Any], source: str) -> QuerySet[Any]:
        paths = _paths(source)
        return queryset.annotate(
            day=_local_day(paths["received"]), k_unit=F(paths["unit"]),
            k_street=F(paths["street"]), k_category=F(paths["category3"]),
            k_channel=F(paths["channel"])).values(
            "day", "k_unit", "k_street", "k_category", "k_channel")

    def key_of(row: dict[str, Any]) -> dict[str, Any]:
        return {"day": row["day"], "unit": row["k_unit"], "street": row["k_street"],
                "category3": row["k_category"], "channel": row["k_channel"]}

    measures = _event_measures(mark)
    measures.pop("n_overdue_open")
    for row in keyed(events, "event").annotate(**measures).order_by().iterator(
            chunk_size=5000):
        one = target(key_of(row))
        for name in COUNTS:
            if f"n_{name}" in row:
                setattr(one, name, int(row[f"n_{name}"] or 0))
        one.handling_seconds = _seconds(row["n_handling"]) if row["n_handling"] else 0
    for source, queryset, names in (
            ("callback", _callbacks(), CALLBACK_MEASURES),
            ("return", _returns(), {"n_returns": Count("id")}),
            ("reassign", _reassigns(), {"n_reassigns": Count("id")})):
        part = keyed(queryset.filter(event_id__in=ids), source)
        for row in part.annotate(**names).order_by().iterator(chunk_size=5000):
            one = target(key_of(row))
            for name in names:
                field = name.removeprefix("n_")
                setattr(one, field, getattr(one, field) + int(row[name] or 0))
    return list(rows.values())
