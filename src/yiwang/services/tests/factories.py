"""Service-catalog and case test data, on top of the core test district."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import District, make_staff
from yiwang.services.models import (
    CaseKind,
    Material,
    Matter,
    MatterType,
    MatterVersion,
    VersionStatus,
)


def make_matter(district: District, *, code: str = "11440300MB2C92416M4440300001000",
                name: str = "建筑工程施工许可证核发", promised_limit: int = 5,
                case_kind: str = CaseKind.PROMISED, deficiency_allowed: bool = True,
                service_objects: list[str] | None = None, **extra: Any) -> MatterVersion:
    matter = Matter.objects.create(implementation_code=code, department=district.department,
                                   name=name)
    version = MatterVersion.objects.create(
        matter=matter, number=1, status=VersionStatus.PUBLISHED, name=name,
        basic_code="000127001000", implementation_code=code,
        matter_type=MatterType.LICENSE, department=district.department,
        service_objects=service_objects or ["person", "enterprise"],
        statutory_limit=20, promised_limit=promised_limit, case_kind=case_kind,
        handling_forms=["window", "pc", "mobile"], visits=0,
        steps=[{"name": s} for s in ("受理", "审查", "决定", "办结", "送达")],
        deficiency_allowed=deficiency_allowed, supplement_days=5, postal_delivery=True,
        published_at=timezone.now(), **extra)
    matter.published = version
    matter.save()
    Material.objects.create(version=version, code="application", name="申请表",
                            required=True, originals=1)
    Material.objects.create(version=version, code="site_plan", name="建设工程规划许可证",
                            required=True, copies=1, may_be_deficient=True)
    return version


def add_case_staff(district: District) -> None:
    """A department window clerk, reviewer, approver and a district supervisor."""
    district.users.update({
        "dept_clerk": make_staff("dept_clerk", district.department, Role.WINDOW_CLERK),
        "dept_approver": make_staff("dept_approver", district.department, Role.APPROVER),
        "dept_approver2": make_staff("dept_approver2", district.department, Role.APPROVER),
        "supervisor": make_staff("supervisor", district.district, Role.SUPERVISOR),
        "clerk_a2": make_staff("clerk_a2", district.street_a, Role.WINDOW_CLERK),
    })
