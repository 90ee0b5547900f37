"""The demo district's gazetteer as plain data: streets, communities with their roads and
boundaries, and the building stock, with the look-ups the address parser needs.

Built from the generator's ``DistrictSpec`` (and optionally its buildings table), so
the names are the org tree's names. Centroids are computed by ``core.geo.set_boundary``,
the function that gives org units theirs, so a community-level point here is the same
point the org tree holds; containment uses the same boundaries as ``core.geo.locate``.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from yiwang.core.generator import DistrictSpec
from yiwang.core.generator.geometry import to_geojson
from yiwang.core.geo import set_boundary
from yiwang.core.models.org import OrgUnit

from .names import pinyin_key

STREET_SUFFIXES = ("街道办事处", "街道办", "街道", "办事处")
COMMUNITY_SUFFIXES = ("社区居委会", "社区工作站", "社区居民委员会", "居委会", "社区")
ROAD_SUFFIX = re.compile(r"(大道|路|街|巷|道)$")


@dataclass(frozen=True, slots=True)
class Place:
    """A street or community."""

    code: str
    name: str  # 福海街道, 新田社区
    short: str  # 福海, 新田
    parent: str | None
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Building:
    building_id: str
    community: str
    road: str
    number: str
    estate: str
    label: str  # 3栋, A座
    lon: float
    lat: float
    inside: bool = True  # the point lies inside its community's boundary


def _deletions(text: str) -> set[str]:
    return {text[:i] + text[i + 1:] for i in range(len(text))}


class NameIndex:
    """Exact, same-pinyin (homophone typos: 新甜 for 新田) and one-edit look-up of names.

    A fuzzy hit counts only when it is unique; ``find`` returns (code, how) with how in
    ``exact``, ``pinyin``, ``edit`` or ``""`` when nothing (or more than one) matched.
    """

    def __init__(self, aliases: dict[str, str]) -> None:
        self.exact = dict(aliases)
        self.sound: dict[str, set[str]] = defaultdict(set)
        self.edits: dict[str, set[str]] = defaultdict(set)
        for alias, code in aliases.items():
            self.sound[pinyin_key(alias)].add(code)
            if len(alias) >= 3:
                for variant in _deletions(alias) | {alias}:
                    self.edits[variant].add(code)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one index per gazetteer, kept alive)
    def find(self, text: str) -> tuple[str | None, str]:
        if text in self.exact:
            return self.exact[text], "exact"
        sound = self.sound.get(pinyin_key(text), set())
        if len(sound) == 1:
            return next(iter(sound)), "pinyin"
        if len(text) >= 3:
            hits: set[str] = set()
            for variant in _deletions(text) | {text}:
                hits |= self.edits.get(variant, set())
            if len(hits) == 1:
                return next(iter(hits)), "edit"
        return None, ""


@dataclass
class Gazetteer:
    district_name: str  # 示范区
    streets: dict[str, Place]
    communities: dict[str, Place]
    roads: dict[str, str]  # road name → community code
    shapes: dict[str, BaseGeometry] = field(repr=False)
    buildings: dict[tuple[str, ...], Building] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for geom in self.shapes.values():
            shapely.prepare(geom)
        self.street_index = NameIndex(
            {p.name: c for c, p in self.streets.items()}
            | {p.short: c for c, p in self.streets.items()})
        self.community_index = NameIndex(
            {p.name: c for c, p in self.communities.items()}
            | {p.short: c for c, p in self.communities.items()})
        self.road_index = NameIndex({road: road for road in self.roads})
        by_length = sorted(self.roads, key=len, reverse=True)
        self.road_re = re.compile("|".join(map(re.escape, by_length))) if by_length else None
        shorts = sorted({p.short for p in self.streets.values()}, key=len, reverse=True)
        self.street_re = re.compile("|".join(map(re.escape, shorts)))
        shorts = sorted({p.short for p in self.communities.values()}, key=len, reverse=True)
        self.community_re = re.compile("|".join(map(re.escape, shorts)))
        self.estates: dict[tuple[str, str], list[Building]] = defaultdict(list)
        for building in {id(b): b for b in self.buildings.values()}.values():
            self.estates[(building.estate, building.label)].append(building)

    @property
    def district_short(self) -> str:
        return self.district_name.removesuffix("区")

    def contains(self, code: str, lon: float, lat: float) -> bool:
        shape = self.shapes.get(code)
        return bool(shape is not None and shapely.contains_xy(shape, lon, lat))

    def building(self, *, community: str | None, road: str, number: str, estate: str,
                 label: str) -> Building | None:
        if not label:
            return None
        if community:
            for key in ((community, road, number, label), (community, "", estate, label)):
                if key[1:3] != ("", "") and (found := self.buildings.get(key)):
                    return found
        if road and number and (found := self.buildings.get(("*", road, number, label))):
            return found
        if estate:
            matches = self.estates.get((estate, label), [])
            if community:
                matches = [b for b in matches if b.community == community]
            if len(matches) == 1:
                return matches[0]
        return None

    @classmethod
    def from_spec(cls, spec: DistrictSpec, *, buildings: pa.Table | None = None) -> Gazetteer:
        """The gazetteer of a generated district; ``buildings`` is the generator's
        buildings table (``building_id``, ``name``, ``address``, ``community_code``,
        ``lon``, ``lat``)."""
        places: dict[str, dict[str, Place]] = {"street": {}, "community": {}}
        shapes: dict[str, BaseGeometry] = {}
        roads: dict[str, str] = {}
        for unit in spec.streets + spec.communities:
            assert unit.geometry is not None
            probe = OrgUnit()
            set_boundary(probe, to_geojson(unit.geometry))
            assert probe.centroid_lon is not None and probe.centroid_lat is not None
            kind = "street" if unit in spec.streets else "community"
            places[kind][unit.code] = Place(unit.code, unit.name, unit.short_name,
                                            unit.parent_code, probe.centroid_lon,
                                            probe.centroid_lat)
            shapes[unit.code] = unit.geometry
            for road in unit.roads:
                roads[road] = unit.code
        stock = _buildings(buildings, places["community"], shapes) if buildings else {}
        return cls(district_name=spec.district.name, streets=places["street"],
                   communities=places["community"], roads=roads, shapes=shapes,
                   buildings=stock)


_BUILDING_TAIL = re.compile(r"^(?P<road>.+?(?:大道|路|街|巷|道))(?P<number>\d+(?:-\d+)?)号"
                            r"(?P<estate>.*?)(?P<label>\d+栋|[A-Z]座)$")


def _buildings(table: pa.Table, communities: dict[str, Place],
               shapes: dict[str, BaseGeometry]) -> dict[tuple[str, ...], Building]:
    """Index buildings by (community, road, number, label), (community, estate, label) and
    ("*", road, number, label), from the address the generator gave each one."""
    out: dict[tuple[str, ...], Building] = {}
    prefixes = {c: f"{p.name}" for c, p in communities.items()}
    columns: dict[str, Any] = {name: table.column(name).to_pylist() for name in (
        "building_id", "address", "community_code")}
    lons = np.asarray(table.column("lon"))
    lats = np.asarray(table.column("lat"))
    inside = np.zeros(len(lons), dtype=bool)
    codes = np.asarray(columns["community_code"], dtype=object)
    for code in set(columns["community_code"]):
        rows = np.flatnonzero(codes == code)
        inside[rows] = shapely.contains_xy(shapes[code], lons[rows], lats[rows])
    for i, (bid, address, community) in enumerate(zip(
            columns["building_id"], columns["address"], columns["community_code"],
            strict=True)):
        tail = address.split(prefixes[community], 1)[-1]
        match = _BUILDING_TAIL.match(tail)
        if match is None:
            continue
        building = Building(bid, community, match["road"], match["number"], match["estate"],
                            match["label"], float(lons[i]), float(lats[i]), bool(inside[i]))
        out[(community, building.road, building.number, building.label)] = building
        out.setdefault((community, "", building.estate, building.label), building)
        out.setdefault(("*", building.road, building.number, building.label), building)
    return out
