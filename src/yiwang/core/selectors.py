"""Reads shared by pages and the API; every one is scoped to the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from . import policies
from .models import AuditEntry, Notification, OrgUnit


def orgunit_list(*, actor: Any, kind: str | None = None, parent_code: str | None = None,
                 q: str | None = None) -> QuerySet[OrgUnit]:
    qs = policies.restrict(OrgUnit.objects.select_related("parent"), actor)
    if kind:
        qs = qs.filter(kind=kind)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.defer("boundary")


def orgunit_get(*, actor: Any, code: str, action: str = "view") -> OrgUnit:
    return policies.get_for_action(OrgUnit.objects.select_related("parent"), actor, action,
                                   code=code)


def audit_entry_list(*, actor: Any, action: str | None = None, object_type: str | None = None,
                     object_id: str | None = None, actor_id: int | None = None
                     ) -> QuerySet[AuditEntry]:
    qs = policies.restrict(AuditEntry.objects.all(), actor)
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs


def notification_list(*, actor: Any, unread: bool = False) -> QuerySet[Notification]:
    """The actor's own in-app inbox."""
    if not policies.is_active_actor(actor):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=actor, channel="inapp")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs
