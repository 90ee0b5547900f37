"""A generated set of events for the figures tests: every path an event can take, through
the services, then spread over past days (timestamps moved as an import would)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from yiwang.core.models import Clock
from yiwang.core.tests.factories import District
from yiwang.events import services
from yiwang.events.models import Channel, Event, Satisfaction
from yiwang.events.tests.factories import new_event

TZ = dt.timezone(dt.timedelta(hours=8))
CODES = ("010101", "010102", "020101")
CHANNELS = (Channel.HOTLINE, Channel.GRID, Channel.PORTAL)


def generate(d: District, *, n: int = 48, seed: int = 7, first_day: dt.date) -> list[Event]:
    """``n`` events received over the 30 days from ``first_day``, along random paths."""
    rng = random.Random(seed)
    handlers = {d.street_a: d.users["street_handler"],
                d.street_b: d.users["street_b_handler"],
                d.department: d.users["dept_handler"]}
    units = list(handlers)
    events = []
    for i in range(n):
        street = rng.choice([d.street_a, d.street_b])
        extra: dict[str, Any] = {"channel": rng.choice(CHANNELS), "street": street,
                                 "location_unit": d.community_a if street == d.street_a
                                 else d.community_b, "source_ref": f"gen-{seed}-{i}"}
        path = rng.choice(["on_spot", "open", "accepted", "resolved", "closed", "closed",
                           "closed", "reopened", "returned", "reassigned", "merged",
                           "extended"])
        if path == "on_spot":
            events.append(new_event(d, code=rng.choice(CODES), appeal_type="consult",
                                    resolved_on_spot="已按知识库答复", **extra))
            continue
        event = new_event(d, code=rng.choice(CODES), **extra)
        events.append(event)
        if path == "open":
            continue
        if path == "merged":
            services.event_merge(actor=d.users["dispatcher"], event=event, into=events[0]
                                 if events[0].status != "merged" else events[-2],
                                 reason="重复来电")
            continue
        unit = rng.choice(units)
        event = services.event_dispatch(actor=d.users["dispatcher"], event=event, unit=unit)
        if path == "returned":
            event = services.event_return(actor=handlers[unit], event=event,
                                          reason="不属于本单位职责")
            if rng.random() < 0.5:
                continue
            unit = rng.choice([u for u in units if u != unit])
            event = services.event_dispatch(actor=d.users["dispatcher"], event=event,
                                            unit=unit)
        if path == "reassigned":
            unit2 = rng.choice([u for u in units if u != unit])
            event = services.event_reassign(actor=d.users["dispatcher"], event=event,
                                            unit=unit2, reason="改由属地办理")
            unit = unit2
        event = services.event_accept(actor=handlers[unit], event=event)
        if path == "accepted":
            continue
        if rng.random() < 0.6:
            event = services.event_contact(actor=handlers[unit], event=event,
                                           note="电话联系市民")
        if path == "extended":
            event = services.event_request_extension(actor=handlers[unit], event=event,
                                                     days=3, reason="需协调")
            event = services.event_decide_extension(actor=d.users["dispatcher"],
                                                    event=event, approve=rng.random() < 0.7)
        event = services.event_resolve(actor=handlers[unit], event=event, result="已处理")
        if path in ("resolved", "extended"):
            continue
        if path == "reopened":
            event = services.event_callback(actor=d.users["dispatcher"], event=event,
                                            satisfaction=Satisfaction.DISSATISFIED,
                                            method="phone")
            if rng.random() < 0.5:
                continue
            event = services.event_resolve(actor=handlers[unit], event=event,
                                           result="再次处理")
        event = services.event_callback(
            actor=d.users["dispatcher"], event=event, method="phone",
            satisfaction=rng.choice([Satisfaction.SATISFIED, Satisfaction.BASICALLY,
                                     Satisfaction.SATISFIED]))
    _spread(events, rng, first_day)
    return list(Event.objects.filter(pk__in=[e.pk for e in events]).order_by("pk"))


def _spread(events: list[Event], rng: random.Random, first_day: dt.date) -> None:
    """Move each event back to a day of the 30 (at a random time), its later steps by
    random delays, its deadlines with it; some responses and resolutions come late."""
    now = timezone.now()
    for event in Event.objects.filter(pk__in=[e.pk for e in events]).select_related(
            "clock", "response_clock"):
        received = dt.datetime.combine(first_day + dt.timedelta(days=rng.randrange(30)),
                                       dt.time(rng.randrange(24), rng.randrange(60)),
                                       tzinfo=TZ)
        shift = received - event.received_at
        changes: dict[str, Any] = {"received_at": received}
        if event.responded_at:
            changes["responded_at"] = received + dt.timedelta(hours=rng.choice([2, 20, 30]))
        if event.resolved_at:
            changes["resolved_at"] = max(received + dt.timedelta(hours=rng.randrange(4, 400)),
                                         changes.get("responded_at", received))
        for name in ("dispatched_at", "closed_at"):
            if getattr(event, name):
                changes[name] = getattr(event, name) + shift
        changes["updated_at"] = min(now, max(v for v in changes.values()))
        Event.objects.filter(pk=event.pk).update(**changes)
        for clock in (event.clock, event.response_clock):
            if clock is not None:
                Clock.objects.filter(pk=clock.pk).update(
                    started_at=clock.started_at + shift, due_at=clock.due_at + shift)
