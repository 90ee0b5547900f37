import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from . import policies, selectors
from .geo import locate
from .models.calendar import ClockUnit
from .notifications import mark_read
from .schemas import (
    AuditEntryOut,
    CountOut,
    DeadlineOut,
    ErrorOut,
    MarkReadIn,
    MeOut,
    NotificationOut,
    OrgUnitDetailOut,
    OrgUnitOut,
    PlacementOut,
)
from .workdays import WorkCalendar

router = Router(tags=["core"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The signed-in user")
def me(request: HttpRequest) -> dict:
    user: Any = request.user
    perms = sorted(p for p in user.get_all_permissions() if policies.has_perm(user, p))
    return {
        "id": user.pk, "username": user.username, "name": user.name, "kind": user.kind,
        "language": user.language, "org_unit": policies.scope_unit(user),
        "roles": user.role_codes, "permissions": perms,
    }


OrgKindParam = Literal["district", "street", "community", "grid", "department", "bureau",
                       "enterprise"]


@router.get("/org-units", response={200: list[OrgUnitOut], **ERRORS},
            summary="Org units in the caller's scope")
@paginate(LimitOffsetPagination)
def org_unit_list(request: HttpRequest, kind: OrgKindParam | None = None,
                  parent: str | None = Query(None, max_length=18),
                  q: str | None = Query(None, max_length=50)) -> object:
    return selectors.orgunit_list(actor=request.user, kind=kind, parent_code=parent, q=q)


@router.get("/org-units/locate", response={200: PlacementOut, **ERRORS},
            summary="Street, community and grid at a point")
def org_unit_locate(request: HttpRequest, lon: float = Query(..., ge=-180, le=180),
                    lat: float = Query(..., ge=-90, le=90)) -> object:
    if not policies.has_perm(request.user, "core.view_orgunit"):
        raise PermissionDenied
    return locate(lon, lat)


@router.get("/org-units/{code}", response={200: OrgUnitDetailOut, **ERRORS},
            summary="One org unit with its boundary")
def org_unit_detail(request: HttpRequest, code: str) -> object:
    return selectors.orgunit_get(actor=request.user, code=code[:18])


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS},
            summary="My in-app messages")
@paginate(LimitOffsetPagination)
def notification_list(request: HttpRequest, unread: bool = False) -> object:
    return selectors.notification_list(actor=request.user, unread=unread)


@router.post("/notifications/read", response={200: CountOut, **ERRORS},
             summary="Mark my messages read")
def notification_mark_read(request: HttpRequest, payload: MarkReadIn) -> dict:
    return {"count": mark_read(actor=request.user, notification_ids=payload.ids[:500])}


@router.get("/calendar/deadline", response={200: DeadlineOut, **ERRORS},
            summary="Deadline of a limit in working days or hours")
def calendar_deadline(request: HttpRequest, limit: int = Query(..., ge=0, le=3650),
                      unit: Literal["workdays", "hours"] = "workdays",
                      start: dt.datetime | None = None) -> dict:
    start = start or timezone.now()
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    due = WorkCalendar.load().due_at(start, limit, ClockUnit(unit))
    days = (timezone.localtime(due).date() - timezone.localtime(start).date()).days
    return {"start": start, "limit": limit, "unit": unit, "due_at": due, "calendar_days": days}


@router.get("/audit/entries", response={200: list[AuditEntryOut], **ERRORS},
            summary="Audit entries in the caller's scope (auditors)")
@paginate(LimitOffsetPagination)
def audit_entry_list(request: HttpRequest, action: str | None = Query(None, max_length=80),
                     object_type: str | None = Query(None, max_length=80),
                     object_id: str | None = Query(None, max_length=64)) -> object:
    return selectors.audit_entry_list(actor=request.user, action=action,
                                      object_type=object_type, object_id=object_id)
