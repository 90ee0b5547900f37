"""Buildings, houses, persons and enterprises of the demo district, at any scale.

Rows are produced in chunks of ``chunk_rows`` as Arrow tables from numpy arrays and
streamed to CSV or Parquet, so memory stays bounded by one chunk plus the building
stock (a few numeric arrays per building). Every chunk draws from its own random
stream ``(seed, entity, chunk)``, so equal arguments give byte-identical files.

Everything is consistent with everything else: a person lives in a room of a
residential building of the stock, an enterprise is registered in a room of an office
or industrial building, and a building's point lies in the grid, community and street
it names. Identifiers are unique by construction (see ``codes.scramble`` and
``IdNumberAllocator``), so later stages can add deliberate noise on top (``transforms``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from . import codes, vocab
from .district import CITY_REGION, DistrictSpec

# Ages and dates are counted to this day, never to "today", so output does not drift.
AS_OF = dt.date(2026, 1, 1)
CHUNK_ROWS = 100_000
_EPOCH = dt.date(1970, 1, 1)
AS_OF_DAY = (AS_OF - _EPOCH).days
FIRST_BIRTH_DAY = (dt.date(AS_OF.year - 91, 1, 1) - _EPOCH).days

# A transform may rewrite a chunk before it is written (e.g. inject typos, duplicates).
Transform = Callable[[pa.Table, np.random.Generator], pa.Table]
Transforms = Mapping[str, Transform]  # entity ("persons", …) → transform

# Random-stream tags: one independent stream per purpose.
_STOCK, _PERSONS, _ENTERPRISES, _HOUSES, _REPS = 10, 11, 12, 13, 14

# Building kinds of the stock and their parameters.
RESIDENTIAL, VILLAGE, OFFICE, INDUSTRIAL = 0, 1, 2, 3
KIND_SHARE = (0.34, 0.30, 0.13, 0.23)  # share of estates
ESTATE_SIZE = ((3, 19), (8, 41), (1, 4), (2, 13))  # buildings per estate [lo, hi)
SPREAD = (0.0012, 0.0016, 0.0004, 0.0015)  # jitter of buildings around the estate, degrees
USES = pa.array(["住宅", "商住", "办公", "商业", "工业", "研发"])
STRUCTURES = pa.array(["钢筋混凝土结构", "砖混结构", "钢结构", "框架结构"])
HOUSE_USES = pa.array(["住宅", "商铺", "办公", "厂房"])
SEXES = pa.array(["女", "男"])


@dataclass
class BuildingStock:
    """Numeric arrays, one row per building, plus the few strings rows refer to."""

    spec: DistrictSpec
    community: np.ndarray  # index into spec.communities
    grid: np.ndarray  # index into spec.grids
    kind: np.ndarray
    use: np.ndarray  # index into USES
    floors: np.ndarray
    units_per_floor: np.ndarray
    year_built: np.ndarray
    structure: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    building_id: pa.StringArray
    name: pa.StringArray
    address: pa.StringArray
    residential: np.ndarray = field(init=False)  # building indices people live in
    residential_cum: np.ndarray = field(init=False)  # cumulative rooms of those buildings
    business: np.ndarray = field(init=False)  # building indices enterprises register in
    business_cum: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rooms = self.floors.astype(np.int64) * self.units_per_floor
        is_home = self.use <= 1
        self.residential = np.flatnonzero(is_home) if is_home.any() else np.arange(len(rooms))
        self.residential_cum = np.cumsum(rooms[self.residential])
        is_business = ~is_home
        self.business = (np.flatnonzero(is_business) if is_business.any()
                         else np.arange(len(rooms)))
        self.business_cum = np.cumsum(rooms[self.business])

    def __len__(self) -> int:
        return len(self.floors)

    @property
    def room_count(self) -> int:
        return int((self.floors.astype(np.int64) * self.units_per_floor).sum())

    def pick_rooms(self, *, rng: np.random.Generator, n: int,
                   business: bool) -> tuple[np.ndarray, np.ndarray]:
        """``n`` random rooms as (building index, room number such as 1203)."""
        buildings, cum = ((self.business, self.business_cum) if business
                          else (self.residential, self.residential_cum))
        slot = rng.integers(0, int(cum[-1]), n)
        pos = np.searchsorted(cum, slot, side="right")
        building = buildings[pos]
        offset = slot - np.where(pos > 0, cum[pos - 1], 0)
        per_floor = self.units_per_floor[building].astype(np.int64)
        room = (offset // per_floor + 1) * 100 + offset % per_floor + 1
        return building, room


def _group_ranks(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row its 0-based rank among rows with the same key (in row order), and
    the distinct keys with their counts."""
    if not len(key):
        empty = np.zeros(0, dtype=np.int64)
        return empty, key, empty
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - np.repeat(starts, sizes)
    return rank, sorted_key[starts], sizes


