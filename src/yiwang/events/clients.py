"""Client systems (Open311 clients, the video-AI webhook, the online-opinion feed) and
their API keys.

A key is shown once, when it is issued: ``ywc_<prefix>_<secret>``. Only the prefix (to
find the client) and the SM3 hash of the secret are stored, as for the accounts' API
tokens (``accounts.services.token_create``); a revoked client's key stops working at once.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto, policies
from yiwang.core.audit import audit_log
from yiwang.core.models import OrgUnit

from .models import ClientSystem

KEY_LABEL = "ywc"
KINDS = ("open311", "video_ai", "opinion")
# The demo district's Open311 client (README, ``./yw demo``): its key is derived from the
# demo district's seed, so it is published and the same on every demo machine, which is
# only ever acceptable for a demo: ``client_issue`` refuses a chosen key for anything
# else, and ``check --deploy`` fails while a key with the demo prefix is active.
DEMO_CLIENT_NAME = "示范 Open311 客户端"
DEMO_KEY_PREFIX = "demo0311"
_KEY_RE = re.compile(r"^ywc_([A-Za-z0-9]{4,12})_([A-Za-z0-9_-]{16,128})$")
_TOUCH_EVERY_SECONDS = 60


def demo_open311_key(*, seed: int) -> str:
    """The demo Open311 client's key for the demo district generated from ``seed``."""
    secret = crypto.sm3_hex(f"yiwang-demo-district-{seed}-open311-client".encode())[:40]
    return f"{KEY_LABEL}_{DEMO_KEY_PREFIX}_{secret}"


def _hash_secret(secret: str) -> str:
    return crypto.sm3_hex(secret.encode())


def _check_actor(actor: Any, perm: str, unit: OrgUnit, system: bool) -> None:
    if system:
        return
    if not policies.has_perm(actor, perm) or not policies.in_scope(actor, unit.path):
        raise PermissionDenied
    if getattr(actor, "api_token", None) is not None:  # tokens do not mint keys
        raise PermissionDenied


@transaction.atomic
def client_issue(*, actor: Any, name: str, kind: str, unit: OrgUnit, system: bool = False,
                 key: str | None = None) -> tuple[ClientSystem, str]:
    """Register a client system and return it with its key (shown this once).

    ``unit`` is the unit on whose behalf the client reports (usually the district).
    ``system=True`` is for the command line and the demo set-up; ``key`` fixes the key
    and is accepted for the demo client only.
    """
    _check_actor(actor, "events.add_clientsystem", unit, system)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Name the client after the system that uses the key.")]
    elif ClientSystem.objects.filter(name=name).exists():
        errors["name"] = [_("A client system with this name exists already.")]
    if kind not in KINDS:
        errors["kind"] = [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}]
    if key is not None and (name != DEMO_CLIENT_NAME or not _KEY_RE.match(key)
                            or key.split("_")[1] != DEMO_KEY_PREFIX):
        errors["key"] = [_("Keys are generated; only the demo client has a fixed one.")]
    if errors:
        raise ValidationError(errors)
    if key is not None:
        match = _KEY_RE.match(key)
        assert match is not None
        prefix, secret = match.group(1), match.group(2)
    else:
        prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    client = ClientSystem.objects.create(
        name=name, kind=kind, unit=unit, key_prefix=prefix, key_hash=_hash_secret(secret),
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_log(actor=client.created_by, action="events.client.issue", obj=client,
              after={"name": name, "kind": kind, "unit": unit.code, "prefix": prefix})
    return client, f"{KEY_LABEL}_{prefix}_{secret}"


@transaction.atomic
def client_revoke(*, actor: Any, client: ClientSystem, reason: str = "",
                  system: bool = False) -> ClientSystem:
    """Stop the client's key at once; the client stays for the record."""
    client = ClientSystem.objects.select_for_update().select_related("unit").get(pk=client.pk)
    _check_actor(actor, "events.change_clientsystem", client.unit, system)
    if client.active:
        client.active = False
        client.save(update_fields=["active"])
        audit_log(actor=actor if getattr(actor, "is_authenticated", False) else None,
                  action="events.client.revoke", obj=client, reason=reason,
                  after={"prefix": client.key_prefix})
    return client


def client_for_key(key: str, *, kind: str | None = None) -> ClientSystem | None:
    """The active client system of ``key`` (of ``kind`` if given), or None."""
    match = _KEY_RE.match((key or "").strip())
    if match is None:
        return None
    client = ClientSystem.objects.select_related("unit").filter(
        key_prefix=match.group(1)).first()
    if client is None or not secrets.compare_digest(client.key_hash,
                                                    _hash_secret(match.group(2))):
        return None
    if not client.active or (kind is not None and client.kind != kind):
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() \
            > _TOUCH_EVERY_SECONDS:
        ClientSystem.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def demo_client(*, unit: OrgUnit, seed: int) -> tuple[ClientSystem, str]:
    """The demo district's Open311 client with its published key; a second call finds
    it again (and re-activates it with the same key)."""
    key = demo_open311_key(seed=seed)
    existing = ClientSystem.objects.filter(name=DEMO_CLIENT_NAME).first()
    if existing is None:
        return client_issue(actor=None, system=True, name=DEMO_CLIENT_NAME, kind="open311",
                            unit=unit, key=key)
    match = _KEY_RE.match(key)
    assert match is not None
    ClientSystem.objects.filter(pk=existing.pk).update(
        active=True, kind="open311", key_prefix=match.group(1),
        key_hash=_hash_secret(match.group(2)))
    existing.refresh_from_db()
    return existing, key


def demo_key_works(*, seed: int) -> str:
    """The demo key when the demo client is registered and active with it, else ""."""
    key = demo_open311_key(seed=seed)
    match = _KEY_RE.match(key)
    assert match is not None
    client = ClientSystem.objects.filter(key_prefix=match.group(1), active=True).first()
    if client is None or not secrets.compare_digest(client.key_hash,
                                                    _hash_secret(match.group(2))):
        return ""
    return key
