"""The public catalog in a real browser: a citizen on a phone finds a service by 拼音,
reads its 办事指南 in three languages and prints it; the 好差评 figures are public."""

from __future__ import annotations

import re

import pytest

from yiwang.services.catalog import pinyin_key
from yiwang.services.models import Matter, MatterVersion, Theme
from yiwang.services.tests.factories import make_matter

from .harness import SCREENS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAME = "建筑工程施工许可证核发"


@pytest.fixture
def permit(district):
    version = make_matter(district, translations={"en": {
        "name": "Issuance of the Construction Permit for Building Works"}},
        effective_from="2026-01-01", consult_phone="0755-88886666",
        locations=[{"name": "区行政服务大厅", "address": "示范路1号"}])
    Matter.objects.filter(pk=version.matter_id).update(name_pinyin=pinyin_key(NAME))
    theme = Theme.objects.create(code="construction", name="工程建设",
                                 name_en="Construction projects", audience="enterprise")
    version.themes.add(theme)
    other = make_matter(district, code="M-FOOD", name="食品经营许可")
    Matter.objects.filter(pk=other.matter_id).update(name_pinyin=pinyin_key("食品经营许可"))
    return version


def test_citizen__finds_a_guide_by_pinyin_reads_it_in_three_languages_and_prints(
        open_tab, permit):
    from playwright.sync_api import expect

    tab = open_tab("mobile")
    page = tab.page
    tab.visit("/services/")
    expect(page.get_by_role("link", name="食品经营许可")).to_be_visible()

    search = page.get_by_role("searchbox")
    search.fill("sgxk")
    with tab.navigation():
        search.press("Enter")
    results = page.locator(".yw-svc-list").get_by_role("link")
    expect(results).to_have_count(1)
    expect(results).to_have_text(NAME)

    with tab.navigation():
        results.first.click()
    expect(page).to_have_url(re.compile(rf"/services/matters/{permit.implementation_code}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    materials = page.get_by_role("table")
    expect(materials.get_by_role("rowheader", name="建设工程规划许可证")).to_be_visible()
    expect(page.get_by_role("link", name="0755-88886666").first).to_be_visible()

    # 繁體: converted from the stored 简体 text.
    with tab.navigation():
        page.get_by_role("button", name="繁體中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.get_by_role("heading", level=1)).to_have_text("建築工程施工許可證核發")
    expect(page.get_by_text("示範路1號")).to_be_visible()

    # English: the translated name; untranslated text stays Chinese, marked as such.
    with tab.navigation():
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Issuance of the Construction Permit for Building Works")
    expect(page.get_by_text("The official text of this guide is in Chinese")).to_be_visible()
    expect(page.locator('[lang="zh-Hans"]', has_text="建设工程规划许可证")).to_be_visible()

    with tab.navigation():
        page.get_by_role("link", name="Printable version").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main navigation")).to_have_count(0)
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "citizen-guide-print-media-en.png"), full_page=True)


def test_visitor__browses_themes_filters_and_sees_public_ratings(open_tab, permit):
    from playwright.sync_api import expect

    tab = open_tab("desktop")
    page = tab.page
    tab.visit("/services/?audience=enterprise")
    with tab.navigation():
        page.get_by_role("link", name="工程建设").click()
    expect(page.locator(".yw-svc-list").get_by_role("link")).to_have_text([NAME])

    tab.visit("/services/?q=不存在的事项")
    expect(page.locator("a[href='tel:12345']").first).to_be_visible()

    tab.visit("/services/ratings/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    MatterVersion.objects.filter(pk=permit.pk)  # the page reads only aggregates
