"""Plausible boundaries: a district outline tiled by streets, communities and grids.

Children are Voronoi cells of seeded points clipped to their parent, so every level
tiles the level above exactly (up to floating-point rounding of edge crossings) and a
point that lies in a grid also lies in its community, street and district.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

Polygonal: TypeAlias = Polygon | MultiPolygon

# The demo district sits in Shenzhen; everything stays inside this box.
SHENZHEN_BOX = (114.0, 22.5, 114.3, 22.75)


def district_outline(*, rng: np.random.Generator, vertices: int = 56) -> Polygon:
    """A star-shaped, gently irregular outline about 25 km × 20 km."""
    min_lon, min_lat, max_lon, max_lat = SHENZHEN_BOX
    cx, cy = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    rx, ry = 0.125, 0.105
    angles = np.linspace(0.0, 2 * math.pi, vertices, endpoint=False)
    radius = np.ones(vertices)
    # A few low harmonics give coastline-like bays and capes without self-intersections.
    for harmonic in (2, 3, 5, 7):
        amplitude = rng.uniform(0.02, 0.09) / math.sqrt(harmonic)
        radius += amplitude * np.sin(harmonic * angles + rng.uniform(0, 2 * math.pi))
    radius += rng.normal(0.0, 0.012, vertices)
    xs = np.round(cx + rx * radius * np.cos(angles), 6)
    ys = np.round(cy + ry * radius * np.sin(angles), 6)
    outline = Polygon(zip(xs, ys, strict=True)).intersection(box(*SHENZHEN_BOX))
    assert isinstance(outline, Polygon) and outline.is_valid
    return shapely.orient_polygons(outline)


def random_points(geom: BaseGeometry, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points inside ``geom`` (rejection sampling in its bounding box)."""
    min_x, min_y, max_x, max_y = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        want = max(16, int((n - have) * 1.6))
        xs = rng.uniform(min_x, max_x, want)
        ys = rng.uniform(min_y, max_y, want)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


def _polygonal(geom: BaseGeometry) -> Polygonal:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
    if not parts:
        raise ValueError("empty tile")
    result: Polygonal = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return shapely.orient_polygons(result)


def tile(parent: Polygonal, n: int, *, rng: np.random.Generator,
         relax: int = 2) -> list[Polygonal]:
    """Split ``parent`` into ``n`` Voronoi tiles, ordered clockwise from the north.

    A couple of Lloyd iterations even out the tile sizes so no community is a sliver.
    """
    if n == 1:
        return [parent]
    seeds = random_points(parent, n, rng=rng)
    frame = box(*parent.buffer(0.05).bounds)
    cells: list[Polygonal] = []
    for step in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame, ordered=True)
        cells = [_polygonal(shapely.intersection(cell, parent))
                 for cell in shapely.get_parts(diagram)]
        if step < relax:
            centres = [c.centroid if c.contains(c.centroid) else c.representative_point()
                       for c in cells]
            seeds = np.array([[p.x, p.y] for p in centres])
    centre = parent.representative_point()

    def bearing(cell: Polygonal) -> float:
        point = cell.representative_point()
        return math.atan2(point.x - centre.x, point.y - centre.y) % (2 * math.pi)

    return sorted(cells, key=bearing)


def to_geojson(geom: Polygonal) -> dict[str, Any]:
    """GeoJSON with lists (JSONField round-trips them unchanged) and full precision."""

    def ring(coords: Any) -> list[list[float]]:
        return [[float(x), float(y)] for x, y in coords]

    def polygon(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior.coords), *(ring(i.coords) for i in p.interiors)]

    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": polygon(geom)}
    return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in geom.geoms]}
