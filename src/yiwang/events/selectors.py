"""Reads of 一网统管 shared by the hotline, the dispatcher queue, the handler inbox, the
event page and the workbench to-do.

Scope is a list of org-unit ids (``scope_unit_ids``: one indexed path-prefix query on the
org tree), never ``restrict(Event)`` on a list: that is a ``LIKE`` OR over three joins
(dispatch, handler and location unit), which PostgreSQL can neither index nor estimate,
so with a million events it joins every candidate before sorting. With ids, each tab
walks one of the event indexes directly — the queue ``(dispatch_unit, status,
received_at)``, the inbox ``(handler_unit, status, time_state)`` — and co-handlers and
summoned units come in through an ``EXISTS`` on ``Assignment (unit, status)`` /
``SummonsResponse``. Counts are capped; pages fetch ids first, then the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import phone_index
from yiwang.core import policies
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

# One generic, capped paginator and deadline reader for big lists (services built them);
# the lead may move them to core.
from yiwang.services.selectors import CappedPaginator, DeadlineReader, capped_count

from .models import (
    OPEN_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Event,
    EventStatus,
    ExtensionRequest,
    RequestStatus,
    ReturnRequest,
    SummonsResponse,
)

__all__ = ["CappedPaginator", "DeadlineReader", "capped_count"]

S = EventStatus
VIEW_EVENT = "events.view_event"
COUNT_CAP = 1000
TAB_COUNT_CAP = 99
HISTORY_LIMIT = 10
TITLE_SEARCH_WINDOW = 20_000
OPEN_ASSIGNMENT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)


def scope_unit_ids(actor: Any) -> list[int] | None:
    """The org units whose events ``actor`` may read, or None for all (the superuser, or
    a role at the root of the tree). Memoised on the user for the request."""
    cached: Any = getattr(actor, "_yw_event_scope_ids", False)
    if cached is not False:
        return cached
    ids: list[int] | None = None
    if not (policies.scope_path(actor) == "/" and policies.has_perm(actor, VIEW_EVENT)):
        units = policies.restrict(OrgUnit.objects.all(), actor, "view", perm=VIEW_EVENT)
        ids = list(units.order_by().values_list("pk", flat=True))
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor._yw_event_scope_ids = ids
    return ids


def _on(field: str, ids: list[int] | None, qs: QuerySet[Event]) -> QuerySet[Event]:
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(**{f"{field}__in": ids})


def _co_exists(ids: list[int] | None) -> Exists:
    """The event has an open co-handler (协办) assignment for a unit in scope."""
    rows = Assignment.objects.filter(event=OuterRef("pk"), role=AssignmentRole.CO,
                                     status__in=OPEN_ASSIGNMENT)
    if ids is not None:
        rows = rows.filter(unit_id__in=ids)
    return Exists(rows)


def _summons_owed(ids: list[int] | None) -> Exists:
    rows = SummonsResponse.objects.filter(summons__event=OuterRef("pk"),
                                          responded_at__isnull=True)
    if ids is not None:
        rows = rows.filter(unit_id__in=ids)
    return Exists(rows)


# category__handler_unit: each row shows the handler the catalog suggests
# (``services.default_handler``), the mapped unit for a functional item.
ROW_JOINS = ("category", "category__handler_unit", "clock", "response_clock",
             "handler_unit", "street", "location_unit", "dispatch_unit")


# --- the dispatcher queue ---------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    code: str
    label: Any
    perms: tuple[str, ...]  # any of them shows the tab; () for every event reader


QUEUE_TABS: tuple[Tab, ...] = (
    Tab("received", _("To dispatch"), ("events.dispatch_event",)),
    Tab("disputed", _("Disputed returns"), ("events.supervise_event", "events.dispatch_event")),
    Tab("extension", _("Extension requests"), ("events.dispatch_event",)),
    Tab("callback", _("To call back"), ("events.callback_event",)),
    Tab("external", _("External loop"), ()),
    Tab("all", _("All"), ()),
)
INBOX_TABS: tuple[Tab, ...] = (
    Tab("to_sign", _("To sign for"), ("events.handle_event",)),
    Tab("handling", _("In progress"), ("events.handle_event",)),
    Tab("co", _("Co-handling"), ("events.handle_event",)),
    Tab("summons", _("Summons / consultations"), ("events.handle_event",)),
    Tab("resolved", _("Resolved, awaiting callback"), ()),
    Tab("all", _("All"), ()),
)


def tabs_for(actor: Any, tabs: Iterable[Tab]) -> list[Tab]:
    return [t for t in tabs if not t.perms or any(policies.has_perm(actor, p)
                                                  for p in t.perms)]


def event_queue(*, actor: Any, tab: str, q: str | None = None, channel: str | None = None,
                time_state: str | None = None, urgent: bool = False) -> QuerySet[Event]:
    """One tab of the dispatch centre's queue: events whose ``dispatch_unit`` is in scope."""
    ids = scope_unit_ids(actor)
    qs = _on("dispatch_unit_id", ids, Event.objects.all())
    pending_disputed = ReturnRequest.objects.filter(
        event=OuterRef("pk"), status=RequestStatus.PENDING, disputed=True)
    if tab == "received":
        # Returned ones too (with their reason); a disputed return waits for a supervisor.
        qs = qs.filter(status=S.RECEIVED).exclude(Exists(pending_disputed))
        order: tuple[Any, ...] = ("-urgent", "received_at", "pk")
    elif tab == "disputed":
        qs = qs.filter(status=S.RECEIVED).filter(Exists(pending_disputed))
        order = ("received_at", "pk")
    elif tab == "extension":
        qs = qs.filter(status__in=(S.ACCEPTED, S.IN_PROGRESS)).filter(Exists(
            ExtensionRequest.objects.filter(event=OuterRef("pk"),
                                            status=RequestStatus.PENDING)))
        order = (F("clock__due_at").asc(nulls_last=True), "pk")
    elif tab == "callback":
        qs = qs.filter(status=S.RESOLVED)
        order = ("resolved_at", "pk")
    elif tab == "external":
        qs = qs.filter(status=S.EXTERNAL)
        order = ("received_at", "pk")
    else:
        order = ("-received_at", "-pk")
    return _filtered(qs, q=q, channel=channel, time_state=time_state,
                     urgent=urgent).select_related(*ROW_JOINS).order_by(*order)


