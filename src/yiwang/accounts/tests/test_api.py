"""The JSON API: auth, scope, and one error format in the caller's language."""

import json

import pytest
from django.test import Client

from yiwang.accounts import services
from yiwang.accounts.models import User
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_me__with_token__token_narrows_permissions(district):
    _, raw = services.token_create(actor=district.users["clerk_a"], name="kiosk",
                                   permissions=["core.view_orgunit"])
    body = Client().get("/api/me", **bearer(raw)).json()
    assert body["username"] == "clerk_a"
    assert body["permissions"] == ["core.view_orgunit"]


def test_token_without_permission__sees_empty_list(district):
    _, raw = services.token_create(actor=district.users["clerk_a"], name="kiosk",
                                   permissions=["core.view_orgunit"])
    response = Client().get("/api/accounts/users", **bearer(raw))
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("header", ["Bearer yw_nothere_secret", "Bearer ", "Token abc"])
def test_bad_token__401_in_error_format(district, header):
    response = Client().get("/api/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized" and body["message"] and body["fields"] == {}


def test_revoked_token__401(district):
    clerk = district.users["clerk_a"]
    token, raw = services.token_create(actor=clerk, name="sys", permissions=[])
    services.token_revoke(actor=clerk, token=token)
    assert Client().get("/api/me", **bearer(raw)).status_code == 401


def test_user_detail__other_street__404(district, client_for):
    client = client_for(district.users["clerk_a"])
    assert client.get(f"/api/accounts/users/{district.users['handler_a'].pk}").status_code == 200
    response = client.get(f"/api/accounts/users/{district.users['clerk_b'].pk}")
    assert response.status_code == 404
    assert "clerk_b" not in response.content.decode()


def test_user_list__scoped_to_street(district, client_for):
    items = client_for(district.users["clerk_a"]).get("/api/accounts/users").json()["items"]
    assert {i["username"] for i in items} == {"a_admin", "clerk_a", "handler_a", "auditor_a",
                                              "grid_a"}


def test_deactivate__other_street__404_and_unchanged(district):
    client = Client(enforce_csrf_checks=False)
    client.force_login(district.users["street_a_admin"])
    response = client.post(f"/api/accounts/users/{district.users['clerk_b'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code == 404
    assert User.objects.get(username="clerk_b").is_active


def test_deactivate__visible_but_not_admin__403(district, client_for):
    client = client_for(district.users["clerk_a"])
    response = client.post(f"/api/accounts/users/{district.users['handler_a'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_session_post_without_csrf__refused(district):
    client = Client(enforce_csrf_checks=True)
    client.force_login(district.users["street_a_admin"])
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert User.objects.get(username="clerk_a").is_active


def test_token_post_needs_no_csrf(district):
    admin = district.users["street_a_admin"]
    _, raw = services.token_create(actor=admin, name="hr-sync",
                                   permissions=["accounts.manage_staff", "accounts.view_user"])
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           {"reason": "离职"}, content_type="application/json", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_malformed_json__400_and_nothing_written(district, client_for):
    client = client_for(district.users["street_a_admin"])
    before = AuditEntry.objects.count()
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"malformed_json", "malformed_request"}
    assert AuditEntry.objects.count() == before


def test_oversized_json__413(district, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = client_for(district.users["street_a_admin"])
    payload = json.dumps({"reason": "x" * 5000})
    response = client.post(f"/api/accounts/users/{district.users['clerk_a'].pk}/deactivate",
                           payload, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert User.objects.get(username="clerk_a").is_active


def test_register__bad_id_number__422_field_error_nothing_created(db):
    response = Client().post("/api/accounts/register", {
        "username": "zhang", "password": "Liang-shan-po-2026", "name": "张伟",
        "id_number": "110105194912310021"}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and "id_number" in body["fields"]
    assert not User.objects.filter(username="zhang").exists()


def test_register__id_number_masked_in_response(db):
    response = Client().post("/api/accounts/register", {
        "username": "zhang", "password": "Liang-shan-po-2026", "name": "张伟",
        "id_number": "11010519491231002X", "phone": "+86 138 0013 8000"},
        content_type="application/json")
    assert response.status_code == 201
    assert response.json()["id_number"] == "1101**********002X"
    assert User.objects.get(username="zhang").phone == "13800138000"


def test_error_message_follows_accept_language(db):
    zh = Client().get("/api/me", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["message"]
    en = Client().get("/api/me", HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    assert en.startswith("Sign in")
    assert zh != en


def test_openapi_document_served(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/org-units" in paths and "/api/accounts/users/{user_id}/deactivate" in paths


def test_staff_list__phones_masked_even_for_clerks(district, client_for):
    items = client_for(district.users["clerk_a"]).get("/api/accounts/users").json()["items"]
    phones = {i["username"]: i["phone"] for i in items}
    assert phones["clerk_a"] == "138****8000"


def test_personal_data__allowed_role__unmasked_and_audited(district, client_for):
    handler = district.users["handler_a"]
    response = client_for(district.users["clerk_a"]).get(
        f"/api/accounts/users/{handler.pk}/personal-data")
    assert response.status_code == 200 and response.json()["phone"] == "13700137000"
    entry = AuditEntry.objects.get(action="pii.read")
    assert entry.actor_id == district.users["clerk_a"].pk
    assert entry.object_id == str(handler.pk) and entry.after == {"fields": ["id_number", "phone"]}


def test_personal_data__role_without_access__403_not_audited(district, client_for):
    response = client_for(district.users["handler_a"]).get(
        f"/api/accounts/users/{district.users['clerk_a'].pk}/personal-data")
    assert response.status_code == 404  # handler_a (community) cannot see the street clerk
    response = client_for(district.users["grid_worker_a"]).get(
        f"/api/accounts/users/{district.users['grid_worker_a'].pk}/personal-data")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="pii.read").exists()
