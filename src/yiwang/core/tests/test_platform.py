"""Health, deploy checks, the org tree and point placement."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from yiwang.core.geo import locate
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.testing.openapi import OpenAPIClient

pytestmark = pytest.mark.django_db


def test_healthz__reports_database_and_task_backlog():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["tasks"]["backlog"] == 0


def test_check_deploy__development_defaults__refused(capsys):
    with pytest.raises(SystemCheckError) as exc:
        call_command("check", deploy=True, fail_level="WARNING")
    text = str(exc.value)
    for check_id in ("yiwang.E001", "yiwang.E003", "yiwang.E004"):
        assert check_id in text
    from django.db import connection

    assert ("yiwang.E005" in text) == (connection.vendor == "sqlite")


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_check_deploy__production_settings__pass(settings):
    settings.SECRET_KEY = "k" * 30 + "Zq9#x!2v@Lm4$Rt7^Yp1&Wn8*Bc3(Hd6)"
    settings.DEBUG = False
    settings.YIWANG_SM4_KEYS = "k1:00112233445566778899aabbccddeeff"
    settings.YIWANG_BLIND_INDEX_KEY = "ab" * 32
    settings.DATABASES = {**settings.DATABASES, "default": {
        **settings.DATABASES["default"], "ENGINE": "django.db.backends.postgresql"}}
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.ALLOWED_HOSTS = ["yiwang.example.gov.cn"]
    call_command("check", deploy=True, fail_level="WARNING")


def test_org_unit__street_code_must_extend_district_code(district):
    unit = OrgUnit(code="440111001000", name="外区街道", kind=OrgKind.STREET,
                   parent=district.district)
    with pytest.raises(ValidationError) as exc:
        unit.full_clean()
    assert "code" in exc.value.message_dict


def test_org_unit__grid_cannot_hang_under_street(district):
    unit = OrgUnit(code="440399001000099", name="错挂网格", kind=OrgKind.GRID,
                   parent=district.street_a)
    with pytest.raises(ValidationError) as exc:
        unit.full_clean()
    assert "parent" in exc.value.message_dict


def test_org_unit__department_needs_valid_credit_code(district):
    unit = OrgUnit(code="11440300MB2C92416X", name="某局", kind=OrgKind.DEPARTMENT,
                   parent=district.district)
    with pytest.raises(ValidationError) as exc:
        unit.full_clean()
    assert "code" in exc.value.message_dict


def test_org_unit__path_and_depth(district):
    assert district.grid_a.path == (
        "/440399000000/440399001000/440399001001/440399001001001/")
    assert district.grid_a.depth == 3
    assert district.street_a.contains(district.grid_a)
    assert not district.street_b.contains(district.grid_a)


def test_locate__point_in_grid_gives_street_community_grid(district):
    placement = locate(114.01, 22.51)
    assert (placement.street, placement.community, placement.grid) == (
        district.street_a, district.community_a, district.grid_a)


def test_locate__point_in_other_street(district):
    placement = locate(114.15, 22.52)
    assert placement.street == district.street_b and placement.grid is None


def test_locate_api__outside_district__all_none(district):
    body = OpenAPIClient(user=district.users["clerk_a"]).get(
        "/api/org-units/locate?lon=113.0&lat=22.0").json()
    assert body == {"street": None, "community": None, "grid": None}


def test_locate_api__bad_coordinates__422(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    response = client.get("/api/org-units/locate?lon=500&lat=x")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"lon", "lat"}
