"""Service statistics: 网办率, 即办率, 零跑动率, promised-limit reduction, handling time,
overdue cases and satisfaction, per period and per department, matter or channel.

Figures are conditional counts grouped by the chosen dimension, from two sources added
together so the page stays fast at millions of cases (bench ``services_cases``):

- the rollup ``CaseDayFigures``, for whole local days of the period: the cases *settled*
  before its watermark (final — 办结, refused, withdrawn, terminated — and closed
  before it; nothing they count can change) and their settled ratings (good ones, and
  bad ones whose rectification is closed or voided);
- one aggregate over the *live* rest in ``Case`` and ``Rating``: open cases, cases
  closed or ratings given or rectifications ended since the watermark, and the partial
  days at the period's edges.

The split is exact, not an estimate: a case or rating is counted on one side only, and
``statistics_refresh`` (periodic) only moves what has settled into the rollup, whole
days at a time. Without a rollup everything is live (the tests' default), so the
figures never depend on how recently it ran; only the speed does.
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
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from yiwang.core import policies
from yiwang.core.models import OrgUnit

from .models import (
    BAD_LEVELS,
    FINAL_STATUSES,
    Case,
    CaseDayFigures,
    CaseFiguresWatermark,
    CaseKind,
    CaseStatus,
    Channel,
    LimitUnit,
    MatterVersion,
    Rating,
    Rectification,
    RectificationStatus,
    VersionStatus,
)

Dimension = Literal["department", "matter", "channel", "month", "none"]
DIMENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "department": ("department_id", "department__name"),
    "matter": ("matter_id", "matter__name"),
    "channel": ("channel",),
    "month": ("month",),  # the local calendar month the case was submitted in (its 1st)
    "none": (),
}
ONLINE = [Channel.PC, Channel.MOBILE]
DECIDED = [CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.DELIVERED, CaseStatus.CLOSED]
FINAL = sorted(FINAL_STATUSES)
RECTIFICATION_ENDED = [RectificationStatus.CLOSED, RectificationStatus.VOIDED]
RECTIFICATION_OPEN = [s for s in RectificationStatus.values if s not in RECTIFICATION_ENDED]
# Only what was closed this long ago is rolled up: a transaction that stamped closed_at
# earlier but commits later than a refresh must still be found live.
SETTLE_MARGIN = dt.timedelta(minutes=5)
COUNTS = ("cases", "online", "immediate", "zero_visit", "decided", "overdue", "handled",
          "ratings", "satisfied", "bad", "bad_rectified")


@dataclass
class Figures:
    key: Any
    label: str
    cases: int = 0
    online: int = 0
    immediate: int = 0
    zero_visit: int = 0
    decided: int = 0
    overdue: int = 0
    avg_handling_hours: float | None = None
    ratings: int = 0
    satisfied: int = 0
    bad: int = 0
    bad_rectified: int = 0
    limit_reduction: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def online_rate(self) -> float | None:
        return self._rate(self.online, self.cases)

    @property
    def immediate_rate(self) -> float | None:
        return self._rate(self.immediate, self.cases)

    @property
    def zero_visit_rate(self) -> float | None:
        return self._rate(self.zero_visit, self.cases)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.ratings)

    @property
    def rectification_rate(self) -> float | None:
        return self._rate(self.bad_rectified, self.bad)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "cases": self.cases,
            "online_rate": self.online_rate, "immediate_rate": self.immediate_rate,
            "zero_visit_rate": self.zero_visit_rate, "limit_reduction": self.limit_reduction,
            "avg_handling_hours": self.avg_handling_hours, "decided": self.decided,
            "overdue": self.overdue, "ratings": self.ratings,
            "satisfaction_rate": self.satisfaction_rate, "bad_ratings": self.bad,
            "rectification_rate": self.rectification_rate,
        }


def scoped_cases(actor: Any) -> QuerySet[Case]:
    """The cases ``actor`` may see: ``policies.restrict``'s rows, as a cheaper filter."""
    scope = _unit_scope(actor)
    if scope is None:
        return policies.restrict(Case.objects.all(), actor)
    return Case.objects.filter(scope)


