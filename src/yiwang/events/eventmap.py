"""The staff map of events (一张图 for events): the events a user may read, counted into
a grid of cells by the database and drawn over the org boundaries as inline SVG, with no
map tiles (deployments run on closed networks).

The view is a bounding box (``bbox``): the user's geography by default, a street or
community chosen by name, or where pan, zoom and a click on a cluster led. The box is
cut into square cells of ``CELL_PX`` SVG units; each located event falls into the cell
``floor((lon - west) / cell_lon), floor((north - lat) / cell_lat)``, computed in SQL, so
a million events become a few hundred rows (one ``GROUP BY`` on PostgreSQL and SQLite
alike). The same cells are the clusters (circles with the count, at the mean position of
their events) and the heat layer (coloured squares); the choropleth counts events per
community (or per grid inside a community) by their ``location_unit``.

Scope follows ``Event.scope_path_lookup`` with the ids of ``selectors.scope_unit_ids``:
an event is on the map when its dispatch centre, lead handler or location lies in the
user's subtree, so a street's staff count nothing of another street, in any cell. The
boundaries drawn are the divisions of the user's subtree (and the outline of the
nearest division above, for a department).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Floor
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from shapely.geometry import Point

from yiwang.core import policies
from yiwang.core.forms import StyledForm
from yiwang.core.geo import _prepared
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

from .catalog import published_catalog
from .models import OPEN_STATUSES, Category, Channel, Event, EventStatus, TimeState
from .reporting import _ring, _simplified
from .selectors import scope_unit_ids

MAP_WIDTH = 640
CELL_PX = 56             # one cluster / heat cell in SVG units: ~80 px on a desktop, ~30 on a phone
MIN_SPAN_LON = 0.004     # the closest zoom: about 400 m across
MAX_SPAN_LON = 5.0       # the widest view anyone needs of a district
MIN_ASPECT, MAX_ASPECT = 0.55, 1.25   # height / width of the drawn box
LIST_AT_MOST = 10        # a cluster this small lists its events instead of zooming in
LIST_LIMIT = 50
UNLOCATED_LIMIT = 20
MAX_UNITS = 600
HEAT_CLASSES = 6
CELL_KEY = 4096          # cells across and down are far fewer
DIVISIONS = (OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID)


class MapError(ValueError):
    """A map parameter that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- the box ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float

    @property
    def span_lon(self) -> float:
        return self.east - self.west

    @property
    def span_lat(self) -> float:
        return self.north - self.south

    @property
    def cos(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    def param(self) -> str:
        return ",".join(f"{v:.5f}" for v in (self.west, self.south, self.east, self.north))

    def around(self, lon: float, lat: float, span_lon: float) -> BBox:
        ratio = self.span_lat / self.span_lon if self.span_lon else 1.0
        half_lon, half_lat = span_lon / 2, span_lon * ratio / 2
        return BBox(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)

    def zoomed(self, factor: float) -> BBox:
        """Zoomed in (factor < 1) or out, about the centre, within the allowed spans."""
        span = min(max(self.span_lon * factor, MIN_SPAN_LON), MAX_SPAN_LON)
        return self.around((self.west + self.east) / 2, (self.south + self.north) / 2, span)

    def panned(self, dx: float, dy: float) -> BBox:
        """Moved by a fraction of the box: dx east, dy north."""
        lon, lat = self.span_lon * dx, self.span_lat * dy
        return BBox(self.west + lon, self.south + lat, self.east + lon, self.north + lat)

    def fitted(self) -> BBox:
        """The same centre with an aspect a page can draw (neither a strip nor a tower)."""
        west, south, east, north = self.west, self.south, self.east, self.north
        if east - west < MIN_SPAN_LON:
            mid = (west + east) / 2
            west, east = mid - MIN_SPAN_LON / 2, mid + MIN_SPAN_LON / 2
        box = BBox(west, south, east, north)
        aspect = box.span_lat / (box.span_lon * box.cos)
        if aspect < MIN_ASPECT:  # too flat: taller
            extra = (MIN_ASPECT * box.span_lon * box.cos - box.span_lat) / 2
            box = BBox(west, south - extra, east, north + extra)
        elif aspect > MAX_ASPECT:  # too tall: wider
            extra = (box.span_lat / (MAX_ASPECT * box.cos) - box.span_lon) / 2
            box = BBox(west - extra, south, east + extra, north)
        return box

    def padded(self, share: float) -> BBox:
        lon, lat = self.span_lon * share, self.span_lat * share
        return BBox(self.west - lon, self.south - lat, self.east + lon, self.north + lat)

    def intersects(self, unit: OrgUnit) -> bool:
        return not (unit.max_lon is None or unit.min_lon is None or unit.max_lat is None
                    or unit.min_lat is None or unit.max_lon < self.west
                    or unit.min_lon > self.east or unit.max_lat < self.south
                    or unit.min_lat > self.north)

    @classmethod
    def of_units(cls, units: list[OrgUnit]) -> BBox | None:
        boxed = [u for u in units if None not in (u.min_lon, u.min_lat, u.max_lon, u.max_lat)]
        if not boxed:
            return None
        return cls(min(float(u.min_lon or 0) for u in boxed),
                   min(float(u.min_lat or 0) for u in boxed),
                   max(float(u.max_lon or 0) for u in boxed),
                   max(float(u.max_lat or 0) for u in boxed))


def parse_bbox(text: str, field: str = "bbox") -> BBox:
    """``west,south,east,north`` in degrees (WGS 84), or MapError."""
    parts = [p.strip() for p in str(text).split(",")]
    message = gettext("Give the map area as four numbers: west,south,east,north "
                      "(longitude and latitude in degrees).")
    if len(parts) != 4:
        raise MapError(field, message)
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise MapError(field, message) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)) or not (
            -180 <= west < east <= 180 and -85 <= south < north <= 85):
        raise MapError(field, message)
    if east - west > MAX_SPAN_LON * 4:
        raise MapError(field, gettext("The map area is too large; choose a smaller one."))
    return BBox(west, south, east, north)


