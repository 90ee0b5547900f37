"""Addresses parsed, resolved against the demo district's gazetteer, and placed."""

from __future__ import annotations

import numpy as np
import pytest

from yiwang.core.generator.loader import load_org
from yiwang.core.geo import locate
from yiwang.registry import noise
from yiwang.registry.standardise.address import parse_address, parse_addresses
from yiwang.registry.standardise.gazetteer import Gazetteer

from .conftest import row_of

HOMOPHONES = {"田": "甜", "湖": "胡", "新": "心", "海": "嗨", "园": "元", "石": "十", "桥": "乔",
              "塘": "唐", "沙": "砂", "龙": "隆", "华": "化", "山": "杉", "岗": "钢", "水": "税"}


@pytest.fixture(scope="module")
def person(sample):
    """A generated person's address and the parts it is made of."""
    row = sample.persons.slice(0, 1).to_pylist()[0]
    gaz = sample.gazetteer
    community = gaz.communities[row["community_code"]]
    street = gaz.streets[row["street_code"]]
    building = next(b for b in gaz.buildings.values() if b.building_id == row["building_id"])
    return {"row": row, "community": community, "street": street, "building": building,
            "tail": f"{building.road}{building.number}号{building.estate}{building.label}"}


def test_parse_address__the_full_form(sample, person):
    row, building = person["row"], person["building"]
    result = parse_address(row["address"], gazetteer=sample.gazetteer)
    assert result.valid and result.kind == "building" and result.reason == ""
    assert result.value == row["address"]
    assert (result.street_code, result.community_code, result.building_id) == (
        row["street_code"], row["community_code"], row["building_id"])
    assert (result.road, result.number, result.estate, result.building, result.room) == (
        building.road, building.number, building.estate, building.label, row["room"])
    assert (result.lon, result.lat) == (row["lon"], row["lat"])


VARIANTS = [
    # name, how to write it from (street, community, tail, room), reason on the result
    ("no province", lambda s, c, t, r: f"深圳市示范区{s}{c}{t}{r}室", ""),
    ("no city", lambda s, c, t, r: f"示范区{s}{c}{t}{r}室", ""),
    ("street first", lambda s, c, t, r: f"{s}{c}{t}{r}室", ""),
    ("no street", lambda s, c, t, r: f"{c}{t}{r}室", ""),
    ("only the road", lambda s, c, t, r: f"{t}{r}室", "community_from_road"),
    ("abbreviated", lambda s, c, t, r: f"{s[:-2]}{c[:-2]}{t}{r}", ""),
    ("街道办 and 居委会", lambda s, c, t, r: f"{s}办{c}居委会{t}{r}室", ""),
    ("spaces", lambda s, c, t, r: f"广东省 深圳市 示范区 {s} {c} {t} {r}室", ""),
    ("full-width", lambda s, c, t, r: noise.full_width(f"{s}{c}{t}{r}室"), ""),
    ("room as 房", lambda s, c, t, r: f"{s}{c}{t}{r}房", ""),
    ("room bare", lambda s, c, t, r: f"{s}{c}{t}{r}", ""),
    ("号楼", lambda s, c, t, r: f"{s}{c}{t.replace('栋', '号楼')}{r}室", ""),
    ("幢", lambda s, c, t, r: f"{s}{c}{t.replace('栋', '幢')}{r}室", ""),
    ("unit", lambda s, c, t, r: f"{s}{c}{t}2单元{r}室", ""),
    ("附近", lambda s, c, t, r: f"{s}{c}{t}附近", "extra_text"),
    ("bracket note", lambda s, c, t, r: f"{s}{c}{t}（地铁站对面）{r}室", "extra_text"),
    ("traditional", lambda s, c, t, r: f"廣東省深圳市示範區{s}{c}{t}{r}室", ""),
]


