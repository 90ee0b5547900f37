"""The staff events map (一张图): cluster counts equal a direct count, filters, scope per
role (including through cluster counts and lists), events without a location, bad
parameters, layers and their accessible names, a constant number of queries."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_staff
from yiwang.events import eventmap
from yiwang.events.eventmap import BBox, Filters
from yiwang.events.models import Channel, Event, EventStatus, TimeState
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

pytestmark = pytest.mark.django_db
URL = "/events/map/"


@pytest.fixture
def d(district, settings):
    settings.LANGUAGE_CODE = "en"  # assertions on English text, whatever is compiled
    load_catalog()
    add_event_staff(district)
    return district


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(user, **params):
    return client_for(user).get(URL, params)


def at(d, unit, lon: float, lat: float, **extra) -> Event:
    """An event at a point of ``unit`` (a community of the test district)."""
    street = d.street_a if unit.path.startswith(d.street_a.path) else d.street_b
    return new_event(d, lat=lat, lon=lon, location_unit=unit, street=street, **extra)


def set_state(event: Event, status: str, time_state: str = TimeState.NORMAL) -> None:
    Event.objects.filter(pk=event.pk).update(status=status, time_state=time_state)


def cluster_total(html: str) -> int:
    """The sum of the cluster figures in the table under the map."""
    table = html.split('class="yw-emap__table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>.*?</td><td class=\"text-end\">(\d+)</td>", table, re.S)
    return sum(int(n) for n in rows)


def scatter(d, n: int, seed: int = 5) -> list[Event]:
    """``n`` events at random points of community A (west) and community B (east)."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        unit, west = (d.community_a, 114.0) if i % 3 else (d.community_b, 114.1)
        events.append(at(d, unit, west + rng.uniform(0.001, 0.049),
                         22.5 + rng.uniform(0.001, 0.049)))
    return events


# --- clustering ---------------------------------------------------------------------------


def test_map__cluster_counts_equal_a_direct_count(d):
    scatter(d, 24)
    dispatcher = d.users["dispatcher"]
    result = eventmap.build_map(actor=dispatcher, units=eventmap.map_units(dispatcher),
                                filters=Filters(state="all"), box=None, focus=None,
                                layer="clusters")
    assert result is not None
    assert result.clusters, "the events are drawn as clusters"
    for cluster in result.clusters:
        direct = Event.objects.filter(
            lon__gte=cluster.box.west, lon__lt=cluster.box.east,
            lat__gt=cluster.box.south, lat__lte=cluster.box.north).count()
        assert cluster.count == direct, cluster
    box = result.box
    assert result.located == Event.objects.filter(
        lon__gte=box.west, lon__lt=box.east, lat__gt=box.south, lat__lte=box.north).count()
    assert result.located == 24
    html = get(dispatcher, state="all").content.decode()
    assert cluster_total(html) == 24
    assert "24 events on the map" in html


def test_map__zoomed_cells_still_add_up(d):
    scatter(d, 18)
    dispatcher = d.users["dispatcher"]
    box = BBox(114.0, 22.5, 114.05, 22.55)  # community A only
    result = eventmap.build_map(actor=dispatcher, units=eventmap.map_units(dispatcher),
                                filters=Filters(state="all"), box=box, focus=None,
                                layer="clusters")
    assert result is not None
    shown = result.box
    assert result.located == Event.objects.filter(
        lon__gte=shown.west, lon__lt=shown.east, lat__gt=shown.south,
        lat__lte=shown.north).count() == 12


def test_map__small_cluster_lists_its_events_large_one_zooms(d):
    events = [at(d, d.community_a, 114.010, 22.510) for _i in range(12)]  # one building
    one = at(d, d.community_b, 114.14, 22.54)
    html = get(d.users["dispatcher"], state="all").content.decode()
    assert re.search(r'href="/events/map/\?[^"]*cell=[^"]*#map-list" hx-get="[^"]+"'
                     r' class="yw-emap__cluster" aria-label="1 event, 乙街道 · 乙一社区"',
                     html)  # a small one lists
    assert one.number not in html
    assert 'aria-label="12 events, Street A' not in html  # names come from the boundaries
    assert re.search(r'aria-label="12 events, 甲街道 · 甲一社区', html)
    zoom = re.search(r'<a href="(/events/map/\?[^"]*bbox=[^"]*)" hx-get="[^"]+"'
                     r' class="yw-emap__cluster" aria-label="12 events', html)
    assert zoom, "a large cluster zooms in"
    zoomed = client_for(d.users["dispatcher"]).get(zoom.group(1).replace("&amp;", "&"))
    assert zoomed.status_code == 200
    # Zoomed all the way in, the cluster lists its events.
    box = BBox(114.008, 22.5085, 114.012, 22.5115)
    html = get(d.users["dispatcher"], state="all", bbox=box.param()).content.decode()
    link = re.search(r'href="(/events/map/\?[^"]*cell=[^"#]*)#map-list"', html)
    assert link, "at the closest zoom a cluster lists its events"
    listed = client_for(d.users["dispatcher"]).get(link.group(1).replace("&amp;", "&"))
    text = listed.content.decode()
    assert "12 events here" in text
    assert all(e.number in text for e in events)