# --- filters ------------------------------------------------------------------------------


STATES: dict[str, Any] = {
    "open": pgettext_lazy("event state", "Open"),
    "overdue": _("Overdue"),
    "warning": _("Due soon"),
    "received": _("Waiting for dispatch"),
    "resolved": _("Resolved, waiting for callback"),
    "closed": _("Closed"),
    "all": _("All"),
}
LAYERS: dict[str, Any] = {
    "clusters": _("Clusters"),
    "heat": _("Heat"),
    "units": _("Per community"),
}


def level1_choices() -> list[tuple[str, str]]:
    catalog = published_catalog()
    if catalog is None:
        return []
    return [(c.code, f"{c.code} {c.name}") for c in Category.objects.filter(
        catalog=catalog, level=1).order_by("code").only("code", "name")]


class EventMapForm(StyledForm):
    """The map's GET parameters; a map view is a shareable URL."""

    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=list(STATES.items()))
    category = forms.ChoiceField(label=_("Category"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any")), *Channel.choices])
    since = forms.DateField(label=_("Received from"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Received until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.CharField(label=_("Street or community"), required=False, max_length=18)
    bbox = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)
    cell = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)
    layer = forms.ChoiceField(required=False, choices=list(LAYERS.items()),
                              widget=forms.HiddenInput)

    def __init__(self, *args: Any, units: list[OrgUnit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {u.code: u for u in units or []}
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("Any")), *level1_choices()]
        self.fields["unit"].widget = forms.Select(
            attrs={"class": "form-select"},
            choices=[("", _("All of my area")), *[
                (u.code, ("\u3000" if u.kind == OrgKind.COMMUNITY else "") + u.name)
                for u in units or [] if u.kind in (OrgKind.STREET, OrgKind.COMMUNITY)]])

    def clean_unit(self) -> OrgUnit | None:
        code = self.cleaned_data.get("unit") or ""
        if not code:
            return None
        unit = self.units.get(code)
        if unit is None:  # not a unit of the caller's map: the same answer as a missing one
            raise forms.ValidationError(gettext("No street or community with this code "
                                                "on your map."))
        return unit

    def _box(self, name: str) -> BBox | None:
        text = self.cleaned_data.get(name) or ""
        if not text:
            return None
        try:
            return parse_bbox(text, name)
        except MapError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_bbox(self) -> BBox | None:
        return self._box("bbox")

    def clean_cell(self) -> BBox | None:
        return self._box("cell")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", gettext("The end date is before the start date."))
        return data


@dataclass(frozen=True)
class Filters:
    state: str = "open"
    category: str = ""
    channel: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Filters:
        return cls(state=data.get("state") or "open", category=data.get("category") or "",
                   channel=data.get("channel") or "", since=data.get("since"),
                   until=data.get("until"))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def scoped_events(*, actor: Any) -> QuerySet[Event]:
    """The events ``actor`` may read on the map (dispatch, lead or location unit in scope)."""
    qs = Event.objects.all()
    if not policies.has_perm(actor, "events.view_event"):
        return qs.none()
    ids = scope_unit_ids(actor)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(Q(dispatch_unit_id__in=ids) | Q(handler_unit_id__in=ids)
                     | Q(location_unit_id__in=ids))


def filtered(qs: QuerySet[Event], f: Filters) -> QuerySet[Event]:
    if f.state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.state in ("overdue", "warning"):
        qs = qs.filter(status__in=OPEN_STATUSES, time_state=f.state)
    elif f.state == "received":
        qs = qs.filter(status=EventStatus.RECEIVED)
    elif f.state == "resolved":
        qs = qs.filter(status=EventStatus.RESOLVED)
    elif f.state == "closed":
        qs = qs.filter(status=EventStatus.CLOSED)
    else:
        qs = qs.exclude(status=EventStatus.MERGED)  # a merged event lives on in another
    if f.category:
        # Level-3 ids under the level-1 item: no join on the event rows.
        ids = list(Category.objects.filter(
            parent__parent__code=f.category, parent__parent__level=1,
            parent__parent__catalog__status="published").values_list("pk", flat=True))
        qs = qs.filter(category_id__in=ids)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.since:
        qs = qs.filter(received_at__gte=_day_start(f.since))
    if f.until:
        qs = qs.filter(received_at__lt=_day_start(f.until + dt.timedelta(days=1)))
    return qs


# --- the picture ------------------------------------------------------------------------


@dataclass
class Shape:
    unit: OrgUnit
    d: str
    label_x: float
    label_y: float
    labelled: bool = False
    count: int | None = None   # the choropleth's figure
    heat: int = 0               # its colour class (0: none)
    name: str = ""
    href: str = ""
    outside: bool = False       # beside the chosen street or community: greyed


@dataclass
class Cluster:
    cx: int
    cy: int
    count: int
    open: int
    overdue: int
    lon: float
    lat: float
    x: float
    y: float
    r: float
    box: BBox
    place: str = ""
    heat: int = 0
    square: tuple[float, float, float] = (0.0, 0.0, 0.0)  # heat cell x, y, size
    href: str = ""
    lists: bool = False         # its link lists its events (no zoom)

    @property
    def label(self) -> str:
        parts = [gettext("%(n)s events") % {"n": self.count} if self.count != 1
                 else gettext("1 event")]
        if self.overdue:
            parts.append(gettext("%(n)s overdue") % {"n": self.overdue})
        if self.place:
            parts.append(self.place)
        return gettext(", ").join(parts)

    @property
    def ring_r(self) -> float:
        return round(self.r + 4, 1)

    @property
    def text(self) -> str:
        if self.count >= 100_000:
            return f"{self.count // 1000}k"
        if self.count >= 10_000:
            return f"{self.count / 1000:.0f}k"
        return str(self.count)


@dataclass
class EventMap:
    box: BBox
    home: BBox
    width: int
    height: int
    scale: float
    cell_lon: float
    cell_lat: float
    shapes: list[Shape] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    located: int = 0
    legend: list[tuple[int, str]] = field(default_factory=list)   # (class, range text)
    finest: bool = False

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.box.west) * self.box.cos * self.scale,
                (self.box.north - lat) * self.scale)


