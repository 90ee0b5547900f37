"""The living catalog: versions, quality checks, review and publication."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.accounts.roles import Role
from yiwang.core.models import AuditEntry
from yiwang.core.tests.factories import make_staff
from yiwang.services import catalog
from yiwang.services.models import CaseKind, MatterType, OnlineDepth, VersionStatus

pytestmark = pytest.mark.django_db

CONTENT = {
    "name": "户外广告设置许可", "basic_code": "000127011000",
    "matter_type": MatterType.LICENSE, "legal_basis": "《城市市容和环境卫生管理条例》第十一条",
    "service_objects": ["person", "enterprise"], "statutory_limit": 20, "promised_limit": 5,
    "case_kind": CaseKind.PROMISED, "handling_forms": ["window", "pc"],
    "online_depth": OnlineDepth.FULL, "visits": 0, "consult_phone": "0755-12345678",
    "steps": [{"name": s} for s in ("受理", "审查", "决定", "办结", "送达")],
    "materials": [{"code": "application", "name": "申请表", "required": True}],
}


@pytest.fixture
def editors(district):
    return {
        "author": make_staff("author", district.district, Role.DISTRICT_ADMIN),
        "reviewer": make_staff("reviewer", district.district, Role.DISTRICT_ADMIN),
    }


def published(district, editors):
    version = catalog.matter_create(actor=editors["author"], implementation_code="M-001",
                                    department=district.department, content=CONTENT)
    catalog.version_review(actor=editors["reviewer"], version=version)
    return catalog.version_publish(actor=editors["reviewer"], version=version)


def test_lifecycle__draft_reviewed_published_then_new_version_retires_old(district, editors):
    v1 = published(district, editors)
    assert v1.status == VersionStatus.PUBLISHED and v1.matter.published == v1
    v2 = catalog.version_draft(actor=editors["author"], matter=v1.matter,
                               changes={"promised_limit": 3}, change_note="压缩承诺时限")
    assert v2.number == 2 and v2.materials.count() == 1
    catalog.version_review(actor=editors["reviewer"], version=v2)
    catalog.version_publish(actor=editors["reviewer"], version=v2)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED and v1.effective_to is not None
    assert catalog.version_diff(v1, v2) == {"promised_limit": (5, 3)}
    entry = AuditEntry.objects.filter(action="services.matter.publish").order_by("id").last()
    assert entry.after == {"version": 2, "changed": ["promised_limit"]}


def test_review__author_cannot_review_own_draft(district, editors):
    version = catalog.matter_create(actor=editors["author"], implementation_code="M-002",
                                    department=district.department, content=CONTENT)
    with pytest.raises(ValidationError):
        catalog.version_review(actor=editors["author"], version=version)


def test_quality__violations_block_review(district, editors):
    bad = {**CONTENT, "visits": 1, "online_depth": OnlineDepth.FULL, "has_fee": True,
           "steps": [{"name": "受理"}], "promised_limit": 0}
    version = catalog.matter_create(actor=editors["author"], implementation_code="M-003",
                                    department=district.department, content=bad)
    rules = {f.rule for f in catalog.quality_findings(version)}
    assert {"visits_reason", "full_online_zero_visits", "fee_basis", "license_steps",
            "immediate_kind"} <= rules
    with pytest.raises(ValidationError) as exc:
        catalog.version_review(actor=editors["reviewer"], version=version)
    assert "visits_reason" in exc.value.message_dict
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_catalog_report__lists_violations_per_department(district, editors):
    catalog.matter_create(actor=editors["author"], implementation_code="M-004",
                          department=district.department,
                          content={**CONTENT, "consult_phone": ""})
    from yiwang.services.models import MatterVersion

    report = catalog.catalog_report(MatterVersion.objects.all())
    (_version, findings), = report[district.department.name]
    assert [f.rule for f in findings] == ["consult_phone"]


def test_matter_create__street_admin_cannot_create_for_district_department(district):
    with pytest.raises(PermissionDenied):
        catalog.matter_create(actor=district.users["street_a_admin"], implementation_code="X",
                              department=district.department, content=CONTENT)


def test_pinyin_key__initials_searchable():
    assert catalog.pinyin_key("户外广告设置许可").startswith("hwggszxk ")
