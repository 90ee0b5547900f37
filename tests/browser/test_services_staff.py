"""Staff journeys through case handling: the window clerk accepts with a deficiency, a
department approver claims, reviews, approves and delivers, a supervisor reads the
overdue list. In English (``en-US``), so the names below do not depend on which
translations are compiled; every page is checked by axe and screenshotted."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from yiwang.core.tests.factories import PASSWORD, make_citizen
from yiwang.services import cases
from yiwang.services.models import Case, CaseStatus
from yiwang.services.tests.factories import add_case_staff, make_matter
from yiwang.services.tests.test_cases import attach_all, window_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(district):
    add_case_staff(district)
    district.version = make_matter(district)
    district.citizen = make_citizen(phone="13800138000")
    return district


def sign_in(tab, username: str) -> None:
    tab.visit("/accounts/login/")
    page = tab.page
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with tab.navigation():
        page.get_by_role("button", name="Sign in").click()


def confirm(tab, action: str) -> None:
    """Open a transition's form on the case page and submit it."""
    page = tab.page
    page.locator("summary", has_text=re.compile(f"^{re.escape(action)}$")).click()
    with tab.navigation():
        page.get_by_role("button", name=f"Confirm: {action}").click()


def test_clerk_accepts_with_deficiency__approver_claims_reviews_approves_delivers(
        open_tab, world):
    from playwright.sync_api import expect

    case = window_case(world)

    # The window clerk of street A: the case waits in "To accept".
    tab = open_tab("desktop", locale="en-US")
    page = tab.page
    sign_in(tab, "clerk_a")
    tab.visit("/services/inbox/")
    expect(page.get_by_role("link", name=re.compile("To accept"))).to_have_attribute(
        "aria-current", "page")
    with tab.navigation():
        page.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(case.matter.name)
    page.locator("summary", has_text="Accept with deficiencies").click()
    page.get_by_role("form", name="Accept with deficiencies").get_by_label(
        "建设工程规划许可证").check()
    tab.check()
    with tab.navigation():
        page.get_by_role("button", name="Confirm: Accept with deficiencies").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_be_visible()
    expect(page.locator(".yw-badge--status")).to_contain_text("Accepted with deficiencies")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED_DEFICIENT

    # The applicant supplies the missing material (their own pages, not this journey).
    attach_all(case, world.citizen)
    cases.case_supplement(actor=world.citizen, case=case)

    # A department approver: claims it from "To assign" without leaving the inbox.
    tab2 = open_tab("desktop", locale="en-US")
    page = tab2.page
    sign_in(tab2, "dept_approver")
    tab2.visit("/services/inbox/?tab=unassigned")
    row = page.locator(f"#case-{case.pk}")
    row.get_by_role("button", name=re.compile("^Claim")).click()
    expect(row.get_by_role("status")).to_be_visible()
    expect(page.locator(f"#case-{case.pk}")).to_contain_text("dept_approver")
    tab2.check()
    with tab2.navigation():
        page.get_by_role("link", name=case.number).click()
    confirm(tab2, "Start review")
    expect(page.locator(".yw-badge--status")).to_contain_text("Under review")
    page.locator("summary", has_text=re.compile("^Approve$")).click()
    page.get_by_role("form", name="Approve").get_by_label("Approval opinion").fill(
        "符合法定条件，准予许可。")
    with tab2.navigation():
        page.get_by_role("button", name="Confirm: Approve").click()
    expect(page.locator(".yw-badge--status")).to_contain_text("Approved")
    page.locator("summary", has_text="Deliver the result").click()
    page.get_by_role("form", name="Deliver the result").get_by_label(
        "Download (electronic result)").check()
    with tab2.navigation():
        page.get_by_role("button", name="Confirm: Deliver the result").click()
    expect(page.locator(".yw-badge--status")).to_contain_text("Result delivered")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text(
        "符合法定条件，准予许可。")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.delivery_method == "download"


def test_supervisor_sees_overdue_cases_on_desktop_and_phone(open_tab, world):
    from playwright.sync_api import expect

    late = cases.case_accept(actor=world.users["clerk_a"], case=window_case(world))
    clock = late.clock
    clock.due_at = timezone.now() - dt.timedelta(days=7)
    clock.save()
    cases.case_accept(actor=world.users["clerk_a"], case=window_case(world))
    cases.cases_refresh_deadlines()
    assert Case.objects.get(pk=late.pk).time_state == "overdue"

    for viewport in ("desktop", "mobile"):
        tab = open_tab(viewport, locale="en-US")
        page = tab.page
        sign_in(tab, "supervisor")
        tab.visit("/services/overdue/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Overdue and warning cases")
        table = page.get_by_role("table", name="Overdue and warning cases per department")
        expect(table).to_contain_text(world.department.name)
        expect(page.get_by_role("link", name=late.number)).to_be_visible()
        expect(page.get_by_text(re.compile(r"\d+ working days? overdue")).first).to_be_visible()
        tab.visit("/services/inbox/?tab=all")
        with tab.navigation():
            page.get_by_role("link", name=late.number).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(late.matter.name)
