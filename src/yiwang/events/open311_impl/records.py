"""Events as Open311 service requests, and their public steps as request updates.

Which events Open311 shows: those of the channels in ``YIWANG_OPEN311_PUBLIC_CHANNELS``
(default: only what came in through Open311, whose clients publish by design; hotline
calls and portal appeals stay private unless a district opts in). 举报 (reports of
wrongdoing) are never listed for others: only the client that sent one sees it, with its
key. The reporter's name, phone and e-mail are never part of any answer.

Status: ``open`` while received, with a responsible party, dispatched, signed for or in
progress; ``closed`` once resolved (办结), closed, or merged into another request (并单;
the notes name the request it was merged into).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import AppealType, Channel, ClientSystem, Event, EventStatus, EventUpdate
from .catalog import service_name
from .render import Many

S = EventStatus
CLOSED = frozenset({S.RESOLVED, S.CLOSED, S.MERGED})
SUBMITTED = "open311_submitted"  # the timeline entry with what the client sent
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
UPDATES_DEFAULT_HOURS = 24


def public_channels() -> tuple[str, ...]:
    return tuple(getattr(settings, "YIWANG_OPEN311_PUBLIC_CHANNELS", (Channel.OPEN311,)))


def source_prefix(client: ClientSystem) -> str:
    return f"{client.pk}:"


def visible_events(client: ClientSystem | None = None) -> QuerySet[Event]:
    """Every event an Open311 caller may see (``client``: the caller's own key, if any)."""
    events = Event.objects.filter(channel__in=public_channels())
    report = Q(appeal_type=AppealType.REPORT)
    if client is None:
        return events.exclude(report)
    own = Q(channel=Channel.OPEN311, source_ref__startswith=source_prefix(client))
    return events.filter(~report | own)


def with_details(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.select_related(
        "category", "handler_unit", "dispatch_unit", "clock", "merged_into",
    ).prefetch_related(Prefetch("updates", to_attr="open311_meta",
                                queryset=EventUpdate.objects.filter(action=SUBMITTED)))


def status_of(status: str) -> str:
    return "closed" if status in CLOSED else "open"


def meta(event: Event) -> dict[str, Any]:
    rows = getattr(event, "open311_meta", None)
    if rows is None:
        rows = list(event.updates.filter(action=SUBMITTED))
    return rows[0].data if rows else {}


def _w3(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _status_notes(event: Event) -> str:
    if event.status == S.MERGED and event.merged_into is not None:
        return _("Duplicate: merged into service request %(number)s, which is handled "
                 "in its place.") % {"number": event.merged_into.number}
    if event.status in (S.RESOLVED, S.CLOSED) and event.resolution:
        return event.resolution
    return str(S(event.status).label)


def service_notice(event: Event) -> str | None:
    clock = event.clock
    if clock is None:
        return None
    if clock.unit == "hours":
        return _("Urgent: to be handled within %(n)d hours.") % {"n": clock.limit}
    return _("To be resolved within %(n)d working days; we contact the reporter within "
             "%(h)d hours.") % {"n": clock.limit,
                                "h": settings.YIWANG_EVENT_RESPONSE_HOURS}


def _updated(event: Event) -> dt.datetime:
    if event.status in CLOSED:
        return event.closed_at or event.resolved_at or event.updated_at
    return event.updated_at


def request_item(event: Event) -> dict[str, Any]:
    data = meta(event)
    agency = event.handler_unit or event.dispatch_unit
    expected = event.clock.due_at if event.clock and event.status not in CLOSED else None
    return {
        "service_request_id": event.number,
        "status": status_of(event.status),
        "status_notes": _status_notes(event),
        "service_name": service_name(event.category),
        "service_code": event.category.code if event.category else "",
        "description": event.description,
        "agency_responsible": agency.name if agency else None,
        "service_notice": service_notice(event),
        "requested_datetime": _w3(event.received_at),
        "updated_datetime": _w3(_updated(event)),
        "expected_datetime": _w3(expected),
        "address": event.address_normalized or event.address or None,
        "address_id": data.get("address_id") or None,
        "zipcode": None,
        "lat": event.lat,
        "long": event.lon,
        "media_url": data.get("media_url") or None,
    }


def requests_body(events: list[Event]) -> Many:
    return Many("request", [request_item(e) for e in events])


# --- updates (mySociety's servicerequestupdates) -------------------------------------------

def _update_text(update: EventUpdate) -> str:
    unit = update.unit.name if update.unit else ""
    action = update.action
    if action in ("resolve", "close") and update.note:
        return update.note
    texts = {
        "create": _("Received by the dispatch centre."),
        "dispatch": _("Dispatched to %(unit)s.") % {"unit": unit} if unit
        else _("Dispatched."),
        "accept": _("%(unit)s has taken it on.") % {"unit": unit} if unit
        else _("The handling unit has taken it on."),
        "resolve": _("Resolved."),
        "close": _("Closed."),
        "reopen": _("Reopened for further handling."),
        "merge": _("Merged into service request %(number)s.") % {
            "number": update.data.get("into", "")},
        "callback": _("The reporter's feedback has been recorded."),
        "external_fixed": _("The responsible party reports it fixed."),
        "internal": _("Passed to the enforcement department."),
    }
    return texts.get(action, str(S(update.to_status).label) if update.to_status else "")


def visible_updates(client: ClientSystem | None = None) -> QuerySet[EventUpdate]:
    return (EventUpdate.objects.filter(public=True, event__in=visible_events(client))
            .select_related("event", "unit").order_by("at", "id"))


def updates_body(updates: list[EventUpdate]) -> Many:
    return Many("request_update", [{
        "update_id": str(u.pk),
        "service_request_id": u.event.number,
        "status": status_of(u.to_status or u.event.status),
        "updated_datetime": _w3(u.at),
        "description": _update_text(u),
        "media_url": None,
    } for u in updates])
