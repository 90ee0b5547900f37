"""Catalog management in Chromium: an admin edits a draft, meets a quality finding, fixes
it; a second admin reviews and publishes; the diff shows what changed.

Strings new in this area match the English source or its zh-Hans translation, so the
journey passes before and after the lead compiles the catalogs.
"""

from __future__ import annotations

import re

import pytest

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_staff
from yiwang.services import catalog
from yiwang.services.tests.factories import make_matter

from .test_journeys import sign_in_by_keyboard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def either(*names: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in names))


def test_catalog_admin__edit_fix_review_publish_and_diff(open_tab, district):
    from playwright.sync_api import expect

    make_staff("d_admin2", district.district, Role.DISTRICT_ADMIN)
    version = make_matter(district, legal_basis="《中华人民共和国建筑法》第七条",
                          consult_phone="0755-12345")
    matter = version.matter

    # --- the author: a new draft, a finding, the fix ------------------------------------
    tab = open_tab("desktop")
    page = tab.page
    tab.visit("/accounts/login/")
    sign_in_by_keyboard(tab, "d_admin")
    tab.visit("/services/manage/matters/")
    with tab.navigation():
        page.get_by_role("link", name="建筑工程施工许可证核发").click()
    page.get_by_label(either("What will change", "拟变更内容")).fill("收费调整")
    with tab.navigation():
        page.get_by_role("button", name=either("Start a new draft", "新建草稿")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2")

    page.get_by_label("是否收费").check()
    page.get_by_role("button", name=either("Add a row", "添加一行")).first.click()
    page.get_by_label(re.compile(r"^(Step|环节) \((row|第) ?6")).fill("归档")
    with tab.navigation():
        page.get_by_role("button", name=either("Save the draft", "保存草稿")).click()
    quality = page.get_by_role("region", name=either("Quality checks", "质量检查"))
    finding = quality.get_by_role("link", name=re.compile("收费|fee"))
    expect(finding).to_be_visible()
    # The quality report lists it too, with the way back to the draft.
    tab.visit("/services/manage/report/")
    with tab.navigation():
        page.get_by_role("link", name=either("Edit the draft", "编辑草稿")).click()
    finding = quality.get_by_role("link", name=re.compile("收费|fee"))
    finding.click()
    expect(page.get_by_label("收费依据")).to_be_focused()
    page.get_by_label("收费依据").fill("《行政事业性收费标准管理办法》")
    page.get_by_label("收费标准").fill("每件50元")
    with tab.navigation():
        page.get_by_role("button", name=either("Save the draft", "保存草稿")).click()
    expect(quality.get_by_role("link")).to_have_count(0)
    draft = matter.versions.get(number=2)
    assert draft.has_fee and draft.steps[-1] == {"name": "归档"}

    with tab.navigation():
        page.get_by_role("link", name=either("Back to the matter", "返回事项")).first.click()
    expect(page.get_by_text(either("a colleague must review it", "同事审核"))).to_be_visible()

    # --- a colleague reviews and publishes ------------------------------------------------
    other = open_tab("desktop")
    page = other.page
    other.visit("/accounts/login/")
    sign_in_by_keyboard(other, "d_admin2")
    other.visit(f"/services/manage/matters/{matter.implementation_code}/")
    with other.navigation():
        page.get_by_role("button", name=either("Mark as reviewed", "审核通过")).click()
    with other.navigation():
        page.get_by_role("button", name=either("Publish", "发布")).click()
    matter.refresh_from_db()
    assert matter.published_id == draft.pk

    # --- what changed ---------------------------------------------------------------------
    with other.navigation():
        page.get_by_role("link", name=either("What changed last", "最近变更")).click()
    diff = page.get_by_role("table").first
    row = diff.get_by_role("row", name=re.compile("是否收费"))
    expect(row).to_contain_text("否")
    expect(row).to_contain_text("是")
    expect(diff.get_by_role("row", name=re.compile("办理流程|steps"))).to_contain_text("归档")

    # --- a file that is not a workbook is refused, with the reason ------------------------
    tab.visit("/services/manage/import/")
    tab.page.get_by_label(re.compile("xlsx")).set_input_files(
        files=[{"name": "catalog.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}])
    with tab.navigation(status=400):
        tab.page.get_by_role("button", name=either("Check and import", "检查并导入")).click()
    expect(tab.page.get_by_role("alert")).to_contain_text(".xlsx")

    # --- every page on a phone -------------------------------------------------------------
    catalog.version_draft(actor=district.users["district_admin"], matter=matter,
                          changes={"visits": 1}, change_note="需现场核验")
    draft = matter.versions.get(number=3)
    phone = open_tab("mobile")
    phone.visit("/accounts/login/")
    sign_in_by_keyboard(phone, "d_admin")
    for path in ("/services/manage/matters/", "/services/manage/matters/new/",
                 f"/services/manage/matters/{matter.implementation_code}/",
                 f"/services/manage/versions/{draft.pk}/diff/",
                 f"/services/manage/versions/{draft.pk}/edit/",
                 "/services/manage/report/", "/services/manage/import/"):
        phone.visit(path)
