"""The 一网通办 routes of the query-count gate (``yiwang.core.testing.querycounts``).

``setup`` adds the case staff (``add_case_staff``) and a citizen, a published matter with
a draft of its next version, and the objects the detail routes show: a draft case, a case
under review, a closed case with its decision notice, a bad rating and its rectification.
``grow`` adds, per step, a matter with a draft and cases in every state (submitted online
and at street A's window, accepted, claimed and overdue, waiting for a supplement, a
draft, closed with a bad rating and its rectification), and a file and an event on the
featured cases, so their pages list more. All of it lies in the callers' scope: the
department (clerk, approver, handler), the district (admin, supervisor), the citizen.
"""

from __future__ import annotations

import hashlib
import itertools
from types import SimpleNamespace
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.core.testing.querycounts import PinCase
from yiwang.core.tests.factories import District, make_citizen
from yiwang.services import cases, catalog, ratings
from yiwang.services.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    Channel,
    Material,
    MatterVersion,
    TimeState,
)
from yiwang.services.tests.factories import add_case_staff, make_matter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCHEMA = {"type": "object", "required": ["project"], "properties": {
    "project": {"type": "string", "title": "项目名称", "maxLength": 100}}}

_serial = itertools.count(1)


def _code(serial: int) -> str:
    return f"11440300MB2C92416M44403{serial:08d}"


def _file(case: Case, uploader: User, material: Material | None = None) -> CaseMaterial:
    item = CaseMaterial(case=case, material=material, original_name="申请表.pdf",
                        content_type="application/pdf", size=len(PDF),
                        sha256=hashlib.sha256(PDF).hexdigest(), uploaded_by=uploader)
    item.file.save("query-count.pdf", ContentFile(PDF), save=False)
    item.save()
    return item


def _matter(d: District) -> MatterVersion:
    """A published matter of the department, and a draft of its next version."""
    i = next(_serial)
    version = make_matter(d, code=_code(i), name=f"建筑工程施工许可证核发（{i}）",
                          form_schema=SCHEMA)
    catalog.version_draft(actor=d.users["district_admin"], matter=version.matter,
                          changes={"promised_limit": 4}, change_note=f"提速 {i}")
    return version


def _draft(d: District, version: MatterVersion) -> Case:
    citizen = d.users["citizen"]
    return cases.case_create(actor=citizen, version=version, applicant=citizen,
                             channel=Channel.PC, form_data={"project": "示范小学扩建工程"})


def _submitted(d: District, version: MatterVersion, *, window: bool = False) -> Case:
    """Online (intake: the department) or at street A's window."""
    citizen, clerk = d.users["citizen"], d.users["clerk_a"]
    actor = clerk if window else citizen
    case = cases.case_create(actor=actor, version=version, applicant=citizen,
                             channel=Channel.WINDOW if window else Channel.PC,
                             form_data={"project": "示范小学扩建工程"})
    for material in Material.objects.filter(version=version):
        _file(case, actor, material)
    return cases.case_submit(actor=actor, case=case)


def _accepted(d: District, version: MatterVersion) -> Case:
    return cases.case_accept(actor=d.users["dept_clerk"], case=_submitted(d, version))


def _under_review(d: District, version: MatterVersion) -> Case:
    return cases.case_start_review(actor=d.users["dept_handler"], case=_accepted(d, version))


def _closed(d: District, version: MatterVersion) -> Case:
    u = d.users
    case = cases.case_approve(actor=u["dept_approver"], case=_under_review(d, version),
                              opinion="符合条件")
    case = cases.case_deliver(actor=u["dept_clerk"], case=case, method="download")
    return cases.case_close(actor=u["dept_clerk"], case=case)


def _bad_rating(d: District, case: Case) -> Any:
    return ratings.rating_create(actor=d.users["citizen"], case=case, level=1, channel="pc",
                                 text="等了太久")