def auto_building_count(*, persons: int, enterprises: int) -> int:
    """Enough buildings to house ``persons`` (about 2.5 a home) and seat ``enterprises``."""
    return max(60, math.ceil(persons / 130) + math.ceil(enterprises / 40))


def build_stock(*, spec: DistrictSpec, seed: int, count: int) -> BuildingStock:
    """The district's ``count`` buildings, grouped in estates along community roads."""
    rng = np.random.default_rng([seed, _STOCK])
    communities = spec.communities
    grids = spec.grids
    grid_of_community: list[list[int]] = [[] for _ in communities]
    community_index = {c.code: i for i, c in enumerate(communities)}
    for g_index, grid_unit in enumerate(grids):
        assert grid_unit.parent_code is not None
        grid_of_community[community_index[grid_unit.parent_code]].append(g_index)

    # Estates until the stock is full; the last one is cut to fit.
    kinds = rng.choice(4, size=count, p=KIND_SHARE)
    lo = np.array([s[0] for s in ESTATE_SIZE])[kinds]
    hi = np.array([s[1] for s in ESTATE_SIZE])[kinds]
    sizes = rng.integers(lo, hi)
    n_estates = int(np.searchsorted(np.cumsum(sizes), count) + 1)
    kinds, sizes = kinds[:n_estates], sizes[:n_estates]
    sizes[-1] -= int(sizes.sum()) - count

    # Busier communities get more estates; within one, grids by area.
    density = rng.lognormal(0.0, 0.45, len(communities))
    estate_community = rng.choice(len(communities), size=n_estates, p=density / density.sum())
    estate_grid = np.empty(n_estates, dtype=np.int64)
    for c_index, members in enumerate(grid_of_community):
        mask = estate_community == c_index
        if mask.any():
            areas = np.array([grids[g].geometry.area for g in members])  # type: ignore[union-attr]
            estate_grid[mask] = np.array(members)[
                rng.choice(len(members), size=int(mask.sum()), p=areas / areas.sum())]

    names, roads, numbers = _estate_addresses(
        rng=rng, spec=spec, kinds=kinds, community=estate_community)

    # Buildings: estate attributes repeated, then per-building draws.
    estate_of = np.repeat(np.arange(n_estates), sizes)
    number_in_estate = np.arange(count) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
    kind = kinds[estate_of]
    grid = estate_grid[estate_of]
    community = estate_community[estate_of]
    lon, lat = _building_points(rng=rng, spec=spec, estate_grid=estate_grid, sizes=sizes,
                                kind=kind, grid=grid)

    floors = np.select(
        [kind == RESIDENTIAL, kind == VILLAGE, kind == OFFICE],
        [np.where(rng.random(count) < 0.6, rng.integers(18, 46, count),
                  rng.integers(7, 13, count)),
         rng.integers(4, 10, count), rng.integers(12, 61, count)],
        rng.integers(3, 11, count)).astype(np.int16)
    units_per_floor = np.select(
        [kind == RESIDENTIAL, kind == VILLAGE, kind == OFFICE],
        [rng.integers(4, 9, count), rng.integers(2, 7, count), rng.integers(4, 13, count)],
        rng.integers(1, 5, count)).astype(np.int16)
    year_built = np.select(
        [kind == RESIDENTIAL, kind == VILLAGE, kind == OFFICE],
        [rng.integers(1995, 2025, count), rng.integers(1985, 2016, count),
         rng.integers(1998, 2026, count)],
        rng.integers(1990, 2021, count)).astype(np.int16)
    flip = rng.random(count)
    use = np.select(
        [kind == RESIDENTIAL, kind == VILLAGE, kind == OFFICE],
        [np.zeros(count), np.where(flip < 0.25, 1, 0), np.where(flip < 0.2, 3, 2)],
        np.where(flip < 0.3, 5, 4)).astype(np.int8)
    structure = np.select(
        [kind == VILLAGE, kind == INDUSTRIAL],
        [np.where(flip < 0.35, 1, 3), np.where(flip < 0.35, 2, 0)], 0).astype(np.int8)

    # Building ids: community code + five-digit sequence within the community.
    sequence = _group_ranks(community)[0] + 1
    community_codes = np.frombuffer("".join(c.code for c in communities).encode(),
                                    dtype=np.uint8).reshape(len(communities), 12)
    building_id = codes.ascii_column(np.hstack([community_codes[community],
                                                codes.digits(sequence, 5)]))

    label = np.where(kind == OFFICE, [chr(64 + min(int(n), 26)) + "座"
                                      for n in number_in_estate.tolist()],
                     [f"{n}栋" for n in number_in_estate.tolist()])
    estate_names = np.array(names, dtype=object)[estate_of]
    name = pa.array((estate_names + label).tolist(), type=pa.string())
    prefix = [
        f"广东省深圳市{spec.district.name}{spec.by_code[c.parent_code or ''].name}{c.name}"
        for c in communities]
    street_part = np.array(prefix, dtype=object)[community]
    road_part = np.array([f"{r}{n}号" for r, n in zip(roads, numbers, strict=True)],
                         dtype=object)[estate_of]
    address = pa.array((street_part + road_part + estate_names + label).tolist(),
                       type=pa.string())
    return BuildingStock(
        spec=spec, community=community.astype(np.int32), grid=grid.astype(np.int32),
        kind=kind.astype(np.int8), use=use, floors=floors, units_per_floor=units_per_floor,
        year_built=year_built, structure=structure, lon=lon, lat=lat,
        building_id=building_id, name=name, address=address,
    )


