"""Intake from every channel: classify, locate, register and, when confident, dispatch.

Channels call ``intake_event``; it never loses an accepted report: classification or
location that fails leaves the event in the dispatcher's queue with the suggestions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction

from yiwang.core.geo import locate
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

from . import services
from .catalog import published_catalog
from .classify import classify
from .models import APPEAL_TYPE_BY_CHINESE, Category, Event, HandlerType, ResponsibleParty


def place(*, lat: float | None, lon: float | None, address: str
          ) -> tuple[OrgUnit | None, OrgUnit | None]:
    """(finest unit, street) of a point, else of unit names found in the address text."""
    if lat is not None and lon is not None:
        placement = locate(lon, lat)
        finest = placement.grid or placement.community or placement.street
        if finest is not None:
            return finest, placement.street
    if address:
        units = [u for u in _named_units() if u.name in address
                 or (u.short_name and u.short_name in address)]
        if units:
            finest = max(units, key=lambda u: u.depth)
            street = next((u for u in units if u.kind == OrgKind.STREET), None)
            if street is None and finest.kind != OrgKind.STREET:
                street = next((a for a in finest.ancestors() if a.kind == OrgKind.STREET),
                              None)
            return finest, street or (finest if finest.kind == OrgKind.STREET else None)
    return None, None


def _named_units() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(
        kind__in=[OrgKind.STREET, OrgKind.COMMUNITY], is_active=True
    ).only("id", "code", "name", "short_name", "kind", "path", "depth", "parent_id"))


def _threshold(category: Category) -> float:
    if category.auto_dispatch_threshold is not None:
        return category.auto_dispatch_threshold
    return float(settings.YIWANG_AUTO_DISPATCH_THRESHOLD)


def intake_event(
    *, actor: Any, channel: str, description: str, appeal_type: str = "",
    title: str = "", category: Category | None = None, lat: float | None = None,
    lon: float | None = None, address: str = "", urgent: bool | None = None,
    reporter: Any = None, reporter_name: str = "", reporter_phone: str = "",
    anonymous: bool = False, source_ref: str = "", received_at: dt.datetime | None = None,
    resolved_on_spot: str = "", system: bool = False, auto_dispatch: bool = True,
) -> Event:
    """Register one report; classify it unless the caller chose the item; dispatch it
    when the classification and the location are confident enough."""
    suggestions = classify(f"{title} {description}") if description.strip() else []
    confidence = None
    if category is None and suggestions:
        top = suggestions[0]
        category = Category.objects.select_related("handler_unit").get(pk=top.category_id)
        confidence = top.score
    elif category is not None:
        confidence = 1.0
    if not appeal_type:
        typical = category.appeal_types[0] if category and category.appeal_types else ""
        appeal_type = typical or APPEAL_TYPE_BY_CHINESE["求助"]
    location_unit, street = place(lat=lat, lon=lon, address=address)
    with transaction.atomic():
        event = services.event_create(
            actor=actor, channel=channel, appeal_type=appeal_type, title=title,
            description=description, category=category,
            suggestions=[s.as_dict() for s in suggestions], confidence=confidence,
            urgent=urgent, address=address, lat=lat, lon=lon, location_unit=location_unit,
            street=street, reporter=reporter, reporter_name=reporter_name,
            reporter_phone=reporter_phone, anonymous=anonymous, source_ref=source_ref,
            received_at=received_at, resolved_on_spot=resolved_on_spot, system=system)
        fresh = event.status == services.S.RECEIVED and not event.updates.filter(
            action="dispatch").exists()  # not a repeated delivery of a handled event
        if auto_dispatch and fresh and auto_route(event) != "queue":
            event.refresh_from_db()
    return event


def auto_route(event: Event) -> str:
    """Dispatch without a dispatcher when it is safe: returns what was done."""
    category = event.category
    if category is None or event.confidence is None:
        return "queue"
    if event.confidence < _threshold(category) and not event.urgent:
        return "queue"
    if category.external_loop and event.location_unit is not None:
        party = ResponsibleParty.objects.filter(
            active=True, categories=category,
            unit__in=[event.location_unit, *event.location_unit.ancestors()]).first()
        if party is not None:
            services.event_send_external(actor=None, event=event, party=party, system=True)
            return "external"
    unit = services.default_handler(event)
    if unit is None:
        return "queue"
    if category.handler_type == HandlerType.TERRITORIAL and event.location_missing:
        return "queue"
    services.event_dispatch(actor=None, event=event, unit=unit, system=True,
                            note="auto-dispatch")
    return "dispatched"


def catalog_ready() -> bool:
    return published_catalog() is not None
