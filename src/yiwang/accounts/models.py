"""Users (citizens, enterprises, staff) and API tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core import crypto
from yiwang.core.fields import EncryptedTextField
from yiwang.core.validators import (
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ENTERPRISE = "enterprise", _("Enterprise")
    STAFF = "staff", _("Staff")


def _canonical(value: str, normalize: Callable[[str], str]) -> str:
    """The normalised form when the value is valid, else the value as given."""
    try:
        return normalize(value)
    except ValidationError:
        return value


def id_number_index(value: str) -> str:
    return crypto.blind_index(_canonical(value, normalize_id_number), purpose="id_number")


def phone_index(value: str) -> str:
    return crypto.blind_index(_canonical(value, normalize_phone), purpose="phone")


class YiwangUserManager(UserManager["User"]):
    def by_id_number(self, id_number: str) -> models.QuerySet[User]:
        """Exact look-up of an encrypted ID number through its blind index; the number
        may be typed in any accepted form (lower-case x, full-width digits, 15 digits)."""
        return self.filter(id_number_bidx=id_number_index(id_number))

    def by_phone(self, phone: str) -> models.QuerySet[User]:
        return self.filter(phone_bidx=phone_index(phone))


class User(AbstractUser):
    """Everyone who signs in. Staff act for one org unit; roles are auth groups."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=UserKind.choices)
    org_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("org unit"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="staff",
    )
    # Real-name data of citizens: SM4-encrypted, with blind indexes for exact look-up.
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Enterprises: the unified social credit code is public, so it is stored in clear.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True,
                                   db_index=True)
    enterprise_name = models.CharField(_("enterprise name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")

    objects = YiwangUserManager()  # type: ignore[misc]
    scope_path_lookup = "org_unit__path"

    REQUIRED_FIELDS = ["kind"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("view_personal_data", _("Can see unmasked ID and phone numbers")),
            ("manage_staff", _("Can create, change and deactivate staff accounts")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_bidx"], condition=~models.Q(id_number_bidx=""),
                name="user_unique_id_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The blind indexes follow the values; bulk .update() of these fields is not
        # allowed (it would leave the index stale).
        if self.id_number:
            self.id_number = _canonical(self.id_number, normalize_id_number)
        if self.phone:
            self.phone = _canonical(self.phone, normalize_phone)
        self.id_number_bidx = id_number_index(self.id_number) if self.id_number else ""
        self.phone_bidx = phone_index(self.phone) if self.phone else ""
        super().save(*args, **kwargs)

    @property
    def is_citizen(self) -> bool:
        return self.kind == UserKind.CITIZEN

    @property
    def is_enterprise(self) -> bool:
        return self.kind == UserKind.ENTERPRISE

    @property
    def is_staff_user(self) -> bool:
        return self.kind == UserKind.STAFF

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def role_codes(self) -> list[str]:
        cache = getattr(self, "_role_codes", None)
        if cache is None:
            cache = sorted(self.groups.values_list("name", flat=True))
            self._role_codes = cache
        return cache


class ApiToken(models.Model):
    """A machine client's credential: hashed, scoped to a unit and permissions, revocable.

    The secret is shown once at creation (``yw_<prefix>_<secret>``); only its SM3 hash is
    stored. A token never has more than its owner: its permissions are intersected with
    the owner's, and its unit must sit inside the owner's.
    """

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("owner"))
    org_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("org unit"))
    permissions = models.JSONField(_("permissions"), default=list)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    owner_lookup = "user"
    scope_path_lookup = "org_unit__path"

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
