"""The demo district's org tree as plain data: divisions with boundaries, departments,
the bureau and the public utilities. Nothing here touches the database."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from pypinyin import lazy_pinyin

from yiwang.core.models.org import OrgKind

from . import codes, geometry, vocab
from .geometry import Polygonal

DEFAULT_SEED = 2026
DEFAULT_DISTRICT_CODE = "440399000000"
DEFAULT_DISTRICT_NAME = "示范区"
# Enterprises in Shenzhen register with the municipal market regulator.
CITY_REGION = "440300"


def pinyin_name(text: str) -> str:
    """``福海`` → ``Fuhai``, ``甲岸`` → ``Jia'an`` (apostrophe before a/o/e syllables)."""
    syllables = [s.replace("ü", "u").replace("v", "u") for s in lazy_pinyin(text)]
    word = syllables[0]
    for syllable in syllables[1:]:
        word += ("'" if syllable[:1] in "aoe" else "") + syllable
    return word.capitalize()


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    name_en: str
    kind: str
    parent_code: str | None
    short_name: str = ""
    slug: str = ""  # ASCII name for demo usernames (clerk.fuhai, approver.zhujian)
    sort_order: int = 0
    geometry: Polygonal | None = None
    address: str = ""
    phone: str = ""
    # Names the dispatch catalogue uses for this unit (区住房和建设局, 供电局 …).
    handler_names: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()  # communities only: the roads that address its buildings


@dataclass(frozen=True)
class DistrictSpec:
    seed: int
    units: tuple[UnitSpec, ...]  # parents before children
    by_code: dict[str, UnitSpec] = field(repr=False)

    @property
    def district(self) -> UnitSpec:
        return self.units[0]

    def of_kind(self, kind: str) -> list[UnitSpec]:
        return [u for u in self.units if u.kind == kind]

    @functools.cached_property
    def streets(self) -> list[UnitSpec]:
        return self.of_kind(OrgKind.STREET)

    @functools.cached_property
    def communities(self) -> list[UnitSpec]:
        return self.of_kind(OrgKind.COMMUNITY)

    @functools.cached_property
    def grids(self) -> list[UnitSpec]:
        return self.of_kind(OrgKind.GRID)

    def handler_units(self, handler: str) -> list[UnitSpec]:
        """The units a dispatch-catalogue ``default_handler`` stands for.

        ``街道办事处`` (territorial) stands for every street; the dispatcher picks one
        from the event's location.
        """
        if handler == vocab.TERRITORIAL_HANDLER:
            return self.streets
        return [u for u in self.units if handler in u.handler_names]


def _phone(rng: np.random.Generator) -> str:
    return f"0755-{int(rng.integers(2, 9))}{int(rng.integers(0, 10_000_000)):07d}"


def _organ_code(rng: np.random.Generator, *, prefix: str, region: str, body_head: str) -> str:
    tail = rng.integers(0, len(codes.USCC_CHARS), 8 - len(body_head))
    body = [codes.USCC_CHARS.index(c) for c in body_head] + [int(i) for i in tail]
    matrix = codes.credit_codes(prefix=prefix, region=region, body=np.array([body]))
    return matrix.tobytes().decode("ascii")


