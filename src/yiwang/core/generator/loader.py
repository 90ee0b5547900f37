"""Put the demo org tree and the demo accounts into the database, idempotently.

A second run with the same seed changes nothing: units and users are compared field
by field and only differences are written; existing passwords are never reset. One
``demo.load`` audit entry summarises a run that changed something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from yiwang.accounts.models import User
from yiwang.accounts.roles import Role, sync_roles
from yiwang.core.audit import audit_log
from yiwang.core.geo import set_boundary
from yiwang.core.models.org import OrgUnit

from .accounts import DEMO_PASSWORD, AccountSpec, build_accounts
from .district import DistrictSpec, UnitSpec
from .geometry import to_geojson

UNIT_FIELDS = ("name", "name_en", "short_name", "kind", "parent_id", "sort_order", "boundary",
               "min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon", "centroid_lat",
               "address", "phone", "is_active")
USER_FIELDS = ("kind", "name", "org_unit_id", "is_staff", "is_active", "phone", "id_number",
               "credit_code", "enterprise_name")


@dataclass
class LoadResult:
    units_created: int = 0
    units_updated: int = 0
    units_deactivated: int = 0
    users_created: int = 0
    users_updated: int = 0
    usernames: list[str] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        return any((self.units_created, self.units_updated, self.units_deactivated,
                    self.users_created, self.users_updated))


def _unit_values(spec: UnitSpec, parent: OrgUnit | None) -> dict[str, Any]:
    probe = OrgUnit()
    if spec.geometry is not None:
        set_boundary(probe, to_geojson(spec.geometry))
    return {
        "name": spec.name, "name_en": spec.name_en, "short_name": spec.short_name,
        "kind": str(spec.kind), "parent_id": parent.pk if parent else None,
        "sort_order": spec.sort_order, "boundary": probe.boundary,
        "min_lon": probe.min_lon, "min_lat": probe.min_lat, "max_lon": probe.max_lon,
        "max_lat": probe.max_lat, "centroid_lon": probe.centroid_lon,
        "centroid_lat": probe.centroid_lat, "address": spec.address, "phone": spec.phone,
        "is_active": True,
    }


def is_loaded(spec: DistrictSpec) -> bool:
    """The district and every demo account are in the database."""
    usernames = [a.username for a in build_accounts(spec)]
    return (OrgUnit.objects.filter(code=spec.district.code).exists()
            and User.objects.filter(username__in=usernames).count() == len(usernames))


@transaction.atomic
def load_org(*, spec: DistrictSpec, password: str = DEMO_PASSWORD) -> LoadResult:
    result = LoadResult()
    existing = {u.code: u for u in OrgUnit.objects.filter(code__in=list(spec.by_code))}
    saved: dict[str, OrgUnit] = {}
    for unit_spec in spec.units:  # parents come first
        parent = saved[unit_spec.parent_code] if unit_spec.parent_code else None
        values = _unit_values(unit_spec, parent)
        unit = existing.get(unit_spec.code)
        if unit is None:
            unit = OrgUnit(code=unit_spec.code, **values)
            unit.parent = parent
            # Codes come from the spec, which checks they are unique, and the parent was
            # saved a moment ago: skip those two queries per unit, keep every other check.
            unit.full_clean(exclude=["parent"], validate_unique=False)
            unit.save()
            result.units_created += 1
        elif any(getattr(unit, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(unit, name, value)
            unit.parent = parent
            unit.full_clean(exclude=["parent"], validate_unique=False)
            unit.save()  # recomputes the path if the parent changed
            result.units_updated += 1
        saved[unit_spec.code] = unit
    # Units of an earlier load that this seed no longer has: deactivate, never delete
    # (events and cases may point at them).
    result.units_deactivated = (
        OrgUnit.objects.filter(path__startswith=saved[spec.district.code].path, is_active=True)
        .exclude(code__in=list(spec.by_code)).update(is_active=False))
    _load_users(spec=spec, units=saved, password=password, result=result)
    if result.changed:
        audit_log(
            actor=None, action="demo.load", obj=saved[spec.district.code],
            after={"seed": spec.seed, "units_created": result.units_created,
                   "units_updated": result.units_updated,
                   "units_deactivated": result.units_deactivated,
                   "users_created": result.users_created,
                   "users_updated": result.users_updated},
            reason="demo district loaded by the generator",
        )
    return result


def _load_users(*, spec: DistrictSpec, units: dict[str, OrgUnit], password: str,
                result: LoadResult) -> None:
    if Group.objects.filter(name__in=[r.value for r in Role]).count() != len(Role):
        sync_roles()
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    accounts = build_accounts(spec)
    existing = {u.username: u for u in User.objects.filter(
        username__in=[a.username for a in accounts]).prefetch_related("groups")}
    # One hash for all demo accounts: hashing ~500 passwords with Argon2 would take
    # half a minute, and the password is printed for everyone anyway.
    hashed = make_password(password)
    memberships = []
    for account in accounts:
        result.usernames.append(account.username)
        values = _user_values(account, units)
        wanted_groups = {account.role} if account.role else set()
        user = existing.get(account.username)
        if user is None:
            user = User(username=account.username, password=hashed, **values)
            user.save()
            memberships += [User.groups.through(user_id=user.pk, group_id=groups[g].pk)
                            for g in wanted_groups]
            result.users_created += 1
            continue
        changed = any(getattr(user, name) != value for name, value in values.items())
        if changed:
            for name, value in values.items():
                setattr(user, name, value)
            user.save()
        if {g.name for g in user.groups.all()} != wanted_groups:
            user.groups.set([groups[g] for g in wanted_groups])
            changed = True
        result.users_updated += int(changed)
    User.groups.through.objects.bulk_create(memberships)


def _user_values(account: AccountSpec, units: dict[str, OrgUnit]) -> dict[str, Any]:
    return {
        "kind": account.kind, "name": account.name,
        "org_unit_id": units[account.unit_code].pk if account.unit_code else None,
        "is_staff": account.is_staff, "is_active": True, "phone": account.phone,
        "id_number": account.id_number, "credit_code": account.credit_code,
        "enterprise_name": account.enterprise_name,
    }
