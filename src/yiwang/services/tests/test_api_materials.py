"""Case materials through the API: multipart upload (type sniffed, size limited), the list,
and the download, each only for the applicant and staff in scope."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yiwang.core.models import AuditEntry
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.services import cases
from yiwang.services.models import CaseMaterial
from yiwang.services.tests.test_api_cases import draft, submitted, world  # noqa: F401

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def upload(user: Any, case: Any, name: str = "申请表.pdf", content: bytes = PDF,
           **fields: Any) -> Any:
    data = {"file": SimpleUploadedFile(name, content, content_type="application/pdf"),
            **fields}
    return OpenAPIClient(user=user).post(f"/api/cases/{case.number}/materials", data)


def test_upload__applicant_attaches_to_their_draft(world):  # noqa: F811
    case = draft(world)
    response = upload(world.citizen, case, material="application")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["material"], body["kind"], body["content_type"], body["size"]) == (
        "application", "material", "application/pdf", len(PDF))
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    # Uploading again for the same material of a draft replaces the file.
    assert upload(world.citizen, case, "新申请表.png", PNG,
                  material="application").status_code == 201
    assert list(CaseMaterial.objects.filter(case=case).values_list(
        "original_name", flat=True)) == ["新申请表.png"]


@pytest.mark.parametrize(("name", "content", "fields", "field"), [
    ("申请表.pdf", b"MZ\x90\x00 not a pdf at all", {}, "file"),   # sniffed, not trusted
    ("申请表.png", PDF, {}, "file"),                              # name disagrees
    ("申请表.pdf", b"", {}, "file"),
    ("申请表.pdf", PDF, {"material": "nope"}, "material"),
    ("申请表.pdf", PDF, {"kind": "other"}, "kind"),
])
def test_upload__bad_file__422_and_nothing_stored(world, name, content, fields, field):  # noqa: F811
    response = upload(world.citizen, draft(world), name, content, **fields)
    assert response.status_code == 422 and field in response.json()["fields"]
    assert not CaseMaterial.objects.exists()


def test_upload__too_large__422(world, settings):  # noqa: F811
    settings.YIWANG_UPLOAD_MAX_BYTES = 10
    response = upload(world.citizen, draft(world))
    assert response.status_code == 422 and "file" in response.json()["fields"]


def test_upload__no_file__422(world):  # noqa: F811
    case = draft(world)
    response = OpenAPIClient(user=world.citizen).post(
        f"/api/cases/{case.number}/materials", {"kind": "material"})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"file"}


def test_upload__who_may(world):  # noqa: F811
    case = submitted(world)
    assert upload(world.citizen, case).status_code == 403      # submitted: no longer
    assert upload(world.stranger, case).status_code == 404
    assert upload(world.users["clerk_b"], case).status_code == 404
    assert upload(world.users["supervisor"], case).status_code == 403
    assert upload(world.users["dept_clerk"], case).status_code == 201
    result = upload(world.users["dept_approver"], case, kind="result")
    assert result.status_code == 201 and result.json()["kind"] == "result"


def test_upload__supplement_while_items_are_open(world):  # noqa: F811
    case = cases.case_request_supplement(
        actor=world.users["dept_clerk"], case=submitted(world),
        items=[(None, "身份证明")], reason="缺身份证明")
    response = upload(world.citizen, case, kind="supplement")
    assert response.status_code == 201 and response.json()["kind"] == "supplement"


def test_list_and_download__in_scope_only_and_audited(world):  # noqa: F811
    case = submitted(world)
    url = f"/api/cases/{case.number}/materials"
    listed = OpenAPIClient(user=world.citizen).get(url).json()["items"]
    assert {m["material"] for m in listed} == {"application", "site_plan"}
    assert OpenAPIClient(user=world.users["dept_handler"]).get(url).status_code == 200
    assert OpenAPIClient(user=world.stranger).get(url).status_code == 404
    assert OpenAPIClient(user=world.users["clerk_b"]).get(url).status_code == 404

    mine = CaseMaterial.objects.filter(case=case).first()
    download = f"/api/materials/{mine.pk}"
    client = Client()
    client.force_login(world.citizen)
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Disposition"].startswith("attachment")
    assert AuditEntry.objects.filter(action="services.material.read",
                                     object_id=str(mine.pk)).exists()
    assert OpenAPIClient(user=world.users["dept_handler"]).get(download).status_code == 200
    assert OpenAPIClient(user=world.stranger).get(download).status_code == 404
    assert OpenAPIClient(user=world.users["clerk_b"]).get(download).status_code == 404
    assert OpenAPIClient(user=world.citizen).get("/api/materials/987654321").status_code == 404
