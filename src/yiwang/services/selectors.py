"""Reads of 一网通办 shared by the staff pages, the workbench to-do and the API.

Every read starts from ``policies.restrict`` (the case's handling department *or* the
window that took it in, see ``Case.scope_path_lookup``), then narrows to one side with a
path prefix on that side's org unit: ``intake_unit__path`` for the window's queues,
``department__path`` for the back office's. The extra, single-join condition is what lets
PostgreSQL walk the indexes (org unit path → ``(intake_unit, status)`` or
``(department, status, time_state)`` / ``(assigned_to, status)``) instead of scanning a
million cases to evaluate the OR of two joins. Counts are capped (``COUNT_CAP``) so no
page load counts a million rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from yiwang.core import policies
from yiwang.core.models import OrgUnit
from yiwang.core.workdays import WorkCalendar, clock_remaining

from .models import Case, CaseStatus, Matter, TimeState

S = CaseStatus
VIEW_CASE = "services.view_case"
COUNT_CAP = 1000
TAB_COUNT_CAP = 99

# Open cases whose clock runs (or is paused): the ones that can be late.
CLOCKED = (S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW, S.SUSPENDED, S.SUPPLEMENT)
IN_REVIEW = (S.ACCEPTED, S.ACCEPTED_DEFICIENT, S.UNDER_REVIEW)
MY_OPEN = (*CLOCKED, S.APPROVED, S.REJECTED, S.DELIVERED)


# --- the inbox ------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxTab:
    code: str
    label: Any
    side: str          # "intake", "department" or "both": which unit narrows the scope
    perms: tuple[str, ...]  # any of them shows the tab; () for every case reader
    default_sort: str


INBOX_TABS: tuple[InboxTab, ...] = (
    InboxTab("intake", _("To accept"), "intake", ("services.accept_case",), "received"),
    InboxTab("unassigned", _("To assign"), "department",
             ("services.review_case", "services.assign_case"), "deadline"),
    InboxTab("mine", _("My cases"), "department", ("services.review_case",), "deadline"),
    # Clocks are paused while waiting for the applicant or a special procedure: oldest
    # first (and no join to the clock needed to sort thousands of them).
    InboxTab("waiting", _("Supplement / deficient"), "both", (), "received"),
    InboxTab("suspended", _("Suspended"), "both", (), "received"),
    InboxTab("all", _("All"), "both", (), "newest"),
)
TABS_BY_CODE = {tab.code: tab for tab in INBOX_TABS}

SORTS: dict[str, tuple[Any, ...]] = {
    # Cases without a clock (not accepted yet) after those with one.
    "deadline": (F("clock__due_at").asc(nulls_last=True), "submitted_at", "pk"),
    "received": ("submitted_at", "pk"),
    "newest": ("-submitted_at", "-pk"),
}
SORT_LABELS = {"deadline": _("Deadline, soonest first"),
               "received": _("Received, oldest first"),
               "newest": _("Received, newest first")}


def inbox_tabs(*, actor: Any) -> list[InboxTab]:
    """The tabs the actor's roles give them."""
    return [tab for tab in INBOX_TABS
            if not tab.perms or any(policies.has_perm(actor, p) for p in tab.perms)]


SIDE_FIELDS = {"intake": "intake_unit_id", "department": "department_id"}


def scope_unit_ids(actor: Any) -> list[int] | None:
    """The org units whose cases ``actor`` may read (``restrict`` on the org tree with the
    case permission), or None for all of them (the superuser)."""
    cached: Any = getattr(actor, "_yw_case_scope_ids", False)
    if cached is not False:  # one look-up per request: pages ask for every tab's count
        return cached
    ids: list[int] | None = None
    if not (policies.scope_path(actor) == "/" and policies.has_perm(actor, VIEW_CASE)):
        units = policies.restrict(OrgUnit.objects.all(), actor, "view", perm=VIEW_CASE)
        ids = list(units.order_by().values_list("pk", flat=True))
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor._yw_case_scope_ids = ids
    return ids


