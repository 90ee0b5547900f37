"""Core use cases that change state: local calendar overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import policies
from .audit import audit_log, snapshot
from .models import CalendarOverride
from .models.org import OrgKind

OVERRIDE_FIELDS = ("date", "is_workday", "note")


def can_manage_calendar(actor: Any, perm: str = "core.add_calendaroverride") -> bool:
    """Calendar overrides are district-wide, so only the district root's admins set them."""
    if not policies.has_perm(actor, perm):
        return False
    if actor.is_superuser and getattr(actor, "api_token", None) is None:
        return True
    unit = policies.scope_unit(actor)
    return bool(unit is not None and unit.kind == OrgKind.DISTRICT and unit.parent_id is None)


def _audit_scope(actor: Any) -> str:
    unit = policies.scope_unit(actor)
    return unit.path if unit is not None else ""


@transaction.atomic
def calendar_override_set(*, actor: Any, date: dt.date, is_workday: bool,
                          note: str) -> CalendarOverride:
    """Declare ``date`` a working day or a day off, whatever the official calendar says."""
    existing = CalendarOverride.objects.select_for_update().filter(date=date).first()
    perm = "core.change_calendaroverride" if existing else "core.add_calendaroverride"
    if not can_manage_calendar(actor, perm):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("Say why the day differs from the official "
                                          "calendar.")]})
    before = snapshot(existing, OVERRIDE_FIELDS) if existing else None
    override = existing or CalendarOverride(date=date, created_by=actor)
    override.is_workday = is_workday
    override.note = note[:200]
    override.save()
    audit_log(actor=actor, action="core.calendar_override.set", obj=override, before=before,
              after=snapshot(override, OVERRIDE_FIELDS), scope_path=_audit_scope(actor))
    return override


@transaction.atomic
def calendar_override_delete(*, actor: Any, override: CalendarOverride) -> None:
    """Remove a local override; the official calendar applies to that day again."""
    if not can_manage_calendar(actor, "core.delete_calendaroverride"):
        raise PermissionDenied
    override = CalendarOverride.objects.select_for_update().get(pk=override.pk)
    before = snapshot(override, OVERRIDE_FIELDS)
    audit_log(actor=actor, action="core.calendar_override.delete", obj=override, before=before,
              scope_path=_audit_scope(actor))
    override.delete()
