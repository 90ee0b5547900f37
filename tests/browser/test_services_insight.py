"""Journeys through the statistics and rectification pages in Chromium (see README.md).

Labels are looked up with gettext, as the page shows them in the browser's language.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from yiwang.core.models import OrgUnit
from yiwang.core.tests.factories import make_citizen
from yiwang.services import demo, ratings
from yiwang.services.forms_insight import period_of
from yiwang.services.models import Case, RatingLevel, Rectification
from yiwang.services.models import RectificationStatus as R
from yiwang.services.tests import test_ratings
from yiwang.services.tests.factories import add_case_staff

from .test_journeys import sign_in_by_keyboard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
closed_case = test_ratings.closed_case  # a closed case and its staff (a fixture)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 5)
  .map(el => el.tagName + '.' + el.className + ' ' + el.getBoundingClientRect().right)"""


def _page_width(tab) -> int:
    width = int(tab.page.evaluate("document.documentElement.scrollWidth"))
    if width > 390:
        print("too wide:", tab.page.evaluate(WIDEST))
    return width


def _demo_cases(district) -> None:
    OrgUnit.objects.filter(pk=district.department.pk).update(short_name="住建局")
    demo.load_demo_catalog(district=district.district)
    applicants = [make_citizen(username="c1")]
    demo.generate_demo_cases(count=240, seed=11, applicants=applicants, clerks={},
                             reviewers={}, days=200)


def test_leader__filters_statistics_by_quarter_and_downloads_excel(open_tab, district):
    from playwright.sync_api import expect

    add_case_staff(district)
    _demo_cases(district)
    today = timezone.localdate()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    tab = open_tab("desktop")
    page = tab.page
    tab.visit("/accounts/login/")
    sign_in_by_keyboard(tab, "supervisor")
    tab.visit("/services/statistics/")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("Service statistics"))
    expect(page.get_by_role("img", name=re.compile(_("Cases")))).to_be_visible()

    page.get_by_label(_("Period")).select_option(quarter)
    page.get_by_label(_("Group by")).select_option("month")
    with tab.navigation():
        page.get_by_role("button", name=_("Show")).click()
    expect(page).to_have_url(re.compile(rf"period={quarter}"))
    table = page.get_by_role("region", name=_("Figures"))
    months = len(period_of(quarter).months(until=today))  # type: ignore[union-attr]
    expect(table.get_by_role("row")).to_have_count(months + 2)  # header, months, total
    expect(page.locator("svg.yw-chart--line")).to_have_count(2)
    page.get_by_text(_("Show the chart's data as a table")).first.click()
    title = max(_("Cases per month, %(period)s").split("%(period)s"), key=len).strip(", ，")
    expect(page.get_by_role("table", name=re.compile(re.escape(title)))).to_be_visible()
    tab.check()

    with page.expect_download() as info:
        page.get_by_role("link", name=_("Download Excel")).click()
    download = info.value
    assert download.suggested_filename.endswith("-month.xlsx")
    with open(download.path(), "rb") as handle:
        book = load_workbook(handle)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == (_("By month"), _("Cases"))
    period = period_of(quarter)
    assert period is not None
    start, end = period.bounds()
    in_quarter = Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end).count()
    assert rows[-1][0] == _("Total") and rows[-1][1] == in_quarter

    phone = open_tab("mobile")
    phone.visit("/accounts/login/")
    sign_in_by_keyboard(phone, "supervisor")
    phone.visit(f"/services/statistics/?period={quarter}&by=month")
    phone.visit("/services/statistics/?period=custom&start=2026-01-01&end=2026-12-31"
                "&by=matter")
    expect(phone.page.locator("svg.yw-chart--bar")).to_have_count(2)
    assert _page_width(phone) <= 390  # nothing sticks out sideways on a phone
    phone.page.locator("html").evaluate("el => el.classList.add('yw-large')")  # 长辈模式
    phone.check()
    assert _page_width(phone) <= 390


def test_handler__works_a_rectification_to_the_callback(open_tab, closed_case):
    from playwright.sync_api import expect

    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=2,
                                   channel="mobile", tags=["态度差"], text="窗口人员态度不好")
    item = rating.rectification
    tab = open_tab("desktop")
    page = tab.page
    tab.visit("/accounts/login/")
    sign_in_by_keyboard(tab, "dept_handler")
    tab.visit("/services/rectifications/")
    with tab.navigation():
        page.get_by_role("link", name=closed_case.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(closed_case.number)
    expect(page.get_by_text("窗口人员态度不好")).to_be_visible()

    # Nothing typed: the form says what is missing and nothing changes.
    with tab.navigation(status=400):
        page.get_by_role("button", name=_("Verify and contact the applicant")).click()
    expect(page.get_by_role("alert")).to_contain_text(_("There is a problem"))
    page.get_by_label(_("What was verified")).fill("调取窗口录像，情况属实")
    page.get_by_label(_("Contact with the applicant")).fill("11月20日电话联系申请人并致歉")
    with tab.navigation():
        page.get_by_role("button", name=_("Verify and contact the applicant")).click()
    expect(page.get_by_role("status")).to_contain_text(_("Verification and contact recorded."))

    page.get_by_label(_("What was rectified")).fill("对窗口人员开展服务规范培训")
    with tab.navigation():
        page.get_by_role("button", name=_("Record the rectification")).click()

    page.get_by_label(str(RatingLevel.SATISFIED.label), exact=True).check()
    page.get_by_label(_("Callback note")).fill("申请人认可整改")
    with tab.navigation():
        page.get_by_role("button", name=_("Record the callback")).click()
    expect(page.get_by_text(_("This rectification is finished."))).to_be_visible()
    expect(page.get_by_role("list").filter(has_text=_("Called back, closed"))).to_be_visible()
    assert Rectification.objects.get(pk=item.pk).status == R.CLOSED

    phone = open_tab("mobile")
    phone.visit("/accounts/login/")
    sign_in_by_keyboard(phone, "dept_handler")
    phone.visit("/services/rectifications/?status=")
    assert _page_width(phone) <= 390
    phone.visit(f"/services/rectifications/{item.pk}/")
    assert _page_width(phone) <= 390