def map_units(actor: Any) -> list[OrgUnit]:
    """The divisions drawn for ``actor``: those of their subtree with a boundary, or the
    nearest division above their unit (a department sees its district's outline)."""
    root = policies.scope_path(actor)
    if root is None:
        return []
    fields = ("id", "code", "name", "kind", "path", "depth", "parent_id", "boundary",
              "min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon", "centroid_lat")
    qs = OrgUnit.objects.filter(is_active=True, min_lon__isnull=False).only(*fields)
    units = list(qs.filter(path__startswith=root,
                           kind__in=(OrgKind.DISTRICT, *DIVISIONS))
                 .order_by("depth", "path")[:MAX_UNITS])
    if units or root == "/":
        return units
    codes = [c for c in root.strip("/").split("/")][:-1]
    above = list(qs.filter(code__in=codes, kind__in=(OrgKind.DISTRICT, *DIVISIONS))
                 .order_by("-depth")[:1])
    return above


def _classes(values: list[int]) -> tuple[list[int], list[tuple[int, str]]]:
    """Colour classes 1..HEAT_CLASSES on a geometric scale up to the largest value, and
    the legend's ranges."""
    top = max(values, default=0)
    if top <= 0:
        return [0 for _v in values], []
    steps = min(HEAT_CLASSES, top)
    edges = sorted({max(1, round(top ** (i / steps))) for i in range(steps + 1)})
    bounds = list(itertools.pairwise(edges)) or [(1, 1)]  # edges start at 1

    def klass(value: int) -> int:
        if value <= 0:
            return 0
        for i, (_low, high) in enumerate(bounds, start=1):
            if value <= high:
                return i
        return len(bounds)

    legend = []
    previous = 0
    for i, (_low, high) in enumerate(bounds, start=1):
        low = previous + 1
        legend.append((i, f"{low}" if low >= high else f"{low}–{high}"))
        previous = high
    return [klass(v) for v in values], legend


