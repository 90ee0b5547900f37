"""The demo district generator: deterministic, valid, consistent, idempotent to load."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely
from django.conf import settings
from django.core.management import call_command

from yiwang.accounts.models import User
from yiwang.accounts.roles import Role
from yiwang.core.generator import build_district, codes, generate
from yiwang.core.generator.accounts import DEMO_PASSWORD, build_accounts
from yiwang.core.generator.loader import load_org
from yiwang.core.generator.population import AS_OF
from yiwang.core.geo import locate
from yiwang.core.models import AuditEntry, OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.validators import (
    USCC_CHARS,
    normalize_credit_code,
    normalize_phone,
    org_code_check_char,
    parse_id_number,
)

SMALL = {"persons": 3_000, "enterprises": 400, "buildings": 120}
CHUNK = 1_000  # several chunks even at test sizes
# Every default_handler of the dispatch catalogue (data/dispatch_catalog.csv, v0); the
# CSV itself is checked too when it can be found.
CATALOGUE_HANDLERS = {
    "街道办事处", "区住房和建设局", "区交通运输局", "区卫生健康局", "区城市管理和综合执法局",
    "区人力资源局", "区教育局", "区公安分局", "区民政局", "区文化广电旅游体育局",
    "区政务服务数据管理局", "区医疗保障局", "区交警大队", "区水务局", "区应急管理局",
    "区城市更新和土地整备局", "区消防救援大队", "区司法局", "区工业和信息化局",
    "区发展和改革局", "区财政局", "区残疾人联合会", "区退役军人事务局",
    "市市场监督管理局区监管局", "市生态环境局区管理局", "市社会保险基金管理局区分局",
    "市规划和自然资源局区管理局", "水务集团", "供电局", "燃气集团", "通信运营商",
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def spec():
    return build_district()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out_dir=out, seed=7, chunk_rows=CHUNK, progress=False, **SMALL)
    return out


@pytest.fixture(scope="module")
def rows(generated) -> dict[str, list[dict[str, str]]]:
    return {name: read_csv(generated / f"{name}.csv")
            for name in ("buildings", "houses", "persons", "enterprises")}


# --- the org tree ---------------------------------------------------------------------


def test_district__has_6_to_8_streets_and_40_to_60_communities(spec):
    assert 6 <= len(spec.streets) <= 8
    assert 40 <= len(spec.communities) <= 60
    per_community = Counter(g.parent_code for g in spec.grids)
    assert set(per_community) == {c.code for c in spec.communities}
    assert all(3 <= n <= 8 for n in per_community.values())
    assert len([u for u in spec.units if u.kind == OrgKind.DEPARTMENT]) >= 25
    assert [u.name for u in spec.units if u.kind == OrgKind.BUREAU] == ["示范区政务服务数据管理局"]


def test_district__codes_follow_the_division_scheme(spec):
    district = spec.district
    assert (district.code, district.name) == ("440399000000", "示范区")
    for i, street in enumerate(spec.streets, start=1):
        assert street.code == f"440399{i:03d}000"
        assert street.name.endswith("街道") and street.name_en.endswith(" Subdistrict")
    for community in spec.communities:
        assert len(community.code) == 12 and community.code[:9] == community.parent_code[:9]
        assert community.name.endswith("社区") and community.name_en.endswith(" Community")
    for grid in spec.grids:
        assert len(grid.code) == 15 and grid.code[:12] == grid.parent_code
    for unit in spec.units:
        if unit.kind not in (OrgKind.DISTRICT, OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID):
            assert normalize_credit_code(unit.code) == unit.code
    assert len({u.name for u in spec.units}) == len(spec.units)


def test_district__organs_carry_type_11_and_the_district_region(spec):
    organs = [u for u in spec.units if u.kind in (OrgKind.DEPARTMENT, OrgKind.BUREAU)]
    assert all(u.code[2:8] == "440399" for u in organs)
    assert Counter(u.code[:2] for u in organs)["11"] == len(organs) - 1  # 残联: 13


def test_district__children_tile_their_parent_exactly(spec):
    children: dict[str, list] = {}
    for unit in spec.units:
        if unit.geometry is not None and unit.parent_code:
            children.setdefault(unit.parent_code, []).append(unit.geometry)
    assert len(children) == 1 + len(spec.streets) + len(spec.communities)
    for parent_code, shapes in children.items():
        parent = spec.by_code[parent_code].geometry
        union = shapely.union_all(shapes)
        assert abs(union.area - parent.area) < 1e-9 * parent.area
        assert abs(sum(s.area for s in shapes) - parent.area) < 1e-9 * parent.area  # no overlap
        for shape in shapes:
            assert shape.is_valid and shape.difference(parent).area < 1e-14


def test_district__lies_in_shenzhen(spec):
    min_lon, min_lat, max_lon, max_lat = spec.district.geometry.bounds
    assert 114.0 <= min_lon < max_lon <= 114.3 and 22.5 <= min_lat < max_lat <= 22.75


def test_district__same_seed_same_tree_other_seed_other_tree(spec):
    again = build_district.__wrapped__(seed=2026)  # bypass the cache: really rebuild
    assert [(u.code, u.name, u.geometry.wkb if u.geometry else None) for u in again.units] == [
        (u.code, u.name, u.geometry.wkb if u.geometry else None) for u in spec.units]
    other = build_district(seed=1)
    assert [u.name for u in other.streets] != [u.name for u in spec.streets]


def _catalogue_csv() -> Path | None:
    root = Path(settings.PROJECT_DIR)
    candidates = [*root.glob("src/yiwang/*/data/dispatch_catalog.csv"),
                  root / "data" / "dispatch_catalog.csv",
                  root.parent / "shared" / "data" / "dispatch_catalog.csv"]
    return next((p for p in candidates if p.is_file()), None)


def test_district__every_catalogue_handler_maps_to_a_unit(spec):
    handlers = set(CATALOGUE_HANDLERS)
    path = _catalogue_csv()
    if path is not None:
        handlers |= {r["default_handler"] for r in read_csv(path) if r["default_handler"]}
    for handler in sorted(handlers):
        units = spec.handler_units(handler)
        assert units, f"no unit for catalogue handler {handler}"
    assert spec.handler_units("区住房和建设局")[0].name == "示范区住房和建设局"
    assert spec.handler_units("市生态环境局区管理局")[0].name == "深圳市生态环境局示范管理局"
    assert spec.handler_units("供电局")[0].kind == OrgKind.ENTERPRISE
    assert len(spec.handler_units("通信运营商")) == 3
    assert spec.handler_units("街道办事处") == spec.streets


# --- codes ----------------------------------------------------------------------------


def test_codes__organisation_check_agrees_with_the_validator():
    rng = np.random.default_rng(1)
    bodies = rng.integers(0, len(USCC_CHARS), (300, 8))
    fast = codes.org_check_index(bodies)
    for body, check in zip(bodies, fast, strict=True):
        assert USCC_CHARS[check] == org_code_check_char("".join(USCC_CHARS[i] for i in body))


def _gb11714_check(body: str) -> str:
    # Reference: letters count over the whole alphabet (A=10 … Z=35), weights 3 7 9 10 5 8 4 2.
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def test_codes__organisation_codes_follow_gb_11714(spec, rows):
    assert _gb11714_check("MJX17369") == "9"  # from the real code 53640000MJX1736997
    credit_codes = [u.code for u in spec.units if not u.code.isdigit()]
    credit_codes += [e["credit_code"] for e in rows["enterprises"]]
    for code in credit_codes:
        assert code[16] == _gb11714_check(code[8:16]), code


def test_codes__scramble_is_a_bijection():
    hi, lo = codes.scramble(np.arange(7 * 1000), high=7, low=1000, key=3)
    assert len(set((hi * 1000 + lo).tolist())) == 7000


# --- the population -------------------------------------------------------------------


def test_generate__same_seed_gives_byte_identical_files(generated, tmp_path):
    generate(out_dir=tmp_path, seed=7, chunk_rows=CHUNK, progress=False, **SMALL)
    names = sorted(p.name for p in generated.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert "persons.csv" in names and "manifest.json" in names
    for name in names:
        assert (generated / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_generate__other_seed_gives_other_people(generated, tmp_path):
    generate(out_dir=tmp_path, seed=8, chunk_rows=CHUNK, progress=False, **SMALL)
    assert (tmp_path / "persons.csv").read_bytes() != (generated / "persons.csv").read_bytes()
    assert (tmp_path / "org_units.csv").read_bytes() == (generated / "org_units.csv").read_bytes()


def test_generate__row_counts(rows):
    assert len(rows["persons"]) == SMALL["persons"]
    assert len(rows["enterprises"]) == SMALL["enterprises"]
    assert len(rows["buildings"]) == SMALL["buildings"]
    assert len(rows["houses"]) == sum(
        int(b["floors"]) * int(b["units_per_floor"]) for b in rows["buildings"])


def test_persons__id_numbers_are_valid_unique_and_match_sex_and_birth_date(rows):
    persons = rows["persons"]
    assert len({p["id_number"] for p in persons}) == len(persons)
    for person in persons:
        parsed = parse_id_number(person["id_number"], today=AS_OF)
        assert parsed.value == person["id_number"]
        assert parsed.sex == {"男": "M", "女": "F"}[person["sex"]]
        assert parsed.birth_date == dt.date.fromisoformat(person["birth_date"])


def test_persons__look_like_a_shenzhen_population(rows):
    persons = rows["persons"]
    surnames = Counter(p["name"][0] for p in persons)
    assert {"陈", "李"} <= {name for name, _ in surnames.most_common(3)}
    assert all(2 <= len(p["name"]) <= 4 for p in persons)
    assert Counter(p["ethnicity"] for p in persons)["汉族"] > 0.9 * len(persons)
    local = sum(p["id_number"].startswith("4403") for p in persons)
    assert 0.2 < local / len(persons) < 0.5


def test_persons_and_enterprises__phones_are_canonical_and_unique(rows):
    for entity in ("persons", "enterprises"):
        phones = [r["phone"] for r in rows[entity]]
        assert len(set(phones)) == len(phones)
        assert all(normalize_phone(p) == p for p in phones)


def test_enterprises__credit_codes_names_and_legal_representatives(rows):
    enterprises = rows["enterprises"]
    assert len({e["credit_code"] for e in enterprises}) == len(enterprises)
    assert len({e["name"] for e in enterprises}) == len(enterprises)
    person_ids = {p["id_number"]: p["name"] for p in rows["persons"]}
    for e in enterprises:
        assert normalize_credit_code(e["credit_code"]) == e["credit_code"]
        assert e["credit_code"].startswith("91440300")
        assert e["credit_code"][8:11] == "MA5" or e["founded_on"] < "2015-10-01"
        assert e["name"].endswith("有限公司") and "深圳" in e["name"]
        rep = parse_id_number(e["legal_rep_id_number"], today=AS_OF)
        assert person_ids[rep.value] == e["legal_rep_name"]  # a generated person
        founded = dt.date.fromisoformat(e["founded_on"])
        assert rep.birth_date.replace(year=rep.birth_date.year + 18) <= founded < AS_OF


def test_points__lie_in_their_grid_community_and_street(spec, rows):
    shapes = {u.code: u.geometry for u in spec.units if u.geometry is not None}
    for entity in ("persons", "enterprises", "buildings"):
        for level in ("grid_code", "community_code", "street_code"):
            by_unit: dict[str, list[tuple[float, float]]] = {}
            for r in rows[entity]:
                by_unit.setdefault(r[level], []).append((float(r["lon"]), float(r["lat"])))
            for code, points in by_unit.items():
                xy = np.array(points)
                inside = shapely.contains_xy(shapes[code], xy[:, 0], xy[:, 1])
                assert inside.all(), f"{entity} outside {level} {code}"
        for r in rows[entity]:
            assert r["grid_code"].startswith(r["community_code"])
            assert r["community_code"][:9] == r["street_code"][:9]


def test_persons_and_enterprises__live_and_work_in_existing_houses(rows):
    houses = {(h["building_id"], h["room"]): h for h in rows["houses"]}
    assert len({h["house_id"] for h in rows["houses"]}) == len(houses)
    buildings = {b["building_id"]: b for b in rows["buildings"]}
    for entity, uses in (("persons", {"住宅", "商住"}), ("enterprises", None)):
        for r in rows[entity]:
            house = houses[(r["building_id"], r["room"])]
            assert r["address"] == house["address"]
            building = buildings[r["building_id"]]
            assert (r["lon"], r["lat"]) == (building["lon"], building["lat"])
            if uses is not None:
                assert building["use"] in uses


def test_generate__parquet_holds_the_same_rows(rows, tmp_path):
    generate(out_dir=tmp_path, seed=7, chunk_rows=CHUNK, progress=False, fmt="parquet",
             **SMALL)
    persons = pq.read_table(tmp_path / "persons.parquet")
    assert persons.column("id_number").to_pylist() == [p["id_number"] for p in rows["persons"]]


def test_generate__transforms_can_rewrite_chunks(tmp_path):
    # The hook a later noise flag plugs into: it sees each chunk and its own stream.
    def keep_first_row(table, rng):
        assert isinstance(rng, np.random.Generator)
        return table.slice(0, 1)

    result = generate(out_dir=tmp_path, persons=2_500, buildings=60, chunk_rows=CHUNK,
                      progress=False, transforms={"persons": keep_first_row})
    assert result.rows["persons"] == 3  # one per chunk


# --- the database ---------------------------------------------------------------------


@pytest.mark.django_db
def test_load_org__twice_changes_nothing(spec):
    first = load_org(spec=spec)
    assert first.units_created == len(spec.units) and first.changed
    counts = (OrgUnit.objects.count(), User.objects.count(), AuditEntry.objects.count())
    second = load_org(spec=spec)
    assert not second.changed
    assert (OrgUnit.objects.count(), User.objects.count(), AuditEntry.objects.count()) == counts
    assert AuditEntry.objects.filter(action="demo.load").count() == 1


@pytest.mark.django_db
def test_load_org__units_are_clean_and_points_locate(spec, rows):
    load_org(spec=spec)
    units = list(OrgUnit.objects.all())
    assert len(units) == len(spec.units)
    for unit in units:
        unit.full_clean()
    for building in rows["buildings"][:: max(1, len(rows["buildings"]) // 25)]:
        placement = locate(float(building["lon"]), float(building["lat"]))
        assert placement.grid is not None and placement.grid.code == building["grid_code"]
        assert placement.community.code == building["community_code"]
        assert placement.street.code == building["street_code"]


@pytest.mark.django_db
def test_load_org__every_role_has_users_and_the_demo_password_works(spec):
    load_org(spec=spec)
    for role in Role:
        assert User.objects.filter(groups__name=role.value, kind="staff").exists(), role
    admin = User.objects.get(username="admin")
    assert admin.check_password(DEMO_PASSWORD) and admin.org_unit.code == "440399000000"
    clerk = User.objects.get(username=f"clerk.{spec.streets[0].slug}")
    assert clerk.org_unit.kind == OrgKind.STREET and clerk.phone
    citizens = User.objects.filter(kind="citizen")
    assert citizens.count() == 5
    for citizen in citizens:
        parse_id_number(citizen.id_number)
        assert User.objects.by_id_number(citizen.id_number).get() == citizen
    company = User.objects.get(kind="enterprise")
    assert normalize_credit_code(company.credit_code) == company.credit_code
    assert len({a.username for a in build_accounts(spec)}) == len(build_accounts(spec))


@pytest.mark.django_db
def test_demo_setup__loads_once_then_does_nothing(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo_setup", events=40, stdout=out)
    assert "communities" in out.getvalue() and "demo events" in out.getvalue()
    assert (tmp_path / "generated" / "demo" / "persons.csv").is_file()
    users = User.objects.count()
    again = io.StringIO()
    call_command("demo_setup", events=40, stdout=again)
    assert "nothing to do" in again.getvalue()
    assert User.objects.count() == users

    table = io.StringIO()
    call_command("demo_accounts", stdout=table)
    text = table.getvalue()
    assert "admin" in text and DEMO_PASSWORD in text and "示范区住房和建设局" in text
    for role in Role:
        assert role.value in text
    assert "/events/queue/" in text and "Open311 demo client key" in text


@pytest.mark.django_db
def test_demo_accounts__says_when_nothing_is_loaded():
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "not loaded" in out.getvalue()


@pytest.mark.django_db
def test_generate_command__writes_files_and_loads_the_org_tree(tmp_path):
    out = io.StringIO()
    call_command("generate", "--persons", "300", "--enterprises", "20", "--out",
                 str(tmp_path), "--load-org", stdout=out, stderr=io.StringIO())
    assert "persons" in out.getvalue()
    assert len(read_csv(tmp_path / "persons.csv")) == 300
    assert OrgUnit.objects.filter(kind=OrgKind.GRID).exists()
    quiet = io.StringIO()
    call_command("generate", "--load-org", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
