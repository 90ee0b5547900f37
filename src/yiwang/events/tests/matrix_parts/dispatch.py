"""Authorization-matrix fixtures of the dispatch routes (see ``events/tests/matrix.py``).

``extend_world`` gives every world event the caller number of the hotline part, a photo
and a summons that calls the event's own unit, so ``attachment_id`` and ``summons_id``
are probed like events: the home unit's, an outside unit's, a missing one. Every
transition route gets one body that is valid input for it, with units picked from the
probed event's own dispatch targets; the world's events are dispatched, so most
transitions answer with the event page and a "not possible now" message (a redirect),
which the matrix counts as allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from yiwang.accounts.models import phone_index
from yiwang.core.testing.matrix import MISSING_PK, Caller, Probe, World
from yiwang.events import selectors
from yiwang.events.forms import STAFF_ACTIONS
from yiwang.events.models import Event, EventAttachment, Summons, SummonsResponse

from .hotline import WORLD_PHONE

# The smallest valid PNG (1×1).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


def extend_world(world: World) -> None:
    data = world.extra["events"]
    attachments: dict[str, Any] = {}
    summonses: dict[str, Any] = {}
    for code, objects in data["units"].items():
        event: Event = objects["event"]
        event.reporter_phone = WORLD_PHONE
        event.reporter_phone_index = phone_index(WORLD_PHONE)
        event.save(update_fields=["reporter_phone", "reporter_phone_index"])
        item = EventAttachment(event=event, original_name="photo.png",
                               content_type="image/png", size=len(PNG), sha256="0" * 64)
        item.file.save(f"matrix-{event.number}.png", ContentFile(PNG), save=False)
        item.save()
        attachments[code] = item
        unit = event.handler_unit
        assert unit is not None
        summons = Summons.objects.create(
            event=event, kind=Summons.Kind.SUMMONS, caller_unit=event.dispatch_unit,
            subject="矩阵测试", due_at=timezone.now() + dt.timedelta(hours=24),
            created_by=_any_staff(world))
        SummonsResponse.objects.create(summons=summons, unit=unit)
        summonses[code] = summons
    data["attachments"] = attachments
    data["summonses"] = summonses


def _any_staff(world: World) -> Any:
    return next(iter(world.peers.values()))


def _probes(key: str) -> Callable[[World, Caller], list[Probe]]:
    def probes(world: World, caller: Caller) -> list[Probe]:
        data = world.extra["events"]
        found = []
        for label, unit in (("peer", world.home_unit(caller)),
                            ("outside", world.outside_unit(caller))):
            found.append(Probe(label, data[key][unit.code].pk, data["reporter"].pk, unit.path))
        return [*found, Probe("missing", MISSING_PK, exists=False)]
    return probes


def _event_of(world: World, probe: Probe | None) -> Event | None:
    if probe is None or not probe.exists:
        return None
    return Event.objects.select_related("dispatch_unit", "handler_unit").filter(
        number=probe.value).first()


def _target(event: Event | None) -> int | str:
    if event is None:
        return ""
    for unit in selectors.dispatch_targets(event.dispatch_unit):
        if unit.pk != event.handler_unit_id:
            return unit.pk
    return ""


def _other_event(world: World, event: Event | None) -> str:
    others = Event.objects.exclude(pk=event.pk if event else None).order_by("pk")
    if event is not None:
        others = others.filter(dispatch_unit=event.dispatch_unit)
    first = others.first()
    return first.number if first else ""


UNIT_ACTIONS = ("dispatch", "reassign", "add_co_handler", "summon")


def _action_body(name: str) -> Callable[[World, Caller, Probe | None], dict[str, Any]]:
    def body(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
        event = _event_of(world, probe)
        unit = _target(event)
        fields = {"revision": event.revision if event else 0, "reason": "矩阵测试",
                  "note": "矩阵测试", "result": "已处理", "unit": unit, "units": unit,
                  "satisfaction": 3, "method": "phone", "decision": "uphold",
                  "days": 3, "into": _other_event(world, event), "kind": "summons",
                  "subject": "请到场", "hours": 24, "party": ""}
        if name == "decide_extension":
            fields["decision"] = "approve"
        if (unit == "" and name in UNIT_ACTIONS) or (name == "merge" and not fields["into"]):
            # No other unit or event to pick (the neighbour's one-street world): a stale
            # revision still walks scope and role, and is answered with a redirect.
            fields["revision"] = -1
        return {f"{name}-{key}": value for key, value in fields.items()}
    return body


def _respond(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    if probe is None or not probe.exists:
        return {}
    first = SummonsResponse.objects.filter(summons_id=probe.value).order_by("pk").first()
    return {f"s{first.pk}-response": "已到场处置"} if first else {}


PROBES: dict[str, Callable[[World, Caller], list[Probe]]] = {
    "attachment": _probes("attachments"),
    "summons": _probes("summonses"),
}
KWARG_KINDS: dict[str, str] = {"attachment_id": "attachment", "summons_id": "summons"}
PAYLOADS: dict[str, Any] = {
    **{f"POST events:event_action_{name}": _action_body(name) for name in STAFF_ACTIONS},
    "POST events:summons_respond": _respond,
}