def _place_finder(units: list[OrgUnit]) -> Any:
    """Names a point by the street and community it lies in (grids are too fine for a
    cluster); prepared shapes are cached per boundary (``core.geo``)."""
    prepared: list[tuple[OrgUnit, Any]] = [
        (u, _prepared(u.pk, json.dumps(u.boundary, sort_keys=True)))
        for u in sorted(units, key=lambda u: -u.depth)  # finest first
        if u.kind in (OrgKind.STREET, OrgKind.COMMUNITY) and u.boundary]
    paths = {u.path: u for u in units}

    def place(lon: float, lat: float) -> str:
        point = Point(lon, lat)
        for unit, geom in prepared:
            if (unit.min_lon or 0) <= lon <= (unit.max_lon or 0) and \
                    (unit.min_lat or 0) <= lat <= (unit.max_lat or 0) and geom.contains(point):
                chain = []
                for prefix in _prefixes(unit.path):
                    found = paths.get(prefix)
                    if found is not None and found.kind in DIVISIONS:
                        chain.append(found.name)
                return " · ".join(chain)
        return ""

    return place


def _prefixes(path: str) -> list[str]:
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def build_map(*, actor: Any, units: list[OrgUnit], filters: Filters, box: BBox | None,
              focus: OrgUnit | None, layer: str) -> EventMap | None:
    """The map for one view, or None when there is nothing to draw on (no boundaries and
    no located event)."""
    qs = filtered(scoped_events(actor=actor), filters)
    home_units = [focus] if focus is not None else units
    home = BBox.of_units(home_units)
    if home is None:
        return None
    home = home.padded(0.03).fitted()
    box = (box or home).fitted()
    if box.span_lon > MAX_SPAN_LON:
        box = box.zoomed(1.0)
    cos = box.cos
    scale = MAP_WIDTH / (box.span_lon * cos)
    height = round(box.span_lat * scale)
    cell_lon = CELL_PX / (scale * cos)
    cell_lat = CELL_PX / scale
    result = EventMap(box=box, home=home, width=MAP_WIDTH, height=height, scale=scale,
                      cell_lon=cell_lon, cell_lat=cell_lat,
                      finest=box.span_lon < MIN_SPAN_LON * 1.5)
    _draw_units(result, units, focus=focus, layer=layer)
    if layer == "units":
        _choropleth(result, qs, units, focus=focus)
    else:
        _clusters(result, qs, units)
    return result


