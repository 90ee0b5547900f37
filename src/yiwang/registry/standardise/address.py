"""Free-text Shenzhen addresses parsed into district / street / community / road / number /
building / unit / room, resolved against the gazetteer and placed as a point.

``广东省深圳市示范区福海街道新田社区兴业路23号碧海花园3栋2单元1203室`` is the full form;
what arrives is missing levels (no province, no street), abbreviated (福海新田兴业路…),
with full-width digits, Chinese numerals (三栋, 十二号), other unit words (3幢, 3号楼,
1203房), homophone typos (新甜社区) and extra words (附近, 对面, （…）).

Resolution: the street and community by name (exact, same pinyin, or one edit when
that is unique); a missing community from its road (each road of the demo district
belongs to one community) or from the building; a missing street from the community.
The point is the building's when the building is found (``kind="building"``), else
the community's centroid (``community``), else the street's (``street``); it is
checked to lie inside the boundary of the community (or street) it is placed in.

``valid`` means placed at least in a community. Reasons for an invalid address:
``empty``, ``outside_district`` (another Shenzhen district or another city),
``address_unresolved`` (no street or community found), ``address_too_vague`` (street
only). Notes on a valid one: ``fuzzy_match``, ``street_mismatch`` (the community
belongs to another street than the one written; the community wins),
``community_from_road``, ``extra_text``, ``outside_boundary`` (the building's point is
not inside the community written: the building wins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from .base import EMPTY, Column, chinese_number, run_batch, squeeze
from .gazetteer import COMMUNITY_SUFFIXES, STREET_SUFFIXES, Gazetteer, NameIndex, Place
from .names import to_simplified

BUILDING, COMMUNITY, STREET = "building", "community", "street"
SHENZHEN_DISTRICTS = ("福田", "罗湖", "南山", "盐田", "宝安", "龙岗", "龙华", "坪山", "光明",
                      "大鹏")
OTHER_CITIES = ("广州", "东莞", "惠州", "佛山", "珠海", "中山", "香港", "澳门", "北京",
                "上海")

_EXTRA = re.compile(
    r"[(（【\[][^)）】\]]*[)）】\]]"  # （xx对面） and other bracketed notes
    r"|(?:附近|对面|旁边|隔壁|楼下|门口|一带|周边|往[东南西北]\d*米|旁)$")
_NUMERAL_UNIT = re.compile(
    r"([〇零一二三四五六七八九十百两]+)(?=号楼|号|栋|座|幢|单元|室|房|楼|层)")
_HEAD = re.compile(r"^(?:中国)?(?:广东省?)?(?:深圳市?)?")
_DISTRICT = re.compile(r"^([\u4e00-\u9fff]{2,3}?)(?:区|新区)")
_STREET = re.compile(r"^(.{1,6}?)(?:" + "|".join(STREET_SUFFIXES) + ")")
_COMMUNITY = re.compile(r"^(.{1,6}?)(?:" + "|".join(COMMUNITY_SUFFIXES) + ")")
_ROAD_WORD = re.compile(r"^(?:大道|路|街|巷|道)")
_ROAD = re.compile(r"^(.{1,10}?(?:大道|路|街|巷|道))(?=\d)")
_NUMBER = re.compile(r"^(\d+(?:[-之]\d+)?)(?:号|號)?")
_BUILDING = re.compile(r"^(.*?)(\d+|[A-Za-z])(?:栋|座|幢|号楼|棟)")
_UNIT = re.compile(r"^(\d+)单元")
_FLOOR = re.compile(r"^(\d+)(?:层|楼)(?=\d)")
_ROOM = re.compile(r"^(\d+)(?:室|房|号房|号)?$")


@dataclass(frozen=True, slots=True)
class AddressResult:
    value: str | None  # the canonical full address
    kind: str  # precision of the point: building, community, street
    valid: bool
    reason: str
    street_code: str | None = None
    community_code: str | None = None
    road: str = ""
    number: str = ""
    estate: str = ""
    building: str = ""  # 3栋, A座
    unit: str = ""
    room: str = ""
    building_id: str | None = None
    lon: float | None = None
    lat: float | None = None


def _invalid(reason: str) -> AddressResult:
    return AddressResult(None, "", False, reason)


def _numerals(match: re.Match[str]) -> str:
    number = chinese_number(match.group(1))
    return str(number) if number is not None else match.group(1)


def _clean(raw: str) -> tuple[str, bool]:
    text = to_simplified(squeeze(raw))
    extra = False
    while (stripped := _EXTRA.sub("", text)) != text:
        text, extra = stripped, True
    return _NUMERAL_UNIT.sub(_numerals, text), extra


def parse_address(raw: str | None, *, gazetteer: Gazetteer) -> AddressResult:
    """Parse, resolve and place one address (see the module for the rules)."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    text, extra = _clean(str(raw))
    notes = ["extra_text"] if extra else []
    text = _HEAD.sub("", text)
    if text.startswith(OTHER_CITIES):
        return _invalid("outside_district")
    if match := _DISTRICT.match(text):
        if match.group(1) == gazetteer.district_short:
            text = text[match.end():]
        elif match.group(1) in SHENZHEN_DISTRICTS:
            return _invalid("outside_district")
    street, community, text, fuzzy = _divisions(text, gazetteer)
    if fuzzy:
        notes.append("fuzzy_match")

    road = number = ""
    if gazetteer.road_re and (match := gazetteer.road_re.match(text)):
        road, text = match.group(0), text[match.end():]
    elif match := _ROAD.match(text):
        known, how = gazetteer.road_index.find(match.group(1))
        road, text = known or match.group(1), text[match.end():]
        if known and how != "exact":
            notes.append("fuzzy_match")
    if road and (match := _NUMBER.match(text)):
        number, text = match.group(1).replace("之", "-"), text[match.end():]
    estate = label = unit = room = ""
    if match := _BUILDING.match(text):
        estate, text = match.group(1), text[match.end():]
        kind_word = match.group(0)[len(match.group(1)) + len(match.group(2)):]
        tag = match.group(2).upper()
        label = f"{tag}座" if kind_word == "座" or tag.isalpha() else f"{int(tag)}栋"
    if match := _UNIT.match(text):
        unit, text = match.group(1), text[match.end():]
    if match := _FLOOR.match(text):
        text = text[match.end():]
    if match := _ROOM.match(text):
        room = match.group(1)

    if community is None and road in gazetteer.roads:
        community = gazetteer.communities[gazetteer.roads[road]]
        notes.append("community_from_road")
    found = gazetteer.building(community=community.code if community else None, road=road,
                               number=number, estate=estate, label=label)
    if found is not None:
        if community is not None and community.code != found.community:
            notes.append("outside_boundary")
        community = gazetteer.communities[found.community]
        road, number, estate = road or found.road, number or found.number, estate or found.estate
    if community is not None:
        parent = gazetteer.streets[community.parent or ""]
        if street is not None and street.code != parent.code:
            notes.append("street_mismatch")
        street = parent
    if street is None:
        return _invalid("address_unresolved")
    if community is None:
        return AddressResult(None, STREET, False, "address_too_vague", street.code, None,
                             road, number, estate, label, unit, room, None, street.lon,
                             street.lat)
    if found is not None and found.inside:  # checked once per building by the gazetteer
        kind, lon, lat, building_id = BUILDING, found.lon, found.lat, found.building_id
    else:
        kind, lon, lat, building_id = COMMUNITY, community.lon, community.lat, None
    value = "".join((
        "广东省深圳市", gazetteer.district_name, street.name, community.name, road,
        f"{number}号" if number else "", estate, label, f"{unit}单元" if unit else "",
        f"{room}室" if room else ""))
    return AddressResult(value, kind, True, "+".join(dict.fromkeys(notes)), street.code,
                         community.code, road, number, estate, label, unit, room,
                         building_id, lon, lat)


