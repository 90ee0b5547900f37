"""The events map in a browser: a dispatcher reaches a cluster with the keyboard, opens
it (htmx swaps the map and the address follows), lists a small cluster's events, and
switches to the heat layer; a street handler on a 390 px phone sees only the street's
events. In English (``en-US``); every page is checked by axe and screenshotted."""

from __future__ import annotations

import re

import pytest

from yiwang.events.models import Event
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

from .test_events_staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(district):
    load_catalog()
    add_event_staff(district)
    for i in range(14):  # one busy corner of community A, a few more around
        new_event(district, lat=22.51 + (i % 2) * 0.0001, lon=114.01, title=f"占道 {i}")
    for i in range(4):
        new_event(district, lat=22.52 + i * 0.006, lon=114.03, title=f"噪音 {i}")
    new_event(district, lat=22.52, lon=114.12, location_unit=district.community_b,
              street=district.street_b, title="乙街道的事件")
    new_event(district, title="没有位置的事件")
    return district


def test_dispatcher_zooms_by_keyboard_lists_a_cluster_and_switches_to_heat(open_tab, world):
    from playwright.sync_api import expect

    tab = open_tab("desktop", locale="en-US")
    page = tab.page
    sign_in(tab, "dispatcher")
    tab.visit("/events/map/")
    expect(page.get_by_text("1 without a location")).to_be_visible()
    busy = page.get_by_role("link", name=re.compile(r"^14 events, 甲街道 · 甲一社区"))
    busy.focus()
    expect(busy).to_be_focused()
    page.keyboard.press("Enter")  # htmx: the map region is swapped, the URL pushed
    expect(page).to_have_url(re.compile(r"bbox="))
    tab.check()
    # Zoomed in, the clusters of the corner split or list their events.
    small = page.get_by_role("link", name=re.compile(r"^\d+ events?, 甲街道")).first
    while "cell=" not in (small.get_attribute("href") or ""):
        small.press("Enter")
        page.wait_for_url(re.compile(r"bbox="))
        small = page.get_by_role("link", name=re.compile(r"^\d+ events?, 甲街道")).first
    small.press("Enter")
    listed = page.get_by_role("region", name=re.compile(r"events? here"))
    expect(listed).to_be_visible()
    expect(listed).to_be_focused()  # the keyboard carries on in the list (map.js)
    expect(listed).to_contain_text("占道")
    tab.check()
    with tab.navigation():
        page.get_by_role("link", name="Whole area").click()
    page.get_by_role("link", name="Heat").click()
    expect(page).to_have_url(re.compile(r"layer=heat"))
    expect(page.get_by_text("Events per square")).to_be_visible()
    tab.check()


def test_street_handler_on_a_phone_sees_the_street_only(open_tab, world):
    from playwright.sync_api import expect

    tab = open_tab("mobile", locale="en-US")
    page = tab.page
    sign_in(tab, "street_handler")
    tab.visit("/events/map/?state=all")
    total = Event.objects.filter(lat__isnull=False, street=world.street_a).count()
    expect(page.get_by_text(f"{total} events on the map")).to_be_visible()
    expect(page.get_by_text("乙街道的事件")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 30, f"the map page is {width} px wide on a 390 px phone"
    tab.visit("/events/map/?bbox=nonsense", status=400)
    expect(page.get_by_role("alert")).to_contain_text("four numbers")