def _draw_units(result: EventMap, units: list[OrgUnit], *, focus: OrgUnit | None,
                layer: str) -> None:
    box = result.box.padded(0.05)
    # A third of an SVG unit: a street's edge and its communities' edges, simplified
    # apart, still fall on one line.
    tolerance = result.box.span_lon / MAP_WIDTH / 3
    fine = result.box.span_lon < 0.05 or (focus is not None and focus.kind != OrgKind.STREET)
    for unit in units:
        if not box.intersects(unit) or not unit.boundary:
            continue
        if unit.kind == OrgKind.GRID and not fine:
            continue
        geom = _simplified(json.dumps(unit.boundary, sort_keys=True), tolerance)
        polygons = list(getattr(geom, "geoms", [geom]))
        d = "".join(_ring(p.exterior.coords, result) for p in polygons  # type: ignore[arg-type]
                    if hasattr(p, "exterior"))
        if not d:
            continue
        lon = unit.centroid_lon if unit.centroid_lon is not None else geom.centroid.x
        lat = unit.centroid_lat if unit.centroid_lat is not None else geom.centroid.y
        x, y = result.xy(lon, lat)
        outside = focus is not None and not (unit.path.startswith(focus.path)
                                             or focus.path.startswith(unit.path))
        result.shapes.append(Shape(unit, d, round(x, 1), round(y, 1), name=unit.name,
                                   outside=outside))
    kinds = {s.unit.kind for s in result.shapes}
    # Label the finest level that stays readable: streets across the district,
    # communities inside a street, grids inside a community.
    focus_kind = focus.kind if focus is not None else ""
    span = result.box.span_lon
    label_kind = OrgKind.STREET if OrgKind.STREET in kinds else OrgKind.DISTRICT
    if focus_kind == OrgKind.STREET or (span < 0.08 and OrgKind.COMMUNITY in kinds):
        label_kind = OrgKind.COMMUNITY
    if focus_kind in (OrgKind.COMMUNITY, OrgKind.GRID) or (span < 0.015
                                                          and OrgKind.GRID in kinds):
        label_kind = OrgKind.GRID if OrgKind.GRID in kinds else OrgKind.COMMUNITY
    for shape in result.shapes:
        shape.labelled = shape.unit.kind == label_kind and \
            0 <= shape.label_x <= result.width and 0 <= shape.label_y <= result.height


def _clusters(result: EventMap, qs: QuerySet[Event], units: list[OrgUnit]) -> None:
    box = result.box
    west, north = Value(box.west), Value(box.north)
    per_lon, per_lat = Value(1 / result.cell_lon), Value(1 / result.cell_lat)
    column = Cast(Floor((F("lon") - west) * per_lon, output_field=FloatField()),
                  IntegerField())
    row_ = Cast(Floor((north - F("lat")) * per_lat, output_field=FloatField()),
                IntegerField())
    # One integer key per cell (column * CELL_KEY + row; both are small and not negative
    # inside the box): PostgreSQL then estimates few groups and hashes them, where two
    # keys made it sort every row.
    rows = (qs.filter(lon__gte=box.west, lon__lt=box.east, lat__gt=box.south,
                      lat__lte=box.north)
            .annotate(cell=ExpressionWrapper(column * Value(CELL_KEY) + row_,
                                             output_field=IntegerField()))
            .values("cell")
            # Not COUNT(id): open events then come from the index alone.
            .annotate(n=Count("*"),
                      n_open=Count("status", filter=Q(status__in=OPEN_STATUSES)),
                      n_overdue=Count("status", filter=Q(status__in=OPEN_STATUSES,
                                                         time_state=TimeState.OVERDUE)),
                      mean_lon=Avg("lon"), mean_lat=Avg("lat"))
            .order_by())
    place = _place_finder(units)
    clusters = []
    for row in rows:
        cx, cy = divmod(int(row["cell"]), CELL_KEY)
        n = int(row["n"])
        lon, lat = float(row["mean_lon"]), float(row["mean_lat"])
        x, y = result.xy(lon, lat)
        cell = BBox(box.west + cx * result.cell_lon, box.north - (cy + 1) * result.cell_lat,
                    box.west + (cx + 1) * result.cell_lon, box.north - cy * result.cell_lat)
        radius = min(CELL_PX * 0.5, 9 + 4 * len(str(n)))
        clusters.append(Cluster(
            cx=cx, cy=cy, count=n, open=int(row["n_open"]), overdue=int(row["n_overdue"]),
            lon=lon, lat=lat, x=round(x, 1), y=round(y, 1), r=round(radius, 1), box=cell,
            place=place(lon, lat),
            square=(round(cx * CELL_PX, 1), round(cy * CELL_PX, 1), CELL_PX)))
    classes, result.legend = _classes([c.count for c in clusters])
    for cluster, klass in zip(clusters, classes, strict=True):
        cluster.heat = klass
    clusters.sort(key=lambda c: (-c.count, c.cy, c.cx))
    result.clusters = clusters
    result.located = sum(c.count for c in clusters)