def _estate_addresses(*, rng: np.random.Generator, spec: DistrictSpec, kinds: np.ndarray,
                      community: np.ndarray) -> tuple[list[str], list[str], list[int]]:
    """Estate names unique within their community, and a road number for each estate."""
    pools: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
        RESIDENTIAL: (vocab.RESIDENTIAL_PREFIXES, vocab.RESIDENTIAL_SUFFIXES),
        OFFICE: (vocab.OFFICE_PREFIXES, vocab.OFFICE_SUFFIXES),
        INDUSTRIAL: (vocab.INDUSTRIAL_PREFIXES, vocab.INDUSTRIAL_SUFFIXES),
    }
    village_roots = vocab.COMMUNITY_ROOTS
    used: set[tuple[int, str]] = set()
    next_number: dict[str, int] = {}
    names: list[str] = []
    roads: list[str] = []
    numbers: list[int] = []
    draws = rng.random((len(kinds), 4))
    for (kind, c_index), (a, b, r, step) in zip(
            zip(kinds.tolist(), community.tolist(), strict=True), draws.tolist(), strict=True):
        unit = spec.communities[c_index]
        if kind == VILLAGE:
            # Urban villages carry the old village name: the community's own or a neighbour.
            root = unit.short_name if a < 0.4 else village_roots[int(b * len(village_roots))]
            villages = vocab.VILLAGE_SUFFIXES
            base = root + villages[int(b * 7919) % len(villages)]
        else:
            prefixes, suffixes = pools[kind]
            base = prefixes[int(a * len(prefixes))] + suffixes[int(b * len(suffixes))]
        candidate, phase = base, 1
        while (c_index, candidate) in used:
            phase += 1  # a second estate of the same name is its next phase (二期)
            candidate = base + _chinese_number(phase) + "期"
        used.add((c_index, candidate))
        road = unit.roads[int(r * len(unit.roads))]
        number = next_number.get(road, 1) + int(step * 24) * 2
        next_number[road] = number + 2
        names.append(candidate)
        roads.append(road)
        numbers.append(number)
    return names, roads, numbers


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


