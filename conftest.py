"""Shared pytest fixtures for every app."""

from __future__ import annotations

import pytest
from django.test import Client

from yiwang.core import crypto


@pytest.fixture(autouse=True)
def _isolate_crypto_and_lang(settings):
    from django.core.cache import cache

    cache.clear()  # cached lookups (the district's name) must not leak between tests
    settings.LANGUAGE_CODE = "zh-hans"
    # Argon2 is the production hasher (tested in accounts/tests/test_security.py); tests
    # that only need users hash with MD5 to stay fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.Argon2PasswordHasher"]
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_append_only_guard():
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL)
    that the audit table's append-only triggers refuse; lift them for the flush only."""
    from django.test import TransactionTestCase

    from yiwang.core.tests.audit_guard import drop_append_only_guard, restore_append_only_guard

    original = TransactionTestCase._fixture_teardown

    def fixture_teardown(self):
        drop_append_only_guard()
        try:
            original(self)
        finally:
            restore_append_only_guard()

    TransactionTestCase._fixture_teardown = fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


@pytest.fixture
def district(db):
    from yiwang.core.tests.factories import build_district

    return build_district()


@pytest.fixture
def client_for():
    """A logged-in test client for a user: ``client_for(user)``."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
