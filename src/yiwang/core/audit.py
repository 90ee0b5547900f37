"""Writing and verifying the SM3-chained audit log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from . import crypto
from .context import current
from .models.audit import GENESIS_HASH, AuditChainHead, AuditEntry


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def entry_hash(entry: AuditEntry) -> str:
    payload = json.dumps(
        entry.canonical_fields(), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return crypto.sm3_hex(payload.encode())


def scope_path_of(obj: Any) -> str:
    path = getattr(obj, "audit_scope_path", None)
    if callable(path):
        return str(path())
    lookup = getattr(type(obj), "scope_path_lookup", "")
    if not isinstance(lookup, str):  # several units: the first is the owning one
        lookup = lookup[0] if lookup else ""
    value: Any = obj
    for part in lookup.split("__") if lookup else []:
        value = getattr(value, part, None)
        if value is None:
            return ""
    return value if isinstance(value, str) and lookup else ""


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a model instance, for ``before`` / ``after``."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


@transaction.atomic
def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    scope_path: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:200]
        if scope_path is None:
            scope_path = scope_path_of(obj)
    ctx = current.get()
    # Hash what the database will store: the IP field rewrites IPv6 addresses to
    # their canonical form on save, which would otherwise break this entry's hash.
    ip = AuditEntry._meta.get_field("ip").get_prep_value(ctx.ip) or None
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        id=head.last_id + 1,
        created_at=timezone.now(),
        actor_id=actor.pk if is_user else None,
        actor_label=(getattr(actor, "username", "") if is_user else "system")[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:200],
        scope_path=scope_path or "",
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        ip=ip,
        request_id=ctx.request_id,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(entry)
    entry.save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(
        last_id=entry.id, last_hash=entry.hash, count=models.F("count") + 1
    )
    return entry


def audit_pii_read(
    *, actor: Any, obj: models.Model, fields: Iterable[str], reason: str = ""
) -> None:
    """Record that ``actor`` saw the named personal-data fields of ``obj`` unmasked."""
    audit_log(actor=actor, action="pii.read", obj=obj, after={"fields": sorted(fields)},
              reason=reason)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str = ""


def verify_chain(*, batch_size: int = 5000, progress: Any = None) -> VerifyResult:
    """Walk the chain in id order and report the first entry that does not fit.

    The chain head is read first: an entry and the head move together in one
    transaction, so every entry up to the head is visible, and entries appended while
    the walk runs are left for the next run instead of being reported as a broken end.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if not AuditEntry.objects.exists():
            return VerifyResult(True, 0)
        # The first entry and the head are created together; it may just have landed.
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None:
            return VerifyResult(False, 0, None, "the chain head is missing (it was deleted)")
    expected_prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    last_seen = 0
    while True:
        entries = AuditEntry.objects.filter(id__gt=last_seen, id__lte=head.last_id)
        batch = list(entries.order_by("id")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.id != expected_id:
                return VerifyResult(False, checked, expected_id,
                                    f"entry #{expected_id} is missing")
            if entry.prev_hash != expected_prev:
                before = (f"entry #{entry.id - 1} (altered and rehashed, or replaced)"
                          if entry.id > 1 else "the start of the chain")
                return VerifyResult(False, checked, entry.id,
                                    f"previous-hash link does not match {before}")
            if entry_hash(entry) != entry.hash:
                return VerifyResult(False, checked, entry.id,
                                    "content does not match its hash (entry was altered)")
            expected_prev = entry.hash
            expected_id += 1
            checked += 1
        last_seen = batch[-1].id
        if progress is not None:
            progress(len(batch))
    if head.last_id != checked:
        return VerifyResult(False, checked, checked + 1,
                            f"entries #{checked + 1} to #{head.last_id} are missing (removed "
                            "from the end)")
    if head.last_hash != expected_prev:
        return VerifyResult(False, checked, head.last_id,
                            "the chain head does not match the last entry (altered and "
                            "rehashed, or replaced)")
    return VerifyResult(True, checked)
