"""Placing points in the org tree (point-in-polygon against division boundaries)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from shapely.geometry import Point, shape
from shapely.prepared import prep

from .models.org import OrgKind, OrgUnit


@dataclass(frozen=True)
class Placement:
    street: OrgUnit | None
    community: OrgUnit | None
    grid: OrgUnit | None


@functools.lru_cache(maxsize=4096)
def _prepared(unit_id: int, boundary_json: str) -> object:
    # Keyed by the boundary itself, so an edited boundary is never served stale.
    return prep(shape(json.loads(boundary_json)))


def _contains(unit: OrgUnit, point: Point) -> bool:
    if not unit.boundary or unit.min_lon is None:
        return False
    if not (unit.min_lon <= point.x <= unit.max_lon and unit.min_lat <= point.y <= unit.max_lat):
        return False
    prepared = _prepared(unit.pk, json.dumps(unit.boundary, sort_keys=True))
    return bool(prepared.contains(point))  # type: ignore[attr-defined]


def locate(lon: float, lat: float) -> Placement:
    """The street, community and grid that contain a WGS 84 point (None where outside)."""
    point = Point(lon, lat)
    found: dict[str, OrgUnit | None] = {"street": None, "community": None, "grid": None}
    candidates = OrgUnit.objects.filter(
        kind__in=[OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID], is_active=True,
        min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat,
    ).only("id", "code", "name", "kind", "path", "boundary", "min_lon", "min_lat", "max_lon",
           "max_lat")
    for unit in candidates:
        if found[unit.kind] is None and _contains(unit, point):
            found[unit.kind] = unit
    return Placement(found["street"], found["community"], found["grid"])


def set_boundary(unit: OrgUnit, geometry: dict) -> None:
    """Store a GeoJSON geometry with its bounding box and centroid (caller saves)."""
    geom = shape(geometry)
    if not geom.is_valid or geom.is_empty:
        raise ValueError("boundary is not a valid polygon")
    unit.boundary = geometry
    unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat = geom.bounds
    centroid = geom.representative_point()
    unit.centroid_lon, unit.centroid_lat = centroid.x, centroid.y
