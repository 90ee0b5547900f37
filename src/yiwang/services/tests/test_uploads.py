"""Case materials: sniffed types, size limit, checksum, storage outside the web root,
who may attach and read, and the download page."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.core.tests.factories import make_citizen
from yiwang.services import cases, uploads
from yiwang.services.models import CaseMaterial, CaseMaterialKind, Channel, Material
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 60
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60


def zip_bytes(**entries: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in entries.items():
            package.writestr(name, content)
    return buffer.getvalue()


OFD = zip_bytes(**{"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>",
                   "Doc_0/Document.xml": b"<ofd:Document/>"})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


@pytest.fixture
def world(district):
    add_case_staff(district)
    district.version = make_matter(district)
    district.citizen = make_citizen(phone="13800138000")
    district.application = Material.objects.get(version=district.version, code="application")
    district.draft = cases.case_create(actor=district.citizen, version=district.version,
                                       applicant=district.citizen, channel=Channel.PC)
    return district


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type)


def attach(world, name: str, content: bytes, **kwargs):
    return uploads.material_attach(actor=kwargs.pop("actor", world.citizen),
                                   case=kwargs.pop("case", world.draft),
                                   upload=upload(name, content), material=world.application,
                                   **kwargs)


def file_errors(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.message_dict["file"])


# --- what is accepted ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("申请表.pdf", PDF, "application/pdf"),
    ("照片.JPG", JPEG, "image/jpeg"),
    ("照片.jpeg", JPEG, "image/jpeg"),
    ("截图.png", PNG, "image/png"),
    ("营业执照.ofd", OFD, "application/ofd"),
])
def test_attach__accepts_allowed_types_by_content(world, name, content, content_type):
    item = attach(world, name, content)
    assert item.content_type == content_type
    assert item.original_name == name
    assert item.size == len(content)


def test_attach__stores_checksum_random_name_outside_static_root(world, media):
    item = attach(world, "申请表.pdf", PDF)
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = Path(default_storage.path(item.file.name)).resolve()
    assert stored.is_relative_to(media.resolve())
    assert not stored.is_relative_to(Path(django_settings.STATIC_ROOT).resolve())
    assert "申请表" not in item.file.name and item.file.name.endswith(".pdf")
    assert stored.read_bytes() == PDF


def test_attach__the_declared_content_type_is_not_trusted(world):
    item = uploads.material_attach(actor=world.citizen, case=world.draft,
                                   upload=upload("scan.pdf", PDF, "image/png"),
                                   material=world.application)
    assert item.content_type == "application/pdf"


def test_attach__audited(world):
    item = attach(world, "申请表.pdf", PDF)
    entry = AuditEntry.objects.filter(action="services.material.attach").latest("id")
    assert entry.object_id == str(item.pk)
    assert entry.after["sha256"] == item.sha256 and entry.after["case"] == world.draft.number


def test_attach__again_on_a_draft_replaces_the_earlier_file(
        world, django_capture_on_commit_callbacks):
    first = attach(world, "旧.pdf", PDF)
    old_name = first.file.name
    # The old file goes once the replacement is committed.
    with django_capture_on_commit_callbacks(execute=True):
        second = attach(world, "新.pdf", PDF + b"% v2\n")
    assert list(CaseMaterial.objects.filter(case=world.draft)) == [second]
    assert not default_storage.exists(old_name)


# --- what is refused ------------------------------------------------------------------------


def test_attach__png_renamed_pdf_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        attach(world, "身份证.pdf", PNG)
    assert "PDF" in file_errors(exc) and "PNG" in file_errors(exc)
    assert not CaseMaterial.objects.exists()


@pytest.mark.parametrize(("name", "content"), [
    ("setup.exe", EXE), ("申请表.pdf", EXE), ("run.pdf", ELF), ("a.zip", zip_bytes(a=b"x")),
    ("not-really.ofd", zip_bytes(**{"Doc_0/OFD.xml": b"<x/>"})),  # OFD.xml must be at the root
    ("text.pdf", b"just some text, no magic"), ("page.html", b"<html><script>x</script>"),
])
def test_attach__other_types_are_refused(world, name, content):
    with pytest.raises(ValidationError) as exc:
        attach(world, name, content)
    assert "PDF" in file_errors(exc)  # the message names what is accepted
    assert not CaseMaterial.objects.exists()


def test_attach__too_large_is_refused_and_nothing_is_stored(world, settings, media):
    settings.YIWANG_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        attach(world, "big.pdf", PDF + b"0" * 1000)
    assert "1000" in file_errors(exc) or "KB" in file_errors(exc) or "字节" in file_errors(exc)
    assert not CaseMaterial.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_attach__empty_file_is_refused(world):
    with pytest.raises(ValidationError):
        attach(world, "empty.pdf", b"")


def test_attach__stranger_and_submitted_case_refused(world):
    stranger = make_citizen(username="stranger", id_number="110105194912310037")
    with pytest.raises(PermissionDenied):
        attach(world, "a.pdf", PDF, actor=stranger)
    attach(world, "a.pdf", PDF)
    site_plan = Material.objects.get(version=world.version, code="site_plan")
    uploads.material_attach(actor=world.citizen, case=world.draft, upload=upload("b.pdf", PDF),
                            material=site_plan)
    submitted = cases.case_submit(actor=world.citizen, case=world.draft)
    with pytest.raises(PermissionDenied):  # the application is sent; only supplements now
        attach(world, "late.pdf", PDF, case=submitted)
    with pytest.raises(PermissionDenied):  # nothing was asked for
        attach(world, "late.pdf", PDF, case=submitted, kind=CaseMaterialKind.SUPPLEMENT)


def test_attach__staff_in_scope_only(world):
    clerk_b = world.users["clerk_b"]  # street B: neither the department nor the intake unit
    with pytest.raises(PermissionDenied):
        attach(world, "a.pdf", PDF, actor=clerk_b)
    dept_clerk = world.users["dept_clerk"]
    assert attach(world, "a.pdf", PDF, actor=dept_clerk).uploaded_by == dept_clerk


def test_attach__material_of_another_matter_refused(world, district):
    other = make_matter(district, code="11440300MB2C92416M4440300002000", name="另一事项")
    with pytest.raises(ValidationError) as exc:
        uploads.material_attach(actor=world.citizen, case=world.draft,
                                upload=upload("a.pdf", PDF),
                                material=other.materials.first())
    assert "material" in exc.value.message_dict


def test_discard_on_error__a_failed_transaction_leaves_no_file(world, media):
    with pytest.raises(RuntimeError), uploads.discard_on_error(), \
            transaction.atomic():
        item = attach(world, "a.pdf", PDF)
        path = Path(default_storage.path(item.file.name))
        assert path.exists()
        raise RuntimeError("the submission failed")
    assert not path.exists()
    assert not CaseMaterial.objects.exists()


# --- reading -----------------------------------------------------------------------------------


def test_material_open__owner_and_staff_in_scope_read_and_it_is_audited(world):
    item = attach(world, "申请表.pdf", PDF)
    handle, found = uploads.material_open(actor=world.citizen, material=item)
    with handle:
        assert handle.read() == PDF
    assert found == item
    assert AuditEntry.objects.filter(action="services.material.read",
                                     object_id=str(item.pk)).exists()
    handle, _ = uploads.material_open(actor=world.users["dept_approver"], material=item)
    handle.close()


def test_material_open__stranger_and_staff_out_of_scope_get_404(world):
    from django.http import Http404

    item = attach(world, "申请表.pdf", PDF)
    stranger = make_citizen(username="stranger", id_number="110105194912310037")
    for actor in (stranger, world.users["clerk_b"], world.users["grid_worker_a"]):
        with pytest.raises(Http404):
            uploads.material_open(actor=actor, material=item)


def test_download__attachment_with_rfc5987_name_and_nosniff(world, client_for):
    item = attach(world, "申请表 2026.pdf", PDF)
    response = client_for(world.citizen).get(
        reverse("services:material_download", kwargs={"material_id": item.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E7%94%B3%E8%AF%B7%E8%A1%A8%202026.pdf" in disposition
    assert b"".join(response.streaming_content) == PDF
    assert "no-store" in response["Cache-Control"]


def test_download__stranger_gets_404_and_staff_in_scope_200(world, client_for):
    item = attach(world, "申请表.pdf", PDF)
    url = reverse("services:material_download", kwargs={"material_id": item.pk})
    stranger = make_citizen(username="stranger", id_number="110105194912310037")
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(world.users["clerk_b"]).get(url).status_code == 404
    assert client_for(world.users["dept_approver"]).get(url).status_code == 200