def _division(text: str, gazetteer: Gazetteer, *, suffixed: re.Pattern[str],
              shorts: re.Pattern[str], index: NameIndex, places: dict[str, Place]
              ) -> tuple[Place | None, str, bool]:
    """The street or community at the head of ``text`` (``福海街道`` or just ``福海``),
    the rest of the text, and whether the name matched by sound or by one edit."""
    if gazetteer.road_re and gazetteer.road_re.match(text):
        return None, text, False  # 和平路 is a road even where 和平 is a community
    if match := suffixed.match(text):
        # An unknown name is dropped: the community or road may still place the address.
        code, how = index.find(match.group(1))
        return (places[code] if code else None), text[match.end():], how not in ("exact", "")
    if match := shorts.match(text):
        code, _ = index.find(match.group(0))
        rest = text[match.end():]
        if code and not _ROAD_WORD.match(rest):
            return places[code], rest, False
    return None, text, False


def _divisions(text: str, gazetteer: Gazetteer
               ) -> tuple[Place | None, Place | None, str, bool]:
    """The street and community at the head of ``text``, the rest of the text, and
    whether a name was matched by sound or by one edit."""
    street, text, fuzzy_street = _division(
        text, gazetteer, suffixed=_STREET, shorts=gazetteer.street_re,
        index=gazetteer.street_index, places=gazetteer.streets)
    community, text, fuzzy_community = _division(
        text, gazetteer, suffixed=_COMMUNITY, shorts=gazetteer.community_re,
        index=gazetteer.community_index, places=gazetteer.communities)
    return street, community, text, fuzzy_street or fuzzy_community


# A room number right after the building label: everything before it is parsed once per
# building, which is what makes a column of 5 million addresses affordable.
_ROOM_TAIL = re.compile(r"^(.*(?:栋|座|幢|号楼|棟))([0-9]{1,5})(?:室|房|号房)?$")


def _with_room(r: AddressResult, room: str) -> AddressResult:
    if not r.valid or r.room or r.unit:
        return r
    # Positional on purpose: dataclasses.replace costs more than the parse it saves.
    return AddressResult(f"{r.value}{room}室", r.kind, r.valid, r.reason, r.street_code,
                         r.community_code, r.road, r.number, r.estate, r.building, r.unit,
                         room, r.building_id, r.lon, r.lat)


def parse_addresses(values: Column, *, gazetteer: Gazetteer) -> pa.Table:
    """:func:`parse_address` over a column (list or pyarrow array): same results, with
    the part before the room parsed once per distinct building."""
    prefixes: dict[str, AddressResult] = {}

    def rule(value: str | None) -> AddressResult:
        match = _ROOM_TAIL.match(value) if value else None
        if match is None:
            return parse_address(value, gazetteer=gazetteer)
        head = match.group(1)
        if head not in prefixes:
            prefixes[head] = parse_address(head, gazetteer=gazetteer)
        if not prefixes[head].valid:
            return parse_address(value, gazetteer=gazetteer)
        return _with_room(prefixes[head], match.group(2))

    return run_batch(values, rule=rule, cls=AddressResult,
                     types={"value": pa.string(), "street_code": pa.string(),
                            "community_code": pa.string(), "building_id": pa.string(),
                            "lon": pa.float64(), "lat": pa.float64()})
