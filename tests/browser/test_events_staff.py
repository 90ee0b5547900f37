"""Staff journeys through the event centre: a 12345 operator takes a call by keyboard
only, a dispatcher dispatches it from the queue, a street handler signs for it and
resolves it, and the callback closes it. In English (``en-US``), so the names below do not
depend on which translations are compiled; every page is checked by axe and
screenshotted, on desktop and on a 390 px phone."""

from __future__ import annotations

import re

import pytest

from yiwang.core.tests.factories import PASSWORD
from yiwang.events import services
from yiwang.events.models import Event, EventStatus
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(district):
    load_catalog()
    add_event_staff(district)
    return district


def sign_in(tab, username: str) -> None:
    tab.visit("/accounts/login/")
    page = tab.page
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with tab.navigation():
        page.get_by_role("button", name="Sign in").click()


def test_operator_takes_a_call__dispatcher_dispatches__street_resolves__callback_closes(
        open_tab, world):
    from playwright.sync_api import expect

    earlier = new_event(world, reporter_phone="13800138001", title="上次反映的噪音问题")

    # The 12345 operator: keyboard only, from the number to the registration.
    tab = open_tab("desktop", locale="en-US")
    page = tab.page
    sign_in(tab, "dispatcher")
    tab.visit("/events/hotline/")
    keyboard = page.keyboard
    expect(page.get_by_label("Caller number")).to_be_focused()
    keyboard.type("13800138001")
    history = page.get_by_role("region", name="Earlier appeals of this caller")
    expect(history).to_contain_text(earlier.number)
    expect(history).to_contain_text("138****8001")
    keyboard.press("Tab")  # the caller's name
    keyboard.type("王先生")
    keyboard.press("Tab")  # anonymous
    keyboard.press("Tab")  # what the caller says
    expect(page.get_by_label("What the caller says")).to_be_focused()
    keyboard.type("店门口摆摊占道，餐馆桌椅摆到人行道上，行人只能走机动车道")
    suggestion = page.get_by_role("radio", name=re.compile("占道经营"))
    expect(suggestion).to_be_visible()
    tab.check()
    keyboard.press("Tab")  # into the suggestions: "let the system decide" first
    expect(page.get_by_role("radio", name="Let the system decide (top suggestion)")
           ).to_be_focused()
    while not suggestion.is_checked():  # arrows move the choice within the group
        keyboard.press("ArrowDown")
    keyboard.press("Alt+3")  # complaint
    expect(page.get_by_role("radio", name=re.compile("Complaint"))).to_be_checked()
    with tab.navigation():
        keyboard.press("Control+Enter")
    event = Event.objects.exclude(pk=earlier.pk).get()
    done = page.get_by_role("status").filter(has_text="Registered")
    expect(done).to_contain_text(event.number[:4])
    expect(done).to_contain_text("In the dispatch queue")
    expect(page.get_by_label("Caller number")).to_have_value("")
    assert event.category.code == "010101" and event.status == EventStatus.RECEIVED

    # The dispatcher dispatches it from the queue, without leaving the page.
    tab.visit("/events/queue/")
    row = page.locator(f"#event-{event.pk}")
    expect(row).to_contain_text("Location to check")
    row.get_by_label(f"Lead handler of {event.number}").select_option(label="甲街道")
    row.get_by_role("button", name=re.compile("^Dispatch")).click()
    expect(page.locator(f"#event-{event.pk}").get_by_role("status")).to_contain_text(
        "dispatched to 甲街道")
    tab.check()
    event.refresh_from_db()
    assert event.status == EventStatus.DISPATCHED and event.handler_unit == world.street_a

    # The street handler signs for it in the inbox, then resolves it on the event page.
    tab2 = open_tab("mobile", locale="en-US")
    page2 = tab2.page
    sign_in(tab2, "street_handler")
    tab2.visit("/events/inbox/")
    row = page2.locator(f"#event-{event.pk}")
    row.get_by_role("button", name=re.compile("^Sign for")).click()
    expect(page2.locator(f"#event-{event.pk}").get_by_role("status")).to_contain_text(
        "signed for")
    tab2.check()
    with tab2.navigation():
        page2.get_by_role("link", name=event.number, exact=True).click()
    page2.locator("summary", has_text=re.compile("^Resolve$")).click()
    page2.get_by_role("form", name="Resolve").get_by_label("What was done").fill(
        "已联系店主清理人行道桌椅，现场恢复通行。")
    tab2.check()
    with tab2.navigation():
        page2.get_by_role("button", name="Confirm: Resolve").click()
    expect(page2.locator(".yw-badge--status")).to_contain_text("Resolved")

    # The callback closes it.
    tab.visit(f"/events/{event.number}/")
    page.locator("summary", has_text=re.compile("^Call back$")).click()
    form = page.get_by_role("form", name="Call back")
    form.get_by_label("Satisfied", exact=True).check()
    with tab.navigation():
        form.get_by_role("button", name="Confirm: Call back").click()
    expect(page.locator(".yw-badge--status")).to_contain_text("Closed")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text(
        "已联系店主清理人行道桌椅")
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED and event.satisfaction == 3


def test_every_event_page_on_a_phone_in_chinese(open_tab, world):
    """The screens in the default language at 390 px (and checked by axe)."""
    from playwright.sync_api import expect

    waiting = new_event(world)
    event = services.event_dispatch(actor=world.users["dispatcher"], event=new_event(world),
                                    unit=world.street_a)
    tab = open_tab("mobile")
    page = tab.page
    tab.visit("/accounts/login/")
    page.locator("input[name=username]").fill("dispatcher")
    page.locator("input[name=password]").fill(PASSWORD)
    with tab.navigation():
        page.locator("input[name=password]").press("Enter")
    assert "/accounts/login/" not in page.url
    for path in ("/events/hotline/", "/events/queue/", "/events/queue/?tab=all",
                 f"/events/{waiting.number}/", f"/events/{event.number}/"):
        tab.visit(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