def _filtered(qs: QuerySet[Event], *, q: str | None, channel: str | None,
              time_state: str | None, urgent: bool) -> QuerySet[Event]:
    if channel:
        qs = qs.filter(channel=channel)
    if time_state:
        # A clock state means something only while the event is open (closed ones keep
        # their last state); and the open statuses let the (unit, status, …) indexes work.
        qs = qs.filter(time_state=time_state, status__in=OPEN_STATUSES)
    if urgent:
        qs = qs.filter(urgent=True)
    if q:
        q = q.strip()
        if q.isdigit():  # event numbers: a unique, prefix-searchable index
            return qs.filter(number__startswith=q)
        # A title search scans; bounded to the newest TITLE_SEARCH_WINDOW events of the
        # list (an index walk on received_at), so it stays fast with millions stored.
        oldest = (qs.order_by("-received_at").values_list("received_at", flat=True)
                  [TITLE_SEARCH_WINDOW - 1:TITLE_SEARCH_WINDOW].first())
        if oldest is not None:
            qs = qs.filter(received_at__gte=oldest)
        qs = qs.filter(title__icontains=q)
    return qs


# --- the handler inbox ------------------------------------------------------------------


def event_inbox(*, actor: Any, tab: str, q: str | None = None, channel: str | None = None,
                time_state: str | None = None, urgent: bool = False) -> QuerySet[Event]:
    """One tab of the handler inbox: events led by a unit in scope, or co-handled by one
    (协办), or where one owes a summons response (吹哨报到 / 会商)."""
    ids = scope_unit_ids(actor)
    base = Event.objects.all()
    if tab == "to_sign":
        qs = _on("handler_unit_id", ids, base).filter(status=S.DISPATCHED)
        order: tuple[Any, ...] = ("-urgent", "dispatched_at", "pk")
    elif tab == "handling":
        qs = _on("handler_unit_id", ids, base).filter(status__in=(S.ACCEPTED, S.IN_PROGRESS))
        order = (F("clock__due_at").asc(nulls_last=True), "pk")
    elif tab == "co":
        qs = base.filter(status__in=(S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS)).filter(
            _co_exists(ids)) if ids is None or ids else base.none()
        order = (F("clock__due_at").asc(nulls_last=True), "pk")
    elif tab == "summons":
        qs = base.filter(_summons_owed(ids)) if ids is None or ids else base.none()
        order = ("received_at", "pk")
    elif tab == "resolved":
        qs = _on("handler_unit_id", ids, base).filter(status=S.RESOLVED)
        order = ("resolved_at", "pk")
    else:
        if ids is None:
            qs = base.exclude(handler_unit__isnull=True)
        elif not ids:
            qs = base.none()
        else:
            qs = base.filter(Q(handler_unit_id__in=ids) | _co_exists(ids))
        order = ("-received_at", "-pk")
    return _filtered(qs, q=q, channel=channel, time_state=time_state,
                     urgent=urgent).select_related(*ROW_JOINS).order_by(*order)


def tab_counts(*, actor: Any, tabs: Iterable[Tab], of: str) -> dict[str, int]:
    """Per tab (but "all"), how many events wait there, counted up to ``TAB_COUNT_CAP + 1``."""
    lister = event_queue if of == "queue" else event_inbox
    return {t.code: capped_count(lister(actor=actor, tab=t.code), TAB_COUNT_CAP)
            for t in tabs if t.code != "all"}


