"""Account use cases: every write to users and API tokens goes through here."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto, policies
from yiwang.core.audit import audit_log, audit_pii_read, snapshot
from yiwang.core.models.org import OrgUnit
from yiwang.core.notifications import notify
from yiwang.core.validators import normalize_credit_code, normalize_id_number, normalize_phone

from .models import ApiToken, User, UserKind
from .roles import Role

TOKEN_PREFIX = "yw"  # noqa: S105 (a label, not a secret)
STAFF_AUDIT_FIELDS = ("username", "name", "org_unit_id", "is_active", "email")


def _check_password(password: str, user: User) -> None:
    from django.contrib.auth.password_validation import validate_password

    validate_password(password, user)


@transaction.atomic
def citizen_register(
    *, username: str, password: str, name: str, id_number: str, phone: str = "",
    email: str = "", language: str = "zh-hans",
) -> User:
    """Real-name registration of a citizen (name + GB 11643 ID number)."""
    errors: dict[str, Any] = {}
    try:
        id_number = normalize_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    if phone:
        try:
            phone = normalize_phone(phone, personal=True)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if not name.strip():
        errors["name"] = [_("Enter your name as on your ID card.")]
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("This user name is taken.")]
    if "id_number" not in errors and User.objects.by_id_number(id_number).exists():
        errors["id_number"] = [_("An account with this ID number already exists.")]
    user = User(username=username, name=name.strip(), kind=UserKind.CITIZEN,
                id_number=id_number, phone=phone, email=email, language=language)
    if not errors:
        try:
            _check_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    audit_log(actor=user, action="accounts.user.register", obj=user,
              after=snapshot(user, ("username", "name", "kind")))
    notify(recipient=user, template="welcome", key=f"welcome:{user.pk}",
           context={"name": user.name, "username": user.username, "site": "yiwang"})
    return user


@transaction.atomic
def enterprise_register(
    *, username: str, password: str, enterprise_name: str, credit_code: str, name: str,
    phone: str = "", email: str = "",
) -> User:
    errors: dict[str, Any] = {}
    try:
        credit_code = normalize_credit_code(credit_code)
    except ValidationError as exc:
        errors["credit_code"] = exc.messages
    if phone:
        try:
            phone = normalize_phone(phone, personal=True)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if not enterprise_name.strip():
        errors["enterprise_name"] = [_("Enter the enterprise's registered name.")]
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("This user name is taken.")]
    user = User(username=username, name=name.strip(), kind=UserKind.ENTERPRISE,
                enterprise_name=enterprise_name.strip(), credit_code=credit_code,
                phone=phone, email=email)
    if not errors:
        try:
            _check_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    audit_log(actor=user, action="accounts.user.register", obj=user,
              after=snapshot(user, ("username", "enterprise_name", "credit_code", "kind")))
    return user


def _require_manage(actor: Any, unit: OrgUnit) -> None:
    if not policies.has_perm(actor, "accounts.manage_staff") or not policies.in_scope(
            actor, unit.path):
        raise PermissionDenied


@transaction.atomic
def staff_create(
    *, actor: Any, username: str, name: str, org_unit: OrgUnit, roles: list[str],
    password: str, email: str = "", phone: str = "",
) -> User:
    _require_manage(actor, org_unit)
    unknown = set(roles) - set(Role.values)
    errors: dict[str, Any] = {}
    if unknown:
        errors["roles"] = [_("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}]
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("This user name is taken.")]
    if phone:
        try:
            phone = normalize_phone(phone, personal=True)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if not name.strip():
        errors["name"] = [_("Enter the staff member's name.")]
    user = User(username=username, name=name.strip(), kind=UserKind.STAFF, org_unit=org_unit,
                email=email, phone=phone)
    if not errors:
        try:
            _check_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    audit_log(actor=actor, action="accounts.staff.create", obj=user,
              after={**snapshot(user, STAFF_AUDIT_FIELDS), "roles": sorted(roles)})
    return user


@transaction.atomic
def staff_deactivate(*, actor: Any, user: User, reason: str) -> User:
    """Disable a staff account and revoke its tokens; the account stays for the record."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.org_unit is None:
        raise PermissionDenied
    _require_manage(actor, user.org_unit)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason for deactivating the account.")]})
    if user.pk == actor.pk:
        raise ValidationError({"user": [_("You cannot deactivate your own account.")]})
    if not user.is_active:
        raise ValidationError({"user": [_("The account is already deactivated.")]})
    before = snapshot(user, STAFF_AUDIT_FIELDS)
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    audit_log(actor=actor, action="accounts.staff.deactivate", obj=user, before=before,
              after={**snapshot(user, STAFF_AUDIT_FIELDS), "tokens_revoked": revoked},
              reason=reason)
    notify(recipient=user, template="account_deactivated", key=f"deactivated:{user.pk}:"
           f"{timezone.now():%Y%m%d%H%M%S}", context={"username": user.username,
                                                       "by": str(actor), "reason": reason})
    return user


