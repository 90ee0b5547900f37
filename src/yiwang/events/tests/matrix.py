"""The 一网统管 objects of the authorization matrix (see ``yiwang.core.testing.matrix``).

``extend_world`` loads the dispatch catalog and gives every unit a caller sits in (plus
street B and the neighbour's street, the *outside* units) an event located in and
handled by that unit, in its district's dispatch centre (the neighbour's for its street);
every citizen and enterprise caller reports an event of their own in street A, and a
citizen *peer* one too, so ``✓ own`` routes are probed with someone else's event.

Path parameters: ``event_number``, ``category_code``, ``party_id``, ``client_id``,
``attachment_id``, ``summons_id``. Each area adds its ``PAYLOADS``/``QUERIES``/
``SKIP_PROBES``/``PROBES``/``KWARG_KINDS``/``PK_KINDS`` and optionally an
``extend_world`` in ``matrix_parts/<area>.py``; they are merged here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from yiwang.accounts.models import User, UserKind
from yiwang.core.models import OrgUnit
from yiwang.core.testing.matrix import (
    CITIZEN,
    ENTERPRISE,
    MISSING_PK,
    Caller,
    Probe,
    World,
    make_id_number,
    peer_marker,
)
from yiwang.events import catalog as catalog_service
from yiwang.events.models import Category, Channel, Event
from yiwang.events.services import event_create

AREAS = ("hotline", "dispatch", "field", "portal", "insight", "admin", "open311", "api")
MISSING_EVENT = "440399197001019999999"
MISSING_CATEGORY = "999999"


def _root(unit: OrgUnit) -> OrgUnit:
    ancestors = list(unit.ancestors())
    return ancestors[0] if ancestors else unit


def _event(unit: OrgUnit, reporter: User, title: str) -> Event:
    category = Category.objects.get(catalog__status="published", code="010101")
    event = event_create(actor=None, system=True, channel=Channel.PORTAL,
                         appeal_type="complaint", title=title,
                         description=f"{title}：门店桌椅摆到人行道上", category=category,
                         location_unit=unit, street=unit if unit.kind == "street" else None,
                         address=unit.name, reporter=reporter)
    Event.objects.filter(pk=event.pk).update(dispatch_unit=_root(unit), handler_unit=unit,
                                             status="dispatched")
    event.refresh_from_db()
    return event


def extend_world(world: World) -> None:
    catalog_service.catalog_load(actor=None, system=True, publish=True,
                                 data=catalog_service.shared_catalog_path().read_bytes())
    reporter = User(username="event_reporter_peer", name=peer_marker("reporter"),
                    kind=UserKind.CITIZEN, id_number=make_id_number(8))
    reporter.set_unusable_password()
    reporter.save()
    units: dict[str, dict[str, Any]] = {}
    for code in sorted(world.peers):
        unit = world.peers[code].org_unit
        assert unit is not None
        units[code] = {"event": _event(unit, reporter, f"占道经营 {peer_marker(code)}")}
    # A reporter sees who handles their own event: theirs are handled at district level,
    # whose name is the portal's brand, so any unit name in a citizen's list is a leak.
    own: dict[int, dict[str, Any]] = {}
    district = world.district.district
    for caller in world.callers:
        if caller.audience in (CITIZEN, ENTERPRISE) and caller.user is not None:
            own[caller.user.pk] = {"event": _event(district, caller.user, "我的诉求")}
    world.extra["events"] = {"units": units, "own": own, "reporter": reporter}
    for extend in _part_extenders:
        extend(world)


def _objects(world: World) -> dict[str, Any]:
    return world.extra["events"]  # type: ignore[no-any-return]


def _event_probes(world: World, caller: Caller) -> list[Probe]:
    """A citizen's own event and a stranger's; for staff, the home unit's and an outside
    unit's (both reported by the peer citizen)."""
    data = _objects(world)
    probes: list[Probe] = []
    if caller.audience in (CITIZEN, ENTERPRISE) and caller.user is not None:
        mine = data["own"][caller.user.pk]["event"]
        probes.append(Probe("own", mine.number, caller.user.pk, world.district.district.path))
    for label, unit in (("peer", world.home_unit(caller)), ("outside", world.outside_unit(caller))):
        event = data["units"][unit.code]["event"]
        probes.append(Probe(label, event.number, data["reporter"].pk, unit.path))
    return [*probes, Probe("missing", MISSING_EVENT, exists=False)]


def _category_probes(world: World, caller: Caller) -> list[Probe]:
    return [Probe("any", "010101"), Probe("missing", MISSING_CATEGORY, exists=False)]


PROBES: dict[str, Callable[[World, Caller], list[Probe]]] = {
    "event": _event_probes,
    "category": _category_probes,
}
KWARG_KINDS: dict[str, str] = {"event_number": "event", "category_code": "category"}
PK_KINDS: dict[str, str] = {}
PAYLOADS: dict[str, Any] = {}
QUERIES: dict[str, dict[str, Any]] = {}
SKIP_PROBES: dict[tuple[str, str], str] = {}
_part_extenders: list[Callable[[World], None]] = []

for _area in AREAS:
    _module = importlib.import_module(f"yiwang.events.tests.matrix_parts.{_area}")
    for _name, _target in (("PROBES", PROBES), ("KWARG_KINDS", KWARG_KINDS),
                           ("PK_KINDS", PK_KINDS), ("PAYLOADS", PAYLOADS),
                           ("QUERIES", QUERIES), ("SKIP_PROBES", SKIP_PROBES)):
        _target.update(getattr(_module, _name, {}))
    if hasattr(_module, "extend_world"):
        _part_extenders.append(_module.extend_world)

MISSING = MISSING_PK  # for parts that probe by primary key
