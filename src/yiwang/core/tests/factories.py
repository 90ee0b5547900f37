"""Test data named by intent: a two-street district with staff of every role."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from yiwang.accounts.models import User, UserKind
from yiwang.accounts.roles import Role
from yiwang.core.geo import set_boundary
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

PASSWORD = "correct-horse-battery-9"


def square(lon: float, lat: float, size: float) -> dict:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


def make_unit(code: str, name: str, kind: str, parent: OrgUnit | None = None,
              box: tuple[float, float, float] | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent)
    if box:
        set_boundary(unit, square(*box))
    unit.full_clean()
    unit.save()
    return unit


def make_staff(username: str, unit: OrgUnit, *roles: str, **extra: object) -> User:
    user = User(username=username, name=extra.pop("name", username), kind=UserKind.STAFF,
                org_unit=unit, **extra)
    user.set_password(PASSWORD)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def make_citizen(username: str = "citizen", id_number: str = "11010519491231002X",
                 **extra: object) -> User:
    user = User(username=username, name=extra.pop("name", "张三"), kind=UserKind.CITIZEN,
                id_number=id_number, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@dataclass
class District:
    district: OrgUnit
    street_a: OrgUnit
    street_b: OrgUnit
    community_a: OrgUnit
    community_b: OrgUnit
    grid_a: OrgUnit
    department: OrgUnit
    users: dict[str, User] = field(default_factory=dict)


def build_district() -> District:
    """District 440399000000 with streets A (west) and B (east), one community and grid
    each, a department, and staff: a district admin, a street-A admin, a clerk in each
    street, an auditor at each level, a data steward, a handler in the department."""
    district = make_unit("440399000000", "示范区", OrgKind.DISTRICT, None, (114.0, 22.5, 0.2))
    street_a = make_unit("440399001000", "甲街道", OrgKind.STREET, district, (114.0, 22.5, 0.1))
    street_b = make_unit("440399002000", "乙街道", OrgKind.STREET, district, (114.1, 22.5, 0.1))
    community_a = make_unit("440399001001", "甲一社区", OrgKind.COMMUNITY, street_a,
                            (114.0, 22.5, 0.05))
    community_b = make_unit("440399002001", "乙一社区", OrgKind.COMMUNITY, street_b,
                            (114.1, 22.5, 0.05))
    grid_a = make_unit("440399001001001", "甲一社区第1网格", OrgKind.GRID, community_a,
                       (114.0, 22.5, 0.02))
    department = make_unit("11440300MB2C92416M", "示范区住房和建设局", OrgKind.DEPARTMENT,
                           district)
    d = District(district, street_a, street_b, community_a, community_b, grid_a, department)
    d.users = {
        "district_admin": make_staff("d_admin", district, Role.DISTRICT_ADMIN),
        "street_a_admin": make_staff("a_admin", street_a, Role.DISTRICT_ADMIN),
        "clerk_a": make_staff("clerk_a", street_a, Role.WINDOW_CLERK, phone="13800138000"),
        "clerk_b": make_staff("clerk_b", street_b, Role.WINDOW_CLERK, phone="13900139000"),
        "handler_a": make_staff("handler_a", community_a, Role.HANDLER, phone="13700137000"),
        "auditor": make_staff("auditor", district, Role.AUDITOR),
        "auditor_a": make_staff("auditor_a", street_a, Role.AUDITOR),
        "dept_handler": make_staff("dept_handler", department, Role.HANDLER),
        "grid_worker_a": make_staff("grid_a", grid_a, Role.GRID_WORKER),
    }
    return d
