"""督办 by rule, run from the sweep: time states, warnings before the deadline, urging
notices and escalation after it, and the external loop's deadlines.

A rule reads "in state X and over the deadline by N hours → action Y" (``urge`` or
``escalate``), configured in ``settings.YIWANG_EVENT_RULES``; each rule acts on an event
once (``Supervision`` rows are unique per event, kind and rule).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.workdays import WorkCalendar, clock_remaining

from . import services
from .models import Event, EventStatus, Supervision, TimeState

WATCHED = [EventStatus.RECEIVED, EventStatus.DISPATCHED, EventStatus.ACCEPTED,
           EventStatus.IN_PROGRESS]


def time_state_of(event: Event, *, at: dt.datetime, calendar: WorkCalendar) -> str:
    clock = event.clock
    if clock is None:
        return TimeState.NORMAL
    if clock.is_overdue(at):
        return TimeState.OVERDUE
    remaining = clock_remaining(clock, at=at, calendar=calendar)
    limit = (settings.YIWANG_EVENT_WARNING_HOURS if clock.unit == "hours"
             else settings.YIWANG_EVENT_WARNING_DAYS)
    return TimeState.WARNING if remaining <= limit else TimeState.NORMAL


def events_supervise(*, at: dt.datetime | None = None, batch_size: int = 2000
                     ) -> dict[str, int]:
    at = at or timezone.now()
    calendar = WorkCalendar.load()
    counts = {"warning": 0, "overdue": 0, "urged": 0, "escalated": 0, "noop": 0}
    rules = settings.YIWANG_EVENT_RULES
    last = 0
    while True:
        batch = list(Event.objects.filter(status__in=WATCHED, clock__isnull=False, pk__gt=last)
                     .select_related("clock", "dispatch_unit", "handler_unit")
                     .order_by("pk")[:batch_size])
        if not batch:
            break
        last = batch[-1].pk
        for event in batch:
            state = time_state_of(event, at=at, calendar=calendar)
            if state != event.time_state:
                Event.objects.filter(pk=event.pk).update(time_state=state)
                if state == TimeState.WARNING:
                    _warn(event, at)
                    counts["warning"] += 1
                elif state == TimeState.OVERDUE:
                    counts["overdue"] += 1
            if state == TimeState.OVERDUE:
                late_hours = (at - event.clock.due_at).total_seconds() / 3600
                for rule in rules:
                    if event.status in rule["status"] and late_hours >= rule["overdue_hours"]:
                        counts[_apply(event, rule)] += 1
    counts["external_expired"] = services.external_expire(at=at)
    counts["external_notified"] = services.external_notify()
    return counts


def _warn(event: Event, at: dt.datetime) -> None:
    with transaction.atomic():
        _created = Supervision.objects.get_or_create(
            event=event, kind=Supervision.Kind.WARNING, rule="warning",
            defaults={"unit": event.handler_unit or event.dispatch_unit, "at": at,
                      "note": _("Due soon.")})


def _apply(event: Event, rule: dict[str, Any]) -> str:
    """Apply one overdue rule once; returns the name of the count it adds to."""
    name = rule["name"]
    reason = _("Rule %(rule)s: overdue.") % {"rule": name}
    if rule["action"] == "escalate":
        if Supervision.objects.filter(event=event, rule=name).exists():
            return "noop"
        if event.dispatch_unit.parent_id is None:  # the top centre: district supervision
            with transaction.atomic():
                Supervision.objects.create(event=event, kind=Supervision.Kind.SUPERVISE,
                                           unit=event.dispatch_unit, rule=name, note=reason,
                                           at=timezone.now())
                Event.objects.filter(pk=event.pk).update(supervised=True)
            return "escalated"
        services.event_escalate(actor=None, event=event, system=True, reason=reason)
        Supervision.objects.filter(event=event, kind=Supervision.Kind.ESCALATE,
                                   rule="").update(rule=name)
        return "escalated"
    done = services.event_urge(actor=None, event=event, system=True, rule=name, reason=reason)
    return "urged" if done is not None else "noop"
