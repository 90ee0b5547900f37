"""Service statistics: 网办率, 即办率, 零跑动率, promised-limit reduction, handling time,
overdue cases and satisfaction, per period and per department, matter or channel.

Each figure is one SQL aggregate over the cases in the actor's scope (conditional counts
grouped by the chosen dimension), so the page stays fast at millions of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from yiwang.core import policies

from .models import (
    BAD_LEVELS,
    Case,
    CaseKind,
    CaseStatus,
    Channel,
    LimitUnit,
    MatterVersion,
    Rating,
    RectificationStatus,
    VersionStatus,
)

Dimension = Literal["department", "matter", "channel", "none"]
DIMENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "department": ("department_id", "department__name"),
    "matter": ("matter_id", "matter__name"),
    "channel": ("channel",),
    "none": (),
}
ONLINE = [Channel.PC, Channel.MOBILE]
DECIDED = [CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.DELIVERED, CaseStatus.CLOSED]


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
    return policies.restrict(Case.objects.all(), actor)


def case_statistics(*, actor: Any, start: dt.datetime, end: dt.datetime,
                    by: Dimension = "department", department_id: int | None = None,
                    matter_id: int | None = None, channel: str | None = None) -> list[Figures]:
    """Figures for cases submitted in [start, end), grouped by one dimension."""
    cases = scoped_cases(actor).filter(submitted_at__gte=start, submitted_at__lt=end)
    if department_id:
        cases = cases.filter(department_id=department_id)
    if matter_id:
        cases = cases.filter(matter_id=matter_id)
    if channel:
        cases = cases.filter(channel=channel)
    fields = DIMENSION_FIELDS[by]
    handling = ExpressionWrapper(F("decided_at") - F("accepted_at"), output_field=DurationField())
    measures = {
        "n": Count("id"),
        "n_online": Count("id", filter=Q(channel__in=ONLINE)),
        "n_immediate": Count("id", filter=Q(version__case_kind=CaseKind.IMMEDIATE)),
        "n_zero_visit": Count("id", filter=Q(version__visits=0)),
        "n_decided": Count("id", filter=Q(status__in=DECIDED)),
        # Overdue: still open past the deadline, or decided after it.
        "n_overdue": Count("id", filter=Q(time_state="overdue") | Q(
            decided_at__isnull=False, clock__due_at__lt=F("decided_at"))),
        "avg_handling": Avg(handling, filter=Q(decided_at__isnull=False,
                                               accepted_at__isnull=False)),
    }
    rows = (list(cases.values(*fields).annotate(**measures).order_by()) if fields
            else [cases.aggregate(**measures)])
    figures: dict[Any, Figures] = {}
    for row in rows:
        key = row[fields[0]] if fields else "all"
        label = str(row[fields[1]]) if len(fields) > 1 else str(
            Channel(key).label if by == "channel" else key)
        avg = row["avg_handling"]
        figures[key] = Figures(
            key=key, label=label, cases=row["n"], online=row["n_online"],
            immediate=row["n_immediate"], zero_visit=row["n_zero_visit"],
            decided=row["n_decided"], overdue=row["n_overdue"],
            avg_handling_hours=round(avg.total_seconds() / 3600, 2) if avg else None)
    _add_ratings(figures, cases, by)
    if by in ("department", "matter", "none"):
        _add_limit_reduction(figures, actor, by)
    return sorted(figures.values(), key=lambda f: (-f.cases, f.label))


def _add_ratings(figures: dict[Any, Figures], cases: QuerySet[Case], by: str) -> None:
    ratings = Rating.objects.filter(case__in=cases.values("id")).exclude(
        rectification__status=RectificationStatus.VOIDED)
    key_field = {"department": "department_id", "matter": "matter_id",
                 "channel": "case__channel", "none": None}[by]
    measures = {
        "n": Count("id"), "good": Count("id", filter=Q(level__gte=3)),
        "bad": Count("id", filter=Q(level__in=list(BAD_LEVELS))),
        "fixed": Count("id", filter=Q(rectification__status=RectificationStatus.CLOSED)),
    }
    rows = (list(ratings.values(key_field).annotate(**measures).order_by()) if key_field
            else [ratings.aggregate(**measures)])
    for row in rows:
        key = row[key_field] if key_field else "all"
        target = figures.get(key)
        if target is None:
            continue
        target.ratings, target.satisfied = row["n"], row["good"]
        target.bad, target.bad_rectified = row["bad"], row["fixed"]


def _add_limit_reduction(figures: dict[Any, Figures], actor: Any, by: str) -> None:
    """Mean of (statutory − promised) / statutory over the published matters."""
    versions = policies.restrict(
        MatterVersion.objects.filter(status=VersionStatus.PUBLISHED, statutory_limit__gt=0,
                                     statutory_unit=LimitUnit.WORKDAYS,
                                     promised_unit=LimitUnit.WORKDAYS), actor,
        perm="services.view_matter")
    sums: dict[Any, list[float]] = {}
    for department_id, matter_id, statutory, promised in versions.values_list(
            "department_id", "matter_id", "statutory_limit", "promised_limit"):
        if not statutory:
            continue
        key = {"department": department_id, "matter": matter_id, "none": "all"}[by]
        sums.setdefault(key, []).append((statutory - promised) / statutory)
    for key, values in sums.items():
        if key in figures:
            figures[key].limit_reduction = round(sum(values) / len(values), 4)