def _building_points(*, rng: np.random.Generator, spec: DistrictSpec, estate_grid: np.ndarray,
                     sizes: np.ndarray, kind: np.ndarray,
                     grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around each estate's centre, inside the estate's grid.

    Coordinates are rounded to 6 decimals (≈0.1 m) *before* the inside test, so the
    stored value is the tested one; the test covers grid, community and street.
    """
    count = int(sizes.sum())
    lon = np.empty(count)
    lat = np.empty(count)
    centre_lon = np.empty(len(estate_grid))
    centre_lat = np.empty(len(estate_grid))
    grids = spec.grids
    shapes = {u.code: u.geometry for u in spec.units if u.geometry is not None}
    for geom in shapes.values():
        shapely.prepare(geom)

    def inside(g_index: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        unit = grids[g_index]
        community = spec.by_code[unit.parent_code or ""]
        ok = shapely.contains_xy(shapes[unit.code], xs, ys)
        ok &= shapely.contains_xy(shapes[community.code], xs, ys)
        return ok & shapely.contains_xy(shapes[community.parent_code or ""], xs, ys)

    for g_index in np.unique(estate_grid).tolist():
        members = np.flatnonzero(estate_grid == g_index)
        geom = shapes[grids[g_index].code]
        min_x, min_y, max_x, max_y = geom.bounds
        todo = members
        while len(todo):
            xs = np.round(rng.uniform(min_x, max_x, len(todo)), 6)
            ys = np.round(rng.uniform(min_y, max_y, len(todo)), 6)
            ok = inside(g_index, xs, ys)
            centre_lon[todo[ok]], centre_lat[todo[ok]] = xs[ok], ys[ok]
            todo = todo[~ok]
    base_lon = np.repeat(centre_lon, sizes)
    base_lat = np.repeat(centre_lat, sizes)
    spread = np.array(SPREAD)[kind]
    lon[:], lat[:] = base_lon, base_lat
    todo = np.arange(count)
    for _ in range(6):
        if not len(todo):
            break
        xs = np.round(base_lon[todo] + rng.normal(0, 1, len(todo)) * spread[todo], 6)
        ys = np.round(base_lat[todo] + rng.normal(0, 1, len(todo)) * spread[todo] * 0.9, 6)
        ok = np.zeros(len(todo), dtype=bool)
        for g_index in np.unique(grid[todo]).tolist():
            sel = grid[todo] == g_index
            ok[sel] = inside(g_index, xs[sel], ys[sel])
        lon[todo[ok]], lat[todo[ok]] = xs[ok], ys[ok]
        todo = todo[~ok]  # the rest keep the estate centre, which is inside
    return lon, lat


# --- identity numbers -----------------------------------------------------------------


class IdNumberAllocator:
    """Sequence codes (digits 15–17) so that no two people share an ID number.

    Real numbers are unique because the registering police office counts up per
    region and birth date; this does the same with one counter per (region, day,
    sex): a few megabytes whatever the population size.
    """

    def __init__(self, *, regions: int) -> None:
        self.days = AS_OF_DAY - FIRST_BIRTH_DAY + 1
        self.counts = np.zeros(regions * self.days * 2, dtype=np.uint16)

    def sequence(self, *, region: np.ndarray, birth_day: np.ndarray,
                 male: np.ndarray) -> np.ndarray:
        key = (region.astype(np.int64) * self.days + (birth_day - FIRST_BIRTH_DAY)) * 2 + male
        rank, distinct, sizes = _group_ranks(key)
        nth = self.counts[key].astype(np.int64) + rank
        self.counts[distinct] += sizes.astype(np.uint16)
        if len(nth) and int(nth.max()) >= 499:
            raise OverflowError("more than 499 people of one sex born on one day in one region")
        # Start each day's counter at a hashed offset, so sequences look issued, not 001.
        start = (codes.mix(key, 0x1D) % np.uint64(499)).astype(np.int64)
        return 2 * ((start + nth) % 499 + 1) + male  # odd for men, even for women


def _dates(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    months = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mdays = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return years, months, mdays


@dataclass
class PersonTables:
    """Lookup tables for persons, built once per run."""

    region_digits: np.ndarray
    region_weights: np.ndarray
    region_is_gd: np.ndarray
    region_ethnic_p: np.ndarray  # (regions, ethnicities) probabilities
    surnames: pa.StringArray
    surname_p_national: np.ndarray
    surname_p_gd: np.ndarray
    given: pa.StringArray  # "" at 0, then every pool's characters
    # (sex, cohort) → (start, length) of its first and of its second characters
    given_pools: dict[tuple[str, int], tuple[tuple[int, int], tuple[int, int]]]
    ethnicities: pa.StringArray
    mobile_prefixes: np.ndarray

    @classmethod
    def build(cls) -> PersonTables:
        codes_ = [c for c, _ in vocab.ID_REGIONS]
        weights = np.array([w for _, w in vocab.ID_REGIONS], dtype=float)
        ethnic_p = np.zeros((len(codes_), len(vocab.ETHNICITIES)))
        for r, code in enumerate(codes_):
            shares = vocab.MINORITY_SHARES.get(code[:2], vocab.MINORITY_SHARES[""])
            for ethnicity, share in shares.items():
                ethnic_p[r, vocab.ETHNICITIES.index(ethnicity)] = share
            ethnic_p[r, 0] = 1.0 - ethnic_p[r, 1:].sum()
        national = np.array([s[1] for s in vocab.SURNAMES])
        guangdong = np.array([s[2] for s in vocab.SURNAMES])
        chars: list[str] = [""]
        pools: dict[tuple[str, int], tuple[tuple[int, int], tuple[int, int]]] = {}
        for key, (firsts, seconds) in vocab.GIVEN_NAMES.items():
            pools[key] = ((len(chars), len(firsts)), (len(chars) + len(firsts), len(seconds)))
            chars.extend(firsts + seconds)
        return cls(
            region_digits=np.frombuffer("".join(codes_).encode(), dtype=np.uint8).reshape(-1, 6),
            region_weights=weights / weights.sum(),
            region_is_gd=np.array([c.startswith("44") for c in codes_]),
            region_ethnic_p=ethnic_p,
            surnames=pa.array([s[0] for s in vocab.SURNAMES], type=pa.string()),
            surname_p_national=national / national.sum(),
            surname_p_gd=guangdong / guangdong.sum(),
            given=pa.array(chars, type=pa.string()),
            given_pools=pools,
            ethnicities=pa.array(list(vocab.ETHNICITIES), type=pa.string()),
            mobile_prefixes=np.frombuffer("".join(vocab.MOBILE_PREFIXES).encode(),
                                          dtype=np.uint8).reshape(-1, 3),
        )


def _categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    # Inverse-CDF sampling: much faster than rng.choice for large n.
    return np.minimum(np.searchsorted(np.cumsum(p), rng.random(n), side="right"), len(p) - 1)


@dataclass
class PeopleChunk:
    """The identity columns of ``n`` generated people."""

    name: pa.Array
    male: np.ndarray
    birth_day: np.ndarray
    id_number: pa.StringArray
    region: np.ndarray
    ethnicity: pa.Array


def draw_people(*, rng: np.random.Generator, n: int, tables: PersonTables,
                allocator: IdNumberAllocator, min_age: int = 0) -> PeopleChunk:
    """Names, sexes, birth dates, regions and ID numbers of ``n`` people."""
    male = (rng.random(n) < vocab.MALE_SHARE).astype(np.int64)
    bands = np.array([b[2] for b in vocab.AGE_BANDS])
    lo = np.array([b[0] for b in vocab.AGE_BANDS])
    hi = np.array([b[1] for b in vocab.AGE_BANDS])
    if min_age:
        bands = np.where(hi >= min_age, bands, 0.0)
        lo = np.maximum(lo, min_age)
    band = _categorical(rng, bands / bands.sum(), n)
    age_days = (lo[band] * 365.25 + rng.random(n) * (hi[band] - lo[band] + 1) * 365.25)
    birth_day = np.maximum(AS_OF_DAY - 1 - age_days.astype(np.int64), FIRST_BIRTH_DAY)
    years, months, mdays = _dates(birth_day)

    region = _categorical(rng, tables.region_weights, n)
    seq = allocator.sequence(region=region, birth_day=birth_day, male=male)
    first17 = np.hstack([tables.region_digits[region], codes.digits(years, 4),
                         codes.digits(months, 2), codes.digits(mdays, 2), codes.digits(seq, 3)])
    id_matrix = np.empty((n, 18), dtype=np.uint8)
    id_matrix[:, :17] = first17
    id_matrix[:, 17] = codes.id_check_bytes(first17)

    # Surnames follow the birthplace: Guangdong-born people are more often 陈, 黄, 林, 梁.
    is_gd = tables.region_is_gd[region]
    surname = np.where(is_gd, _categorical(rng, tables.surname_p_gd, n),
                       _categorical(rng, tables.surname_p_national, n))
    cohort = np.searchsorted(np.array(vocab.COHORT_YEARS), years, side="right")
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    single = rng.random(n) < np.array(vocab.SINGLE_GIVEN_SHARE)[cohort]
    r1, r2 = rng.random(n), rng.random(n)
    for (sex, cohort_index), ((s1, n1), (s2, n2)) in tables.given_pools.items():
        mask = (male == (sex == "M")) & (cohort == cohort_index)
        first[mask] = s1 + (r1[mask] * n1).astype(np.int64)
        second[mask] = s2 + (r2[mask] * n2).astype(np.int64)
    # One-character given names take a "second" character (伟, 芳), not a first one.
    first[single] = second[single]
    second[single] = 0
    given = tables.given
    name = pc.binary_join_element_wise(
        tables.surnames.take(pa.array(surname)), given.take(pa.array(first)),
        given.take(pa.array(second)), "")

    cdf = np.cumsum(tables.region_ethnic_p[region], axis=1)
    ethnic = np.minimum((cdf < rng.random(n)[:, None]).sum(axis=1), cdf.shape[1] - 1)
    return PeopleChunk(
        name=name, male=male, birth_day=birth_day, id_number=codes.ascii_column(id_matrix),
        region=region, ethnicity=tables.ethnicities.take(pa.array(ethnic)),
    )


def mobile_numbers(*, index: np.ndarray, tables: PersonTables, key: int) -> pa.StringArray:
    """Unique mobile numbers for row indices (a keyed permutation of all numbers)."""
    prefix, tail = codes.scramble(index, high=len(tables.mobile_prefixes), low=10**8, key=key)
    return codes.ascii_column(np.hstack([tables.mobile_prefixes[prefix], codes.digits(tail, 8)]))


# --- tables ---------------------------------------------------------------------------


@dataclass
class Context:
    spec: DistrictSpec
    seed: int
    stock: BuildingStock
    tables: PersonTables
    allocator: IdNumberAllocator
    street_codes: pa.StringArray  # per community
    community_codes: pa.StringArray
    grid_codes: pa.StringArray


def make_context(*, spec: DistrictSpec, seed: int, buildings: int) -> Context:
    tables = PersonTables.build()
    communities = spec.communities
    return Context(
        spec=spec, seed=seed, stock=build_stock(spec=spec, seed=seed, count=buildings),
        tables=tables, allocator=IdNumberAllocator(regions=len(tables.region_digits)),
        street_codes=pa.array([c.parent_code for c in communities], type=pa.string()),
        community_codes=pa.array([c.code for c in communities], type=pa.string()),
        grid_codes=pa.array([g.code for g in spec.grids], type=pa.string()),
    )


def _place_columns(ctx: Context, building: np.ndarray) -> dict[str, pa.Array]:
    stock = ctx.stock
    take = pa.array(building)
    community = pa.array(stock.community[building])
    return {
        "street_code": ctx.street_codes.take(community),
        "community_code": ctx.community_codes.take(community),
        "grid_code": ctx.grid_codes.take(pa.array(stock.grid[building])),
        "building_id": stock.building_id.take(take),
    }


def buildings_table(ctx: Context, start: int, stop: int) -> pa.Table:
    stock = ctx.stock
    rows = np.arange(start, stop)
    place = _place_columns(ctx, rows)
    return pa.table({
        "building_id": place.pop("building_id"),
        "name": stock.name[start:stop],
        "address": stock.address[start:stop],
        **place,
        "use": USES.take(pa.array(stock.use[rows])),
        "floors": pa.array(stock.floors[rows]),
        "units_per_floor": pa.array(stock.units_per_floor[rows]),
        "year_built": pa.array(stock.year_built[rows]),
        "structure": STRUCTURES.take(pa.array(stock.structure[rows])),
        "lon": pa.array(stock.lon[rows]),
        "lat": pa.array(stock.lat[rows]),
    })


def houses_table(ctx: Context, start: int, stop: int, chunk: int) -> pa.Table:
    """Every room of buildings ``start:stop``."""
    stock = ctx.stock
    rng = np.random.default_rng([ctx.seed, _HOUSES, chunk])
    rows = np.arange(start, stop)
    per_floor = stock.units_per_floor[rows].astype(np.int64)
    counts = stock.floors[rows].astype(np.int64) * per_floor
    building = np.repeat(rows, counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    unit_count = np.repeat(per_floor, counts)
    floor = offset // unit_count + 1
    room = floor * 100 + offset % unit_count + 1
    kind = stock.kind[building]
    use = stock.use[building]
    # 商住 buildings have shops on the ground floor, 商业 ones on the first three floors.
    house_use = np.select([use == 1, use == 0, use == 4], [np.where(floor == 1, 1, 0), 0, 3], 2)
    house_use = np.where((use == 3) & (floor <= 3), 1, house_use)
    low, high = np.array([60, 18, 80, 300]), np.array([145, 50, 420, 2000])
    area = np.round(low[kind] + rng.random(len(building)) * (high[kind] - low[kind]), 2)
    room_text = pc.cast(pa.array(room), pa.string())
    building_ids = stock.building_id.take(pa.array(building))
    return pa.table({
        "house_id": pc.binary_join_element_wise(
            building_ids, codes.ascii_column(codes.digits(room, 4)), ""),
        "building_id": building_ids,
        "room": room_text,
        "floor": pa.array(floor.astype(np.int16)),
        "area": pa.array(area),
        "use": HOUSE_USES.take(pa.array(house_use)),
        "address": pc.binary_join_element_wise(
            stock.address.take(pa.array(building)), room_text, pa.scalar("室"), ""),
    })


@dataclass
class RepresentativePool:
    """Adults from the person chunks who may be enterprises' legal representatives."""

    names: list[pa.Array] = field(default_factory=list)
    ids: list[pa.Array] = field(default_factory=list)
    birth_days: list[np.ndarray] = field(default_factory=list)

    def add(self, people: PeopleChunk, rows: np.ndarray) -> None:
        take = pa.array(rows)
        self.names.append(people.name.take(take))
        self.ids.append(people.id_number.take(take))
        self.birth_days.append(people.birth_day[rows])

    def __len__(self) -> int:
        return sum(len(b) for b in self.birth_days)


def persons_table(ctx: Context, start: int, stop: int, chunk: int, *,
                  pool: RepresentativePool | None = None, pool_share: float = 0.0) -> pa.Table:
    n = stop - start
    rng = np.random.default_rng([ctx.seed, _PERSONS, chunk])
    people = draw_people(rng=rng, n=n, tables=ctx.tables, allocator=ctx.allocator)
    building, room = ctx.stock.pick_rooms(rng=rng, n=n, business=False)
    room_text = pc.cast(pa.array(room), pa.string())
    if pool is not None and pool_share > 0:
        adult = np.flatnonzero(people.birth_day <= AS_OF_DAY - 25 * 365)
        want = min(len(adult), math.ceil(n * pool_share))
        pool.add(people, np.sort(rng.choice(adult, size=want, replace=False)))
    return pa.table({
        "person_id": pa.array(np.arange(start + 1, stop + 1)),
        "name": people.name,
        "sex": SEXES.take(pa.array(people.male)),
        "birth_date": pa.array(people.birth_day.astype("datetime64[D]")),
        "id_number": people.id_number,
        "ethnicity": people.ethnicity,
        "phone": mobile_numbers(index=np.arange(start, stop), tables=ctx.tables,
                                key=ctx.seed * 16 + 1),
        **_place_columns(ctx, building),
        "room": room_text,
        "address": pc.binary_join_element_wise(
            ctx.stock.address.take(pa.array(building)), room_text, pa.scalar("室"), ""),
        "lon": pa.array(ctx.stock.lon[building]),
        "lat": pa.array(ctx.stock.lat[building]),
    })


def standalone_pool(ctx: Context, *, size: int) -> RepresentativePool:
    """Representatives when no persons are generated: people outside the person file."""
    pool = RepresentativePool()
    rng = np.random.default_rng([ctx.seed, _REPS])
    people = draw_people(rng=rng, n=size, tables=ctx.tables, allocator=ctx.allocator,
                         min_age=25)
    pool.add(people, np.arange(size))
    return pool


@dataclass
class EnterpriseTables:
    brand_chars: pa.StringArray
    words: pa.StringArray
    word_p: np.ndarray
    word_section: np.ndarray
    sections: pa.StringArray
    types: pa.StringArray
    type_p: np.ndarray
    statuses: pa.StringArray
    status_p: np.ndarray
    capitals: np.ndarray
    capital_p: np.ndarray
    pool: RepresentativePool
    pool_names: pa.Array
    pool_ids: pa.Array
    pool_birth: np.ndarray
    name_counts: np.ndarray  # enterprises named so far per industry word

    @classmethod
    def build(cls, pool: RepresentativePool) -> EnterpriseTables:
        section_codes = list(vocab.INDUSTRY_SECTIONS)
        word_p = np.array([w[2] for w in vocab.INDUSTRY_WORDS])
        type_p = np.array([t[1] for t in vocab.ENTERPRISE_TYPES])
        status_p = np.array([s[1] for s in vocab.ENTERPRISE_STATUSES])
        capital_p = np.array(vocab.REGISTERED_CAPITAL_WEIGHTS, dtype=float)
        return cls(
            brand_chars=pa.array(list(dict.fromkeys(vocab.BRAND_CHARS)), type=pa.string()),
            words=pa.array([w[0] for w in vocab.INDUSTRY_WORDS], type=pa.string()),
            word_p=word_p / word_p.sum(),
            word_section=np.array([section_codes.index(w[1]) for w in vocab.INDUSTRY_WORDS]),
            sections=pa.array([f"{c} {vocab.INDUSTRY_SECTIONS[c]}" for c in section_codes],
                              type=pa.string()),
            types=pa.array([t[0] for t in vocab.ENTERPRISE_TYPES], type=pa.string()),
            type_p=type_p / type_p.sum(),
            statuses=pa.array([s[0] for s in vocab.ENTERPRISE_STATUSES], type=pa.string()),
            status_p=status_p / status_p.sum(),
            capitals=np.array(vocab.REGISTERED_CAPITALS, dtype=np.int64),
            capital_p=capital_p / capital_p.sum(),
            pool=pool,
            pool_names=pa.concat_arrays(pool.names),
            pool_ids=pa.concat_arrays(pool.ids),
            pool_birth=np.concatenate(pool.birth_days),
            name_counts=np.zeros(len(vocab.INDUSTRY_WORDS), dtype=np.int64),
        )


_MA_SINCE = (dt.date(2015, 10, 1) - _EPOCH).days  # 三证合一: new-style codes from here


def enterprises_table(ctx: Context, ent: EnterpriseTables, start: int, stop: int,
                      chunk: int) -> pa.Table:
    n = stop - start
    rng = np.random.default_rng([ctx.seed, _ENTERPRISES, chunk])
    index = np.arange(start, stop)

    # Trade name: the k-th enterprise of an industry word gets brand number k through a
    # keyed permutation, so names never repeat (2 characters first, then 3).
    word = _categorical(rng, ent.word_p, n)
    rank, distinct, sizes = _group_ranks(word)
    k = ent.name_counts[word] + rank
    ent.name_counts[distinct] += sizes
    nb = len(ent.brand_chars)
    short = k < nb * nb
    # A per-word rotation keeps each word's numbering a bijection but stops every
    # industry from starting with the same trade name.
    turn = (codes.mix(word, ctx.seed) % np.uint64(nb**3)).astype(np.int64)
    c1, rest = codes.scramble(np.where(short, (k + turn) % nb**2, 0), high=nb, low=nb,
                              key=ctx.seed * 16 + 2)
    rest = rest * nb  # keep the digit layout of the three-character branch below
    long_c1, long_rest = codes.scramble(np.where(short, 0, (k - nb * nb + turn) % nb**3),
                                        high=nb, low=nb * nb, key=ctx.seed * 16 + 3)
    c1 = np.where(short, c1, long_c1)
    c2 = np.where(short, rest // nb, long_rest // nb)
    c3 = np.where(short, -1, long_rest % nb)
    brand = pc.binary_join_element_wise(
        ent.brand_chars.take(pa.array(c1)), ent.brand_chars.take(pa.array(c2)),
        pc.if_else(pa.array(short), "", ent.brand_chars.take(pa.array(np.maximum(c3, 0)))), "")
    etype = _categorical(rng, ent.type_p, n)
    suffix = np.where(etype == 3, "股份有限公司", "有限公司")
    # Hong Kong/Macao-owned companies often put the city last: 华创科技（深圳）有限公司.
    hk = etype == 4
    name = pc.if_else(
        pa.array(hk),
        pc.binary_join_element_wise(brand, ent.words.take(pa.array(word)), "（深圳）",
                                    pa.array(suffix.tolist()), ""),
        pc.binary_join_element_wise("深圳市", brand, ent.words.take(pa.array(word)),
                                    pa.array(suffix.tolist()), ""))

    rep = rng.integers(0, len(ent.pool_birth), n)
    # Registrations grew about 12 % a year; a company is founded after its legal
    # representative turned 18.
    years = np.arange(1990, AS_OF.year)
    year_p = np.exp(0.12 * (years - years[-1]))
    year = years[_categorical(rng, year_p / year_p.sum(), n)]
    founded = (np.array(year - 1970, dtype="datetime64[Y]").astype("datetime64[D]").astype(
        np.int64) + rng.integers(0, 365, n))
    founded = np.maximum(founded, ent.pool_birth[rep] + 18 * 366 + rng.integers(0, 2000, n))
    founded = np.minimum(founded, AS_OF_DAY - 1)

    # Credit codes: 91 + 440300 + organisation code. Before 2015-10 the organisation code
    # was eight digits; since then the regulator issues MA5… codes.
    modern = founded >= _MA_SINCE
    hi, lo = codes.scramble(index, high=90, low=10**6, key=ctx.seed * 16 + 4)
    old_body = (codes.digits(hi + 10, 2).astype(np.int64) - codes.ZERO)
    old_body = np.hstack([old_body, codes.digits(lo, 6).astype(np.int64) - codes.ZERO])
    m_hi, m_lo = codes.scramble(index, high=31, low=31**4, key=ctx.seed * 16 + 5)
    new_body = np.column_stack([
        np.full(n, codes.USCC_CHARS.index("M")), np.full(n, codes.USCC_CHARS.index("A")),
        np.full(n, 5), m_hi, m_lo // 31**3, (m_lo // 31**2) % 31, (m_lo // 31) % 31, m_lo % 31])
    body = np.where(modern[:, None], new_body, old_body)
    credit = codes.credit_codes(prefix="91", region=CITY_REGION, body=body)

    building, room = ctx.stock.pick_rooms(rng=rng, n=n, business=True)
    room_text = pc.cast(pa.array(room), pa.string())
    l_hi, l_lo = codes.scramble(index, high=7, low=10**7, key=ctx.seed * 16 + 6)
    landline = codes.ascii_column(np.hstack([codes.literal("0755-", n),
                                             codes.digits(l_hi + 2, 1), codes.digits(l_lo, 7)]))
    status = _categorical(rng, ent.status_p, n)
    return pa.table({
        "enterprise_id": pa.array(index + 1),
        "name": name,
        "credit_code": codes.ascii_column(credit),
        "enterprise_type": ent.types.take(pa.array(etype)),
        "industry": ent.sections.take(pa.array(ent.word_section[word])),
        "legal_rep_name": ent.pool_names.take(pa.array(rep)),
        "legal_rep_id_number": ent.pool_ids.take(pa.array(rep)),
        "registered_capital_wan": pa.array(ent.capitals[_categorical(rng, ent.capital_p, n)]),
        "founded_on": pa.array(founded.astype("datetime64[D]")),
        "status": ent.statuses.take(pa.array(status)),
        "phone": landline,
        **_place_columns(ctx, building),
        "room": room_text,
        "address": pc.binary_join_element_wise(
            ctx.stock.address.take(pa.array(building)), room_text, pa.scalar("室"), ""),
        "lon": pa.array(ctx.stock.lon[building]),
        "lat": pa.array(ctx.stock.lat[building]),
    })

