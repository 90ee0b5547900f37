"""Demo accounts: one or more for every role at every level, plus citizens and an
enterprise. Plain data; ``loader.load_org`` puts them into the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from yiwang.accounts.roles import Role
from yiwang.core.models.org import OrgKind
from yiwang.core.validators import id_check_char

from . import codes, vocab
from .district import CITY_REGION, DistrictSpec, pinyin_name

# Development only: printed by ``yw demo``; every demo account shares it.
DEMO_PASSWORD = "Yiwang-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class AccountSpec:
    username: str
    kind: str  # accounts.UserKind value
    name: str
    unit_code: str | None = None
    role: str | None = None
    phone: str = ""
    id_number: str = ""
    credit_code: str = ""
    enterprise_name: str = ""
    is_staff: bool = False  # may use the Django admin site
    featured: bool = False  # shown in the short ``yw accounts`` table


def _id_number(region: str, born: dt.date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


# The demo citizens: (name, birth date, region, sequence; odd for men, even for women).
_CITIZENS = (
    ("陈晓敏", dt.date(1988, 3, 15), "440306", 362),
    ("李伟强", dt.date(1979, 11, 2), "430481", 517),
    ("黄丽娟", dt.date(1965, 7, 21), "440307", 128),
    ("张浩然", dt.date(1996, 5, 8), "360730", 93),
    ("林雨桐", dt.date(2001, 9, 30), "445281", 244),
)


def build_accounts(spec: DistrictSpec) -> list[AccountSpec]:
    """Every demo account for ``spec``; usernames are stable for a given district seed."""
    rng = np.random.default_rng([spec.seed, 2])
    surnames = [s[0] for s in vocab.SURNAMES]
    weights = np.array([s[1] + s[2] for s in vocab.SURNAMES])
    weights = weights / weights.sum()
    staff_count = 0

    def person() -> str:
        sex = "M" if rng.random() < 0.55 else "F"
        firsts, seconds = vocab.GIVEN_NAMES[(sex, int(rng.integers(1, 3)))]
        given = (seconds[int(rng.integers(len(seconds)))] if rng.random() < 0.12 else
                 firsts[int(rng.integers(len(firsts)))] + seconds[int(rng.integers(len(seconds)))])
        return str(rng.choice(surnames, p=weights)) + given

    def phone() -> str:
        nonlocal staff_count
        staff_count += 1
        prefixes = np.frombuffer("".join(vocab.MOBILE_PREFIXES).encode(),
                                 dtype=np.uint8).reshape(-1, 3)
        hi, lo = codes.scramble(np.array([staff_count]), high=len(prefixes), low=10**8,
                                key=spec.seed * 16 + 7)
        return (prefixes[hi[0]].tobytes() + codes.digits(lo, 8)[0].tobytes()).decode()

    accounts: list[AccountSpec] = []
    taken: set[str] = set()

    def staff(username: str, unit_code: str, role: str, *, featured: bool = False,
              is_staff: bool = False) -> None:
        base, n = username, 1
        while username in taken:  # two places with the same pinyin
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        accounts.append(AccountSpec(
            username=username, kind="staff", name=person(), unit_code=unit_code, role=role,
            phone=phone(), featured=featured, is_staff=is_staff))

    district = spec.district.code
    staff("admin", district, Role.DISTRICT_ADMIN, featured=True)
    staff("clerk", district, Role.WINDOW_CLERK, featured=True)
    staff("dispatcher", district, Role.DISPATCHER, featured=True)
    staff("supervisor", district, Role.SUPERVISOR, featured=True)
    staff("steward", district, Role.DATA_STEWARD, featured=True)
    staff("auditor", district, Role.AUDITOR, featured=True)
    featured_slugs = {"zhengshu", "zhujian", "chengguan", "shichang", "gongdian"}
    for unit in spec.units:
        if unit.kind in (OrgKind.BUREAU, OrgKind.DEPARTMENT):
            feature = unit.slug in featured_slugs
            staff(f"approver.{unit.slug}", unit.code, Role.APPROVER, featured=feature)
            staff(f"handler.{unit.slug}", unit.code, Role.HANDLER, featured=feature)
        elif unit.kind == OrgKind.ENTERPRISE:
            staff(f"handler.{unit.slug}", unit.code, Role.HANDLER,
                  featured=unit.slug in featured_slugs)
    for s_index, street in enumerate(spec.streets):
        first = s_index == 0
        staff(f"admin.{street.slug}", street.code, Role.DISTRICT_ADMIN, featured=first)
        staff(f"clerk.{street.slug}", street.code, Role.WINDOW_CLERK, featured=first)
        staff(f"dispatcher.{street.slug}", street.code, Role.DISPATCHER, featured=first)
        staff(f"handler.{street.slug}", street.code, Role.HANDLER, featured=first)
        staff(f"supervisor.{street.slug}", street.code, Role.SUPERVISOR)
    for c_index, community in enumerate(spec.communities):
        staff(f"clerk.{community.slug}", community.code, Role.WINDOW_CLERK)
        staff(f"handler.{community.slug}", community.code, Role.HANDLER,
              featured=c_index == 0)
    for g_index, grid in enumerate(spec.grids):
        staff(f"grid.{grid.slug}", grid.code, Role.GRID_WORKER, featured=g_index == 0)

    for name, born, region, seq in _CITIZENS:
        username = pinyin_name(name).replace("'", "").lower()
        accounts.append(AccountSpec(
            username=username, kind="citizen", name=name,
            id_number=_id_number(region, born, seq), phone=phone(), featured=True))
    body = np.array([[codes.USCC_CHARS.index(c) for c in "MA5G7K2T"]])
    credit = codes.credit_codes(prefix="91", region=CITY_REGION, body=body).tobytes().decode()
    accounts.append(AccountSpec(
        username="ent.demo", kind="enterprise", name="王建华", phone=phone(),
        credit_code=credit, enterprise_name=f"深圳市{spec.district.short_name}智联科技有限公司",
        featured=True))
    # The 12345 hotline operator registers calls (the dispatcher role, at the district);
    # last, so every other account keeps its generated name and phone.
    staff("hotline", district, Role.DISPATCHER, featured=True)
    return accounts
