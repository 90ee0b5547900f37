from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# Primary keys are BIGINT: a larger id cannot exist, and the database drivers fail (500)
# on one instead of finding nothing, so the API refuses it up front (422).
MAX_ID = 2**63 - 1


def json_integer(value: Any) -> Any:
    """A JSON number, as the schema says: pydantic's lax mode would also turn true/false and
    "7" into integers; its strict mode would refuse 7.0, which JSON Schema calls an integer."""
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def json_number(value: Any) -> Any:
    """A JSON number: lax mode would also take true/false and "7.5" as floats."""
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError("float_type", "Input should be a valid number")
    return value


ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}", re.ASCII)


def json_datetime(value: Any) -> Any:
    """An ISO 8601 date and time: lax mode would read 7 or "1.9e-120" as a Unix timestamp
    and "2026-01-05" as midnight. Without an offset it is Beijing time (TIME_ZONE)."""
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not ISO_DATETIME.match(value):
        raise PydanticCustomError("datetime_type", "Input should be a valid datetime")
    return value


# Field before the validator: the other way round pydantic writes "ge"/"le" into the JSON
# schema instead of "minimum"/"maximum" (the fuzzer caught that).
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(json_integer)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(json_datetime)]
MAX_PAGE_SIZE = 500
MAX_OFFSET = 2**31 - 1


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class Pagination(LimitOffsetPagination):
    """``limit``/``offset`` paging with bounds the database can hold."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)


class OrgUnitRef(Schema):
    code: str
    name: str
    kind: str


class OrgUnitOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    parent_code: str | None
    depth: int
    centroid_lon: float | None
    centroid_lat: float | None
    is_active: bool

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None


class OrgUnitDetailOut(OrgUnitOut):
    address: str
    phone: str
    boundary: dict[str, Any] | None
    bbox: list[float] | None

    @staticmethod
    def resolve_bbox(obj: Any) -> list[float] | None:
        if obj.min_lon is None:
            return None
        return [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]


class PlacementOut(Schema):
    street: OrgUnitRef | None
    community: OrgUnitRef | None
    grid: OrgUnitRef | None


class MeOut(Schema):
    id: int
    username: str
    name: str
    kind: str
    language: str
    org_unit: OrgUnitRef | None
    roles: list[str]
    permissions: list[str]


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class MarkReadIn(Schema):
    ids: list[Id] = Field(max_length=500)


class CountOut(Schema):
    count: int


class DeadlineOut(Schema):
    start: dt.datetime
    limit: int
    unit: str
    due_at: dt.datetime
    calendar_days: int


class AuditEntryOut(Schema):
    id: int
    created_at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    before: Any
    after: Any
    reason: str
    ip: str | None
    hash: str