@pytest.mark.parametrize(("name", "write", "reason"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_parse_address__messy_variants_find_the_building(sample, person, name, write, reason):
    street, community = person["street"].name, person["community"].name
    raw = write(street, community, person["tail"], person["row"]["room"])
    result = parse_address(raw, gazetteer=sample.gazetteer)
    assert result.valid, (raw, result)
    assert result.building_id == person["row"]["building_id"], (raw, result)
    assert result.community_code == person["community"].code
    assert result.kind == "building" and result.reason == reason, (raw, result)


def test_parse_address__chinese_numerals_for_numbers(sample, person):
    b = person["building"]
    label = int(b.label[:-1]) if b.label.endswith("栋") else None
    if label is None or label > 99:
        pytest.skip("the sampled building has a lettered label")
    raw = (f"{person['community'].name}{b.road}{noise._chinese_number(int(b.number))}号"
           f"{b.estate}{noise._chinese_number(label)}栋")
    result = parse_address(raw, gazetteer=sample.gazetteer)
    assert result.building_id == b.building_id and result.number == b.number


def test_parse_address__homophone_typo_in_the_community(sample):
    gaz = sample.gazetteer
    for community in gaz.communities.values():
        typo = "".join(HOMOPHONES.get(ch, ch) for ch in community.short)
        if typo == community.short:
            continue
        result = parse_address(f"{typo}社区", gazetteer=gaz)
        if result.community_code is None:
            continue  # two communities sound alike: refusing to guess is right
        assert result.community_code == community.code
        assert result.reason == "fuzzy_match" and result.kind == "community"
        return
    pytest.fail("no community with a homophone in the sample district")


def test_parse_address__community_wins_over_a_wrong_street(sample, person):
    other = next(s for s in sample.gazetteer.streets.values() if s.code != person["street"].code)
    raw = f"{other.name}{person['community'].name}{person['tail']}"
    result = parse_address(raw, gazetteer=sample.gazetteer)
    assert result.street_code == person["street"].code
    assert result.reason == "street_mismatch" and result.kind == "building"


def test_parse_address__unknown_building_falls_back_to_the_community_centroid(sample, person):
    community = person["community"]
    result = parse_address(f"{community.name}不存在花园99栋", gazetteer=sample.gazetteer)
    assert result.valid and result.kind == "community" and result.building_id is None
    assert (result.lon, result.lat) == (community.lon, community.lat)
    assert sample.gazetteer.contains(community.code, result.lon, result.lat)


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "empty"), ("", "empty"),
    ("深圳市南山区科技园科苑路15号", "outside_district"),
    ("广州市天河区体育西路1号", "outside_district"),
    ("火星基地", "address_unresolved"),
    ("详见附件", "address_unresolved"),
])
def test_parse_address__refused(sample, raw, reason):
    result = parse_address(raw, gazetteer=sample.gazetteer)
    assert (result.valid, result.value, result.reason) == (False, None, reason)


def test_parse_address__street_only_is_too_vague(sample):
    street = next(iter(sample.gazetteer.streets.values()))
    result = parse_address(f"示范区{street.name}", gazetteer=sample.gazetteer)
    assert (result.valid, result.reason, result.kind) == (False, "address_too_vague", "street")
    assert result.street_code == street.code


def test_parse_addresses__batch_equals_one_by_one(sample):
    raws = sample.persons.column("address").to_pylist()[:300]
    noisy, _ = noise.addresses(raws, np.random.default_rng(19),
                               district=sample.spec.district.name,
                               streets=[s.name for s in sample.spec.streets])
    values = noisy + raws[:50] + [None, "", "火星基地"]
    for raw, row in zip(values, parse_addresses(values, gazetteer=sample.gazetteer).to_pylist(),
                        strict=True):
        assert row == row_of(parse_address(raw, gazetteer=sample.gazetteer)), raw


def test_parse_addresses__generated_noise_is_recovered_or_refused(sample):
    persons = sample.persons
    noisy, expected = noise.addresses(
        persons.column("address").to_pylist(), np.random.default_rng(23),
        district=sample.spec.district.name, streets=[s.name for s in sample.spec.streets])
    table = parse_addresses(noisy, gazetteer=sample.gazetteer)
    assert table.column("value").to_pylist() == expected
    found = table.column("building_id").to_pylist()
    truth = persons.column("building_id").to_pylist()
    assert all(f == t for f, t, e in zip(found, truth, expected, strict=True) if e is not None)


def test_gazetteer__needs_no_buildings(sample):
    bare = Gazetteer.from_spec(sample.spec)
    community = next(iter(bare.communities.values()))
    result = parse_address(f"{community.name}{bare.district_name}", gazetteer=bare)
    assert result.community_code == community.code and result.kind == "community"


@pytest.mark.django_db
def test_parse_addresses__points_lie_where_core_geo_locates_them(sample):
    """The placement agrees with the org tree's own point location."""
    load_org(spec=sample.spec)
    raws = sample.persons.column("address").to_pylist()[::97]
    raws += [f"{c.name}某某大厦" for c in list(sample.gazetteer.communities.values())[::5]]
    for row in parse_addresses(raws, gazetteer=sample.gazetteer).to_pylist():
        placement = locate(row["lon"], row["lat"])
        assert placement.community is not None
        assert placement.community.code == row["community_code"]
        assert placement.street.code == row["street_code"]
