"""Pages: the staff map of events (一张图). One GET page whose every view — filters,
layer, pan, zoom, a chosen street or community, a cluster's list — is its URL; htmx swaps
only the map region (``hx-boost`` with ``hx-select``), and without JavaScript the links
and the form work as they are. The drawing is ``events.eventmap``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import eventmap
from ..eventmap import BBox, Cluster, EventMapForm, Filters
from ..models import OPEN_STATUSES
from .dispatch import event_permission_required

PARAMS = ("state", "category", "channel", "since", "until", "unit", "bbox", "cell", "layer")


class _Links:
    """URLs of this map with some parameters changed (the others kept as given)."""

    def __init__(self, base: str, params: dict[str, str]) -> None:
        self.base = base
        self.params = {k: v for k, v in params.items() if v}

    def to(self, **changes: Any) -> str:
        params = dict(self.params)
        params.pop("cell", None)  # a list belongs to one view
        for key, value in changes.items():
            if value in (None, ""):
                params.pop(key, None)
            else:
                params[key] = value.param() if isinstance(value, BBox) else str(value)
        ordered = {k: params[k] for k in PARAMS if k in params}
        return f"{self.base}?{urlencode(ordered)}" if ordered else self.base


def _cluster_href(links: _Links, cluster: Cluster, result: eventmap.EventMap) -> str:
    if cluster.count <= eventmap.LIST_AT_MOST or result.finest:
        return links.to(bbox=result.box, cell=cluster.box) + "#map-list"
    span = max(cluster.box.span_lon * 4, eventmap.MIN_SPAN_LON)
    centre_lon = (cluster.box.west + cluster.box.east) / 2
    centre_lat = (cluster.box.south + cluster.box.north) / 2
    return links.to(bbox=result.box.around(centre_lon, centre_lat, span))


@require_GET
@event_permission_required()
def event_map(request: HttpRequest) -> HttpResponse:
    """The map of the events in my scope: clusters, heat, or per community."""
    user = request.user
    units = eventmap.map_units(user)
    form = EventMapForm(request.GET or None, units=units)
    context: dict[str, Any] = {"form": form, "states": eventmap.STATES,
                               "layers": eventmap.LAYERS}
    if form.is_bound and not form.is_valid():
        context["errors"] = [(form[name].label or name, error) for name, errors
                             in form.errors.items() for error in errors]
        return render(request, "events/map/map.html", context, status=400)
    data: dict[str, Any] = form.cleaned_data if form.is_bound else {}
    filters = Filters.of(data)
    layer = data.get("layer") or "clusters"
    focus = data.get("unit")
    raw = {k: request.GET.get(k, "") for k in PARAMS}
    links = _Links(reverse("events:map"), raw)
    result = eventmap.build_map(actor=user, units=units, filters=filters,
                                box=data.get("bbox"), focus=focus, layer=layer)
    cell = data.get("cell")
    count_unlocated, unlocated = eventmap.unlocated(actor=user, filters=filters)
    context.update({
        "map": result, "layer": layer, "focus": focus, "filters": filters,
        "state_label": eventmap.STATES.get(filters.state, ""),
        "unlocated": unlocated, "unlocated_count": count_unlocated,
        "unlocated_more": count_unlocated > len(unlocated),
        "cell_events": eventmap.cell_events(actor=user, filters=filters, cell=cell)
        if cell is not None else None,
        "open_statuses": [str(s) for s in OPEN_STATUSES],
        "layer_links": [{"code": code, "label": label, "url": links.to(layer=code),
                         "current": code == layer} for code, label in eventmap.LAYERS.items()],
        "list_close_url": links.to(),
        "list_limit": eventmap.LIST_LIMIT,
    })
    if result is not None:
        box = result.box
        context["nav"] = {
            "zoom_in": links.to(bbox=box.zoomed(0.5)) if not result.finest else "",
            "zoom_out": links.to(bbox=box.zoomed(2.0)),
            "north": links.to(bbox=box.panned(0, 0.5)),
            "south": links.to(bbox=box.panned(0, -0.5)),
            "west": links.to(bbox=box.panned(-0.5, 0)),
            "east": links.to(bbox=box.panned(0.5, 0)),
            "home": links.to(bbox=None),
        }
        for cluster in result.clusters:
            cluster.href = _cluster_href(links, cluster, result)
            cluster.lists = cluster.count <= eventmap.LIST_AT_MOST or result.finest
        for shape in result.shapes:
            shape.href = links.to(unit=shape.unit.code, bbox=None)
        if cell is not None:  # outline the listed cell
            x0, y0 = result.xy(cell.west, cell.north)
            x1, y1 = result.xy(cell.east, cell.south)
            context["cell_rect"] = [round(v, 1) for v in (x0, y0, x1 - x0, y1 - y0)]
        context["unit_rows"] = sorted((s for s in result.shapes if s.count is not None),
                                      key=lambda s: (-(s.count or 0), s.name))
        context["title_text"] = _map_title(result, layer, focus)
    return render(request, "events/map/map.html", context)


def _map_title(result: eventmap.EventMap, layer: str, focus: Any) -> str:
    where = focus.name if focus is not None else _("my area")
    if layer == "units":
        return _("Events per unit in %(where)s") % {"where": where}
    if layer == "heat":
        return _("Heat map of events in %(where)s") % {"where": where}
    return _("Clusters of events in %(where)s") % {"where": where}


urlpatterns: list[URLPattern] = [
    path("events/map/", event_map, name="map"),
]