def _unit_scope(actor: Any) -> Q | None:
    """Staff scope as a condition on the case's own unit columns, or None to leave it to
    ``policies.restrict`` (applicants, who see what they own; no permission at all).

    ``restrict`` compares the paths of the department and the intake unit, an OR over
    two joins that PostgreSQL can only evaluate row by row; the ids of the units below
    the scope's root select the same rows from the case table alone, and nothing at all
    needs checking when the root covers every unit.
    """
    if not _uses_rollup(actor):
        return None
    if policies.restrict(Case.objects.all(), actor).query.is_empty():
        return Q(pk__in=[])
    root = policies.scope_path(actor)
    if root is None:
        return Q(pk__in=[])
    if root == "/" or not OrgUnit.objects.exclude(path__startswith=root).exists():
        return Q()
    units = list(OrgUnit.objects.filter(path__startswith=root).values_list("pk", flat=True))
    return Q(department_id__in=units) | Q(intake_unit_id__in=units)


@dataclass
class _Sums:
    """One group's counts from both sources, before rates are taken."""

    label: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    handling_us: int = 0

    def add(self, row: dict[str, Any], names: dict[str, str]) -> None:
        for ours, theirs in names.items():
            self.counts[ours] += row[theirs] or 0


def _handling() -> ExpressionWrapper:
    return ExpressionWrapper(F("decided_at") - F("accepted_at"), output_field=DurationField())


HANDLED = Q(decided_at__isnull=False, accepted_at__isnull=False)
# Overdue: still open past the deadline (the stored time state), or decided after it.
OVERDUE = Q(time_state="overdue") | Q(decided_at__isnull=False, clock__due_at__lt=F("decided_at"))
CASE_MEASURES = {
    "n": Count("id"),
    "n_online": Count("id", filter=Q(channel__in=ONLINE)),
    "n_immediate": Count("id", filter=Q(version__case_kind=CaseKind.IMMEDIATE)),
    "n_zero_visit": Count("id", filter=Q(version__visits=0)),
    "n_decided": Count("id", filter=Q(status__in=DECIDED)),
    "n_overdue": Count("id", filter=OVERDUE),
    "n_handled": Count("id", filter=HANDLED),
    "handling": Sum(_handling(), filter=HANDLED),
}
CASE_NAMES = {"cases": "n", "online": "n_online", "immediate": "n_immediate",
              "zero_visit": "n_zero_visit", "decided": "n_decided", "overdue": "n_overdue",
              "handled": "n_handled"}
RATING_MEASURES = {
    "n": Count("id"), "good": Count("id", filter=Q(level__gte=3)),
    "bad": Count("id", filter=Q(level__in=list(BAD_LEVELS))),
    "fixed": Count("id", filter=Q(rectification__status=RectificationStatus.CLOSED)),
}
RATING_NAMES = {"ratings": "n", "satisfied": "good", "bad": "bad", "bad_rectified": "fixed"}


def _settled_cases(mark: dt.datetime) -> Q:
    return Q(status__in=FINAL, closed_at__lte=mark)


def _open_cases() -> Q:
    """Not final, or never closed: the predicate of the partial index
    ``services_case_open_submitted_idx``. With ``status__in=FINAL, closed_at__gt=mark``
    it makes the exact complement of ``_settled_cases``, in two indexable parts."""
    return ~Q(status__in=FINAL) | Q(closed_at__isnull=True)


def _settled_ratings(mark: dt.datetime) -> Q:
    return (Q(case__status__in=FINAL, case__closed_at__lte=mark, created_at__lte=mark)
            & (Q(level__gte=3) | Q(rectification__status__in=RECTIFICATION_ENDED,
                                   rectification__closed_at__lte=mark)))


def _unsettled_rating_ids(mark: dt.datetime) -> list[int]:
    """Ratings not settled at ``mark`` by their own state (the case's aside)."""
    ids = set(Rating.objects.filter(created_at__gt=mark).order_by()
              .values_list("pk", flat=True))
    ids.update(Rectification.objects.filter(
        Q(status__in=RECTIFICATION_OPEN) | Q(closed_at__gt=mark) | Q(closed_at__isnull=True)
    ).order_by().values_list("rating_id", flat=True))
    ids.update(Rating.objects.filter(level__lt=3, rectification__isnull=True).order_by()
               .values_list("pk", flat=True))
    return sorted(ids)


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


def _watermark() -> dt.datetime | None:
    return (CaseFiguresWatermark.objects.order_by("-pk")
            .values_list("settled_through", flat=True).first())


def _uses_rollup(actor: Any) -> bool:
    """The rollup is scoped like staff see cases; applicants see only their own cases."""
    return policies.is_active_actor(actor) and (
        actor.is_superuser or getattr(actor, "kind", "staff") == "staff")


def case_statistics(*, actor: Any, start: dt.datetime, end: dt.datetime,
                    by: Dimension = "department", department_id: int | None = None,
                    matter_id: int | None = None, channel: str | None = None) -> list[Figures]:
    """Figures for cases submitted in [start, end), grouped by one dimension."""
    rows, _total = case_statistics_with_total(
        actor=actor, start=start, end=end, by=by, department_id=department_id,
        matter_id=matter_id, channel=channel)
    return rows