def _scoped(actor: Any, side: str) -> QuerySet[Case]:
    """Cases in scope, seen from one side (the window's or the department's) or both.

    ``restrict(Case)`` would test ``department.path LIKE … OR intake_unit.path LIKE …``
    on two joins: correct, but PostgreSQL can neither use an index for that OR nor
    estimate it, and then joins every candidate before sorting. The same scope as a list
    of unit ids (one indexed path-prefix query on the org tree, a few hundred rows at
    most) drives the case indexes directly — ``(intake_unit, status)``,
    ``(department, status, time_state)`` — or a BitmapOr of both.
    """
    ids = scope_unit_ids(actor)
    qs = Case.objects.all()
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    field = SIDE_FIELDS.get(side)
    if field:
        return qs.filter(**{f"{field}__in": ids})
    return qs.filter(Q(department_id__in=ids) | Q(intake_unit_id__in=ids))


def _tab_filter(qs: QuerySet[Case], tab: str, actor: Any) -> QuerySet[Case]:
    if tab == "intake":
        return qs.filter(status=S.SUBMITTED)
    if tab == "unassigned":
        return qs.filter(status__in=IN_REVIEW, assigned_to__isnull=True)
    if tab == "mine":
        return qs.filter(assigned_to=actor, status__in=MY_OPEN)
    if tab == "waiting":  # 补正 requested, or 容缺 items still to come
        return qs.filter(Q(status=S.SUPPLEMENT)
                         | Q(status__in=(*IN_REVIEW, S.SUSPENDED),
                             deficiency_due_at__isnull=False))
    if tab == "suspended":
        return qs.filter(status=S.SUSPENDED)
    return qs.exclude(status=S.DRAFT)  # drafts are the applicant's until submitted


def case_inbox(*, actor: Any, tab: str, matter_id: int | None = None,
               time_state: str | None = None, channel: str | None = None,
               q: str | None = None, sort: str | None = None) -> QuerySet[Case]:
    """One tab of the staff inbox, filtered and sorted; only what the rows show is joined."""
    spec = TABS_BY_CODE[tab]
    qs = _tab_filter(_scoped(actor, spec.side), tab, actor)
    if matter_id:
        qs = qs.filter(matter_id=matter_id)
    if time_state:
        qs = qs.filter(time_state=time_state)
    if channel:
        qs = qs.filter(channel=channel)
    if q:
        q = q.strip()
        # Case numbers are digits (a unique, prefix-searchable index); anything else is a name.
        qs = qs.filter(number__startswith=q) if q.isdigit() else qs.filter(
            applicant_name__icontains=q)
    if tab == "all" and sort == "deadline":
        sort = None  # closed cases have no deadline left; by date received instead
    return (qs.select_related("matter", "clock", "assigned_to", "department")
            .order_by(*SORTS[sort or spec.default_sort]))


def inbox_counts(*, actor: Any, tabs: Iterable[InboxTab]) -> dict[str, int]:
    """Per tab, how many cases wait there, counted up to ``TAB_COUNT_CAP + 1``."""
    return {tab.code: capped_count(case_inbox(actor=actor, tab=tab.code), TAB_COUNT_CAP)
            for tab in tabs if tab.code != "all"}


def capped_count(qs: QuerySet[Any], cap: int) -> int:
    """``min(count, cap + 1)``: one bounded query; ``cap + 1`` reads as "more than cap"."""
    return qs.order_by().values("pk")[: cap + 1].count()


def inbox_matters(*, actor: Any) -> QuerySet[Matter]:
    """Matters of the departments in scope, for the inbox's filter."""
    return policies.restrict(Matter.objects.filter(published__isnull=False), actor,
                             "view").only("pk", "name").order_by("name")


class CappedPaginator(Paginator):
    """A paginator for big case lists.

    It counts at most ``cap`` rows (beyond, the last page is ``cap``'s), and fetches a
    page in two steps: the page's ids first, sorted and limited on narrow rows (the sort
    may need a join, e.g. the clock's deadline), then those rows with their joins. Sorting
    thousands of full rows to keep 25 costs far more than sorting their ids.
    """

    def __init__(self, object_list: Any, per_page: int, cap: int = COUNT_CAP) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @property
    def queryset(self) -> QuerySet[Any]:
        return cast(QuerySet[Any], self.object_list)

    @cached_property
    def _capped(self) -> int:
        return capped_count(self.queryset, self.cap)

    @cached_property
    def count(self) -> int:
        return min(self._capped, self.cap)

    @property
    def is_capped(self) -> bool:
        return self._capped > self.cap

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.queryset.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.queryset.order_by().filter(pk__in=ids)}
        page = [rows[pk] for pk in ids if pk in rows]
        return self._get_page(page, number, self)  # type: ignore[attr-defined]


