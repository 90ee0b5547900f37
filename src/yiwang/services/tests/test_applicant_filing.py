"""Filing online: the form, the uploads, drafts, and bad input that changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.accounts.models import UserKind
from yiwang.core.tests.factories import make_citizen
from yiwang.services.models import (
    Case,
    CaseMaterial,
    CaseStatus,
    Channel,
    Material,
    MaterialSource,
)
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
SCHEMA = {"type": "object", "required": ["project", "contact_phone"], "properties": {
    "project": {"type": "string", "title": "项目名称", "maxLength": 50},
    "contact_phone": {"type": "string", "title": "联系电话", "pattern": r"^1\d{10}$"},
    "floors": {"type": "integer", "title": "层数", "minimum": 1}}}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


@pytest.fixture
def world(district):
    add_case_staff(district)
    district.version = make_matter(district, form_schema=SCHEMA)
    Material.objects.create(version=district.version, code="licence", name="营业执照",
                            source=MaterialSource.LICENSE, license_type="business_licence")
    Material.objects.create(version=district.version, code="proxy", name="授权委托书",
                            required=True, condition="委托他人办理的")
    district.citizen = make_citizen(phone="13800138000")
    district.url = reverse("services:case_apply",
                           kwargs={"matter_code": district.version.implementation_code})
    return district


def files(**overrides):
    chosen = {"material-application": SimpleUploadedFile("申请表.pdf", PDF),
              "material-site_plan": SimpleUploadedFile("规划许可.png", PNG)}
    chosen.update(overrides)
    return {k: v for k, v in chosen.items() if v is not None}


def good(**overrides):
    data = {"f-project": "示范小学扩建", "f-contact_phone": "13800138000", "f-floors": "3",
            "action": "submit", **files()}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def nothing_changed(media) -> bool:
    return (not Case.objects.exists() and not CaseMaterial.objects.exists()
            and not (media.exists() and any(p.is_file() for p in media.rglob("*"))))


def test_apply__page_shows_form_materials_and_exempt_ones(world, client_for):
    response = client_for(world.citizen).get(world.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'for="id_f-project"' in html and 'name="material-application"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "营业执照" in html and 'name="material-licence"' not in html  # 免提交
    assert "委托他人办理的" in html  # the condition of a conditional material


def test_apply__submit_creates_a_submitted_case_with_files(world, client_for):
    client = client_for(world.citizen)
    response = client.post(world.url, good(), HTTP_USER_AGENT=IPHONE)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("services:my_case", kwargs={"number": case.number})
    assert case.status == CaseStatus.SUBMITTED and case.channel == Channel.MOBILE
    assert case.applicant == world.citizen and case.intake_unit == world.department
    assert case.form_data == {"project": "示范小学扩建", "contact_phone": "13800138000",
                              "floors": 3}
    stored = {m.material.code: m for m in case.materials.select_related("material")}
    assert set(stored) == {"application", "site_plan"}
    assert stored["site_plan"].content_type == "image/png"
    page = client.get(response["Location"]).content.decode()
    assert case.number in page


def test_apply__desktop_browser_files_through_pc(world, client_for):
    client_for(world.citizen).post(world.url, good(), HTTP_USER_AGENT="Mozilla/5.0 (X11)")
    assert Case.objects.get().channel == Channel.PC


@pytest.mark.parametrize(("change", "field_text"), [
    ({"f-project": ""}, "项目名称"),
    ({"f-contact_phone": "12"}, "联系电话"),
    ({"f-floors": "three"}, "层数"),
    ({"material-application": None}, "申请表"),
    ({"material-site_plan": SimpleUploadedFile("规划许可.pdf", PNG)}, "PNG"),
])
def test_apply__bad_input_changes_nothing_and_keeps_what_was_typed(
        world, client_for, media, change, field_text):
    response = client_for(world.citizen).post(world.url, good(**change))
    assert response.status_code == 400
    html = response.content.decode()
    assert field_text in html
    assert 'value="示范小学扩建"' in html or change.get("f-project") == ""
    assert 'aria-invalid="true"' in html
    assert nothing_changed(media)


def test_apply__a_failing_submit_rolls_back_case_and_files(world, client_for, media,
                                                            monkeypatch):
    from django.core.exceptions import ValidationError

    from yiwang.services import cases

    def refuse(**kwargs):
        raise ValidationError({"materials": ["材料不全"]})

    monkeypatch.setattr(cases, "case_submit", refuse)
    response = client_for(world.citizen).post(world.url, good())
    assert response.status_code == 400
    assert "材料不全" in response.content.decode()
    assert nothing_changed(media)


def test_apply__draft_without_materials_then_edit_and_submit(world, client_for):
    client = client_for(world.citizen)
    response = client.post(world.url, {"f-project": "草稿项目", "action": "draft",
                                       **files(**{"material-site_plan": None})})
    case = Case.objects.get()
    assert response.status_code == 302 and case.status == CaseStatus.DRAFT
    assert case.form_data == {"project": "草稿项目"}
    edit = reverse("services:my_case_edit", kwargs={"number": case.number})
    html = client.get(edit).content.decode()
    assert 'value="草稿项目"' in html and "申请表.pdf" in html  # kept answers and upload
    # Submitting needs the phone and the site plan; the uploaded 申请表 is not asked again.
    response = client.post(edit, {"f-project": "草稿项目", "action": "submit"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "规划许可证" in html and "联系电话" in html
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.form_data == {"project": "草稿项目"}
    response = client.post(edit, {"f-project": "草稿项目", "f-contact_phone": "13800138000",
                                  "action": "submit",
                                  "material-site_plan": SimpleUploadedFile("p.pdf", PDF)})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and case.materials.count() == 2


def test_apply__replacing_a_draft_upload_keeps_one_file(world, client_for,
                                                        django_capture_on_commit_callbacks):
    client = client_for(world.citizen)
    client.post(world.url, {"f-project": "x", "action": "draft", **files()})
    case = Case.objects.get()
    old = case.materials.get(material__code="application").file.name
    edit = reverse("services:my_case_edit", kwargs={"number": case.number})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit, {"f-project": "x", "action": "draft",
                           "material-application": SimpleUploadedFile("新.pdf", PDF)})
    assert case.materials.filter(material__code="application").get().original_name == "新.pdf"
    assert not default_storage.exists(old)


def test_apply__matter_for_enterprises_only_explains_and_refuses_a_citizen(
        world, client_for, district, media):
    version = make_matter(district, code="11440300MB2C92416M4440300009000", name="企业事项",
                          service_objects=["enterprise"])
    url = reverse("services:case_apply", kwargs={"matter_code": version.implementation_code})
    client = client_for(world.citizen)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "enterprise" in html.lower() or "企业" in html
    assert 'name="material-application"' not in html
    assert client.post(url, good()).status_code == 400
    assert nothing_changed(media)


def test_apply__unknown_or_unpublished_matter_is_404(world, client_for):
    client = client_for(world.citizen)
    url = reverse("services:case_apply", kwargs={"matter_code": "NOPE"})
    assert client.get(url).status_code == 404
    world.version.matter.published = None
    world.version.matter.save()
    assert client.get(world.url).status_code == 404


def test_apply__staff_get_403_and_anonymous_sign_in(world, client, client_for):
    assert client_for(world.users["clerk_a"]).get(world.url).status_code == 403
    response = client.get(world.url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_apply__enterprise_files_for_itself(world, client_for):
    from yiwang.accounts.models import User

    enterprise = User.objects.create(username="ent", kind=UserKind.ENTERPRISE, name="李四",
                                     enterprise_name="示范有限公司",
                                     credit_code="91440300MA5FXXXX0X")
    client_for(enterprise).post(world.url, good())
    case = Case.objects.get()
    assert case.applicant == enterprise and case.applicant_name == "示范有限公司"


def test_edit__someone_elses_draft_is_404(world, client_for):
    client_for(world.citizen).post(world.url, {"f-project": "x", "action": "draft"})
    case = Case.objects.get()
    stranger = make_citizen(username="stranger", id_number="110105194912310037")
    edit = reverse("services:my_case_edit", kwargs={"number": case.number})
    assert client_for(stranger).get(edit).status_code == 404
    assert client_for(stranger).post(edit, {"f-project": "y", "action": "draft"}
                                     ).status_code == 404
    case.refresh_from_db()
    assert case.form_data == {"project": "x"}