# --- filters ------------------------------------------------------------------------------


def test_map__filters_state_category_channel_time(d):
    now = timezone.now()
    open_one = at(d, d.community_a, 114.01, 22.51)
    overdue = at(d, d.community_a, 114.02, 22.52)
    set_state(overdue, EventStatus.IN_PROGRESS, TimeState.OVERDUE)
    closed = at(d, d.community_a, 114.03, 22.53)
    set_state(closed, EventStatus.CLOSED)
    other_category = at(d, d.community_a, 114.04, 22.54, code="020101")  # level 1 "02"
    grid = at(d, d.community_a, 114.011, 22.511, channel=Channel.GRID)
    old = at(d, d.community_a, 114.012, 22.512)
    Event.objects.filter(pk=old.pk).update(received_at=now - dt.timedelta(days=40))
    user = d.users["dispatcher"]

    def located(**params) -> int:
        html = get(user, **params).content.decode()
        return cluster_total(html)

    assert located() == 5  # default: open events
    assert located(state="all") == 6
    assert located(state="closed") == 1
    assert located(state="overdue") == 1
    assert located(state="all", category="02") == 1
    assert located(state="all", category="01") == 5
    assert located(state="all", channel="grid") == 1
    since = (now - dt.timedelta(days=10)).date().isoformat()
    assert located(state="all", since=since) == 5
    until = (now - dt.timedelta(days=30)).date().isoformat()
    assert located(state="all", until=until) == 1
    assert {open_one.pk, grid.pk, other_category.pk} <= set(
        Event.objects.values_list("pk", flat=True))


def test_map__overdue_cluster_says_so(d):
    event = at(d, d.community_a, 114.01, 22.51)
    set_state(event, EventStatus.IN_PROGRESS, TimeState.OVERDUE)
    at(d, d.community_a, 114.0101, 22.5101)
    html = get(d.users["dispatcher"]).content.decode()
    assert re.search(r'class="yw-emap__cluster has-overdue" aria-label="2 events, 1 overdue,',
                     html)
    assert "yw-emap__ring" in html


# --- scope --------------------------------------------------------------------------------


def test_map__street_staff_see_only_their_street(d):
    mine = scatter(d, 9)  # 6 in community A (street A), 3 in community B (street B)
    hidden_title = "乙街道的秘密事件"
    b_unlocated = new_event(d, title=hidden_title, location_unit=d.community_b,
                            street=d.street_b)
    a_unlocated = new_event(d, title="甲街道待定位")
    for who in ("street_handler", "handler_a"):
        user = d.users[who]
        html = get(user, state="all").content.decode()
        assert cluster_total(html) == 6, who
        assert "乙街道" not in html and "乙一社区" not in html, who  # no boundary, no name
        assert hidden_title not in html and b_unlocated.number not in html
        assert a_unlocated.number in html
        # Nor through a list of the other street's cells, or by choosing it.
        cell = BBox(114.1, 22.5, 114.15, 22.55).param()
        listed = get(user, state="all", bbox=cell, cell=cell).content.decode()
        assert "0 events here" in listed
        assert not any(e.number in listed for e in mine if e.lon > 114.1)
        chosen = get(user, unit=d.street_b.code)
        assert chosen.status_code == 400
    district = get(d.users["dispatcher"], state="all").content.decode()
    assert cluster_total(district) == 9 and "乙街道" in district


def test_map__department_sees_what_it_handles_on_the_district_outline(d):
    handled = at(d, d.community_b, 114.12, 22.52)
    Event.objects.filter(pk=handled.pk).update(handler_unit=d.department,
                                               status=EventStatus.ACCEPTED)
    at(d, d.community_a, 114.01, 22.51)
    html = get(d.users["dept_handler"], state="all").content.decode()
    assert cluster_total(html) == 1
    assert "乙一社区" not in html and "甲街道" not in html


def test_map__roles_without_events_are_refused(d):
    assert get(d.users["clerk_a"]).status_code == 403
    assert get(d.users["auditor"]).status_code == 403
    assert Client().get(URL).status_code == 302


# --- unlocated --------------------------------------------------------------------------


def test_map__events_without_a_location_are_counted_and_listed_apart(d):
    at(d, d.community_a, 114.01, 22.51)
    lost = [new_event(d, title=f"待定位 {i}") for i in range(3)]
    html = get(d.users["dispatcher"]).content.decode()
    assert cluster_total(html) == 1
    assert "3 without a location" in html
    section = html.split('id="map-unlocated"', 1)[1]
    assert all(e.number in section for e in lost)