def setup(d: District) -> None:
    add_case_staff(d)
    d.users["citizen"] = make_citizen(phone="13800138000")
    version = _matter(d)
    closed = _closed(d, version)
    rating = _bad_rating(d, closed)
    d.services = SimpleNamespace(  # type: ignore[attr-defined]
        version=version, draft_version=version.matter.versions.get(number=2),
        draft=_draft(d, version), review=_under_review(d, version), closed=closed,
        rectification=rating.rectification,
        material=CaseMaterial.objects.filter(case=closed).exclude(kind="result").first())
    grow(d, 1)


def grow(d: District, n: int) -> None:
    u, s = d.users, d.services  # type: ignore[attr-defined]
    for _ in range(n):
        version = _matter(d)
        for matter_version in (s.version, version):
            _submitted(d, matter_version)
            _submitted(d, matter_version, window=True)
            _accepted(d, matter_version)
            late = cases.case_claim(actor=u["dept_approver"],
                                    case=_accepted(d, matter_version))
            Case.objects.filter(pk=late.pk).update(time_state=TimeState.OVERDUE)
            cases.case_request_supplement(
                actor=u["dept_clerk"], case=_submitted(d, matter_version),
                items=[(Material.objects.get(version=matter_version, code="site_plan"),
                        "")], reason="复印件不清晰")
            _draft(d, matter_version)
            _bad_rating(d, _closed(d, matter_version))
        for featured in (s.review, s.closed):  # their pages list files and events
            _file(featured, u["citizen"])
            CaseEvent.objects.create(case=featured, action="supplement",
                                     from_status=featured.status, to_status=featured.status,
                                     actor=u["citizen"], at=timezone.now(),
                                     data={"items": ["补充说明"]})


def _s(d: District) -> Any:
    return d.services  # type: ignore[attr-defined]


