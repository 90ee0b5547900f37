from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


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
    ids: list[int]


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
