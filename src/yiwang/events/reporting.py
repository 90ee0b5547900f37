"""Reporting a problem from a phone: the grid worker's 采集上报 / 自处置 and the citizen's
portal appeal share this: the offline point picker (org boundaries drawn as an inline
SVG, no map tiles), the place of a point in plain words, and the one submit that
registers the event with its photos, at most once per client key.

A phone on a slow network may send the same form twice (the first answer never
arrived): the form carries a key generated in the browser, which becomes the event's
``source_ref`` (prefixed with the channel's user, so nobody can reach another's event
by guessing keys); a repeated submit returns the event already registered and adds no
photo.
"""

from __future__ import annotations

import functools
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from yiwang.core.geo import locate
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

from .attachments import (
    IMAGE_ACCEPT,
    IMAGE_TYPES,
    MAX_FILES,
    attachment_add,
    discard_on_error,
    image_check,
)
from .catalog import published_catalog
from .intake import intake_event
from .models import Category, Event, EventAttachment

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAP_WIDTH = 1000
MAX_MAP_UNITS = 400


# --- photos -----------------------------------------------------------------------------


def check_photos(files: list[Any], *, label: str = "") -> list[tuple[Any, Any]]:
    """Each upload checked as a photo: [(upload, CheckedUpload)] or ValidationError."""
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise ValidationError(_("Attach at most %(n)d photos.") % {"n": MAX_FILES})
    checked = []
    for upload in files:
        try:
            checked.append((upload, image_check(upload)))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("file", exc.messages)) from None
    return checked


# --- places -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a point lies, in words."""

    lat: float
    lon: float
    street: OrgUnit | None
    community: OrgUnit | None
    grid: OrgUnit | None

    @property
    def finest(self) -> OrgUnit | None:
        return self.grid or self.community or self.street

    @property
    def words(self) -> str:
        names = [u.name for u in (self.street, self.community, self.grid) if u is not None]
        return " · ".join(names)

    def inside(self, unit: OrgUnit | None) -> bool:
        finest = self.finest
        return bool(unit is not None and finest is not None
                    and finest.path.startswith(unit.path))


def place_of(*, lat: float, lon: float) -> Place:
    found = locate(lon, lat)
    return Place(lat, lon, found.street, found.community, found.grid)


def parse_point(lat: Any, lon: Any) -> tuple[float, float] | None:
    """(lat, lon) from form text, or None when absent or not a point on earth."""
    try:
        lat_f, lon_f = float(str(lat).strip()), float(str(lon).strip())
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return round(lat_f, 6), round(lon_f, 6)


# --- the offline map --------------------------------------------------------------------


@dataclass
class MapShape:
    unit: OrgUnit
    d: str
    label_x: float
    label_y: float
    mine: bool = False


@dataclass
class OfflineMap:
    """Org boundaries projected to SVG coordinates (equirectangular, scaled by the
    cosine of the mid latitude); the page's script turns a tap back into a point with
    ``min_lon``, ``max_lat``, ``scale`` and ``cos``."""

    width: int
    height: int
    min_lon: float
    max_lat: float
    scale: float
    cos: float
    shapes: list[MapShape] = field(default_factory=list)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.min_lon) * self.cos * self.scale,
                (self.max_lat - lat) * self.scale)


def _ring(points: Any, projector: OfflineMap) -> str:
    coords = [projector.xy(x, y) for x, y in points]
    if len(coords) < 3:
        return ""
    head = "M{:.1f} {:.1f}".format(*coords[0])
    rest = "".join("L{:.1f} {:.1f}".format(*c) for c in coords[1:])
    return f"{head}{rest}Z"


@functools.lru_cache(maxsize=2048)
def _simplified(boundary_json: str, tolerance: float) -> Any:
    geom = shape(json.loads(boundary_json))
    return geom.simplify(tolerance, preserve_topology=True)


def offline_map(units: list[OrgUnit], *, mine: OrgUnit | None = None) -> OfflineMap | None:
    """The map of ``units`` (those with a boundary), or None when none has one."""
    units = [u for u in units if u.boundary and None not in (
        u.min_lon, u.min_lat, u.max_lon, u.max_lat)][:MAX_MAP_UNITS]
    if not units:
        return None
    min_lon = min(float(u.min_lon or 0) for u in units)
    max_lon = max(float(u.max_lon or 0) for u in units)
    min_lat = min(float(u.min_lat or 0) for u in units)
    max_lat = max(float(u.max_lat or 0) for u in units)
    pad_lon, pad_lat = (max_lon - min_lon) * 0.03, (max_lat - min_lat) * 0.03
    min_lon, max_lon = min_lon - pad_lon, max_lon + pad_lon
    min_lat, max_lat = min_lat - pad_lat, max_lat + pad_lat
    cos = math.cos(math.radians((min_lat + max_lat) / 2))
    span = max((max_lon - min_lon) * cos, 1e-9)
    scale = MAP_WIDTH / span
    height = max(200, min(1600, round((max_lat - min_lat) * scale)))
    projector = OfflineMap(MAP_WIDTH, height, min_lon, max_lat, scale, cos)
    tolerance = span / MAP_WIDTH  # one SVG unit: finer detail is not visible
    for unit in sorted(units, key=lambda u: (u.depth, u.path)):
        geom = _simplified(json.dumps(unit.boundary, sort_keys=True), tolerance)
        polygons = list(getattr(geom, "geoms", [geom]))
        d = "".join(_ring(p.exterior.coords, projector) for p in polygons
                    if hasattr(p, "exterior"))
        if not d:
            continue
        lon = unit.centroid_lon if unit.centroid_lon is not None else geom.centroid.x
        lat = unit.centroid_lat if unit.centroid_lat is not None else geom.centroid.y
        x, y = projector.xy(lon, lat)
        projector.shapes.append(MapShape(unit, d, round(x, 1), round(y, 1),
                                         mine=mine is not None and unit.pk == mine.pk))
    return projector


