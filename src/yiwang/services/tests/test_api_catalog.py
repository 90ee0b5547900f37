"""The catalog API: the public catalog and 办事指南, and the staff views of versions,
diffs and the quality report, each scoped to the department's subtree."""

from __future__ import annotations

import pytest

from yiwang.accounts.roles import Role
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.testing.openapi import OpenAPIClient
from yiwang.core.tests.factories import make_citizen, make_staff, make_unit
from yiwang.services import catalog
from yiwang.services.models import Matter, Theme, VersionStatus
from yiwang.services.tests.factories import make_matter

pytestmark = pytest.mark.django_db
LICENSE = "11440300MB2C92416M4440300001000"
BIRTH = "11440300MB2C92416M4440300002000"


@pytest.fixture
def world(district):
    license_ = make_matter(district, code=LICENSE, deficiency_allowed=False,
                           consult_phone="0755-12345")
    other = make_unit("11440300MB2C92528J", "示范区卫生健康局", OrgKind.DEPARTMENT,
                      district.district)
    birth = make_matter(district, code=BIRTH, name="生育登记", service_objects=["person"],
                        deficiency_allowed=False, consult_phone="")
    birth.department = other
    birth.save()
    Matter.objects.filter(pk=birth.matter_id).update(department=other)
    theme = Theme.objects.create(code="birth", name="生育", audience="person")
    birth.themes.add(theme)
    for version in (license_, birth):
        Matter.objects.filter(pk=version.matter_id).update(
            name_pinyin=catalog.pinyin_key(version.name))
    district.health = other
    district.license, district.birth = license_, birth
    district.users["health_clerk"] = make_staff("health_clerk", other, Role.WINDOW_CLERK)
    return district


def codes(response) -> list[str]:
    assert response.status_code == 200
    return [row["code"] for row in response.json()["items"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", [LICENSE, BIRTH]),
    ("?q=生育", [BIRTH]),
    ("?q=jzgc", [LICENSE]),            # 拼音首字母 of 建筑工程…
    ("?q=shengyu", [BIRTH]),           # full pinyin
    ("?q=0001000", [LICENSE]),         # part of the code
    ("?department=11440300MB2C92528J", [BIRTH]),
    ("?service_object=enterprise", [LICENSE]),
    ("?service_object=person", [LICENSE, BIRTH]),
    ("?theme=birth", [BIRTH]),
    ("?q=nothing", []),
])
def test_matters__public_search(world, query, expected):
    assert sorted(codes(OpenAPIClient().get(f"/api/matters{query}"))) == sorted(expected)


def test_matters__only_the_published_catalog(world):
    catalog.matter_retire(actor=world.users["district_admin"], matter=world.birth.matter,
                          reason="事项取消")
    assert codes(OpenAPIClient().get("/api/matters")) == [LICENSE]
    assert OpenAPIClient().get(f"/api/matters/{BIRTH}").status_code == 404


def test_matter__the_guide_with_materials_flags_and_limits(world):
    body = OpenAPIClient().get(f"/api/matters/{LICENSE}").json()
    assert body["name"] == "建筑工程施工许可证核发" and body["version"] == 1
    assert body["department"]["code"] == world.department.code
    assert [m["code"] for m in body["materials"]] == ["application", "site_plan"]
    assert body["materials"][1]["may_be_deficient"] is True
    assert (body["statutory_limit"], body["promised_limit"], body["case_kind"]) == (
        20, 5, "promised")
    assert body["postal_delivery"] is True and body["deficiency_allowed"] is False
    assert [s["name"] for s in body["steps"]] == ["受理", "审查", "决定", "办结", "送达"]
    assert OpenAPIClient().get("/api/matters/NOPE").status_code == 404


def test_versions__staff_in_scope_only(world):
    url = f"/api/matters/{LICENSE}/versions"
    admin = OpenAPIClient(user=world.users["district_admin"])
    assert [v["number"] for v in admin.get(url).json()["items"]] == [1]
    assert OpenAPIClient(user=world.users["dept_handler"]).get(url).status_code == 200
    assert OpenAPIClient(user=world.users["health_clerk"]).get(url).status_code == 404
    assert OpenAPIClient(user=world.users["clerk_a"]).get(url).status_code == 404
    assert OpenAPIClient(user=make_citizen()).get(url).status_code == 404
    assert OpenAPIClient().get(url).status_code == 401


def test_version_detail_and_diff__what_changed(world):
    admin = world.users["district_admin"]
    draft = catalog.version_draft(actor=admin, matter=world.license.matter,
                                  changes={"promised_limit": 3}, change_note="压缩时限")
    client = OpenAPIClient(user=world.users["dept_handler"])
    detail = client.get(f"/api/matter-versions/{draft.pk}").json()
    assert (detail["number"], detail["status"], detail["change_note"]) == (
        2, VersionStatus.DRAFT, "压缩时限")
    assert detail["promised_limit"] == 3
    diff = client.get(f"/api/matter-versions/{draft.pk}/diff").json()
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert {"field": "promised_limit", "old": 5, "new": 3} in diff["changes"]
    assert "name" not in {c["field"] for c in diff["changes"]}
    first = client.get(f"/api/matter-versions/{world.license.pk}/diff").json()
    assert first["from_version"] is None and first["changes"]
    outside = OpenAPIClient(user=world.users["health_clerk"])
    assert outside.get(f"/api/matter-versions/{draft.pk}").status_code == 404
    assert outside.get(f"/api/matter-versions/{draft.pk}/diff").status_code == 404


def test_version_detail__quality_findings(world):
    world.license.visits, world.license.online_depth = 1, 3  # one visit, no reason given
    world.license.save()
    body = OpenAPIClient(user=world.users["dept_handler"]).get(
        f"/api/matter-versions/{world.license.pk}").json()
    assert {f["rule"] for f in body["findings"]} >= {"visits_reason", "legal_basis"}


def test_catalog_report__findings_per_department_in_scope(world):
    admin = OpenAPIClient(user=world.users["district_admin"]).get("/api/catalog/report")
    rows = {row["department"]["code"]: row for row in admin.json()["items"]}
    assert set(rows) == {world.department.code, world.health.code}
    health = rows[world.health.code]
    assert health["warnings"] == 1 and health["errors"] >= 1  # consult phone, legal basis
    assert {f["rule"] for f in health["versions"][0]["findings"]} >= {"consult_phone"}
    mine = OpenAPIClient(user=world.users["health_clerk"]).get("/api/catalog/report").json()
    assert [row["department"]["code"] for row in mine["items"]] == [world.health.code]
    assert OpenAPIClient(user=make_citizen()).get("/api/catalog/report").json()["count"] == 0
    assert OrgUnit.objects.count()  # (the district is intact)