CASES = [
    # public pages (anonymous)
    PinCase("GET services:catalog", None, lambda d: "/services/"),
    PinCase("GET services:matter_guide", None,
            lambda d: f"/services/matters/{_s(d).version.implementation_code}/", lists=False),
    PinCase("GET services:ratings_public", None, lambda d: "/services/ratings/"),
    # the applicant's pages
    PinCase("GET services:case_apply", "citizen",
            lambda d: f"/services/matters/{_s(d).version.implementation_code}/apply/",
            lists=False),
    PinCase("GET services:my_cases", "citizen", lambda d: "/services/my/cases/"),
    PinCase("GET services:my_case", "citizen",
            lambda d: f"/services/my/cases/{_s(d).closed.number}/"),
    PinCase("GET services:my_case_edit", "citizen",
            lambda d: f"/services/my/cases/{_s(d).draft.number}/edit/", lists=False),
    PinCase("GET services:material_download", "citizen",
            lambda d: f"/services/materials/{_s(d).material.pk}/", lists=False),
    PinCase("GET services:window_apply", "clerk_a", lambda d: "/services/window/apply/"),
    PinCase("GET services:window_apply?matter", "clerk_a",
            lambda d: f"/services/window/apply/?matter={_s(d).version.implementation_code}",
            lists=False),
    # staff pages
    PinCase("GET services:inbox", "dept_approver", lambda d: "/services/inbox/"),
    PinCase("GET services:inbox?tab=mine", "dept_approver",
            lambda d: "/services/inbox/?tab=mine"),
    PinCase("GET services:inbox?tab=all", "dept_approver", lambda d: "/services/inbox/?tab=all"),
    PinCase("GET services:inbox?tab=intake", "dept_clerk", lambda d: "/services/inbox/?tab=intake"),
    PinCase("GET services:inbox?tab=waiting", "dept_clerk",
            lambda d: "/services/inbox/?tab=waiting"),
    PinCase("GET services:case_detail", "dept_approver",
            lambda d: f"/services/cases/{_s(d).review.number}/"),
    PinCase("GET services:overdue", "supervisor", lambda d: "/services/overdue/"),
    PinCase("GET services:overdue?format=csv", "supervisor",
            lambda d: "/services/overdue/?format=csv"),
    # insight
    PinCase("GET services:statistics", "supervisor", lambda d: "/services/statistics/"),
    PinCase("GET services:statistics?by=month", "supervisor",
            lambda d: "/services/statistics/?by=month"),
    PinCase("GET services:statistics?format=csv", "supervisor",
            lambda d: "/services/statistics/?format=csv"),
    PinCase("GET services:statistics?format=xlsx", "supervisor",
            lambda d: "/services/statistics/?format=xlsx"),
    PinCase("GET services:rectification_list", "dept_approver",
            lambda d: "/services/rectifications/"),
    PinCase("GET services:rectification_detail", "dept_approver",
            lambda d: f"/services/rectifications/{_s(d).rectification.pk}/", lists=False),
    # catalog management
    PinCase("GET services:matter_admin_list", "district_admin",
            lambda d: "/services/manage/matters/"),
    PinCase("GET services:matter_admin_create", "district_admin",
            lambda d: "/services/manage/matters/new/", lists=False),
    PinCase("GET services:matter_admin_detail", "district_admin",
            lambda d: f"/services/manage/matters/{_s(d).version.implementation_code}/",
            lists=False),
    PinCase("GET services:version_edit", "district_admin",
            lambda d: f"/services/manage/versions/{_s(d).draft_version.pk}/edit/", lists=False),
    PinCase("GET services:version_diff", "district_admin",
            lambda d: f"/services/manage/versions/{_s(d).draft_version.pk}/diff/", lists=False),
    PinCase("GET services:catalog_report", "district_admin",
            lambda d: "/services/manage/report/"),
    PinCase("GET services:catalog_report?format=xlsx", "district_admin",
            lambda d: "/services/manage/report/?format=xlsx"),
    PinCase("GET services:catalog_export", "district_admin",
            lambda d: "/services/manage/export.xlsx"),
    PinCase("GET services:catalog_import", "district_admin",
            lambda d: "/services/manage/import/", lists=False),
    # documents
    PinCase("GET services:case_notice", "citizen",
            lambda d: f"/services/cases/{_s(d).closed.number}/notice.pdf", lists=False),
    # API
    PinCase("GET /api/matters", None, lambda d: "/api/matters"),
    PinCase("GET /api/matters/{matter_code}", None,
            lambda d: f"/api/matters/{_s(d).version.implementation_code}", lists=False),
    PinCase("GET /api/matters/{matter_code}/versions", "district_admin",
            lambda d: f"/api/matters/{_s(d).version.implementation_code}/versions",
            lists=False),
    PinCase("GET /api/matter-versions/{version_id}", "district_admin",
            lambda d: f"/api/matter-versions/{_s(d).draft_version.pk}", lists=False),
    PinCase("GET /api/matter-versions/{version_id}/diff", "district_admin",
            lambda d: f"/api/matter-versions/{_s(d).draft_version.pk}/diff", lists=False),
    PinCase("GET /api/catalog/report", "district_admin", lambda d: "/api/catalog/report"),
    PinCase("GET /api/cases", "dept_approver", lambda d: "/api/cases"),
    PinCase("GET /api/cases?citizen", "citizen", lambda d: "/api/cases"),
    PinCase("GET /api/cases/{number}", "dept_approver",
            lambda d: f"/api/cases/{_s(d).review.number}", lists=False),
    PinCase("GET /api/cases/{number}/events", "dept_approver",
            lambda d: f"/api/cases/{_s(d).review.number}/events"),
    PinCase("GET /api/cases/{number}/materials", "dept_approver",
            lambda d: f"/api/cases/{_s(d).review.number}/materials"),
    PinCase("GET /api/materials/{material_id}", "dept_approver",
            lambda d: f"/api/materials/{_s(d).material.pk}", lists=False),
    PinCase("GET /api/ratings", "dept_approver", lambda d: "/api/ratings"),
    PinCase("GET /api/rectifications", "dept_approver", lambda d: "/api/rectifications"),
    PinCase("GET /api/rectifications/{rectification_id}", "dept_approver",
            lambda d: f"/api/rectifications/{_s(d).rectification.pk}", lists=False),
    PinCase("GET /api/statistics/services", "supervisor", lambda d: "/api/statistics/services"),
]
