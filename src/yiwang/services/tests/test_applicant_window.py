"""Filing at the comprehensive window (综合窗口) on an applicant's behalf."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.accounts.models import User, UserKind
from yiwang.core.models import AuditEntry
from yiwang.core.tests.factories import make_citizen
from yiwang.core.validators import id_check_char, uscc_check_char
from yiwang.services.models import Case, CaseStatus, Channel
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
URL = "/services/window/apply/"
NEW_ID = "44030319900101001" + id_check_char("44030319900101001")


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
    district.clerk = district.users["clerk_a"]
    return district


def filing(world, applicant_id: str, **extra):
    return {"matter": world.version.implementation_code, "applicant_id": applicant_id,
            "material-application": SimpleUploadedFile("申请表.pdf", PDF),
            "material-site_plan": SimpleUploadedFile("规划.pdf", PDF), **extra}


def test_window__search_matters_by_name_and_pinyin(world, client_for):
    client = client_for(world.clerk)
    assert reverse("services:window_apply") == URL
    html = client.get(URL, {"q": "施工许可"}).content.decode()
    assert world.version.implementation_code in html
    html = client.get(URL, {"q": "不存在的事项"}).content.decode()
    assert world.version.implementation_code not in html


def lookup(client, world, applicant_id: str):
    return client.post(URL, {"matter": world.version.implementation_code, "step": "lookup",
                             "applicant_id": applicant_id})


def test_window__look_up_a_citizen_by_id_number_is_audited(world, client_for):
    response = lookup(client_for(world.clerk), world, world.citizen.id_number)
    assert response.status_code == 200
    html = response.content.decode()
    assert world.citizen.name in html
    assert world.citizen.masked_id_number in html
    assert f"applicant_id={world.citizen.id_number}" not in html  # never in a URL
    assert 'name="material-application"' in html
    assert AuditEntry.objects.filter(action="pii.read", object_id=str(world.citizen.pk)
                                     ).exists()


def test_window__files_submits_and_lands_on_the_staff_case_page(world, client_for):
    response = client_for(world.clerk).post(URL, filing(world, world.citizen.id_number))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/services/cases/{case.number}/"
    assert case.status == CaseStatus.SUBMITTED and case.channel == Channel.WINDOW
    assert case.applicant == world.citizen and case.filed_by == world.clerk
    assert case.intake_unit == world.street_a and case.department == world.department
    assert case.materials.count() == 2
    assert case.materials.first().uploaded_by == world.clerk


def test_window__unknown_citizen_gets_a_record_with_the_case(world, client_for):
    client = client_for(world.clerk)
    html = lookup(client, world, NEW_ID).content.decode()
    assert 'name="new_name"' in html
    response = client.post(URL, filing(world, NEW_ID, new_name="王五",
                                       new_phone="13912345678"))
    assert response.status_code == 302
    person = User.objects.by_id_number(NEW_ID).get()
    assert person.kind == UserKind.CITIZEN and person.name == "王五"
    assert not person.has_usable_password()
    assert Case.objects.get().applicant == person
    assert AuditEntry.objects.filter(action="services.window.citizen_record",
                                     actor_id=world.clerk.pk).exists()


def test_window__bad_input_creates_neither_record_nor_case(world, client_for):
    client = client_for(world.clerk)
    # No name for the new record:
    response = client.post(URL, filing(world, NEW_ID))
    assert response.status_code == 400
    # A name, but a required material missing:
    data = filing(world, NEW_ID, new_name="王五")
    del data["material-site_plan"]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "建设工程规划许可证" in response.content.decode()
    assert not User.objects.by_id_number(NEW_ID).exists()
    assert not Case.objects.exists()


def test_window__invalid_identifier_is_explained(world, client_for):
    response = lookup(client_for(world.clerk), world, "12345")
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    response = client_for(world.clerk).post(URL, filing(world, "12345"))
    assert response.status_code == 400 and not Case.objects.exists()


def test_window__enterprise_by_credit_code(world, client_for):
    code = "91440300MA5F0000" + "0"
    code += uscc_check_char(code)
    enterprise = User.objects.create(username="ent", kind=UserKind.ENTERPRISE, name="李四",
                                     enterprise_name="示范有限公司", credit_code=code)
    response = client_for(world.clerk).post(URL, filing(world, code))
    assert response.status_code == 302
    assert Case.objects.get().applicant == enterprise


def test_window__unknown_enterprise_is_told_to_register(world, client_for):
    code = "91440300MA5F0000" + "1"
    code += uscc_check_char(code)
    response = client_for(world.clerk).post(URL, filing(world, code))
    assert response.status_code == 400 and not Case.objects.exists()


def test_window__only_clerks(world, client_for):
    assert client_for(world.users["dept_handler"]).get(URL).status_code == 403
    assert client_for(world.citizen).get(URL).status_code == 403