def map_units_for_portal() -> list[OrgUnit]:
    """Streets and communities of the district (public geography)."""
    return list(OrgUnit.objects.filter(
        kind__in=[OrgKind.STREET, OrgKind.COMMUNITY], is_active=True,
        min_lon__isnull=False).order_by("depth", "path")[:MAX_MAP_UNITS])


def map_units_for_grid(unit: OrgUnit | None) -> list[OrgUnit]:
    """The worker's street: its communities and grids, so a neighbouring grid shows."""
    if unit is None:
        return map_units_for_portal()
    chain = [*unit.ancestors(), unit]
    street = next((u for u in chain if u.kind == OrgKind.STREET), None)
    root = street or unit
    return list(OrgUnit.objects.filter(
        path__startswith=root.path, is_active=True, min_lon__isnull=False,
        kind__in=[OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID],
    ).order_by("depth", "path")[:MAX_MAP_UNITS])


# --- the catalog ------------------------------------------------------------------------


def category_by_code(code: str) -> Category | None:
    catalog = published_catalog()
    if catalog is None or not code:
        return None
    return (Category.objects.select_related("handler_unit")
            .filter(catalog=catalog, code=code, level=3, active=True).first())


def category_search(text: str, *, limit: int = 10) -> list[Category]:
    catalog = published_catalog()
    text = text.strip()[:50]
    if catalog is None or not text:
        return []
    return list(Category.objects.filter(catalog=catalog, level=3, active=True,
                                        name__icontains=text).order_by("code")[:limit])


# --- submit -----------------------------------------------------------------------------


def new_key() -> str:
    """A fresh form key (the page's script makes its own when it resets the form)."""
    return secrets.token_urlsafe(18)


def source_ref(*, actor: Any, key: str) -> str:
    if not KEY_RE.match(key or ""):
        raise ValidationError({"key": [_("The form is out of date; reload the page.")]})
    return f"u{actor.pk}:{key}"


def already_submitted(*, actor: Any, channel: str, key: str) -> Event | None:
    """The event this user already registered with this form key, if any."""
    if not KEY_RE.match(key or ""):
        return None
    return Event.objects.filter(channel=channel, source_ref=f"u{actor.pk}:{key}").first()


def resent(event: Event, post: Any) -> bool:
    """The form sent again is the report registered with its key (a resend), not a new
    text typed over a kept draft."""
    return " ".join(str(post.get("description", "")).split()) == \
        " ".join(event.description.split())


def with_new_key(post: Any) -> Any:
    """The sent data with a fresh key: a different report typed over a used form."""
    data = post.copy()
    data["key"] = new_key()
    return data


def report_submit(
    *, actor: Any, channel: str, key: str, description: str, appeal_type: str = "",
    category: Category | None = None, lat: float | None = None, lon: float | None = None,
    address: str = "", photos: list[tuple[Any, Any]] | None = None,
    after_photos: list[tuple[Any, Any]] | None = None, resolved_on_spot: str = "",
    reporter: Any = None, reporter_name: str = "", reporter_phone: str = "",
) -> tuple[Event, bool]:
    """Register the report with its photos (stage ``report``) and, for 自处置, the
    after-photos (stage ``result``): all or nothing. Returns (event, created); a repeated
    key returns the event already registered and stores nothing."""
    ref = source_ref(actor=actor, key=key)
    existing = Event.objects.filter(channel=channel, source_ref=ref).first()
    if existing is not None:
        return existing, False
    for _upload, checked in [*(photos or []), *(after_photos or [])]:
        if checked.content_type not in IMAGE_TYPES:
            raise ValidationError({"photos": [_("Only photos can be attached.")]})
    with discard_on_error(), transaction.atomic():
        event = intake_event(
            actor=actor, channel=channel, description=description, appeal_type=appeal_type,
            category=category, lat=lat, lon=lon, address=address, reporter=reporter,
            reporter_name=reporter_name, reporter_phone=reporter_phone, source_ref=ref,
            resolved_on_spot=resolved_on_spot)
        if event.attachments.exists():  # a concurrent submit of the same form won
            return event, False
        for upload, checked in photos or []:
            attachment_add(actor=actor, event=event, upload=upload, checked=checked,
                           stage=EventAttachment.Stage.REPORT)
        for upload, checked in after_photos or []:
            attachment_add(actor=actor, event=event, upload=upload, checked=checked,
                           stage=EventAttachment.Stage.RESULT)
    return event, True


# --- form pieces ------------------------------------------------------------------------


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_FILES`` photos (JPEG/PNG), each checked by its content; cleans to
    [(upload, CheckedUpload)]. On a phone, ``capture`` opens the camera."""

    def __init__(self, *args: Any, capture: bool = False, **kwargs: Any) -> None:
        attrs = {"accept": IMAGE_ACCEPT}
        if capture:
            attrs["capture"] = "environment"
        kwargs.setdefault("widget", MultiplePhotoInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[tuple[Any, Any]]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        return check_photos(files, label=str(self.label))