def case_statistics_with_total(
    *, actor: Any, start: dt.datetime, end: dt.datetime, by: Dimension = "department",
    department_id: int | None = None, matter_id: int | None = None,
    channel: str | None = None,
) -> tuple[list[Figures], Figures]:
    """The rows of ``case_statistics`` and their total, from the same queries (a page
    needs both; computing the total again would double the work)."""
    filters: dict[str, Any] = {}
    if department_id:
        filters["department_id"] = department_id
    if matter_id:
        filters["matter_id"] = matter_id
    if channel:
        filters["channel"] = channel
    scope = _unit_scope(actor)
    cases = (Case.objects.filter(scope) if scope is not None else scoped_cases(actor)).filter(
        submitted_at__gte=start, submitted_at__lt=end, **filters)
    fields = DIMENSION_FIELDS[by]
    sums: dict[Any, _Sums] = {}
    mark = _watermark() if scope is not None else None
    days = _whole_days(start, end) if mark is not None else None
    if scope is None or mark is None or days is None:
        _add_cases(sums, cases, fields)
        ratings = [Rating.objects.filter(case__in=cases.values("id"))]
    else:
        _add_rollup(sums, scope, days, fields, filters)
        # Live: what was not settled at the watermark, and the partial days at the edges,
        # as disjoint parts that each walk an index (an OR of them would scan the period).
        settled = cases.filter(_settled_cases(mark))
        edges = Q(pk__in=[])
        if start < days[0]:
            edges |= Q(submitted_at__lt=days[0])
        if end > days[1]:
            edges |= Q(submitted_at__gte=days[1])
        live_parts = [cases.filter(_open_cases()),
                      cases.filter(status__in=FINAL, closed_at__gt=mark)]
        if start < days[0] or end > days[1]:
            live_parts.append(settled.filter(edges))
        for part in live_parts:
            _add_cases(sums, part, fields)
        # Every rating of a live case, and the ratings of settled cases that are not
        # settled themselves (new since the watermark, or bad with a rectification under
        # way): few, found by their ids first.
        # A rating is given after its case was submitted (at ``start`` or later): the
        # bound lets the rating index cut the scan to the period.
        rated = Rating.objects.filter(created_at__gte=start)
        ratings = [rated.filter(case__in=part.values("id")) for part in live_parts]
        unsettled = _unsettled_rating_ids(mark)
        if unsettled:
            ratings.append(rated.filter(
                pk__in=unsettled, case__in=settled.filter(
                    submitted_at__gte=days[0], submitted_at__lt=days[1]).values("id")))
    if by == "none":
        sums.setdefault("all", _Sums(label="all"))
    for part in ratings:
        _add_ratings(sums, part, by)
    figures = {key: _figures(key, one, by) for key, one in sums.items()}
    if by in ("department", "matter", "none"):
        _add_limit_reduction(figures, actor, by, department_id=department_id,
                             matter_id=matter_id)
    whole = _Sums(label="total")
    for one in sums.values():
        for name in COUNTS:
            whole.counts[name] += one.counts[name]
        whole.handling_us += one.handling_us
    total = _figures("total", whole, "none")
    totals = {"all": total}
    _add_limit_reduction(totals, actor, "none", department_id=department_id,
                         matter_id=matter_id)
    if by == "month":
        return sorted(figures.values(), key=lambda f: f.key), total
    return sorted(figures.values(), key=lambda f: (-f.cases, f.label)), total


def _with_month(queryset: QuerySet[Any], fields: tuple[str, ...], path: str, *,
                local: bool = True) -> QuerySet[Any]:
    """``month``: the first day of the local month of ``path`` (a date or, with ``local``,
    a datetime read in the district's time zone)."""
    if "month" not in fields:
        return queryset
    tz = timezone.get_default_timezone() if local else None
    return queryset.annotate(month=TruncMonth(path, output_field=DateField(), tzinfo=tz))


def _key_label(row: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, str]:
    key = row[fields[0]] if fields else "all"
    return key, (str(row[fields[1]]) if len(fields) > 1 else str(key))


