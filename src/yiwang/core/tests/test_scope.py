"""Org scope: a street's staff cannot see or change another street's objects."""

import pytest

from yiwang.core import policies
from yiwang.core.models import OrgUnit
from yiwang.core.testing.openapi import OpenAPIClient

pytestmark = pytest.mark.django_db


def test_restrict__street_clerk_sees_only_own_subtree(district):
    clerk = district.users["clerk_a"]
    codes = set(policies.restrict(OrgUnit.objects.all(), clerk).values_list("code", flat=True))
    assert codes == {"440399001000", "440399001001", "440399001001001"}


def test_org_unit_api__other_street_is_404_not_leak(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    assert client.get("/api/org-units/440399001001").status_code == 200
    response = client.get("/api/org-units/440399002001")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "乙" not in response.content.decode()
