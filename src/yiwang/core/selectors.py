"""Reads shared by pages and the API; every one is scoped to the actor."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import policies
from .models import AuditEntry, CalendarOverride, Notification, OrgUnit
from .workbench import TodoItem


def orgunit_list(*, actor: Any, kind: str | None = None, parent_code: str | None = None,
                 q: str | None = None) -> QuerySet[OrgUnit]:
    qs = policies.restrict(OrgUnit.objects.select_related("parent"), actor)
    if kind:
        qs = qs.filter(kind=kind)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.defer("boundary")


def orgunit_get(*, actor: Any, code: str, action: str = "view") -> OrgUnit:
    return policies.get_for_action(OrgUnit.objects.select_related("parent"), actor, action,
                                   code=code)


def audit_entry_list(*, actor: Any, action: str | None = None, object_type: str | None = None,
                     object_id: str | None = None, actor_id: int | None = None
                     ) -> QuerySet[AuditEntry]:
    qs = policies.restrict(AuditEntry.objects.all(), actor)
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs


def notification_list(*, actor: Any, unread: bool = False) -> QuerySet[Notification]:
    """The actor's own in-app inbox."""
    if not policies.is_active_actor(actor):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=actor, channel="inapp")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


# --- pages: org tree, audit filters, calendar, to-do -----------------------------------

@dataclass
class OrgTreeNode:
    unit: OrgUnit
    children: list[OrgTreeNode] = field(default_factory=list)
    staff: int = 0


def orgunit_tree(*, actor: Any, max_depth: int | None = None,
                 staff_counts: dict[int, int] | None = None) -> list[OrgTreeNode]:
    """The actor's scoped org units as a forest (usually one root: the actor's unit).

    ``staff_counts`` (unit id → active staff) fills each node's ``staff``.
    """
    staff_counts = staff_counts or {}
    qs = orgunit_list(actor=actor).order_by("path")
    if max_depth is not None:
        qs = qs.filter(depth__lte=max_depth)
    nodes: dict[int, OrgTreeNode] = {}
    roots: list[OrgTreeNode] = []
    for unit in qs:
        node = OrgTreeNode(unit, staff=staff_counts.get(unit.pk, 0))
        nodes[unit.pk] = node
        parent = nodes.get(unit.parent_id) if unit.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.unit.sort_order, n.unit.path))
    return roots


def orgunit_children(*, actor: Any, unit: OrgUnit) -> QuerySet[OrgUnit]:
    return orgunit_list(actor=actor).filter(parent=unit).order_by("sort_order", "path")


def orgunit_boundaries(*, actor: Any, units: list[OrgUnit]) -> dict[int, Any]:
    """GeoJSON boundaries of in-scope units (the list selector defers them)."""
    ids = [u.pk for u in units]
    return dict(policies.restrict(OrgUnit.objects.filter(pk__in=ids), actor)
                .values_list("pk", "boundary"))


def audit_action_choices(*, actor: Any) -> list[str]:
    qs = policies.restrict(AuditEntry.objects.all(), actor)
    return sorted(set(qs.order_by().values_list("action", flat=True).distinct()))


def calendar_override_list(*, actor: Any, year: int | None = None) -> QuerySet[CalendarOverride]:
    qs = policies.restrict(CalendarOverride.objects.select_related("created_by"), actor)
    if year:
        qs = qs.filter(date__year=year)
    return qs.order_by("date")


def calendar_override_get(*, actor: Any, pk: int, action: str = "view") -> CalendarOverride:
    return policies.get_for_action(CalendarOverride.objects.all(), actor, action, pk=pk)


def notification_get(*, actor: Any, pk: int) -> Notification:
    obj = notification_list(actor=actor).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def notification_todos(user: Any) -> list[TodoItem]:
    """To-do provider: unread in-app messages, so nothing waiting goes unseen."""
    unread = notification_list(actor=user, unread=True).count()
    if not unread:
        return []
    return [TodoItem(
        title=ngettext("%(n)d unread message", "%(n)d unread messages", unread) % {"n": unread},
        url=reverse("core:notifications") + "?unread=1", count=unread, source=_("Messages"),
    )]


# --- a boundary outline for an inline SVG (no map library yet) --------------------------

@dataclass(frozen=True)
class OutlineShape:
    d: str
    label: str = ""
    url: str = ""
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass(frozen=True)
class Outline:
    width: int
    height: int
    shapes: list[OutlineShape]
    children: list[OutlineShape]


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def orgunit_outline(*, unit: OrgUnit, boundary: dict[str, Any] | None,
                    children: list[tuple[OrgUnit, dict[str, Any] | None, str]],
                    width: int = 400) -> Outline | None:
    """Project the unit's boundary and its children's onto an SVG canvas ``width`` wide.

    Equirectangular with the latitude's cosine: good enough for a district-sized preview.
    """
    geometries = [g for g in [boundary, *(c[1] for c in children)] if g]
    points = [pt for g in geometries for ring in _rings(g) for pt in ring]
    if not points:
        return None
    min_x = min(p[0] for p in points)
    max_x = max(p[0] for p in points)
    min_y = min(p[1] for p in points)
    max_y = max(p[1] for p in points)
    kx = math.cos(math.radians((min_y + max_y) / 2))
    span_x = max((max_x - min_x) * kx, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    pad = 8
    inner = width - 2 * pad
    height = int(min(max(inner * span_y / span_x, 120), inner * 1.2)) + 2 * pad
    scale = min(inner / span_x, (height - 2 * pad) / span_y)
    off_x = pad + (inner - span_x * scale) / 2
    off_y = pad + (height - 2 * pad - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return off_x + (lon - min_x) * kx * scale, height - off_y - (lat - min_y) * scale

    def path(geometry: dict[str, Any]) -> str:
        parts = []
        for ring in _rings(geometry):
            coords = [project(x, y) for x, y, *_rest in ring]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + "Z")
        return "".join(parts)

    shapes = [OutlineShape(d=path(boundary))] if boundary else []
    child_shapes = []
    for child, geometry, url in children:
        if not geometry:
            continue
        cx, cy = project(child.centroid_lon or 0.0, child.centroid_lat or 0.0)
        child_shapes.append(OutlineShape(d=path(geometry), label=child.short_name or child.name,
                                         url=url, label_x=round(cx, 1), label_y=round(cy, 1)))
    return Outline(width=width, height=height, shapes=shapes, children=child_shapes)