def _add_rollup(sums: dict[Any, _Sums], scope: Q, days: tuple[dt.datetime, dt.datetime],
                fields: tuple[str, ...], filters: dict[str, Any]) -> None:
    rollup = _with_month(CaseDayFigures.objects.filter(scope, day__gte=days[0].date(),
                                                       day__lt=days[1].date(), **filters),
                         fields, "day", local=False)
    # Summed under other names: an annotation may not shadow the field it sums.
    measures: dict[str, Any] = {f"s_{name}": Sum(name) for name in COUNTS if name != "online"}
    measures["s_online"] = Sum("cases", filter=Q(channel__in=ONLINE))
    measures["s_handling_us"] = Sum("handling_us")
    rows = (list(rollup.values(*fields).annotate(**measures).order_by()) if fields
            else [rollup.aggregate(**measures)])
    for row in rows:
        if not row["s_cases"]:
            continue
        key, label = _key_label(row, fields)
        one = sums.setdefault(key, _Sums(label=label))
        one.add(row, {name: f"s_{name}" for name in COUNTS})
        one.handling_us += int(row["s_handling_us"] or 0)


def _add_cases(sums: dict[Any, _Sums], cases: QuerySet[Case], fields: tuple[str, ...]) -> None:
    cases = _with_month(cases, fields, "submitted_at")
    rows = (list(cases.values(*fields).annotate(**CASE_MEASURES).order_by()) if fields
            else [cases.aggregate(**CASE_MEASURES)])
    for row in rows:
        if not row["n"]:
            continue
        key, label = _key_label(row, fields)
        one = sums.setdefault(key, _Sums(label=label))
        one.add(row, CASE_NAMES)
        if row["handling"] is not None:
            one.handling_us += _microseconds(row["handling"])


