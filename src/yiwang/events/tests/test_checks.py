"""Deployment checks of the event center."""

from __future__ import annotations

import pytest

from yiwang.events.checks import demo_client_keys
from yiwang.events.clients import demo_client

pytestmark = pytest.mark.django_db


def test_active_demo_key__refused_for_production(district):
    assert demo_client_keys(None) == []
    client, _key = demo_client(unit=district.district, seed=2026)
    assert [e.id for e in demo_client_keys(None)] == ["yiwang.E101"]
    client.active = False
    client.save(update_fields=["active"])
    assert demo_client_keys(None) == []