def test_map__many_unlocated_show_the_oldest_and_the_total(d, monkeypatch):
    monkeypatch.setattr(eventmap, "UNLOCATED_LIMIT", 2)
    lost = [new_event(d, title=f"待定位 {i}") for i in range(4)]
    html = get(d.users["dispatcher"]).content.decode()
    section = html.split('id="map-unlocated"', 1)[1]
    assert ">4</span>" in section
    assert lost[0].number in section and lost[3].number not in section
    assert "The oldest 2 are listed." in section


# --- bad parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "message"), [
    ({"bbox": "abc"}, "four numbers"),
    ({"bbox": "114,22,113,23"}, "four numbers"),
    ({"bbox": "nan,22,114,23"}, "four numbers"),
    ({"bbox": "0,-60,150,60"}, "too large"),
    ({"cell": "1,2,3"}, "four numbers"),
    ({"state": "burning"}, "Select a valid choice"),
    ({"layer": "satellite"}, "Select a valid choice"),
    ({"channel": "fax"}, "Select a valid choice"),
    ({"category": "99"}, "Select a valid choice"),
    ({"since": "2026-13-01"}, "Enter a valid date"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "before the start date"),
    ({"unit": "440399999000"}, "No street or community"),
])
def test_map__bad_parameters_get_a_clear_error(d, params, message):
    at(d, d.community_a, 114.01, 22.51)
    response = get(d.users["dispatcher"], **params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The map cannot be shown with these settings" in html
    assert message in html
    assert "yw-emap__svg" not in html


# --- layers and accessibility -------------------------------------------------------------


def test_map__heat_layer_has_a_legend_and_named_cells(d):
    scatter(d, 6)
    html = get(d.users["dispatcher"], layer="heat").content.decode()
    assert "yw-emap__heat" in html and "yw-emap__scale" in html
    assert re.search(r'<a href="[^"]+" hx-get="[^"]+" aria-label="(\d+ events|1 event),'
                     r' 甲街道 · 甲一社区"><rect x="[\d.]+" y="[\d.]+" width="56"'
                     r' height="56" class="yw-heat-\d"/>', html)


def test_map__per_community_counts_by_location_unit(d):
    scatter(d, 9)
    new_event(d, title="未定位但在甲一社区")  # no point, but its community is known
    html = get(d.users["dispatcher"], layer="units", state="all").content.decode()
    assert 'aria-label="甲一社区: 7 events"' in html
    assert 'aria-label="乙一社区: 3 events"' in html
    assert "Events per unit" in html


def test_map__svg_is_labelled_and_has_a_table(d):
    scatter(d, 3)
    html = get(d.users["dispatcher"]).content.decode()
    assert 'role="group" aria-labelledby="map-title" aria-describedby="map-desc"' in html
    assert '<title id="map-title">' in html and '<desc id="map-desc">' in html
    assert "The map as a table" in html


def test_map__choosing_a_unit_zooms_to_it(d):
    at(d, d.community_a, 114.01, 22.51)
    html = get(d.users["dispatcher"], unit=d.community_a.code).content.decode()
    assert "Clusters of events in 甲一社区" in html
    match = re.search(r'href="/events/map/\?[^"]*unit=440399001001[^"]*bbox=([0-9.,%C]+)"'
                      r' aria-label="Zoom in"', html)
    assert match
    west = float(match.group(1).replace("%2C", ",").split(",")[0])
    assert 113.99 < west < 114.03


# --- queries -------------------------------------------------------------------------------


def test_map__queries_do_not_grow_with_events(d):
    user = d.users["dispatcher"]
    scatter(d, 3)
    for _i in range(2):
        new_event(d)
    client = client_for(user)
    client.get(URL)  # warm caches (catalog, district name)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"state": "all"}).status_code == 200
    scatter(d, 20, seed=9)
    for _i in range(5):
        new_event(d)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL, {"state": "all"}).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_map__superuser_sees_everything(d):
    from yiwang.accounts.models import User

    scatter(d, 4)
    admin = User.objects.create_superuser(username="root", password="x" * 20, kind="staff")
    assert cluster_total(get(admin, state="all").content.decode()) == 4


def test_map__linked_from_the_navigation(d):
    user = make_staff("grid_map", d.grid_a, Role.GRID_WORKER)
    html = client_for(user).get(reverse("core:workbench")).content.decode()
    assert 'href="/events/map/"' in html


def test_map__a_long_list_says_it_is_cut(d, monkeypatch):
    monkeypatch.setattr(eventmap, "LIST_LIMIT", 2)
    for _i in range(3):
        at(d, d.community_a, 114.01, 22.51)
    cell = BBox(114.0, 22.5, 114.02, 22.52).param()
    html = get(d.users["dispatcher"], cell=cell).content.decode()
    assert "2 events here" in html
    assert "The newest 2 are listed; zoom in for the others." in html
