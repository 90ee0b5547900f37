from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from yiwang.core import policies
from yiwang.core import selectors as core_selectors
from yiwang.core.api_errors import ERRORS
from yiwang.core.audit import audit_pii_read
from yiwang.core.schemas import MAX_ID, Pagination

from . import selectors, services
from .schemas import (
    CitizenOut,
    CitizenRegisterIn,
    DeactivateIn,
    PersonalDataOut,
    StaffIn,
    StaffOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)

router = Router(tags=["accounts"])


@router.get("/users", response={200: list[StaffOut], **ERRORS},
            summary="Staff in the caller's scope")
@paginate(Pagination)
def user_list(request: HttpRequest, q: str | None = Query(None, max_length=50),
              org_unit: str | None = Query(None, max_length=18),
              role: str | None = Query(None, max_length=30)) -> object:
    return selectors.user_list(actor=request.user, q=q, org_unit_code=org_unit, role=role)


@router.get("/users/{user_id}", response={200: StaffOut, **ERRORS}, summary="One staff user")
def user_detail(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    return selectors.user_get(actor=request.user, pk=user_id)


@router.get("/users/{user_id}/personal-data", response={200: PersonalDataOut, **ERRORS},
            summary="Unmasked phone and ID number (audited; roles with personal-data access)")
def user_personal_data(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    user = selectors.user_get(actor=request.user, pk=user_id, action="view",
                              perm="accounts.view_personal_data")
    if not policies.can_view_personal_data(request.user):
        raise PermissionDenied
    audit_pii_read(actor=request.user, obj=user, fields=["phone", "id_number"])
    return user


@router.post("/users", response={201: StaffOut, **ERRORS}, summary="Create a staff user")
def user_create(request: HttpRequest, payload: StaffIn) -> object:
    unit = core_selectors.orgunit_get(actor=request.user, code=payload.org_unit)
    user = services.staff_create(
        actor=request.user, username=payload.username, name=payload.name, org_unit=unit,
        roles=[role.value for role in payload.roles], password=payload.password,
        email=payload.email, phone=payload.phone)
    return Status(201, user)


@router.post("/users/{user_id}/deactivate", response={200: StaffOut, **ERRORS},
             summary="Deactivate a staff user")
def user_deactivate(request: HttpRequest, payload: DeactivateIn,
                    user_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    user = selectors.user_get(actor=request.user, pk=user_id, action="change",
                              perm="accounts.manage_staff")
    return services.staff_deactivate(actor=request.user, user=user, reason=payload.reason)


@router.post("/register", response={201: CitizenOut, **ERRORS}, auth=None,
             summary="Real-name registration of a citizen")
def citizen_register(request: HttpRequest, payload: CitizenRegisterIn) -> object:
    user = services.citizen_register(**payload.dict())
    return Status(201, user)


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, summary="API tokens")
@paginate(Pagination)
def token_list(request: HttpRequest) -> object:
    return selectors.token_list(actor=request.user)


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS},
             summary="Create an API token (the secret is returned once)")
def token_create(request: HttpRequest, payload: TokenIn) -> object:
    expires_at = payload.expires_at
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= timezone.now():
            raise ValidationError({"expires_at": [_("Choose a date in the future.")]})
    unit = (core_selectors.orgunit_get(actor=request.user, code=payload.org_unit)
            if payload.org_unit else None)
    token, secret = services.token_create(
        actor=request.user, name=payload.name, org_unit=unit, permissions=payload.permissions,
        expires_at=expires_at)
    token.token = secret  # type: ignore[attr-defined]
    return Status(201, token)


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **ERRORS},
             summary="Revoke an API token")
def token_revoke(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    token = selectors.token_get(actor=request.user, pk=token_id)
    return services.token_revoke(actor=request.user, token=token)