@functools.lru_cache(maxsize=8)
def build_district(*, seed: int = DEFAULT_SEED, code: str = DEFAULT_DISTRICT_CODE,
                   name: str = DEFAULT_DISTRICT_NAME) -> DistrictSpec:
    """The whole org tree for ``seed``; the same arguments always give the same tree."""
    rng = np.random.default_rng([seed, 1])
    short = name.removesuffix("区")
    short_en = pinyin_name(short)
    city = f"深圳市{name}"
    outline = geometry.district_outline(rng=rng)
    units: list[UnitSpec] = [UnitSpec(
        code=code, name=name, name_en=f"{short_en} District", kind=OrgKind.DISTRICT,
        parent_code=None, short_name=short, slug="district", geometry=outline,
        address=f"{city}{short}大道8号", phone=_phone(rng),
    )]

    n_streets = int(rng.integers(6, 9))
    street_roots = [str(s) for s in rng.choice(vocab.STREET_ROOTS, n_streets, replace=False)]
    street_shapes = geometry.tile(outline, n_streets, rng=rng)
    # Communities per street in proportion to area (at least four each), about 50 in all.
    total = int(rng.integers(46, 55))
    areas = np.array([s.area for s in street_shapes])
    share = 4 + (total - 4 * n_streets) * areas / areas.sum()
    per_street = np.floor(share).astype(int)
    for i in np.argsort(-(share - per_street))[: total - per_street.sum()]:
        per_street[i] += 1
    community_roots = iter(rng.permutation(vocab.COMMUNITY_ROOTS).tolist())
    road_names = iter(_road_names(rng))

    for s_index, (root, shape) in enumerate(zip(street_roots, street_shapes, strict=True)):
        street_code = f"{code[:6]}{s_index + 1:03d}000"
        street_name = f"{root}街道"
        communities = geometry.tile(shape, int(per_street[s_index]), rng=rng)
        built: list[UnitSpec] = []
        for c_index, c_shape in enumerate(communities):
            c_root = next(community_roots)
            c_code = f"{street_code[:9]}{c_index + 1:03d}"
            roads = tuple(next(road_names) for _ in range(int(rng.integers(3, 7))))
            built.append(UnitSpec(
                code=c_code, name=f"{c_root}社区", name_en=f"{pinyin_name(c_root)} Community",
                kind=OrgKind.COMMUNITY, parent_code=street_code, short_name=c_root,
                slug=pinyin_name(c_root).lower().replace("'", ""), sort_order=c_index + 1,
                geometry=c_shape, roads=roads,
                address=f"{city}{street_name}{c_root}社区{roads[0]}{int(rng.integers(1, 200))}号",
                phone=_phone(rng),
            ))
        units.append(UnitSpec(
            code=street_code, name=street_name, name_en=f"{pinyin_name(root)} Subdistrict",
            kind=OrgKind.STREET, parent_code=code, short_name=root,
            slug=pinyin_name(root).lower(), sort_order=s_index + 1, geometry=shape,
            address=f"{city}{street_name}{built[0].roads[0]}{int(rng.integers(1, 300))}号",
            phone=_phone(rng),
        ))
        for community in built:
            units.append(community)
            assert community.geometry is not None
            n_grids = int(rng.integers(3, 9))
            for g_index, g_shape in enumerate(geometry.tile(community.geometry, n_grids,
                                                            rng=rng, relax=1)):
                units.append(UnitSpec(
                    code=f"{community.code}{g_index + 1:03d}",
                    name=f"{community.name}第{g_index + 1}网格",
                    name_en=f"{community.name_en} Grid {g_index + 1}", kind=OrgKind.GRID,
                    parent_code=community.code, short_name=f"第{g_index + 1}网格",
                    slug=f"{community.slug}.{g_index + 1}", sort_order=g_index + 1,
                    geometry=g_shape,
                ))

    region = code[:6]
    fill = {"d": name, "s": short, "E": short_en}
    catalogue, local, short_name, slug, english, type_code = vocab.BUREAU
    units.append(UnitSpec(
        code=_organ_code(rng, prefix=type_code, region=region, body_head="MB2"),
        name=local.format(**fill), name_en=english.format(**fill), kind=OrgKind.BUREAU,
        parent_code=code, short_name=short_name, slug=slug, sort_order=1,
        address=f"{city}{short}大道8号区行政服务大厅", phone=_phone(rng),
        handler_names=(catalogue,),
    ))
    for index, (catalogue, local, short_name, slug, english, type_code) in enumerate(
            vocab.DEPARTMENTS, start=2):
        units.append(UnitSpec(
            code=_organ_code(rng, prefix=type_code, region=region, body_head="MB2"),
            name=local.format(**fill), name_en=english.format(**fill),
            kind=OrgKind.DEPARTMENT, parent_code=code, short_name=short_name, slug=slug,
            sort_order=index, address=f"{city}{short}大道{int(rng.integers(2, 120))}号",
            phone=_phone(rng), handler_names=(catalogue,),
        ))
    for index, (catalogue, unit_name, short_name, slug, english) in enumerate(vocab.UTILITIES):
        # Utilities are decades old: numeric pre-2015 organisation codes.
        head = f"{int(rng.integers(19, 80)):02d}"
        units.append(UnitSpec(
            code=_organ_code(rng, prefix="91", region=CITY_REGION, body_head=head),
            name=unit_name, name_en=english, kind=OrgKind.ENTERPRISE, parent_code=code,
            short_name=short_name, slug=slug, sort_order=100 + index,
            address=f"深圳市福田区{['深南大道', '福华路', '梅林路'][index % 3]}"
                    f"{int(rng.integers(1, 4000))}号",
            phone=_phone(rng), handler_names=(catalogue,),
        ))
    by_code = {u.code: u for u in units}
    if len(by_code) != len(units):  # 31⁵ random organ codes: practically never
        raise ValueError(f"seed {seed} gives two units the same code; choose another seed")
    return DistrictSpec(seed=seed, units=tuple(units), by_code=by_code)


def _road_names(rng: np.random.Generator) -> list[str]:
    """Every root × suffix combination once, shuffled: unique road names."""
    names = [f"{root}{suffix}" for root in vocab.ROAD_ROOTS
             for suffix in dict.fromkeys(vocab.ROAD_SUFFIXES)]
    return [str(n) for n in rng.permutation(names)]
