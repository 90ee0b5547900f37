from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.pagination import paginate

from . import policies, selectors
from .api_errors import ERRORS
from .geo import locate
from .models.calendar import ClockUnit
from .notifications import mark_read
from .schemas import (
    AuditEntryOut,
    CountOut,
    DeadlineOut,
    IsoDateTime,
    MarkReadIn,
    MeOut,
    NotificationOut,
    OrgUnitDetailOut,
    OrgUnitOut,
    Pagination,
    PlacementOut,
)
from .workdays import WorkCalendar

router = Router(tags=["core"])


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
@paginate(Pagination)
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
def org_unit_detail(request: HttpRequest, code: str = Path(..., max_length=18)) -> object:
    return selectors.orgunit_get(actor=request.user, code=code)


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS},
            summary="My in-app messages")
@paginate(Pagination)
def notification_list(request: HttpRequest, unread: bool = False) -> object:
    return selectors.notification_list(actor=request.user, unread=unread)


@router.post("/notifications/read", response={200: CountOut, **ERRORS},
             summary="Mark my messages read")
def notification_mark_read(request: HttpRequest, payload: MarkReadIn) -> dict:
    return {"count": mark_read(actor=request.user, notification_ids=payload.ids)}


MIN_YEAR, MAX_YEAR = 1970, 2099


@router.get("/calendar/deadline", response={200: DeadlineOut, **ERRORS},
            summary="Deadline of a limit in working days or hours")
def calendar_deadline(request: HttpRequest, limit: int = Query(..., ge=0, le=3650),
                      unit: Literal["workdays", "hours"] = "workdays",
                      start: IsoDateTime | None = None) -> dict:
    start = start or timezone.now()
    # Years outside the calendar's reach overflow the date arithmetic (or meet local mean
    # time offsets like +08:05:43 that no client can parse); look at .year, not compare.
    if not MIN_YEAR <= start.year <= MAX_YEAR:
        raise ValidationError({"start": [_("Enter a valid date.")]})
    start = timezone.localtime(timezone.make_aware(start) if timezone.is_naive(start) else start)
    due = WorkCalendar.load().due_at(start, limit, ClockUnit(unit))
    days = (timezone.localtime(due).date() - timezone.localtime(start).date()).days
    return {"start": start, "limit": limit, "unit": unit, "due_at": due, "calendar_days": days}


@router.get("/audit/entries", response={200: list[AuditEntryOut], **ERRORS},
            summary="Audit entries in the caller's scope (auditors)")
@paginate(Pagination)
def audit_entry_list(request: HttpRequest, action: str | None = Query(None, max_length=80),
                     object_type: str | None = Query(None, max_length=80),
                     object_id: str | None = Query(None, max_length=64)) -> object:
    return selectors.audit_entry_list(actor=request.user, action=action,
                                      object_type=object_type, object_id=object_id)