# --- one event --------------------------------------------------------------------------


DETAIL_JOINS = ("category", "category__parent", "category__parent__parent",
                "category__handler_unit", "clock", "response_clock", "dispatch_unit",
                "handler_unit", "location_unit", "street", "assigned_to", "intake_by",
                "merged_into", "external_of")


def event_get(*, actor: Any, number: str) -> Event:
    """One event for the staff event page; 404 outside the actor's scope.

    In scope: the dispatch, lead or location unit (``Event.scope_path_lookup``), and also a
    co-handler (协办) or a summoned unit, who must read the event to do their part.
    """
    qs = Event.objects.select_related(*DETAIL_JOINS)
    found = policies.restrict(qs, actor, "view").filter(number=number).first()
    if found is not None:
        return found
    if getattr(actor, "kind", "") != "staff" or not policies.has_perm(actor, VIEW_EVENT):
        raise Http404
    ids = scope_unit_ids(actor)
    if ids is not None and not ids:
        raise Http404
    involved = Assignment.objects.filter(event=OuterRef("pk")).exclude(
        status__in=(AssignmentStatus.WITHDRAWN,))
    called = SummonsResponse.objects.filter(summons__event=OuterRef("pk"))
    if ids is not None:
        involved = involved.filter(unit_id__in=ids)
        called = called.filter(unit_id__in=ids)
    found = qs.filter(number=number).filter(Exists(involved) | Exists(called)).first()
    if found is None:
        raise Http404
    return found


def caller_history(*, actor: Any, phone: str) -> list[Event]:
    """A caller's earlier appeals (newest first) in the actor's scope, by the phone's blind
    index: an exact, indexed look-up ``(reporter_phone_index, received_at)``."""
    index = phone_index(phone)
    qs = Event.objects.filter(reporter_phone_index=index)
    return list(policies.restrict(qs, actor, "view")
                .select_related("category", "handler_unit")
                .order_by("-received_at")[:HISTORY_LIMIT])


def place_suggestions(*, text: str, limit: int = 8) -> list[OrgUnit]:
    """Streets and communities whose name appears in, or starts with, what was typed."""
    text = text.strip()
    if not text:
        return []
    qs = OrgUnit.objects.filter(kind__in=(OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID),
                                is_active=True)
    found = list(qs.filter(Q(name__icontains=text) | Q(short_name__icontains=text))
                 .select_related("parent").order_by("depth", "name")[:limit])
    if len(found) < limit and len(text) > 1:
        # Or a unit named inside the typed address ("甲街道和平路1号" → 甲街道).
        seen = {u.pk for u in found}
        for unit in qs.select_related("parent").order_by("-depth", "name")[:2000]:
            if unit.pk not in seen and unit.name in text:
                found.append(unit)
                seen.add(unit.pk)
                if len(found) >= limit:
                    break
    return found


TARGET_KINDS_FROM_DISTRICT = (OrgKind.STREET, OrgKind.DEPARTMENT, OrgKind.BUREAU,
                              OrgKind.ENTERPRISE)
TARGET_KINDS_FROM_STREET = (OrgKind.COMMUNITY, OrgKind.GRID)


def dispatch_targets(centre: OrgUnit) -> list[OrgUnit]:
    """Sensible units to dispatch to from a centre: the district centre sends to streets,
    departments and enterprises; a street to its communities and grids."""
    if centre.kind == OrgKind.STREET:
        qs = OrgUnit.objects.filter(path__startswith=centre.path,
                                    kind__in=TARGET_KINDS_FROM_STREET)
    else:
        qs = OrgUnit.objects.filter(path__startswith=centre.path,
                                    kind__in=TARGET_KINDS_FROM_DISTRICT).exclude(
            pk=centre.pk)
    return list(qs.filter(is_active=True).exclude(pk=centre.pk)
                .order_by("kind", "path")[:500])


def summons_targets(actor: Any, event: Event) -> list[OrgUnit]:
    """Units a summons may call: departments and enterprises of the district, and the
    streets and communities below the caller's own unit."""
    root = event.dispatch_unit
    while root.parent_id is not None:  # the district (a few levels at most)
        root = root.parent  # type: ignore[assignment]
    own = policies.scope_unit(actor)
    qs = OrgUnit.objects.filter(is_active=True).filter(
        Q(path__startswith=root.path, kind__in=(OrgKind.DEPARTMENT, OrgKind.BUREAU,
                                                OrgKind.ENTERPRISE))
        | Q(path__startswith=own.path if own else "-",
            kind__in=(OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID)))
    if own is not None:
        qs = qs.exclude(pk=own.pk)
    return list(qs.order_by("kind", "path")[:500])