def case_get(*, actor: Any, number: str) -> Case:
    """One case for the staff case page; 404 outside the actor's scope."""
    qs = Case.objects.select_related(
        "matter", "version", "department", "intake_unit", "applicant", "filed_by",
        "assigned_to", "clock")
    return policies.get_for_action(qs, actor, "view", number=number)


def reviewers_for(*, actor: Any, unit_path: str | None = None) -> list[Any]:
    """Active colleagues who may review cases, in the actor's scope (or below ``unit_path``):
    whom an approver can assign a case to."""
    from yiwang.accounts.models import User, UserKind

    root = policies.scope_path(actor)
    if not root:
        return []
    qs = User.objects.filter(
        kind=UserKind.STAFF, is_active=True, org_unit__path__startswith=unit_path or root,
        groups__permissions__codename="review_case",
        groups__permissions__content_type__app_label="services")
    if unit_path and root != "/":
        qs = qs.filter(org_unit__path__startswith=root)
    return list(qs.distinct().select_related("org_unit").order_by("org_unit__path", "name")[:200])


# --- deadlines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime | None
    remaining: int | None   # working days (or hours) left; negative: overdue by that many
    unit: str               # the clock's unit: "workdays" or "hours"
    paused: bool
    stopped: bool = False

    @property
    def overdue_by(self) -> int:
        return -self.remaining if self.remaining is not None and self.remaining < 0 else 0


class DeadlineReader:
    """Working days left for many cases at one moment, with one calendar and a memo:
    most cases of a page share a handful of due dates."""

    def __init__(self, at: dt.datetime | None = None) -> None:
        self.at = at or timezone.now()
        self.calendar = WorkCalendar.load()
        self._memo: dict[tuple[Any, ...], int] = {}

    def of(self, case: Case) -> Deadline:
        clock = case.clock
        if clock is None:
            return Deadline(None, None, "workdays", False)
        # The answer depends on these alone (see clock_remaining).
        key = (clock.unit, clock.due_at, clock.stopped_at or clock.paused_at)
        if key not in self._memo:
            self._memo[key] = clock_remaining(clock, at=self.at, calendar=self.calendar)
        return Deadline(clock.due_at, self._memo[key], clock.unit,
                        clock.paused_at is not None and clock.stopped_at is None,
                        clock.stopped_at is not None)


# --- overdue and warning cases (超时件) --------------------------------------------------


LATE_STATES = (TimeState.OVERDUE, TimeState.WARNING)


def case_overdue_list(*, actor: Any, time_state: str | None = None,
                      department_id: int | None = None) -> QuerySet[Case]:
    """Open cases in warning or overdue, handled by a department in scope, most late first."""
    qs = _scoped(actor, "department").filter(
        status__in=CLOCKED, time_state__in=[time_state] if time_state else LATE_STATES)
    if department_id:
        qs = qs.filter(department_id=department_id)
    return (qs.select_related("matter", "clock", "assigned_to", "department")
            .order_by(F("clock__due_at").asc(nulls_last=True), "pk"))


def case_overdue_by_department(*, actor: Any) -> list[dict[str, Any]]:
    """Per handling department in scope: how many open cases are overdue and in warning."""
    rows = (_scoped(actor, "department")
            .filter(status__in=CLOCKED, time_state__in=LATE_STATES)
            .values("department_id", "department__name", "department__path")
            .annotate(overdue=Count("pk", filter=Q(time_state=TimeState.OVERDUE)),
                      warning=Count("pk", filter=Q(time_state=TimeState.WARNING)))
            .order_by("-overdue", "-warning", "department__path"))
    return list(rows)