def choropleth_kind(focus: OrgUnit | None) -> str:
    if focus is not None and focus.kind in (OrgKind.COMMUNITY, OrgKind.GRID):
        return OrgKind.GRID
    return OrgKind.COMMUNITY


def _choropleth(result: EventMap, qs: QuerySet[Event], units: list[OrgUnit], *,
                focus: OrgUnit | None) -> None:
    """Events per community (per grid inside a community), by their location unit."""
    kind = choropleth_kind(focus)
    by_path = {u.path: u for u in units}
    per_unit = dict(qs.filter(location_unit__isnull=False).values("location_unit_id")
                    .annotate(n=Count("id")).order_by().values_list("location_unit_id", "n"))
    paths = dict(OrgUnit.objects.filter(pk__in=list(per_unit)).values_list("pk", "path"))
    counts: dict[str, int] = {}
    for unit_id, n in per_unit.items():
        for prefix in _prefixes(paths.get(unit_id, "")):
            target = by_path.get(prefix)
            if target is not None and target.kind == kind:
                counts[target.path] = counts.get(target.path, 0) + n
    shown = [s for s in result.shapes if s.unit.kind == kind
             and (focus is None or s.unit.path.startswith(focus.path))]
    for s in shown:
        s.count = counts.get(s.unit.path, 0)
    classes, result.legend = _classes([s.count or 0 for s in shown])
    for s, klass in zip(shown, classes, strict=True):
        s.heat = klass
    if kind == OrgKind.GRID:
        for s in result.shapes:
            s.labelled = s.unit.kind == OrgKind.GRID and s in shown
    result.located = sum(counts.values())


def cell_events(*, actor: Any, filters: Filters, cell: BBox) -> list[Event]:
    """The events of one cluster's cell (at most LIST_LIMIT, newest first)."""
    qs = filtered(scoped_events(actor=actor), filters).filter(
        lon__gte=cell.west, lon__lt=cell.east, lat__gt=cell.south, lat__lte=cell.north)
    return list(qs.select_related("category", "location_unit")
                .order_by("-received_at", "-pk")[:LIST_LIMIT])


def unlocated(*, actor: Any, filters: Filters) -> tuple[int, list[Event]]:
    """Events in scope without coordinates (未定位): how many, and the oldest first,
    since the dispatcher must place them."""
    # ``event_create`` stores both coordinates or neither; the partial index
    # ``event_unlocated_idx`` holds these rows.
    qs = filtered(scoped_events(actor=actor), filters).filter(lat__isnull=True)
    # Ids first, from the index alone (a closed event may stay unlocated for years:
    # the open ones must not need a visit to every old row), then those rows.
    ids = list(qs.order_by("received_at", "pk").values_list("pk", flat=True)
               [:UNLOCATED_LIMIT])
    rows = sorted(Event.objects.filter(pk__in=ids).select_related("location_unit"),
                  key=lambda e: (e.received_at, e.pk))
    return qs.count(), rows
