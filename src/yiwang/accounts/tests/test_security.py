"""Login hardening, password hashing and security headers."""

import pytest
from django.test import Client

from yiwang.accounts.models import User
from yiwang.core.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_password_hashed_with_argon2(db, settings):
    from yiwang.settings import PASSWORD_HASHERS

    settings.PASSWORD_HASHERS = PASSWORD_HASHERS
    user = User(username="u", kind="staff")
    user.set_password(PASSWORD)
    user.save()
    assert User.objects.get(username="u").password.startswith("argon2")


def test_login__good_password__lands_signed_in(district):
    client = Client()
    response = client.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/me").json()["username"] == "clerk_a"


def test_login__five_failures__locked_even_with_right_password(district):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "clerk_a", "password": "wrong-one-123"})
    response = client.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD})
    assert response.status_code in (403, 429)
    assert client.get("/api/me").status_code == 401


def test_login__other_user_not_locked_by_someone_elses_failures(district):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "clerk_a", "password": "wrong-one-123"})
    response = client.post("/accounts/login/", {"username": "clerk_b", "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_user__cannot_sign_in(district):
    User.objects.filter(username="clerk_a").update(is_active=False)
    response = Client().post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD})
    assert response.status_code == 200  # form shown again with an error


def test_security_headers_on_pages(db):
    response = Client().get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["Permissions-Policy"]


def test_login_form_has_csrf_token(db):
    response = Client().get("/accounts/login/")
    assert b"csrfmiddlewaretoken" in response.content