def _hash_secret(secret: str) -> str:
    return crypto.sm3_hex(secret.encode())


@transaction.atomic
def token_create(
    *, actor: Any, name: str, org_unit: OrgUnit | None = None, permissions: list[str],
    expires_at: Any = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``actor``; returns it and the one-time plain value."""
    if not policies.is_active_actor(actor) or actor.kind != UserKind.STAFF:
        raise PermissionDenied
    if getattr(actor, "api_token", None) is not None:  # tokens do not mint tokens
        raise PermissionDenied
    org_unit = org_unit or actor.org_unit
    if org_unit is None or not policies.in_scope(actor, org_unit.path):
        raise ValidationError({"org_unit": [_("The token's unit must be inside your own.")]})
    missing = [p for p in permissions if not actor.has_perm(p)]
    if missing:
        raise ValidationError({"permissions": [
            _("You cannot give a token permissions you do not have: %(p)s")
            % {"p": ", ".join(missing)}]})
    if not name.strip():
        raise ValidationError({"name": [_("Name the token after the system that uses it.")]})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name.strip(), user=actor, org_unit=org_unit, permissions=sorted(set(permissions)),
        prefix=prefix, secret_hash=_hash_secret(secret), expires_at=expires_at,
    )
    audit_log(actor=actor, action="accounts.token.create", obj=token,
              after={"name": token.name, "prefix": prefix, "org_unit": org_unit.code,
                     "permissions": token.permissions})
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken, reason: str = "") -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    is_owner = token.user_id == actor.pk
    if not is_owner and not (policies.has_perm(actor, "accounts.manage_staff")
                             and policies.in_scope(actor, token.org_unit.path)):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(actor=actor, action="accounts.token.revoke", obj=token, reason=reason,
                  after={"prefix": token.prefix})
    return token


def token_authenticate(raw: str, *, ip: str | None = None) -> User | None:
    """The token's user with ``api_token`` attached, or None for a bad/revoked token."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user", "user__org_unit", "org_unit").filter(
        prefix=parts[1]).first()
    if token is None or not secrets.compare_digest(token.secret_hash, _hash_secret(parts[2])):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    user = token.user
    user.api_token = token  # type: ignore[attr-defined]
    return user


PII_FIELDS = ("phone", "id_number")


@transaction.atomic
def staff_pii_reveal(*, actor: Any, user: User, fields: tuple[str, ...] = ("phone",),
                     reason: str = "") -> dict[str, str]:
    """The unmasked personal data of a staff member, for roles allowed to see it.

    Every reveal is recorded with ``audit_pii_read``; refused for everyone else.
    """
    if not policies.can_view_personal_data(actor):
        raise PermissionDenied
    if user.org_unit is None or not policies.in_scope(actor, user.org_unit.path):
        raise PermissionDenied
    unknown = set(fields) - set(PII_FIELDS)
    if unknown:
        raise ValueError(f"not personal-data fields: {sorted(unknown)}")
    values = {name: getattr(user, name) or "" for name in fields}
    audit_pii_read(actor=actor, obj=user, fields=values.keys(), reason=reason)
    return values
