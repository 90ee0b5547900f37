"""Applicant journeys: a citizen on a phone files a case with an upload and finds it in
"My cases"; a citizen supplies what a 补正 request asks for and, once the case is
decided, rates it; a window clerk files for a citizen. In English (``en-US``), so the
names below do not depend on which translations are compiled; every page is checked by
axe and screenshotted."""

from __future__ import annotations

import re

import pytest

from yiwang.core.tests.factories import PASSWORD, make_citizen
from yiwang.services import cases
from yiwang.services.models import Case, CaseStatus, Material, Rating
from yiwang.services.tests.factories import add_case_staff, make_matter
from yiwang.services.tests.test_cases import attach_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCHEMA = {"type": "object", "required": ["project", "contact_phone", "kind"], "properties": {
    "project": {"type": "string", "title": "Project name", "maxLength": 50,
                "description": "As on the planning permit"},
    "contact_phone": {"type": "string", "title": "Contact phone", "pattern": r"^1\d{10}$",
                      "x-pattern-message": "Enter an 11-digit mobile number"},
    "kind": {"type": "string", "title": "Kind of works", "enum": ["new", "extend"],
             "x-enumNames": ["New building", "Extension"]},
    "floors": {"type": "integer", "title": "Floors", "minimum": 1}}}


@pytest.fixture
def world(district, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    add_case_staff(district)
    district.version = make_matter(district, form_schema=SCHEMA)
    district.citizen = make_citizen(phone="13800138000")
    return district


def sign_in(tab, username: str, next_path: str = "") -> None:
    tab.visit("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page = tab.page
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with tab.navigation():
        page.get_by_role("button", name="Sign in").click()


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_citizen_on_a_phone__files_with_uploads_and_finds_it_in_my_cases(open_tab, world):
    from playwright.sync_api import expect

    apply_path = f"/services/matters/{world.version.implementation_code}/apply/"
    tab = open_tab("mobile", locale="en-US")
    page = tab.page
    # A phone's browser says so; the harness's 390 px viewport alone does not.
    page.context.set_extra_http_headers({"User-Agent": IPHONE})
    sign_in(tab, "citizen", apply_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(world.version.name)

    # First a mistake: a wrong phone number and a missing file. Nothing is filed, and what
    # was typed is still there.
    page.get_by_label("Project name").fill("示范小学扩建工程")
    page.get_by_label("Contact phone").fill("12345")
    page.get_by_label("Extension").check()
    with tab.navigation(status=400):
        page.get_by_role("button", name="Submit the application").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text("Enter an 11-digit mobile number")
    expect(summary).to_contain_text("申请表")
    expect(page.get_by_label("Project name")).to_have_value("示范小学扩建工程")
    expect(page.get_by_label("Extension")).to_be_checked()
    assert not Case.objects.exists()

    page.get_by_label("Contact phone").fill("13800138000")
    page.get_by_label(re.compile("^申请表")).set_input_files(pdf("申请表.pdf"))
    page.get_by_label(re.compile("^建设工程规划许可证")).set_input_files(pdf("规划许可证.pdf"))
    with tab.navigation():
        page.get_by_role("button", name="Submit the application").click()
    case = Case.objects.get()
    assert case.status == CaseStatus.SUBMITTED and case.channel == "mobile"
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_contain_text(
        case.number)
    expect(page.get_by_role("link", name="申请表")).to_be_visible()
    expect(page.get_by_text("Application submitted")).to_be_visible()

    with tab.navigation():
        page.get_by_role("navigation", name="Breadcrumb").get_by_role(
            "link", name="My cases").click()
    card = page.get_by_role("listitem").filter(has_text=case.number)
    expect(card).to_contain_text("Submitted")
    with tab.navigation():
        card.get_by_role("link", name=world.version.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(world.version.name)


def test_citizen__supplies_what_was_asked_then_rates_the_decided_case(open_tab, world):
    from playwright.sync_api import expect

    citizen, approver = world.citizen, world.users["dept_approver"]
    case = cases.case_create(actor=citizen, version=world.version, applicant=citizen,
                             channel="pc", form_data={"project": "示范项目",
                                                      "contact_phone": "13800138000",
                                                      "kind": "new"})
    attach_all(case, citizen)
    case = cases.case_submit(actor=citizen, case=case)
    case = cases.case_accept(actor=world.users["dept_clerk"], case=case)
    case = cases.case_start_review(actor=approver, case=case)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    case = cases.case_request_supplement(
        actor=approver, case=case, reason="The planning permit scan cannot be read.",
        items=[(site_plan, "A readable scan of the planning permit")])

    tab = open_tab("mobile", locale="en-US")
    page = tab.page
    sign_in(tab, "citizen", f"/services/my/cases/{case.number}/")
    section = page.get_by_role("region", name=re.compile("Materials to supplement"))
    expect(section).to_contain_text("A readable scan of the planning permit")
    expect(page.get_by_text("The planning permit scan cannot be read.")).to_be_visible()
    section.get_by_label("A readable scan of the planning permit").set_input_files(
        pdf("清晰的规划许可证.pdf"))
    with tab.navigation():
        section.get_by_role("button", name="Send the materials").click()
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW and case.clock.paused_at is None
    expect(page.get_by_text("Materials supplied")).to_be_visible()

    case = cases.case_approve(actor=approver, case=case)
    case = cases.case_deliver(actor=approver, case=case, method="download")
    case = cases.case_close(actor=approver, case=case)
    tab.visit(f"/services/my/cases/{case.number}/")
    rate = page.get_by_role("region", name=re.compile("Rate this service"))
    rate.get_by_text("Very dissatisfied", exact=True).click()
    with tab.navigation(status=400):
        rate.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "what went wrong")
    assert not Rating.objects.exists()
    rate = page.get_by_role("region", name=re.compile("Rate this service"))
    rate.get_by_text("Satisfied", exact=True).click()
    rate.get_by_text("Fast", exact=True).click()
    with tab.navigation():
        rate.get_by_role("button", name="Send my rating").click()
    rating = Rating.objects.get()
    assert rating.level == 4 and rating.tags == ["Fast"]
    expect(page.get_by_role("region", name="Your rating")).to_contain_text("Satisfied")
    expect(page.get_by_role("button", name="Send my rating")).to_have_count(0)


def test_window_clerk__files_for_a_citizen_and_lands_on_the_case(open_tab, world):
    from playwright.sync_api import expect

    tab = open_tab("desktop", locale="en-US")
    page = tab.page
    sign_in(tab, "clerk_a")
    tab.visit("/services/window/apply/")
    page.get_by_label("Matter name, pinyin initials or implementation code").fill("施工许可")
    with tab.navigation():
        page.get_by_role("button", name="Search").click()
    with tab.navigation():
        page.get_by_role("link", name=re.compile(f"Choose.*{world.version.name}")).click()
    page.get_by_label("ID number or unified social credit code").fill(world.citizen.id_number)
    with tab.navigation():
        page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("status").filter(has_text=world.citizen.name)).to_be_visible()
    page.get_by_label("Project name").fill("窗口代办项目")
    page.get_by_label("Contact phone").fill("13800138000")
    page.get_by_label("New building").check()
    page.get_by_label(re.compile("^申请表")).set_input_files(pdf("申请表.pdf"))
    page.get_by_label(re.compile("^建设工程规划许可证")).set_input_files(pdf("规划.pdf"))
    with tab.navigation():  # to the staff case page
        page.get_by_role("button", name="File and submit").click()
    case = Case.objects.get()
    assert case.channel == "window" and case.applicant == world.citizen
    assert case.intake_unit == world.street_a and case.status == CaseStatus.SUBMITTED
    assert page.url.endswith(f"/services/cases/{case.number}/")


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_applicant_pages__in_chinese_on_phone_and_desktop(open_tab, world, viewport):
    """The default language and both widths: filing, my cases and a case with a 补正 list."""
    from playwright.sync_api import expect

    citizen, approver = world.citizen, world.users["dept_approver"]
    case = cases.case_create(actor=citizen, version=world.version, applicant=citizen,
                             channel="pc", form_data={"project": "示范项目", "kind": "new",
                                                      "contact_phone": "13800138000"})
    attach_all(case, citizen)
    case = cases.case_submit(actor=citizen, case=case)
    case = cases.case_accept(actor=world.users["dept_clerk"], case=case)
    case = cases.case_start_review(actor=approver, case=case)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    cases.case_request_supplement(actor=approver, case=case, reason="扫描件不清晰",
                                  items=[(site_plan, "清晰的建设工程规划许可证扫描件")])
    cases.case_create(actor=citizen, version=world.version, applicant=citizen, channel="pc")

    tab = open_tab(viewport)
    page = tab.page
    tab.visit("/accounts/login/")
    page.get_by_label("用户名").fill("citizen")
    page.get_by_label("密码").fill(PASSWORD)
    with tab.navigation():
        page.get_by_role("button", name="登录").click()
    tab.visit(f"/services/matters/{world.version.implementation_code}/apply/")
    expect(page.get_by_role("heading", level=1)).to_have_text(world.version.name)
    tab.visit("/services/my/cases/")
    expect(page.get_by_text(case.number, exact=True)).to_be_visible()
    tab.visit(f"/services/my/cases/{case.number}/")
    expect(page.get_by_text("清晰的建设工程规划许可证扫描件").first).to_be_visible()
