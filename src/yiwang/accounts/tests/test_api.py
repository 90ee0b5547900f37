"""The JSON API: auth, scope, and one error format in the caller's language.

Every response here goes through ``OpenAPIClient``, which fails the test when it does not
match the OpenAPI document (status declared, content type, body schema).
"""

import json

import pytest

from yiwang.accounts import services
from yiwang.accounts.models import User
from yiwang.core.models import AuditEntry
from yiwang.core.testing.openapi import OpenAPIClient

pytestmark = pytest.mark.django_db


def test_me__with_token__token_narrows_permissions(district):
    _, raw = services.token_create(actor=district.users["clerk_a"], name="kiosk",
                                   permissions=["core.view_orgunit"])
    body = OpenAPIClient(token=raw).get("/api/me").json()
    assert body["username"] == "clerk_a"
    assert body["permissions"] == ["core.view_orgunit"]


def test_token_without_permission__sees_empty_list(district):
    _, raw = services.token_create(actor=district.users["clerk_a"], name="kiosk",
                                   permissions=["core.view_orgunit"])
    response = OpenAPIClient(token=raw).get("/api/accounts/users")
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("header", ["Bearer yw_nothere_secret", "Bearer ", "Token abc"])
def test_bad_token__401_in_error_format(district, header):
    response = OpenAPIClient().get("/api/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized" and body["message"] and body["fields"] == {}


def test_revoked_token__401(district):
    clerk = district.users["clerk_a"]
    token, raw = services.token_create(actor=clerk, name="sys", permissions=[])
    services.token_revoke(actor=clerk, token=token)
    assert OpenAPIClient(token=raw).get("/api/me").status_code == 401


def test_user_detail__other_street__404(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    assert client.get(f"/api/accounts/users/{district.users['handler_a'].pk}").status_code == 200
    response = client.get(f"/api/accounts/users/{district.users['clerk_b'].pk}")
    assert response.status_code == 404
    assert "clerk_b" not in response.content.decode()


def test_user_list__scoped_to_street(district):
    items = OpenAPIClient(user=district.users["clerk_a"]).get("/api/accounts/users").json()["items"]
    assert {i["username"] for i in items} == {"a_admin", "clerk_a", "handler_a", "auditor_a",
                                              "grid_a"}


def test_deactivate__other_street__404_and_unchanged(district):
    client = OpenAPIClient(user=district.users["street_a_admin"])
    response = client.post(f"/api/accounts/users/{district.users['clerk_b'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code == 404
    assert User.objects.get(username="clerk_b").is_active


def test_deactivate__visible_but_not_admin__403(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    response = client.post(f"/api/accounts/users/{district.users['handler_a'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_session_post_without_csrf__refused(district):
    client = OpenAPIClient(enforce_csrf_checks=True, user=district.users["street_a_admin"])
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert User.objects.get(username="clerk_a").is_active


def test_token_post_needs_no_csrf(district):
    admin = district.users["street_a_admin"]
    _, raw = services.token_create(actor=admin, name="hr-sync",
                                   permissions=["accounts.manage_staff", "accounts.view_user"])
    client = OpenAPIClient(enforce_csrf_checks=True, token=raw)
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           {"reason": "离职"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_malformed_json__400_and_nothing_written(district):
    client = OpenAPIClient(user=district.users["street_a_admin"])
    before = AuditEntry.objects.count()
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"malformed_json", "malformed_request"}
    assert AuditEntry.objects.count() == before


def test_oversized_json__413(district, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = OpenAPIClient(user=district.users["street_a_admin"])
    payload = json.dumps({"reason": "x" * 5000})
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           payload, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert User.objects.get(username="clerk_a").is_active


def test_register__bad_id_number__422_field_error_nothing_created(db):
    response = OpenAPIClient().post("/api/accounts/register", {
        "username": "zhang", "password": "Liang-shan-po-2026", "name": "张伟",
        "id_number": "110105194912310021"}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and "id_number" in body["fields"]
    assert not User.objects.filter(username="zhang").exists()


def test_register__id_number_masked_in_response(db):
    response = OpenAPIClient().post("/api/accounts/register", {
        "username": "zhang", "password": "Liang-shan-po-2026", "name": "张伟",
        "id_number": "11010519491231002X", "phone": "+86 138 0013 8000"},
        content_type="application/json")
    assert response.status_code == 201
    assert response.json()["id_number"] == "1101**********002X"
    assert User.objects.get(username="zhang").phone == "13800138000"


def test_error_message_follows_accept_language(db):
    zh = OpenAPIClient().get("/api/me", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["message"]
    en = OpenAPIClient().get("/api/me", HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    assert en.startswith("Sign in")
    assert zh != en


def test_openapi_document_served(db):
    response = OpenAPIClient().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/org-units" in paths and "/api/accounts/users/{user_id}/deactivate" in paths


def test_staff_list__phones_masked_even_for_clerks(district):
    items = OpenAPIClient(user=district.users["clerk_a"]).get("/api/accounts/users").json()["items"]
    phones = {i["username"]: i["phone"] for i in items}
    assert phones["clerk_a"] == "138****8000"


def test_personal_data__allowed_role__unmasked_and_audited(district):
    handler = district.users["handler_a"]
    response = OpenAPIClient(user=district.users["clerk_a"]).get(
        f"/api/accounts/users/{handler.pk}/personal-data")
    assert response.status_code == 200 and response.json()["phone"] == "13700137000"
    entry = AuditEntry.objects.get(action="pii.read")
    assert entry.actor_id == district.users["clerk_a"].pk
    assert entry.object_id == str(handler.pk) and entry.after == {"fields": ["id_number", "phone"]}


def test_personal_data__role_without_access__403_not_audited(district):
    response = OpenAPIClient(user=district.users["handler_a"]).get(
        f"/api/accounts/users/{district.users['clerk_a'].pk}/personal-data")
    assert response.status_code == 404  # handler_a (community) cannot see the street clerk
    response = OpenAPIClient(user=district.users["grid_worker_a"]).get(
        f"/api/accounts/users/{district.users['grid_worker_a'].pk}/personal-data")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="pii.read").exists()


def test_bad_token_with_a_valid_session__401(district):
    """A dead token is refused even when the browser also has a session: the client must
    learn its token is dead instead of silently acting as the signed-in person."""
    client = OpenAPIClient(user=district.users["clerk_a"], token="yw_nothere_secret")
    assert client.get("/api/me").status_code == 401


def test_token_create__expiry_in_the_past__422_nothing_created(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    response = client.post("/api/accounts/tokens", {
        "name": "kiosk", "permissions": [], "expires_at": "2020-01-01T00:00:00+08:00"},
        content_type="application/json")
    assert response.status_code == 422 and set(response.json()["fields"]) == {"expires_at"}
    assert not services.ApiToken.objects.filter(name="kiosk").exists()


def test_token_create__session__201_secret_shown_once(district):
    client = OpenAPIClient(user=district.users["clerk_a"])
    response = client.post("/api/accounts/tokens", {
        "name": "kiosk", "permissions": ["core.view_orgunit"],
        "expires_at": "2099-01-01T00:00:00"}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("yw_") and body["expires_at"].startswith("2099-01-01")
    assert "token" not in client.get("/api/accounts/tokens").json()["items"][0]


def test_staff_create__unknown_role__422_from_the_schema(district):
    client = OpenAPIClient(user=district.users["street_a_admin"])
    response = client.post("/api/accounts/users", {
        "username": "new_clerk", "name": "新人", "org_unit": "440399001000",
        "roles": ["window_clerk", "emperor"], "password": "Liang-shan-po-2026"},
        content_type="application/json")
    assert response.status_code == 422 and "roles.1" in response.json()["fields"]
    assert not User.objects.filter(username="new_clerk").exists()


def test_staff_create__201_with_roles(district):
    client = OpenAPIClient(user=district.users["street_a_admin"])
    response = client.post("/api/accounts/users", {
        "username": "new_clerk", "name": "新人", "org_unit": "440399001000",
        "roles": ["window_clerk"], "password": "Liang-shan-po-2026"},
        content_type="application/json")
    assert response.status_code == 201 and response.json()["roles"] == ["window_clerk"]


@pytest.mark.parametrize("user_id", ["0", "-3", str(2**63), "abc"])
def test_user_detail__id_no_database_can_hold__422(district, user_id):
    response = OpenAPIClient(user=district.users["clerk_a"]).get(f"/api/accounts/users/{user_id}")
    assert response.status_code == 422 and "user_id" in response.json()["fields"]


def test_deactivate__blank_reason__422(district):
    client = OpenAPIClient(user=district.users["street_a_admin"])
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           {"reason": "   "}, content_type="application/json")
    assert response.status_code == 422 and "reason" in response.json()["fields"]
    assert User.objects.get(username="clerk_a").is_active
