"""Journeys through the real UI in Chromium. Every page on the way passes axe-core's
WCAG 2.1 A/AA rules (see harness.py); later issues add their journeys here."""

from __future__ import annotations

import re

import pytest

from yiwang.accounts.models import User
from yiwang.core.audit import audit_log
from yiwang.core.notifications import notify
from yiwang.core.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_by_keyboard(tab, username: str) -> None:
    """The login form as a keyboard user meets it: the user name has the focus."""
    from playwright.sync_api import expect

    page = tab.page
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码")).to_be_focused()
    page.keyboard.type(PASSWORD)
    with tab.navigation():
        page.keyboard.press("Enter")


def test_staff__signs_in_switches_language_and_works_through_the_workbench(open_tab, district):
    from playwright.sync_api import expect

    admin = district.users["district_admin"]
    notify(recipient=admin, template="welcome", key="browser-journey",
           context={"name": admin.name, "username": admin.username, "site": "yiwang"})
    tab = open_tab("desktop")
    page = tab.page

    tab.visit("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    sign_in_by_keyboard(tab, "d_admin")
    expect(page).to_have_url(re.compile(r"/workbench/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("d_admin，您好")
    expect(page.get_by_role("banner").get_by_role("link", name="示范区 政务工作台")).to_be_visible()
    inbox = page.get_by_role("region", name="我的待办")
    expect(inbox.get_by_role("link")).to_contain_text("1 条未读消息")

    # The language switch in the header: 简体 → 繁體 → EN.
    for button, lang, heading in [("繁體中文", "zh-Hant", "我的待辦"),
                                  ("English", "en", "My to-do")]:
        with tab.navigation():
            page.get_by_role("button", name=button).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page).to_have_url(re.compile(r"/workbench/$"))
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")

    nav = page.get_by_role("navigation", name="Workbench navigation")
    with tab.navigation():
        nav.get_by_role("link", name="Org tree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Org tree")
    grid = page.get_by_role("link", name="甲一社区第1网格")
    expect(grid).to_be_hidden()  # below the second level the tree starts folded
    page.locator("summary", has_text="甲一社区: Units below").press("Enter")
    expect(grid).to_be_visible()

    with tab.navigation():
        nav.get_by_role("link", name="Staff directory").click()
    expect(page.get_by_role("link", name="dept_handler")).to_be_visible()
    page.get_by_label("Name or user name").fill("clerk")
    with tab.navigation():
        page.get_by_label("Name or user name").press("Enter")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two clerks
    expect(page.get_by_role("link", name="clerk_b")).to_be_visible()

    # Back on the workbench, the to-do item leads to the message; reading it empties it.
    with tab.navigation():
        nav.get_by_role("link", name="Workbench").click()
    with tab.navigation():
        page.get_by_role("region", name="My to-do").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/notifications/\?unread=1$"))
    page.get_by_role("button", name=re.compile("^Mark as read")).click()  # htmx, no reload
    expect(page.get_by_role("status")).to_have_text("Marked as read.")
    expect(page.get_by_role("button", name=re.compile("^Mark as read"))).to_have_count(0)
    tab.check()
    with tab.navigation():
        nav.get_by_role("link", name="Workbench").click()
    expect(page.get_by_text("Nothing to do right now.")).to_be_visible()


def test_staff__uses_the_workbench_menu_on_a_phone(open_tab, district):
    from playwright.sync_api import expect

    tab = open_tab("mobile")
    page = tab.page
    tab.visit("/accounts/login/?next=/workbench/")
    sign_in_by_keyboard(tab, "clerk_a")
    expect(page.get_by_role("heading", level=1)).to_have_text("clerk_a，您好")

    menu = page.get_by_role("navigation", name="工作台导航")
    expect(menu).to_be_hidden()  # folded away behind the menu button on a phone
    page.get_by_role("button", name="菜单").click()
    expect(menu).to_be_visible()
    tab.check()  # the open menu is a state of its own
    with tab.navigation():
        menu.get_by_role("link", name="组织架构").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("组织架构")
    # A window clerk of street A sees street A's units, not street B's.
    expect(page.get_by_role("link", name="甲一社区", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="乙街道")).to_have_count(0)

    # A colleague's phone number: masked until asked for, and asking is audited.
    page.get_by_role("button", name="菜单").click()
    with tab.navigation():
        menu.get_by_role("link", name="人员名录").click()
    with tab.navigation():
        page.get_by_role("link", name="handler_a").click()
    expect(page.get_by_text("13700137000")).to_have_count(0)
    page.get_by_role("button", name="查看完整号码").click()  # htmx
    expect(page.get_by_text("13700137000")).to_be_visible()
    tab.check()


def test_citizen__registers_with_real_name_on_a_phone(open_tab, district):
    from playwright.sync_api import expect

    tab = open_tab("mobile")
    page = tab.page
    tab.visit("/")
    page.get_by_role("button", name="菜单").click()
    with tab.navigation():
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="注册").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("实名注册")

    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("身份证号码").fill("110105194912310021")  # check digit should be X
    page.get_by_label("手机号码").fill("138 1234 5678")
    page.get_by_label("用户名").fill("wangxm")
    page.get_by_label("密码", exact=True).fill("long-enough-pass-42")
    page.get_by_label("确认密码").fill("long-enough-pass-42")
    with tab.navigation(status=400):
        page.get_by_role("button", name="注册账号").click()

    id_field = page.get_by_label("身份证号码")
    expect(page.get_by_role("alert")).to_contain_text("填写有误")
    expect(id_field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_id_number_error")
    expect(error).to_have_text("身份证号码校验位不正确，请检查是否输错。")
    expect(id_field).to_have_attribute("aria-describedby", re.compile(r"\bid_id_number_error\b"))
    # "Next to the field": the message sits right above its input.
    error_box, field_box = error.bounding_box(), id_field.bounding_box()
    assert error_box and field_box and 0 <= field_box["y"] - error_box["y"] < 80
    assert not User.objects.filter(username="wangxm").exists()

    id_field.fill("11010519491231002X")
    page.get_by_label("密码", exact=True).fill("long-enough-pass-42")  # never sent back
    page.get_by_label("确认密码").fill("long-enough-pass-42")
    with tab.navigation():
        page.get_by_role("button", name="注册账号").click()
    expect(page).to_have_url(re.compile(r"/accounts/me/$"))
    expect(page.get_by_role("status")).to_contain_text("王小明，欢迎您！")
    expect(page.get_by_text("11010519491231002X")).to_have_count(0)  # masked on screen
    assert User.objects.get(username="wangxm").kind == "citizen"



def test_admin__opens_every_page_of_the_workbench_menu(open_tab, district):
    """Each entry of the side menu, so a page added to the menu is checked from day one;
    then the detail pages and the htmx parts on the way."""
    from playwright.sync_api import expect

    tab = open_tab("desktop")
    page = tab.page
    tab.visit("/accounts/login/")
    sign_in_by_keyboard(tab, "d_admin")
    nav = page.get_by_role("navigation", name="工作台导航")
    names = nav.get_by_role("list").get_by_role("link").all_inner_texts()
    assert "工作台" in names and "系统管理" in names, names
    for name in names:
        link = nav.get_by_role("link", name=name.strip(), exact=True)
        with tab.navigation():
            link.click()
        expect(nav.get_by_role("link", name=name.strip(), exact=True)).to_have_attribute(
            "aria-current", "page")

    with tab.navigation():  # the calendar's deadline calculator, without JavaScript's help
        nav.get_by_role("link", name="工作日历").click()
    page.get_by_label("工作日数").fill("5")
    page.get_by_role("button", name="计算").click()  # htmx swaps the result in
    expect(page.get_by_role("status")).to_contain_text("个工作日")
    tab.check()

    with tab.navigation():
        nav.get_by_role("link", name="人员名录").click()
    with tab.navigation():
        page.get_by_role("link", name="clerk_b").click()
    with tab.navigation():
        page.get_by_role("link", name="停用账号").click()
    with tab.navigation(status=400):  # no reason given: the form says so, nothing changes
        page.get_by_role("button", name="停用账号").click()
    expect(page.get_by_label("原因")).to_have_attribute("aria-invalid", "true")
    with tab.navigation():
        page.get_by_role("navigation", name="当前位置").get_by_role("link", name="clerk_b").click()
    with tab.navigation():
        page.get_by_role("main").get_by_role("link", name="乙街道").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("乙街道")
    expect(page.get_by_role("group", name=re.compile("乙街道"))).to_be_visible()  # the map


def test_auditor__filters_and_verifies_the_audit_log_on_a_phone(open_tab, district):
    from playwright.sync_api import expect

    admin = district.users["district_admin"]
    for user in (district.users["clerk_a"], district.users["clerk_b"]):
        audit_log(actor=admin, action="accounts.staff.review", obj=user, reason="年度账号核查")
    audit_log(actor=admin, action="core.orgunit.review", obj=district.street_a, reason="核对边界")
    tab = open_tab("mobile")
    page = tab.page
    tab.visit("/accounts/login/?next=/workbench/audit/")
    sign_in_by_keyboard(tab, "auditor")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计日志")
    entries = page.get_by_role("region", name=re.compile("审计记录")).locator("tbody tr")
    expect(entries).to_have_count(3)
    page.get_by_label("操作").select_option("accounts.staff.review")
    with tab.navigation():
        page.get_by_role("button", name="筛选").click()
    expect(entries).to_have_count(2)
    page.get_by_role("button", name="校验日志链").click()  # htmx
    expect(page.get_by_role("status")).to_contain_text("审计日志链完整，未发现篡改。")
    tab.check()