def _microseconds(value: dt.timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _add_ratings(sums: dict[Any, _Sums], ratings: QuerySet[Rating], by: str) -> None:
    ratings = ratings.exclude(rectification__status=RectificationStatus.VOIDED)
    key_field = {"department": "department_id", "matter": "matter_id",
                 "channel": "case__channel", "month": "month", "none": None}[by]
    ratings = _with_month(ratings, DIMENSION_FIELDS[by], "case__submitted_at")
    rows = (list(ratings.values(key_field).annotate(**RATING_MEASURES).order_by())
            if key_field else [ratings.aggregate(**RATING_MEASURES)])
    for row in rows:
        target = sums.get(row[key_field] if key_field else "all")
        if target is not None:
            target.add(row, RATING_NAMES)


def _figures(key: Any, one: _Sums, by: str) -> Figures:
    c = one.counts
    label = (str(Channel(key).label) if by == "channel"
             else f"{key:%Y-%m}" if by == "month" else one.label)
    hours = (round(one.handling_us / c["handled"] / 3_600_000_000, 2)
             if c["handled"] and one.handling_us else None)
    return Figures(key=key, label=label, cases=c["cases"], online=c["online"],
                   immediate=c["immediate"], zero_visit=c["zero_visit"], decided=c["decided"],
                   overdue=c["overdue"], avg_handling_hours=hours, ratings=c["ratings"],
                   satisfied=c["satisfied"], bad=c["bad"], bad_rectified=c["bad_rectified"])


def _add_limit_reduction(figures: dict[Any, Figures], actor: Any, by: str, *,
                         department_id: int | None = None,
                         matter_id: int | None = None) -> None:
    """Mean of (statutory − promised) / statutory over the published matters (of the
    filtered department or matter, when there is a filter)."""
    versions = policies.restrict(
        MatterVersion.objects.filter(status=VersionStatus.PUBLISHED, statutory_limit__gt=0,
                                     statutory_unit=LimitUnit.WORKDAYS,
                                     promised_unit=LimitUnit.WORKDAYS), actor,
        perm="services.view_matter")
    if department_id:
        versions = versions.filter(department_id=department_id)
    if matter_id:
        versions = versions.filter(matter_id=matter_id)
    sums: dict[Any, list[float]] = {}
    for dept, matter, statutory, promised in versions.values_list(
            "department_id", "matter_id", "statutory_limit", "promised_limit"):
        if not statutory:
            continue
        key = {"department": dept, "matter": matter, "none": "all"}[by]
        sums.setdefault(key, []).append((statutory - promised) / statutory)
    for key, values in sums.items():
        if key in figures:
            figures[key].limit_reduction = round(sum(values) / len(values), 4)


# --- the rollup ---------------------------------------------------------------------------


def statistics_refresh(*, now: dt.datetime | None = None, full: bool = False) -> dict[str, int]:
    """Periodic: move what has settled since the last refresh into ``CaseDayFigures``.

    Recomputes, whole, every day (of submission) with a case closed, a rating given or a
    rectification ended since the previous watermark; ``full`` (or the first run)
    rebuilds every day. Run it after loading past-dated cases in bulk. Returns how many
    days and rows were written.
    """
    mark = (now or timezone.now()) - SETTLE_MARGIN
    with transaction.atomic():
        state = CaseFiguresWatermark.objects.select_for_update().order_by("-pk").first()
        previous = None if full or state is None else state.settled_through
        if previous is not None and mark <= previous:
            return {"days": 0, "rows": 0}
        if previous is None:
            CaseDayFigures.objects.all().delete()
            days: list[dt.date] | None = None
        else:
            days = _touched_days(previous, mark)
            CaseDayFigures.objects.filter(day__in=days).delete()
        rows = _rollup_rows(mark, days)
        CaseDayFigures.objects.bulk_create(rows, batch_size=5000)
        if state is None:
            state = CaseFiguresWatermark(settled_through=mark, refreshed_at=timezone.now())
        state.settled_through, state.refreshed_at = mark, timezone.now()
        state.save()
        CaseFiguresWatermark.objects.exclude(pk=state.pk).delete()
    if days is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics for the planner
            cursor.execute(f"ANALYZE {CaseDayFigures._meta.db_table}")
    return {"days": len({row.day for row in rows}) if days is None else len(days),
            "rows": len(rows)}


def _local_day(path: str) -> TruncDate:
    return TruncDate(path, tzinfo=timezone.get_default_timezone())


def _touched_days(previous: dt.datetime, mark: dt.datetime) -> list[dt.date]:
    window = {"gt": previous, "lte": mark}
    closed = Case.objects.filter(status__in=FINAL, submitted_at__isnull=False,
                                 **{f"closed_at__{k}": v for k, v in window.items()})
    rated = Rating.objects.filter(case__submitted_at__isnull=False,
                                  **{f"created_at__{k}": v for k, v in window.items()})
    ended = Rectification.objects.filter(rating__case__submitted_at__isnull=False,
                                         **{f"closed_at__{k}": v for k, v in window.items()})
    days: set[dt.date] = set()
    for qs, path in ((closed, "submitted_at"), (rated, "case__submitted_at"),
                     (ended, "rating__case__submitted_at")):
        days.update(qs.annotate(day=_local_day(path)).values_list("day", flat=True)
                    .distinct().order_by())
    return sorted(days)


def _in_days(days: list[dt.date], path: str) -> Q:
    """``path`` (a datetime) falls on one of the local ``days``: merged ranges, indexable."""
    tz = timezone.get_default_timezone()
    condition, run_start, previous = Q(pk__in=[]), None, None
    for day in [*days, None]:
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


def _rollup_rows(mark: dt.datetime, days: list[dt.date] | None) -> list[CaseDayFigures]:
    cases = Case.objects.filter(_settled_cases(mark), submitted_at__isnull=False)
    ratings = Rating.objects.filter(_settled_ratings(mark), case__submitted_at__isnull=False
                                    ).exclude(rectification__status=RectificationStatus.VOIDED)
    if days is not None:
        if not days:
            return []
        cases = cases.filter(_in_days(days, "submitted_at"))
        ratings = ratings.filter(_in_days(days, "case__submitted_at"))
    key = ("day", "department_id", "intake_unit_id", "matter_id", "channel")
    rows: dict[tuple[Any, ...], CaseDayFigures] = {}
    for row in (cases.annotate(day=_local_day("submitted_at")).values(*key)
                .annotate(**CASE_MEASURES).order_by().iterator(chunk_size=5000)):
        rows[tuple(row[k] for k in key)] = CaseDayFigures(
            day=row["day"], department_id=row["department_id"],
            intake_unit_id=row["intake_unit_id"], matter_id=row["matter_id"],
            channel=row["channel"], cases=row["n"], immediate=row["n_immediate"],
            zero_visit=row["n_zero_visit"], decided=row["n_decided"],
            overdue=row["n_overdue"], handled=row["n_handled"],
            handling_us=_microseconds(row["handling"]) if row["handling"] else 0)
    rating_key = ("day", "case__department_id", "case__intake_unit_id", "case__matter_id",
                  "case__channel")
    for row in (ratings.annotate(day=_local_day("case__submitted_at")).values(*rating_key)
                .annotate(**RATING_MEASURES).order_by().iterator(chunk_size=5000)):
        target = rows.get(tuple(row[k] for k in rating_key))
        if target is not None:  # a settled rating's case is settled: always there
            target.ratings, target.satisfied = row["n"], row["good"]
            target.bad, target.bad_rectified = row["bad"], row["fixed"]
    return list(rows.values())
