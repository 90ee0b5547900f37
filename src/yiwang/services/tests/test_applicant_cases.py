"""My cases and one case: timeline, supplements (补正), withdrawal, rating (好差评)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yiwang.core.tests.factories import make_citizen
from yiwang.services import cases
from yiwang.services.models import (
    Case,
    CaseMaterial,
    CaseStatus,
    Channel,
    Deficiency,
    Material,
    Rating,
    Rectification,
)
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db
S = CaseStatus
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


@pytest.fixture
def world(district):
    add_case_staff(district)
    district.version = make_matter(district)
    district.citizen = make_citizen(phone="13800138000")
    district.stranger = make_citizen(username="stranger", id_number="110105194912310037")
    return district


def filed(world, applicant=None) -> Case:
    applicant = applicant or world.citizen
    case = cases.case_create(actor=applicant, version=world.version, applicant=applicant,
                             channel=Channel.PC, form_data={"project": "示范项目"})
    for material in Material.objects.filter(version=case.version):
        CaseMaterial.objects.create(
            case=case, material=material, file=ContentFile(PDF, name="a.pdf"),
            original_name=f"{material.code}.pdf", content_type="application/pdf",
            size=len(PDF), sha256="0" * 64, uploaded_by=applicant)
    return cases.case_submit(actor=applicant, case=case)


def decided(world) -> Case:
    case = filed(world)
    approver = world.users["dept_approver"]
    case = cases.case_accept(actor=world.users["dept_clerk"], case=case)
    case = cases.case_start_review(actor=approver, case=case)
    case = cases.case_approve(actor=approver, case=case)
    case = cases.case_deliver(actor=approver, case=case, method="download")
    return cases.case_close(actor=approver, case=case)


def url(name: str, case: Case) -> str:
    return reverse(f"services:{name}", kwargs={"number": case.number})


# --- my cases --------------------------------------------------------------------------------


def test_my_cases__only_mine_with_next_steps(world, client_for):
    mine = filed(world)
    to_rate = decided(world)
    theirs = filed(world, world.stranger)
    html = client_for(world.citizen).get(reverse("services:my_cases")).content.decode()
    assert mine.number in html and to_rate.number in html
    assert theirs.number not in html
    assert "#rate" in html  # the decided case asks for a rating


def test_my_cases__filters_and_pagination(world, client_for):
    for _ in range(12):
        filed(world)
    draft = cases.case_create(actor=world.citizen, version=world.version,
                              applicant=world.citizen, channel=Channel.PC)
    client = client_for(world.citizen)
    page1 = client.get(reverse("services:my_cases")).content.decode()
    page2 = client.get(reverse("services:my_cases"), {"page": 2}).content.decode()
    assert page1.count('class="yw-casecard"') == 10 and page2.count('class="yw-casecard"') == 3
    drafts = client.get(reverse("services:my_cases"), {"show": "draft"}).content.decode()
    assert drafts.count('class="yw-casecard"') == 1 and draft.number in drafts
    action = client.get(reverse("services:my_cases"), {"show": "action"}).content.decode()
    assert draft.number in action


def test_my_cases__constant_queries(world, client_for):
    client = client_for(world.citizen)
    filed(world)
    client.get(reverse("services:my_cases"))  # warm caches (session, district name)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("services:my_cases"))
    for _ in range(5):
        filed(world)
    decided(world)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("services:my_cases"))
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_my_case__constant_queries_whatever_the_history(world, client_for):
    client = client_for(world.citizen)
    short = filed(world)
    client.get(url("my_case", short))
    with CaptureQueriesContext(connection) as few:
        client.get(url("my_case", short))
    long = decided(world)  # more events, messages, a result
    client.get(url("my_case", long))
    Rating.objects.create(case=long, matter=long.matter, department=long.department,
                          rater=world.citizen, channel="pc", level=5)
    with CaptureQueriesContext(connection) as many:
        client.get(url("my_case", long))
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_my_cases__staff_403(world, client_for):
    assert client_for(world.users["clerk_a"]).get(reverse("services:my_cases")
                                                  ).status_code == 403


# --- one case ----------------------------------------------------------------------------


def test_my_case__timeline_in_plain_words_and_files(world, client_for):
    case = filed(world)
    cases.case_accept(actor=world.users["dept_clerk"], case=case)
    html = client_for(world.citizen).get(url("my_case", case)).content.decode()
    assert case.number in html
    assert html.count("<time class=\"yw-timeline__time\"") == 3  # create, submit, accept
    assert "application.pdf" in html
    assert reverse("services:material_download",
                   kwargs={"material_id": case.materials.first().pk}) in html
    assert 'name="reason"' in html  # withdraw is offered before a decision


def test_my_case__someone_elses_case_is_404_everywhere(world, client_for):
    theirs = filed(world, world.stranger)
    client = client_for(world.citizen)
    assert client.get(url("my_case", theirs)).status_code == 404
    for name, data in [("my_case_withdraw", {"reason": "x"}), ("my_case_rate", {"level": 5}),
                       ("my_case_supplement", {}), ("my_case_submit", {})]:
        assert client.post(url(name, theirs), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.SUBMITTED


def test_withdraw__needs_a_reason_then_withdraws(world, client_for):
    case = filed(world)
    client = client_for(world.citizen)
    response = client.post(url("my_case_withdraw", case), {"reason": " "})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == S.SUBMITTED
    response = client.post(url("my_case_withdraw", case),
                           {"reason": "不需要了", "revision": case.revision})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN


def test_withdraw__stale_page_gets_a_clear_message(world, client_for):
    case = filed(world)
    stale = case.revision
    cases.case_accept(actor=world.users["dept_clerk"], case=case)
    client = client_for(world.citizen)
    response = client.post(url("my_case_withdraw", case), {"reason": "x", "revision": stale},
                           follow=True)
    case.refresh_from_db()
    assert case.status == S.ACCEPTED
    assert "reload" in response.content.decode() or "刷新" in response.content.decode() \
        or "重新" in response.content.decode()


# --- 补正 -------------------------------------------------------------------------------------


def supplement_requested(world) -> Case:
    case = filed(world)
    approver = world.users["dept_approver"]
    case = cases.case_accept(actor=world.users["dept_clerk"], case=case)
    case = cases.case_start_review(actor=approver, case=case)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    return cases.case_request_supplement(
        actor=approver, case=case, reason="规划许可证不清晰",
        items=[(site_plan, "重新上传清晰的建设工程规划许可证"), (None, "补充说明施工范围")])


def test_supplement__upload_then_the_case_resumes_and_the_clock_runs(world, client_for):
    case = supplement_requested(world)
    assert case.status == S.SUPPLEMENT and case.clock.paused_at is not None
    client = client_for(world.citizen)
    html = client.get(url("my_case", case)).content.decode()
    assert "重新上传清晰的建设工程规划许可证" in html and "规划许可证不清晰" in html
    items = list(case.deficiencies.order_by("pk"))
    response = client.post(url("my_case_supplement", case), {
        f"deficiency-{items[0].pk}": SimpleUploadedFile("清晰.pdf", PDF),
        "revision": case.revision})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.UNDER_REVIEW
    assert case.clock.paused_at is None
    assert case.materials.filter(kind="supplement").get().original_name == "清晰.pdf"
    assert not case.deficiencies.filter(supplied_at__isnull=True).exists()


def test_supplement__missing_or_wrong_file_changes_nothing(world, client_for):
    case = supplement_requested(world)
    items = list(case.deficiencies.order_by("pk"))
    client = client_for(world.citizen)
    response = client.post(url("my_case_supplement", case), {})
    assert response.status_code == 400
    assert "重新上传清晰的建设工程规划许可证" in response.content.decode()
    response = client.post(url("my_case_supplement", case), {
        f"deficiency-{items[0].pk}": SimpleUploadedFile("清晰.pdf", PNG)})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == S.SUPPLEMENT and not case.materials.filter(kind="supplement").exists()
    assert Deficiency.objects.filter(case=case, supplied_at__isnull=True).count() == 2


def test_supplement__deficient_items_of_a_case_accepted_with_deficiencies(world, client_for):
    case = filed(world)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    case = cases.case_accept_with_deficiency(actor=world.users["dept_clerk"], case=case,
                                             items=[(site_plan, "")])
    item = case.deficiencies.get()
    client = client_for(world.citizen)
    html = client.get(url("my_case", case)).content.decode()
    assert f'name="deficiency-{item.pk}"' in html and "容缺" in html
    response = client.post(url("my_case_supplement", case), {
        f"deficiency-{item.pk}": SimpleUploadedFile("规划许可证.pdf", PDF)})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.deficiency_due_at is None


def test_supplement__nothing_open_is_a_clear_message(world, client_for):
    case = filed(world)
    response = client_for(world.citizen).post(url("my_case_supplement", case), {},
                                              follow=True)
    assert response.redirect_chain and response.status_code == 200


# --- 好差评 ----------------------------------------------------------------------------------


def test_rate__five_large_choices_then_already_rated(world, client_for):
    case = decided(world)
    client = client_for(world.citizen)
    html = client.get(url("my_case", case)).content.decode()
    assert html.count('name="level"') == 5
    response = client.post(url("my_case_rate", case), {"level": "5", "tags": ["Fast"]},
                           HTTP_ACCEPT_LANGUAGE="en")  # tags are offered in the user's language
    assert response.status_code == 302
    rating = Rating.objects.get(case=case)
    assert rating.level == 5 and rating.rater == world.citizen and rating.channel == "pc"
    html = client.get(url("my_case", case)).content.decode()
    assert 'name="level"' not in html


def test_rate__twice_is_refused_with_a_clear_message(world, client_for):
    case = decided(world)
    client = client_for(world.citizen)
    client.post(url("my_case_rate", case), {"level": "4"})
    response = client.post(url("my_case_rate", case), {"level": "1", "text": "改主意了"},
                           HTTP_USER_AGENT="iPhone Mobile", follow=True)
    assert Rating.objects.filter(case=case).count() == 1
    assert "already rated" in response.content.decode() or "已" in response.content.decode()


def test_rate__bad_rating_needs_text_and_opens_a_rectification(world, client_for):
    case = decided(world)
    client = client_for(world.citizen)
    response = client.post(url("my_case_rate", case), {"level": "1"})
    assert response.status_code == 400
    assert not Rating.objects.exists()
    response = client.post(url("my_case_rate", case), {"level": "1", "text": "等了很久"})
    assert response.status_code == 302
    assert Rectification.objects.filter(rating__case=case).exists()


def test_rate__not_before_a_decision(world, client_for):
    case = filed(world)
    client_for(world.citizen).post(url("my_case_rate", case), {"level": "5"})
    assert not Rating.objects.exists()


# --- drafts ------------------------------------------------------------------------------------


def test_submit_draft__missing_materials_is_a_clear_message(world, client_for):
    draft = cases.case_create(actor=world.citizen, version=world.version,
                              applicant=world.citizen, channel=Channel.PC)
    response = client_for(world.citizen).post(url("my_case_submit", draft), follow=True)
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert "申请表" in response.content.decode()


def test_case_supplement__needs_a_new_file_for_a_material_to_correct(world):
    from django.core.exceptions import ValidationError

    case = supplement_requested(world)  # 规划许可证 was uploaded at filing, asked again
    with pytest.raises(ValidationError):
        cases.case_supplement(actor=world.citizen, case=case)
