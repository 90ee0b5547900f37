from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import field_validator

from yiwang.core.schemas import IsoDateTime, OrgUnitRef

from .roles import Role

# Not blank: at least one character that is not white space.
NOT_BLANK = r"\S"
PermissionCode = Annotated[str, Field(max_length=100, pattern=r"^[a-z_]+\.[a-z_]+$")]


class StaffOut(Schema):
    id: int
    username: str
    name: str
    org_unit: OrgUnitRef | None
    roles: list[str]
    is_active: bool
    phone: str = Field(description="Always masked; see /personal-data for the full value")

    @staticmethod
    def resolve_roles(obj: Any) -> list[str]:
        return sorted(g.name for g in obj.groups.all())

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return str(obj.masked_phone)


class PersonalDataOut(Schema):
    """Unmasked personal data; every response is recorded in the audit log."""

    id: int
    phone: str
    id_number: str


class StaffIn(Schema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK)
    org_unit: str = Field(max_length=18, description="Org unit code")
    roles: list[Role] = Field(min_length=1, max_length=9)
    password: str = Field(min_length=10, max_length=128)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)


class DeactivateIn(Schema):
    reason: str = Field(min_length=1, max_length=500, pattern=NOT_BLANK)


class CitizenRegisterIn(Schema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=10, max_length=128)
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK)
    id_number: str = Field(min_length=15, max_length=24)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    language: str = Field("zh-hans", pattern=r"^(zh-hans|zh-hant|en)$")


class CitizenOut(Schema):
    id: int
    username: str
    name: str
    id_number: str = Field(description="Masked")

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return obj.masked_id_number


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK)
    org_unit: str | None = Field(None, max_length=18)
    permissions: list[PermissionCode] = Field(
        max_length=100, description="`app_label.codename`; only permissions you have")
    expires_at: IsoDateTime | None = Field(None, description="In the future; none: no expiry")

    @field_validator("expires_at")
    @classmethod
    def _sane_expiry(cls, value: dt.datetime | None) -> dt.datetime | None:
        # Year 1 or 9999 with an offset overflows the conversion to UTC for storage.
        if value is not None and not 2000 <= value.year <= 9000:
            raise ValueError("expiry out of range")
        return value


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    owner: str
    org_unit: OrgUnitRef
    permissions: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_owner(obj: Any) -> str:
        return str(obj.user.username)


class TokenCreatedOut(TokenOut):
    token: str = Field(description="Shown once; store it in the client's secret store")
