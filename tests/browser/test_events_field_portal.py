"""Event journeys on a 390 px phone: a grid worker reports with a photo and the phone's
position (the answer to the first send is lost on the way, and the resend registers
nothing twice), then fixes something on the spot (自处置) with a tap on the map; a
citizen reports a problem and later rates the result; the SMS callback link and the
responsible party's link need no account. Journeys run in English (``en-US``) so the
names below do not depend on compiled translations; the last one looks at every page
in Chinese. Every page is checked by axe and screenshotted."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from yiwang.core.tests.factories import PASSWORD, make_citizen
from yiwang.events import callbacks, services
from yiwang.events.models import (
    Callback,
    Channel,
    Event,
    EventAttachment,
    EventStatus,
    ExternalTask,
    ResponsibleParty,
)
from yiwang.events.tests.factories import add_event_staff, load_catalog, new_event
from yiwang.events.tests.photos import jpeg_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
IN_GRID_A = {"latitude": 22.51, "longitude": 114.01}


@pytest.fixture
def world(district, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    load_catalog()
    add_event_staff(district)
    district.citizen = make_citizen(phone="13800138000")
    return district


def sign_in(tab, username: str, next_path: str = "", *, zh: bool = False) -> None:
    tab.visit("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page = tab.page
    page.get_by_label("用户名" if zh else "User name").fill(username)
    page.get_by_label("密码" if zh else "Password").fill(PASSWORD)
    with tab.navigation():
        page.get_by_role("button", name="登录" if zh else "Sign in").click()


def jpeg(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes()}


def phone_tab(open_tab, *, locale: str = "en-US", geolocation: dict | None = None):
    tab = open_tab("mobile", locale=locale)
    context = tab.page.context
    context.set_extra_http_headers({"User-Agent": IPHONE})
    if geolocation:
        context.grant_permissions(["geolocation"], origin=tab.base_url)
        context.set_geolocation(geolocation)
    return tab


def test_grid_worker__reports_with_photo_and_position_then_fixes_on_the_spot(open_tab, world):
    from playwright.sync_api import expect

    tab = phone_tab(open_tab, geolocation=IN_GRID_A)
    page = tab.page
    sign_in(tab, "grid_a", "/events/field/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My grid")
    with tab.navigation():
        page.get_by_role("link", name="New report").click()

    page.get_by_label("Photos of the problem").set_input_files(jpeg("井盖.jpg"))
    page.get_by_role("button", name="Use my location").click()
    place = page.locator("#place-words")
    expect(place).to_contain_text("甲一社区第1网格")
    expect(place).to_contain_text("in your grid")
    page.get_by_label("What is the problem").fill("地铁口好多走鬼推车卖东西，堵住出口")
    suggestions = page.get_by_role("group", name="Category")
    expect(suggestions).to_contain_text("流动摊贩")
    suggestions.get_by_label(re.compile("流动摊贩")).check()
    tab.check()

    # The report reaches the server but the answer is lost (the phone drops off the
    # network): the page says so and keeps everything; sending again registers nothing
    # twice.
    def lose_the_answer(route):
        route.fetch()
        route.abort("internetdisconnected")

    page.route("**/events/field/report/", lose_the_answer)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("status").filter(has_text="No connection")).to_be_visible()
    # The lost answer is this journey's doing: the failed POST and htmx's own log line
    # about it are expected, not a broken page.
    tab._asset_errors.clear()
    tab._console_errors.clear()
    tab.check()
    assert Event.objects.filter(channel=Channel.GRID).count() == 1
    page.unroute("**/events/field/report/")
    with tab.navigation():
        page.get_by_role("button", name="Send the report").click()
    event = Event.objects.get(channel=Channel.GRID)
    assert EventAttachment.objects.filter(event=event).count() == 1
    assert event.category.name == "流动摊贩" and event.location_unit == world.grid_a
    expect(page.get_by_role("status").first).to_contain_text(event.number)
    today = page.get_by_role("region", name="Reported today")
    expect(today).to_contain_text(event.number)

    # 自处置: a tap on my grid in the map, an after-photo and what was done close it.
    with tab.navigation():
        page.get_by_role("link", name="New report").click()
    expect(page.get_by_text("We kept the report")).to_be_hidden()  # the draft was cleared
    page.get_by_label("Photos of the problem").set_input_files(jpeg("before.jpg"))
    page.locator("path.is-mine").click()
    expect(page.locator("#place-words")).to_contain_text("甲一社区第1网格")
    page.get_by_label("What is the problem").fill("小区门口井盖翘起")
    page.get_by_label("I fixed it on the spot").check()
    # No after-photo yet: the answer (400) replaces the form in place, no page load.
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("alert")).to_contain_text("自处置")
    expect(page.get_by_label("What is the problem")).to_have_value("小区门口井盖翘起")
    tab._asset_errors.clear()  # the 400 answer of the htmx request is the expected one
    tab.check()
    page.get_by_label("I fixed it on the spot").check()
    page.get_by_label("Photos of the problem").set_input_files(jpeg("before.jpg"))
    page.get_by_label("Photos after fixing").set_input_files(jpeg("after.jpg"))
    page.get_by_label("What you did").fill("已将井盖复位并加固")
    with tab.navigation():
        page.get_by_role("button", name="Send the report").click()
    fixed = Event.objects.filter(channel=Channel.GRID).exclude(pk=event.pk).get()
    assert fixed.status == EventStatus.CLOSED
    assert sorted(fixed.attachments.values_list("stage", flat=True)) == ["report", "result"]
    expect(page.get_by_role("region", name="Reported today")).to_contain_text(fixed.number)


def test_citizen__reports_on_a_phone_and_later_rates_the_result(open_tab, world):
    from playwright.sync_api import expect

    tab = phone_tab(open_tab)
    page = tab.page
    sign_in(tab, "citizen", "/events/report/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a problem")
    expect(page.get_by_label("Phone number for the handler to call you")).to_have_value(
        "13800138000")
    page.get_by_label("What is the problem").fill("小区门口的路灯坏了一个星期，晚上很黑")
    page.locator("path.yw-pick__unit--community").first.click()
    expect(page.locator("#place-words")).to_contain_text("甲街道")
    page.get_by_label("Photos").set_input_files(jpeg("路灯.jpg"))
    page.get_by_label("Complaint").check()
    with tab.navigation():
        page.get_by_role("button", name="Send my appeal").click()
    event = Event.objects.get(channel=Channel.PORTAL)
    assert event.reporter == world.citizen and event.attachments.count() == 1
    expect(page.get_by_role("heading", level=1)).to_contain_text("路灯")
    expect(page.get_by_text("We received your appeal.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Photo 1"))).to_be_visible()

    # Later: the street resolves it; the citizen rates it.
    Event.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED,
                                             handler_unit=world.street_a,
                                             resolution="已更换灯泡，恢复照明")
    with tab.navigation():
        page.get_by_role("link", name="Back to my appeals").click()
    card = page.get_by_role("listitem").filter(has_text=event.number)
    with tab.navigation():
        card.get_by_role("link", name=re.compile("Give your verdict")).click()
    verdict = page.get_by_role("region", name=re.compile("Are you satisfied"))
    expect(verdict).to_contain_text("已更换灯泡")
    expect(verdict).to_contain_text("重办")  # said before sending
    verdict.get_by_label("Satisfied", exact=True).check()
    with tab.navigation():
        verdict.get_by_role("button", name="Send my verdict").click()
    event.refresh_from_db()
    assert event.status == EventStatus.CLOSED
    assert Callback.objects.get(event=event).method == "portal"
    expect(page.get_by_text("The appeal is closed")).to_be_visible()


def test_links__sms_callback_and_external_party_without_an_account(open_tab, world):
    from playwright.sync_api import expect

    event = new_event(world)
    Event.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED,
                                             handler_unit=world.street_a,
                                             resolution="摊位已清理")
    link = callbacks.callback_link_for(event).split("/events/", 1)[1]
    tab = phone_tab(open_tab)
    page = tab.page
    tab.visit(f"/events/{link}")
    expect(page.get_by_text("摊位已清理")).to_be_visible()
    page.get_by_label("Dissatisfied").check()
    page.get_by_label("Anything to add").fill("还有人在摆摊")
    with tab.navigation():
        page.get_by_role("button", name="Send my verdict").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    event.refresh_from_db()
    assert event.status == EventStatus.IN_PROGRESS and event.reopen_count == 1

    other = new_event(world, title="小区垃圾堆放")
    Event.objects.filter(pk=other.pk).update(status=EventStatus.EXTERNAL)
    party = ResponsibleParty.objects.create(name="和平物业", kind="property",
                                            phone="13800138010", unit=world.street_a)
    ExternalTask.objects.create(event=other, party=party, token="party-secret-0001",
                                token_hash=services._token_hash("party-secret-0001"),
                                due_at=timezone.now() + dt.timedelta(days=3))
    tab.visit("/events/external/party-secret-0001/")
    expect(page.get_by_text("王先生")).to_have_count(0)
    page.get_by_label("Yes, it is fixed").check()
    page.get_by_label("What you did, or when it will be done").fill("垃圾已清运")
    page.get_by_label("Photo of the fixed place").set_input_files(
        {"name": "done.png", "mimeType": "image/png", "buffer": png_bytes()})
    with tab.navigation():
        page.get_by_role("button", name="Send the answer").click()
    other.refresh_from_db()
    assert other.status == EventStatus.RESOLVED
    tab.visit("/events/external/no-such-link/", status=404)


def test_screens__every_page_in_chinese_on_a_phone(open_tab, world):
    """Not a journey: each page once in Chinese at 390 px, for the eye (screenshots)."""
    mine = new_event(world, reporter=world.citizen, channel=Channel.PORTAL,
                     title="路灯不亮", location_unit=world.grid_a)
    services.event_dispatch(actor=world.users["dispatcher"], event=mine, unit=world.street_a)
    Event.objects.filter(pk=mine.pk).update(status=EventStatus.RESOLVED,
                                            resolution="已更换灯泡，恢复照明")
    expired = new_event(world)
    Event.objects.filter(pk=expired.pk).update(status=EventStatus.RESOLVED)
    tab = phone_tab(open_tab, locale="zh-CN", geolocation=IN_GRID_A)
    sign_in(tab, "grid_a", "/events/field/", zh=True)
    tab.visit("/events/field/report/")
    tab.page.get_by_role("button", name=re.compile("Use my location|使用我的位置")).click()
    tab.page.locator("#place-words").get_by_text("甲一社区第1网格").wait_for()
    tab.check()
    citizen = phone_tab(open_tab, locale="zh-CN")
    sign_in(citizen, "citizen", "/events/report/", zh=True)
    citizen.visit("/events/my/")
    citizen.visit(f"/events/my/{mine.number}/")
    desktop = open_tab("desktop", locale="zh-CN")
    sign_in(desktop, "citizen", "/events/report/", zh=True)
    anonymous = phone_tab(open_tab, locale="zh-CN")
    anonymous.visit("/" + callbacks.callback_link_for(expired).split("/", 3)[3])
    anonymous.visit("/events/callback/made-up/", status=404)
    old = _issued_long_ago(expired)
    anonymous.visit(f"/events/callback/{old}/", status=410)


def _issued_long_ago(event) -> str:
    """A callback token signed before its maximum age (signing reads time.time())."""
    import time
    from unittest import mock

    then = time.time() - (callbacks.MAX_AGE_DAYS + 1) * 86400
    with mock.patch("time.time", return_value=then):
        return callbacks.callback_token(event)
