"""Client-system keys: shown once, stored hashed, checked, revoked; who may issue them;
the command line and the demo client."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.core.audit import AuditEntry
from yiwang.events.clients import (
    client_for_key,
    client_issue,
    client_revoke,
    demo_client,
    demo_open311_key,
)
from yiwang.events.models import ClientSystem

pytestmark = pytest.mark.django_db


def test_issue__key_shown_once_only_its_hash_stored(district):
    client, key = client_issue(actor=district.users["district_admin"], name="随手拍 App",
                               kind="open311", unit=district.district)
    assert key.startswith(f"ywc_{client.key_prefix}_")
    secret = key.split("_", 2)[2]
    stored = ClientSystem.objects.get(pk=client.pk)
    assert secret not in stored.key_hash and len(stored.key_hash) == 64
    assert client_for_key(key) == client
    assert client_for_key(key, kind="open311") == client
    assert client_for_key(key, kind="video_ai") is None
    assert client_for_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert client_for_key("") is None and client_for_key("yw_abc_def") is None
    entry = AuditEntry.objects.get(action="events.client.issue")
    assert secret not in str(entry.after) and entry.actor_id == district.users["district_admin"].pk
    assert ClientSystem.objects.get(pk=client.pk).last_used_at is not None


def test_issue__checks_name_kind_and_fixed_keys(district):
    client_issue(actor=None, system=True, name="app", kind="open311", unit=district.district)
    with pytest.raises(ValidationError) as exc:
        client_issue(actor=None, system=True, name="app", kind="fax", unit=district.district,
                     key="ywc_abcd1234_" + "x" * 20)
    assert set(exc.value.message_dict) == {"name", "kind", "key"}
    with pytest.raises(ValidationError):
        client_issue(actor=None, system=True, name="  ", kind="open311",
                     unit=district.district)


def test_issue__only_district_admins_within_their_unit(district):
    u = district.users
    client_issue(actor=u["street_a_admin"], name="street app", kind="open311",
                 unit=district.street_a)
    with pytest.raises(PermissionDenied):
        client_issue(actor=u["street_a_admin"], name="b app", kind="open311",
                     unit=district.street_b)
    with pytest.raises(PermissionDenied):
        client_issue(actor=u["handler_a"], name="x", kind="open311", unit=district.community_a)
    with pytest.raises(PermissionDenied):
        client_issue(actor=None, name="x", kind="open311", unit=district.district)


def test_revoke__stops_the_key_at_once_and_is_audited(district):
    client, key = client_issue(actor=None, system=True, name="app", kind="open311",
                               unit=district.district)
    with pytest.raises(PermissionDenied):
        client_revoke(actor=district.users["auditor"], client=client)
    client_revoke(actor=district.users["district_admin"], client=client, reason="leaked")
    assert client_for_key(key) is None
    client_revoke(actor=district.users["district_admin"], client=client)  # twice: no-op
    assert AuditEntry.objects.filter(action="events.client.revoke").count() == 1


def test_demo_client__key_from_the_demo_seed_and_idempotent(district):
    client, key = demo_client(unit=district.district, seed=2026)
    assert key == demo_open311_key(seed=2026) != demo_open311_key(seed=7)
    assert key.startswith("ywc_demo0311_") and client_for_key(key, kind="open311") == client
    client_revoke(actor=None, system=True, client=client)
    again, key2 = demo_client(unit=district.district, seed=2026)
    assert again.pk == client.pk and key2 == key and client_for_key(key) == again
    assert ClientSystem.objects.count() == 1


def test_command__issue_list_revoke(district):
    out = io.StringIO()
    call_command("open311_client", "issue", "--name", "随手拍 App", stdout=out)
    key = next(line.split(": ", 1)[1] for line in out.getvalue().splitlines()
               if line.startswith("api_key: "))
    client = client_for_key(key, kind="open311")
    assert client is not None and client.unit == district.district
    out = io.StringIO()
    call_command("open311_client", "list", stdout=out)
    assert "随手拍 App" in out.getvalue() and key.split("_", 2)[2] not in out.getvalue()
    call_command("open311_client", "revoke", "--name", "随手拍 App", stdout=io.StringIO())
    assert client_for_key(key) is None
    with pytest.raises(CommandError):
        call_command("open311_client", "issue", "--name", "x", "--unit", "000",
                     stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("open311_client", "revoke", "--name", "nobody", stdout=io.StringIO())
