"""The demo district's event center: catalog, classifier, client systems, responsible
parties and a few thousand events of the last six months in every state.

The events are not written as rows: each one lives its life through the real channel
and service functions (``intake_event``, ``opinion_import``, ``video_ai_receive``, the
Open311 ``submit``, ``event_dispatch`` … ``event_callback``) while a demo clock
(``django.utils.timezone.now``) moves along the timeline, and the supervision sweep runs
every morning of it. So every state is reached by the state machine, every deadline,
time state, timeline step, notification and audit entry is the one the services write,
in time order. Texts come from the *train* split of ``corpus/appeals.jsonl`` only (the
held-out split stays unseen), with the demo district's place names put in.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import heapq
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from shapely.geometry import Point, shape
from shapely.prepared import prep

from yiwang.core.audit import audit_log
from yiwang.core.generator.district import DEFAULT_SEED
from yiwang.core.models import Notification, OrgUnit
from yiwang.core.models.org import OrgKind

from . import callbacks, learning, services
from . import catalog as catalog_service
from .models import (
    APPEAL_TYPE_BY_CHINESE,
    AppealType,
    Callback,
    Category,
    Channel,
    ClassifierModel,
    ClientSystem,
    Event,
    EventStatus,
    ExternalTask,
    HandlerType,
    RequestStatus,
    ResponsibleParty,
    Satisfaction,
    Summons,
)

S = EventStatus
DEMO_EVENTS = 3000
DEMO_DAYS = 182
VIDEO_CLIENT_NAME = "示范区视频AI智能分析平台"
# Items the demo district asks a responsible party to fix first (内外双循环), by kind.
EXTERNAL_ITEMS = {"property": ("020101", "020103", "020201"),
                  "shop": ("040201", "040102"), "site": ("020301", "040101")}
PARTY_INDUSTRY = {"property": "K", "shop": "H", "site": "E"}

# Share of events per channel, and of final states (the rest: closed).
CHANNELS = [(Channel.HOTLINE, 44), (Channel.GRID, 20), (Channel.PORTAL, 11),
            (Channel.OPEN311, 8), (Channel.OPINION, 8), (Channel.VIDEO_AI, 9)]
OPEN_FATES = [(S.RECEIVED, 0.025), (S.EXTERNAL, 0.012), (S.DISPATCHED, 0.03),
              (S.ACCEPTED, 0.02), (S.IN_PROGRESS, 0.05), (S.RESOLVED, 0.035),
              (S.MERGED, 0.025)]
# Side paths, each on a share of the events that get that far.
SIDE_PATHS = {"return": 0.05, "dispute": 0.015, "bad_return": 0.01, "reassign": 0.04,
              "extension": 0.06, "summons": 0.025, "consult": 0.01, "co": 0.05,
              "urge": 0.03, "escalate": 0.012, "pass_down": 0.5, "refuse_extension": 0.2}
VERDICTS = [(Satisfaction.SATISFIED, 70), (Satisfaction.BASICALLY, 19),
            (Satisfaction.DISSATISFIED, 11)]
OPINION_SOURCES = [("微博", "https://weibo.com/{n}/demo{k}"),
                   ("本地宝论坛", "https://bbs.example-bendibao.cn/thread-demo{k}.html"),
                   ("微信公众号", "https://mp.weixin.qq.com/s/demo{k}"),
                   ("抖音", "https://www.douyin.com/video/{n}{k}"),
                   ("今日头条", "https://www.toutiao.com/article/{n}{k}/")]

RESULTS = {
    "territorial": ["街道执法队到场核查，已责令当事人整改，现场已恢复，并将持续巡查。",
                    "社区工作站联系相关方协调处理，问题已解决，已向来电人说明情况。",
                    "已安排网格员和执法队员现场处置，清理完毕并拍照留存。"],
    "functional": ["经现场核查情况属实，已依法责令整改并跟踪复查，问题已解决。",
                   "已安排专人联系诉求人说明政策依据，并按规定办理完毕。",
                   "已会同属地街道现场处置，问题已整改到位，后续纳入日常巡查。"],
    "enterprise": ["已派维修人员到场抢修，故障已排除，恢复正常。",
                   "已安排工程人员现场检修并更换损坏设施，已恢复使用。"],
    "consult": ["已按政策口径向市民解答，市民表示清楚。",
                "已告知办理渠道、所需材料及咨询电话，市民无其他诉求。"],
    "on_spot": ["网格员现场劝导，当事人已自行整改。", "网格员现场处置完毕，已拍照留存。",
                "已现场协调物业清理完毕。"],
}
RETURN_REASONS = ["经核实，该事项不属于本单位职责范围，请重新分拨。",
                  "事发地点不在本辖区，请改派属地单位。"]
CONTACT_NOTES = ["已电话联系诉求人，约定现场核查时间。", "已联系市民了解详细情况并告知处理进度。",
                 "已短信告知诉求人受理情况及承办人联系方式。"]
CALLBACK_NOTES = {Satisfaction.SATISFIED: "问题已解决，感谢。",
                  Satisfaction.BASICALLY: "基本解决，希望加强后续管理。",
                  Satisfaction.DISSATISFIED: "问题没有解决，现场还是老样子。"}


# --- the demo clock -------------------------------------------------------------------------

@contextlib.contextmanager
def demo_clock(start: dt.datetime) -> Iterator[list[dt.datetime]]:
    """Make ``timezone.now()`` answer the demo's moment (``clock[0]``) while loading.

    Services read the time only through ``django.utils.timezone.now`` (as do
    ``auto_now`` fields), so moving it replays a day of work as it would have happened.
    """
    clock = [start]
    real_now = timezone.now
    # In UTC, as Django's own now(): what is hashed (the audit chain) must read back equal.
    timezone.now = lambda: clock[0].astimezone(dt.UTC)
    try:
        yield clock
    finally:
        timezone.now = real_now


# --- places, people, texts ----------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    address: str
    grid: str
    community: str
    street: str
    road: str
    estate: str


@dataclass(frozen=True)
class Person:
    name: str
    sex: str
    phone: str


@dataclass
class World:
    """The demo district as the events see it: units, places, people, staff."""

    district: OrgUnit
    units: dict[str, OrgUnit]
    places: list[Place]
    persons: list[Person]
    staff: dict[str, Any]
    handlers: dict[int, Any]  # unit id → a user who handles its events
    street_dispatchers: dict[int, Any]
    citizens: list[Any]
    categories: dict[str, Category]
    texts: dict[str, list[dict[str, str]]]
    polygons: dict[str, Any]
    roads: dict[str, list[str]]  # community code → road names


def _units(district: OrgUnit) -> dict[str, OrgUnit]:
    return {u.code: u for u in OrgUnit.objects.filter(path__startswith=district.path,
                                                       is_active=True)}


def load_places(buildings_csv: Path, units: dict[str, OrgUnit]) -> list[Place]:
    places = []
    with open(buildings_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            community, street = units.get(row["community_code"]), units.get(row["street_code"])
            if community is None or street is None or row["grid_code"] not in units:
                continue
            prefix = f"广东省深圳市{units_district_name(units)}{street.name}{community.name}"
            tail = row["address"].removeprefix(prefix)
            road_part = tail[:len(tail) - len(row["name"])] if tail.endswith(row["name"]) \
                else ""
            estate = re.sub(r"(\d+栋|[A-Z]座)$", "", row["name"])
            places.append(Place(
                float(row["lon"]), float(row["lat"]),
                f"{street.name}{community.name}{road_part}{row['name']}", row["grid_code"],
                row["community_code"], row["street_code"], re.sub(r"\d+号$", "", road_part),
                estate))
    return places


def units_district_name(units: dict[str, OrgUnit]) -> str:
    return next(u.name for u in units.values() if u.kind == OrgKind.DISTRICT)


def load_persons(persons_csv: Path, limit: int = 1200) -> list[Person]:
    """Adults of the demo population with a mobile phone: the callers."""
    persons = []
    with open(persons_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["birth_date"] > "2008-01-01" or not row["phone"].startswith("1"):
                continue
            persons.append(Person(row["name"], row["sex"], row["phone"]))
            if len(persons) >= limit:
                break
    return persons


def demo_texts() -> dict[str, list[dict[str, str]]]:
    """The corpus' train split by item code (never the held-out split)."""
    train, _held_out = learning.split_corpus(learning.load_corpus())
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in train:
        by_code[row["code"]].append(row)
    return by_code


# Real place names of the corpus (written in a Bao'an style) → the demo district's.
_REAL_PLACES = [
    ("宝安区", "{district}"), ("新安街道", "{street}"), ("福永街道", "{street}"),
    ("上合社区", "{community}"), ("凤凰社区", "{community}"), ("上川路", "{road}"),
    ("新湖路", "{road2}"), ("固戍二路", "{road}"), ("宝民二路", "{road}"),
    ("创业路交叉口", "{road2}交叉口"), ("翻身路", "{road}"), ("前进路", "{road}"),
    ("文化路", "{road}"), ("新田大道", "{road}"), ("园岭街", "{road}"),
    ("坪洲地铁站", "{road}地铁站"), ("翻身地铁站", "{road}地铁站"), ("九围村", "{estate}"),
    ("桃源居", "{estate}"), ("新桥三巷", "{estate}三巷"), ("沙井某小区", "{estate}"),
    ("文化公园", "{community_short}公园"), ("海滨公园", "{community_short}公园"),
]
_PLACEHOLDERS = [
    (re.compile(r"(?:XX|某某)(?=路|大道|街)"), "{road_root}"),
    (re.compile(r"(?:XX|某某)(?:花园|小区|苑)"), "{estate}"),
    (re.compile(r"(?:XX|某某)社区"), "{community}"), (re.compile(r"(?:XX|某某)街道"), "{street}"),
    (re.compile(r"XX"), "某"),
]


def localise(text: str, place: Place, units: dict[str, OrgUnit], roads: list[str]) -> str:
    """Put the demo district's names (of the event's place) into a corpus text."""
    community, street = units[place.community], units[place.street]
    road = place.road or (roads[0] if roads else "")
    other = next((r for r in roads if r != road), road)
    names = {"district": units_district_name(units), "street": street.name,
             "community": community.name, "road": road, "road2": other,
             "road_root": re.sub(r"(路|大道|街|一路|二路|南路|北路)$", "", road) or road,
             "estate": place.estate or community.name,
             "community_short": community.name.removesuffix("社区")}
    for real, pattern in _REAL_PLACES:
        text = text.replace(real, pattern.format(**names))
    for regex, pattern in _PLACEHOLDERS:
        text = regex.sub(pattern.format(**names), text)
    return text


# --- plans ------------------------------------------------------------------------------------

@dataclass
class Plan:
    """What happens to one event (decided up front, so the demo is the same every time)."""

    key: int
    at: dt.datetime
    channel: str
    code: str
    text: str
    appeal_type: str
    place: Place | None
    fate: str  # the state it is left in (closed for most)
    paths: set[str] = field(default_factory=set)
    verdicts: list[int] = field(default_factory=list)
    resolve_factor: float = 0.5
    person: Person | None = None
    citizen: Any = None
    choose_category: bool = True
    on_spot: bool = False
    main: Plan | None = None  # merged into this one's event
    event_id: int | None = None
    token: str = ""  # the external loop's link
    owner: OrgUnit | None = None  # where the dispatcher finally put it (after 改派)
    external_fails: bool = False


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, Any]]) -> Any:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _moment(rng: random.Random, day: dt.date, channel: str) -> dt.datetime:
    """A time of day when such reports come in (hotline 8–22 h, grid patrols 8–18 h)."""
    spans: dict[str, tuple[int, int]] = {Channel.GRID: (8, 18), Channel.VIDEO_AI: (0, 24)}
    hours = spans.get(channel, (7, 23))
    hour = rng.triangular(hours[0], hours[1], (hours[0] + hours[1]) / 2 + 1)
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
    return timezone.make_aware(naive)


def make_plans(*, rng: random.Random, world: World, count: int, now: dt.datetime,
               days: int) -> list[Plan]:
    codes = sorted(c for c in world.texts if c in world.categories
                   and _correct_unit_of(world, world.categories[c], None) is not None)
    # A few items make most of the calls (noise, parking, property …): Zipf-like weights.
    order = codes[:]
    rng.shuffle(order)
    weight = {code: 1 / (rank + 3) ** 0.9 for rank, code in enumerate(order)}
    video = {s: c for s, c in _video_scenes().items() if c in world.categories}
    parties = set(ResponsibleParty.objects.filter(active=True).values_list(
        "categories__code", flat=True))
    plans: list[Plan] = []
    local_today = timezone.localtime(now).date()
    day_weights = []
    for back in range(days, -1, -1):
        day = local_today - dt.timedelta(days=back)
        day_weights.append((day, 0.6 if day.weekday() >= 5 else 1.0))
    fates = [(f, share) for f, share in OPEN_FATES]
    closed_share = 1 - sum(s for _f, s in fates)
    persons = world.persons
    caller_weights = [1 / (i + 1) ** 0.6 for i in range(len(persons))]
    for key in range(count):
        fate: str = _weighted(rng, [*fates, (S.CLOSED, closed_share)])
        channel: str = _weighted(rng, CHANNELS)
        if fate == S.EXTERNAL:
            channel = Channel.HOTLINE
        code = rng.choices(codes, [weight[c] for c in codes])[0]
        if channel == Channel.VIDEO_AI:
            code = rng.choice(sorted(video.values()))
        if fate == S.EXTERNAL or (fate == S.CLOSED and channel != Channel.VIDEO_AI
                                  and rng.random() < 0.03):
            code = rng.choice(sorted(c for c in parties if c))
        rows = world.texts[code]
        styles: dict[str, str] = {Channel.GRID: "grid", Channel.OPINION: "online"}
        wanted = styles.get(channel)
        styled = [r for r in rows if r.get("style") == wanted] if wanted else \
            [r for r in rows if r.get("style") not in ("grid", "online")]
        row = rng.choice(styled or rows)
        # When it was reported: open ones recently, the others over the whole period.
        if fate == S.RECEIVED:
            at = now - dt.timedelta(hours=rng.uniform(0.3, 30))
        elif fate in (S.DISPATCHED, S.EXTERNAL):
            at = now - dt.timedelta(hours=rng.uniform(2, 36))
        elif fate == S.ACCEPTED:
            at = now - dt.timedelta(days=rng.uniform(0.5, 4))
        elif fate in (S.IN_PROGRESS, S.RESOLVED):
            at = now - dt.timedelta(days=rng.uniform(1.5, 16))
        else:
            day = rng.choices([d for d, _w in day_weights], [w for _d, w in day_weights])[0]
            at = _moment(rng, day, channel)
            if at > now - dt.timedelta(hours=2):
                at = now - dt.timedelta(days=rng.uniform(1, days))
        person = persons[rng.choices(range(len(persons)), caller_weights)[0]] if persons \
            and channel in (Channel.HOTLINE, Channel.OPEN311) else None
        place = _place_for(rng, world, person)
        appeal = str(APPEAL_TYPE_BY_CHINESE.get(row.get("appeal_type", ""), AppealType.HELP))
        plan = Plan(key=key, at=at, channel=channel, code=code,
                    text=localise(row["text"], place, world.units,
                                  world.roads.get(place.community, [])),
                    appeal_type=appeal, place=place, fate=fate, person=person,
                    resolve_factor=rng.uniform(0.08, 0.9) if rng.random() < 0.9
                    else rng.uniform(1.05, 1.6))
        plan.choose_category = channel in (Channel.GRID, Channel.OPEN311) or (
            channel == Channel.HOTLINE and rng.random() < 0.55 and fate != S.RECEIVED)
        if channel == Channel.PORTAL and world.citizens:
            plan.citizen = rng.choice(world.citizens)
        if channel == Channel.OPINION and rng.random() < 0.12:
            plan.place = None  # a post that names no place: the dispatcher checks it
        if appeal == AppealType.CONSULT and channel == Channel.HOTLINE and fate == S.CLOSED:
            plan.on_spot = rng.random() < 0.85  # 直接办结 from the knowledge base
        if channel == Channel.GRID and fate == S.CLOSED:
            plan.on_spot = rng.random() < 0.6  # 自处置
        for name, share in SIDE_PATHS.items():
            if rng.random() < share:
                plan.paths.add(name)
        # Many handlers sign and resolve at once, or call the citizen only at the end.
        if rng.random() < 0.4:
            plan.paths.add("no_start")
        if rng.random() < 0.5:
            plan.paths.add("no_contact")
        if fate == S.EXTERNAL:
            plan.paths.add("external")
        elif code in parties:
            plan.paths.add("external")
            plan.external_fails = rng.random() < 0.35
        plan.verdicts = [_weighted(rng, VERDICTS)]
        if plan.verdicts[0] == Satisfaction.DISSATISFIED:  # 重办, then a second verdict
            plan.verdicts.append(_weighted(rng, [(Satisfaction.SATISFIED, 45),
                                                 (Satisfaction.BASICALLY, 30),
                                                 (Satisfaction.DISSATISFIED, 25)]))
        if fate == S.RESOLVED and rng.random() < 0.3 and len(plan.verdicts) > 1:
            plan.paths.add("wait_second_callback")
        plans.append(plan)
    _cover_side_paths(rng, plans, world)
    _plan_merges(rng, plans, world)
    _plan_citizen(rng, plans, world, now)
    return plans


def _cover_side_paths(rng: random.Random, plans: list[Plan], world: World) -> None:
    """Even a small demo shows each side path at least twice (on events handled by a
    unit, long enough ago to have got that far)."""
    handled = [p for p in plans if p.fate in (S.CLOSED, S.RESOLVED) and not p.on_spot
               and p.channel != Channel.OPINION and p.place is not None]
    for name in ("return", "dispute", "bad_return", "reassign", "extension", "summons",
                 "consult", "co", "urge", "escalate", "refuse_extension"):
        pool = [p for p in handled if name != "escalate" or world.categories[
            p.code].handler_type == HandlerType.TERRITORIAL]
        have = sum(1 for p in pool if name in p.paths)
        for plan in rng.sample(pool, k=min(len(pool), max(0, 2 - have))):
            plan.paths.add(name)
            if name == "escalate":
                plan.paths.add("pass_down")
            if name == "refuse_extension":
                plan.paths.add("extension")
            if name == "dispute":
                plan.paths.add("return")


def _plan_merges(rng: random.Random, plans: list[Plan], world: World) -> None:
    """Each merged event repeats an earlier one: same place, same item, hours later."""
    mains = [p for p in plans if p.fate == S.CLOSED and p.channel != Channel.VIDEO_AI
             and not p.on_spot and "external" not in p.paths and p.place is not None]
    for plan in plans:
        if plan.fate != S.MERGED or not mains:
            continue
        main = rng.choice(mains)
        plan.main, plan.code, plan.place = main, main.code, main.place
        plan.at = main.at + dt.timedelta(hours=rng.uniform(0.5, 20))
        plan.channel = rng.choice([Channel.HOTLINE, Channel.PORTAL, Channel.OPEN311])
        rows = world.texts[main.code]
        plan.text = localise(rng.choice(rows)["text"], main.place, world.units,  # type: ignore[arg-type]
                             world.roads.get(main.place.community, []))  # type: ignore[union-attr]
        plan.choose_category = False
        plan.paths = set()


def _plan_citizen(rng: random.Random, plans: list[Plan], world: World,
                  now: dt.datetime) -> None:
    """The featured demo citizen reports a handful, one in each stage (``/events/my/``)."""
    featured = world.staff.get("citizen")
    if featured is None:
        return
    wanted = [S.CLOSED, S.CLOSED, S.RESOLVED, S.IN_PROGRESS, S.DISPATCHED, S.RECEIVED]
    candidates = [p for p in plans if p.channel == Channel.HOTLINE and p.main is None]
    for fate in wanted:
        plan = next((p for p in candidates if p.fate == fate and p.citizen is None), None)
        if plan is None:
            continue
        plan.channel, plan.citizen, plan.person = Channel.PORTAL, featured, None
        plan.paths.discard("external")
        if fate == S.RESOLVED:
            plan.verdicts = [Satisfaction.SATISFIED]
            plan.paths.discard("wait_second_callback")


def _video_scenes() -> dict[str, str]:
    from .channels import video_ai_categories

    return {k: v for k, v in video_ai_categories().items() if k.isascii()}


def _place_for(rng: random.Random, world: World, person: Person | None) -> Place:
    """A point inside a grid: at a building (a few metres off), or anywhere in a grid."""
    if rng.random() < 0.75 and world.places:
        base = rng.choice(world.places)
        polygon = world.polygons[base.grid]
        for _try in range(5):
            lon = base.lon + rng.gauss(0, 0.00025)
            lat = base.lat + rng.gauss(0, 0.00025)
            if polygon.contains(Point(lon, lat)):
                return Place(round(lon, 6), round(lat, 6), base.address, base.grid,
                             base.community, base.street, base.road, base.estate)
        return base
    grid = rng.choice(sorted(world.polygons))
    polygon, unit = world.polygons[grid], world.units[grid]
    community = world.units[grid[:12]]
    street = next(u for u in world.units.values()
                  if u.kind == OrgKind.STREET and community.path.startswith(u.path))
    roads = world.roads.get(community.code) or [""]
    for _try in range(30):
        lon = rng.uniform(unit.min_lon or 0, unit.max_lon or 0)
        lat = rng.uniform(unit.min_lat or 0, unit.max_lat or 0)
        if polygon.contains(Point(lon, lat)):
            break
    else:
        lon, lat = unit.centroid_lon or 0, unit.centroid_lat or 0
    road = rng.choice(roads)
    return Place(round(lon, 6), round(lat, 6),
                 f"{street.name}{community.name}{road}{rng.randint(1, 120)}号附近", grid,
                 community.code, street.code, road, "")


# --- the simulation ---------------------------------------------------------------------------

def _correct_unit_of(world: World, category: Category, place: Place | None) -> OrgUnit | None:
    if category.handler_type == HandlerType.TERRITORIAL:
        return world.units.get(place.street) if place else None
    return category.handler_unit if category.handler_unit_id else None


class Simulation:
    """Every event's life in time order; the sweep every morning at 09:00."""

    def __init__(self, *, world: World, plans: list[Plan], now: dt.datetime,
                 rng: random.Random, clock: list[dt.datetime]):
        self.world, self.plans, self.now, self.rng, self.clock = world, plans, now, rng, clock
        self.queue: list[tuple[dt.datetime, int, Any]] = []
        self.seq = 0
        self.counts: Counter[str] = Counter()
        self.video = ClientSystem.objects.get(name=VIDEO_CLIENT_NAME)
        self.open311 = ClientSystem.objects.filter(kind="open311", active=True).first()
        self.plan_of_event: dict[int, Plan] = {}

    def at(self, when: dt.datetime, step: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, step))

    def run(self) -> Counter[str]:
        for plan in self.plans:
            self.at(plan.at, ("intake", plan))
        first = min(p.at for p in self.plans)
        day = timezone.localtime(first).date()
        while True:
            morning = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
            if morning > self.now:
                break
            self.at(morning, ("sweep", None))
            day += dt.timedelta(days=1)
        while self.queue:
            when, _seq, (kind, plan) = heapq.heappop(self.queue)
            if when > self.now:
                continue
            self.clock[0] = when
            if kind == "sweep":
                self._sweep(when)
                continue
            try:
                delay = self._intake(plan) if kind == "intake" else self._step(plan)
            except (ValidationError, PermissionDenied) as exc:
                # A step the event's state no longer allows (another step won): skip it.
                self.counts[f"skipped {kind}: {exc}"[:120]] += 1
                delay = None
            if delay is not None:
                self.at(when + delay, ("step", plan))
        self.clock[0] = self.now
        self._sweep(self.now)
        return self.counts

    # --- steps --------------------------------------------------------------------------

    def _sweep(self, when: dt.datetime) -> None:
        from .supervision import events_supervise

        events_supervise(at=when)
        # Enforcement events the external loop opened: they live on like their first one.
        for event in Event.objects.filter(external_of__isnull=False).exclude(
                pk__in=list(self.plan_of_event)).only("pk", "external_of_id"):
            first = self.plan_of_event.get(event.external_of_id or 0)
            if first is None:
                continue
            plan = Plan(key=-event.pk, at=when, channel=event.channel, code=first.code,
                        text=first.text, appeal_type=first.appeal_type, place=first.place,
                        fate=S.CLOSED, verdicts=[Satisfaction.SATISFIED],
                        person=first.person, citizen=first.citizen, event_id=event.pk)
            self.plan_of_event[event.pk] = plan
            self.at(when + dt.timedelta(hours=self.rng.uniform(1, 6)), ("step", plan))
        # Staff read their notifications within a day or two.
        if when.weekday() in (0, 3):
            self._read_notifications(when)

    def _read_notifications(self, when: dt.datetime) -> None:
        from yiwang.core.notifications import mark_read

        unread: dict[int, list[int]] = defaultdict(list)
        for pk, user_id in Notification.objects.filter(
                read_at__isnull=True, created_at__lt=when - dt.timedelta(days=1),
                recipient__kind="staff").values_list("pk", "recipient_id"):
            unread[user_id].append(pk)
        users = {u.pk: u for u in self.world.staff["_all"] if u.pk in unread}
        for user_id, ids in unread.items():
            if user_id in users:
                mark_read(actor=users[user_id], notification_ids=ids)

    def _intake(self, plan: Plan) -> dt.timedelta | None:
        from .intake import intake_event

        w = self.world
        category = w.categories[plan.code] if plan.choose_category else None
        place = plan.place
        lat, lon = (place.lat, place.lon) if place else (None, None)
        address = place.address if place else ""
        reporter_name, phone = "", ""
        if plan.person is not None:
            surname = plan.person.name[0]
            reporter_name = plan.person.name if self.rng.random() < 0.5 else \
                surname + ("先生" if plan.person.sex == "男" else "女士")
            phone = plan.person.phone
        if plan.channel == Channel.HOTLINE:
            event = intake_event(
                actor=w.staff["hotline"], channel=Channel.HOTLINE, description=plan.text,
                appeal_type=plan.appeal_type, category=category, lat=lat, lon=lon,
                address=address, reporter_name=reporter_name, reporter_phone=phone,
                anonymous=not phone, source_ref=f"call:demo{plan.key:05d}",
                resolved_on_spot=self.rng.choice(RESULTS["consult"]) if plan.on_spot else "")
        elif plan.channel == Channel.GRID:
            from .reporting import report_submit

            worker = w.handlers.get(w.units[place.grid].pk) if place else None
            worker = worker or w.staff["grid"]
            event, _created = report_submit(
                actor=worker, channel=Channel.GRID, key=f"demo-grid-{plan.key:05d}",
                description=plan.text, appeal_type=plan.appeal_type, category=category,
                lat=lat, lon=lon, address=address,
                resolved_on_spot=self.rng.choice(RESULTS["on_spot"]) if plan.on_spot else "")
        elif plan.channel == Channel.PORTAL:
            from .reporting import report_submit

            citizen = plan.citizen
            if citizen is None:
                return None
            event, _created = report_submit(
                actor=citizen, channel=Channel.PORTAL, key=f"demo-portal-{plan.key:05d}",
                description=plan.text, appeal_type=plan.appeal_type, lat=lat, lon=lon,
                address=address, reporter=citizen, reporter_name=citizen.name,
                reporter_phone=citizen.phone or "")
        elif plan.channel == Channel.OPEN311:
            from .open311_impl.submit import parse, submit

            if self.open311 is None:
                return None
            post = QueryDict(mutable=True)
            post.update({"service_code": plan.code, "description": plan.text,
                         "address_string": address,
                         "device_id": f"demo-device-{plan.key % 97}"})
            if place:
                post.update({"lat": str(lat), "long": str(lon)})
            if plan.person is not None and self.rng.random() < 0.7:
                post.update({"first_name": plan.person.name[1:],
                             "last_name": plan.person.name[0], "phone": phone})
            event, _data, _new = submit(parse(post, client=self.open311,
                                              idempotency_key=f"demo-{plan.key:05d}"))
        elif plan.channel == Channel.OPINION:
            from .channels import opinion_import

            source, url = self.rng.choice(OPINION_SOURCES)
            posted = timezone.localtime(plan.at - dt.timedelta(hours=self.rng.uniform(0.5, 8)))
            record = {"source": source, "url": url.format(n=70000 + plan.key % 9000,
                                                          k=plan.key),
                      "text": plan.text, "time": posted.isoformat(timespec="minutes"),
                      "place": (place.address if self.rng.random() < 0.7 else
                                w.units[place.community].name) if place else ""}
            report = opinion_import(actor=None, system=True, fmt="json",
                                    data=json.dumps([record], ensure_ascii=False).encode())
            if not report.events:
                return None
            event = Event.objects.get(number=report.events[0])
        else:
            from .channels import Detection, video_ai_receive

            scene = next(s for s, c in _video_scenes().items() if c == plan.code)
            camera = f"SXT-{place.grid[-9:] if place else '0'}-{plan.key % 7 + 1:02d}"
            detection = Detection(camera_id=camera, detection_type=scene,
                                  confidence=round(self.rng.uniform(0.68, 0.98), 2),
                                  detected_at=plan.at, delivery_id=f"demo-{plan.key:05d}",
                                  lat=lat, lon=lon, address=address)
            result = video_ai_receive(client=self.video, detection=detection)
            if result.event is None or result.status != "created":
                return None
            event = result.event
            if self.rng.random() < 0.3:  # the camera sees it again a few minutes later
                self.clock[0] = plan.at + dt.timedelta(minutes=self.rng.uniform(3, 20))
                video_ai_receive(client=self.video, detection=Detection(
                    camera_id=camera, detection_type=scene, confidence=detection.confidence,
                    detected_at=self.clock[0], delivery_id=f"demo-{plan.key:05d}b",
                    lat=lat, lon=lon, address=address))
        plan.event_id = event.pk
        self.plan_of_event[event.pk] = plan
        self.counts[f"channel {plan.channel}"] += 1
        return self._soon(0.2, 3)

    def _soon(self, low: float, high: float) -> dt.timedelta:
        """A delay of ``low``–``high`` hours, moved to the next morning when it would
        end at night (people work 8–21 h; the hotline takes calls at any hour)."""
        delay = dt.timedelta(hours=self.rng.uniform(low, high))
        then = timezone.localtime(self.clock[0] + delay)
        if not 8 <= then.hour < 21:
            morning = then.replace(hour=8, minute=0, second=0, microsecond=0)
            if then.hour >= 21:
                morning += dt.timedelta(days=1)
            delay += morning - then + dt.timedelta(minutes=self.rng.uniform(0, 120))
        return delay

    def _target(self, plan: Plan, event: Event) -> OrgUnit | None:
        """The unit that must handle it: the true item's handler at the event's place."""
        if plan.owner is not None:
            return plan.owner
        category = self.world.categories[plan.code]
        if category.handler_type == HandlerType.TERRITORIAL:
            return event.street or (self.world.units.get(plan.place.street)
                                    if plan.place else None)
        return category.handler_unit

    def _wrong(self, plan: Plan, right: OrgUnit) -> OrgUnit:
        """A plausible wrong unit: the next street, or the street for a department."""
        streets = sorted((u for u in self.world.units.values() if u.kind == OrgKind.STREET),
                         key=lambda u: u.code)
        if right.kind == OrgKind.STREET:
            return streets[(streets.index(right) + 1) % len(streets)] if right in streets \
                else streets[0]
        street = self.world.units.get(plan.place.street) if plan.place else None
        return street or streets[0]

    def _step(self, plan: Plan) -> dt.timedelta | None:
        assert plan.event_id is not None
        event = Event.objects.select_related(
            "category", "handler_unit", "dispatch_unit", "clock").get(pk=plan.event_id)
        if plan.main is not None and plan.main.event_id and event.status in services.OPEN:
            # 并单: the dispatcher spots the repeat of an earlier report.
            into = Event.objects.get(pk=plan.main.event_id)
            if into.status != S.MERGED:
                services.event_merge(actor=self.world.staff["dispatcher"], event=event,
                                     into=into, reason="同一地点同一问题的重复诉求，并单处理。")
            return None
        handler = getattr(self, f"_on_{event.status}")
        result: dt.timedelta | None = handler(plan, event)
        return result

    def _user_for(self, unit: OrgUnit | None) -> Any:
        return self.world.handlers.get(unit.pk) if unit is not None else None

    def _on_received(self, plan: Plan, event: Event) -> dt.timedelta | None:
        w, dispatcher = self.world, self.world.staff["dispatcher"]
        pending = event.returns.filter(status=RequestStatus.PENDING).order_by(
            "-created_at").first()
        if pending is not None and pending.disputed:
            if plan.fate == S.RECEIVED and "disputed_wait" in plan.paths:
                return None
            uphold = "bad_return" not in plan.paths
            services.event_decide_dispute(
                actor=w.staff["supervisor"], event=event, uphold_return=uphold,
                reason="经核实，退单理由成立，请重新分拨。" if uphold
                else "经核实，事发地点属该单位辖区，退单不予同意，请继续办理。")
            plan.paths.discard("bad_return")
            return self._soon(0.5, 6)
        if pending is not None and ("dispute" in plan.paths or "bad_return" in plan.paths):
            plan.paths.discard("dispute")
            services.event_dispute_return(actor=dispatcher, event=event,
                                          reason="经核对地图定位，事发地点在该单位辖区内。")
            if plan.fate == S.RECEIVED:
                plan.paths.add("disputed_wait")
            return self._soon(2, 20)
        if plan.fate == S.RECEIVED:
            return None
        if "external" in plan.paths and event.category is not None \
                and event.category.external_loop:
            party = _party_for(event)
            if party is not None:
                event, plan.token = services.event_send_external(actor=dispatcher,
                                                                 event=event, party=party)
                return self._soon(3, 30)
        right = self._target(plan, event)
        centre = event.dispatch_unit
        if centre.kind == OrgKind.STREET:
            # Back in a street centre's queue (returned by its community): it sends it on.
            dispatcher = w.street_dispatchers.get(centre.pk, dispatcher)
            if right is None or right.pk == centre.pk or not right.path.startswith(
                    centre.path):
                right = w.units.get(plan.place.community) if plan.place else None
        if right is None or right.pk == centre.pk:
            return None  # nobody to send it to: it waits in the queue
        unit = right
        if ({"return", "reassign"} & plan.paths) and event.return_count == 0 \
                and event.reassign_count == 0:
            unit = self._wrong(plan, right)
        co = []
        if "co" in plan.paths:
            co_unit = w.units.get(plan.place.street) if plan.place else None
            if co_unit is not None and co_unit.pk != unit.pk:
                co = [co_unit]
            plan.paths.discard("co")
        services.event_dispatch(actor=dispatcher, event=event, unit=unit, co_units=co,
                                note="请按时办理并及时反馈。")
        return self._soon(0.3, 10)

    def _on_external(self, plan: Plan, event: Event) -> dt.timedelta | None:
        if plan.fate == S.EXTERNAL or plan.external_fails:
            return None  # the party has not answered; the sweep takes over at the deadline
        task = ExternalTask.objects.filter(event=event).first()
        if task is None:
            return None
        services.external_respond(token=task.token, fixed=True,
                                  response="已安排人员到场处理完毕，并拍照留存。")
        return self._soon(2, 30)

    def _on_dispatched(self, plan: Plan, event: Event) -> dt.timedelta | None:
        w = self.world
        right = self._target(plan, event)
        unit = event.handler_unit
        user = self._user_for(unit)
        if "reassign" in plan.paths and unit is not None:
            # 改派: to the unit that should have it, or closer to the place (street →
            # community, department → the street where it happens).
            plan.paths.discard("reassign")
            target = right if right is not None and right.pk != unit.pk else None
            if target is None and plan.place is not None:
                target = w.units[plan.place.community] if unit.kind == OrgKind.STREET \
                    else w.units[plan.place.street]
            if target is not None and target.pk != unit.pk and target.pk in w.handlers:
                plan.owner = target
                services.event_reassign(actor=w.staff["dispatcher"], event=event,
                                        unit=target,
                                        reason="经核实事发地点及职责，改派至承办单位。")
                return self._soon(0.5, 8)
        if user is not None and (
                (right is not None and unit is not None and unit.pk != right.pk)
                or ("return" in plan.paths and event.return_count == 0)
                or (plan.fate == S.RECEIVED and event.return_count == 0)
                or ("bad_return" in plan.paths and event.return_count == 0)):
            plan.paths.discard("return")
            services.event_return(actor=user, event=event,
                                  reason=self.rng.choice(RETURN_REASONS))
            return self._soon(0.3, 6)
        if plan.fate == S.DISPATCHED or user is None:
            return None
        services.event_accept(actor=user, event=event)
        return self._soon(0.1, 3)

    def _on_accepted(self, plan: Plan, event: Event) -> dt.timedelta | None:
        unit = event.handler_unit
        if unit is not None and unit.kind == OrgKind.STREET and "pass_down" in plan.paths \
                and plan.place is not None and plan.fate != S.ACCEPTED:
            plan.paths.discard("pass_down")
            community = self.world.units[plan.place.community]
            dispatcher = self.world.street_dispatchers.get(unit.pk)
            if dispatcher is not None and community.pk in self.world.handlers:
                plan.owner = community
                services.event_dispatch(actor=dispatcher, event=event, unit=community,
                                        note="请社区工作站现场核查处理。")
                return self._soon(0.3, 8)
        if plan.fate == S.ACCEPTED:
            return None
        if "no_start" in plan.paths and plan.fate != S.IN_PROGRESS and not plan.paths & {
                "extension", "summons", "consult", "urge", "escalate"}:
            return self._resolve(plan, event)
        services.event_start(actor=self._user_for(unit), event=event)
        return self._soon(0.5, 12)

    def _on_in_progress(self, plan: Plan, event: Event) -> dt.timedelta | None:
        w = self.world
        user = self._user_for(event.handler_unit)
        if user is None:
            return None
        if event.responded_at is None and "no_contact" not in plan.paths:
            services.event_contact(actor=user, event=event, note=self.rng.choice(CONTACT_NOTES))
            return self._soon(2, 30)
        pending = event.extensions.filter(status=RequestStatus.PENDING).first()
        if pending is not None:
            if plan.fate == S.IN_PROGRESS:
                return None  # waiting in the dispatcher's 延期申请 tab
            approve = "refuse_extension" not in plan.paths
            services.event_decide_extension(
                actor=w.staff["dispatcher"], event=event, approve=approve,
                note="同意延期，请在新时限内办结。" if approve else "不同意延期，请按原时限办结。")
            return self._soon(4, 48)
        if "extension" in plan.paths:
            plan.paths.discard("extension")
            services.event_request_extension(actor=user, event=event,
                                             days=self.rng.choice([3, 5, 5, 10]),
                                             reason="需协调产权单位及多个部门现场会商，申请延期。")
            return self._soon(1, 20)
        for kind in ("summons", "consult"):
            if kind in plan.paths:
                plan.paths.discard(kind)
                units = self._summoned(event)
                if units:
                    summons = services.event_summon(
                        actor=user, event=event, kind=kind, units=units,
                        subject="请相关单位到场共同研究处置方案。" if kind == "summons"
                        else "就职责分工召开会商，请各单位提出意见。", hours=48)
                    plan.paths.add(f"respond:{summons.pk}")
                    return self._soon(2, 30)
        for name in sorted(plan.paths):
            if name.startswith("respond:"):
                plan.paths.discard(name)
                for response in Summons.objects.get(pk=int(name[8:])).responses.filter(
                        responded_at__isnull=True).select_related("unit"):
                    responder = self._user_for(response.unit)
                    if responder is not None:
                        services.summons_respond(actor=responder, response=response,
                                                 text="已到场，按分工配合处置。")
                return self._soon(2, 24)
        co = event.assignments.filter(role="co", status__in=["pending", "accepted"]
                                      ).select_related("unit").first()
        if co is not None and self._user_for(co.unit) is not None:
            services.event_co_done(actor=self._user_for(co.unit), event=event,
                                   note="已配合完成职责范围内工作。")
            return self._soon(2, 24)
        if "urge" in plan.paths:
            plan.paths.discard("urge")
            services.event_urge(actor=w.staff["supervisor"], event=event,
                                reason="诉求人多次来电，请加快办理进度。")
            return self._soon(2, 24)
        if "escalate" in plan.paths and event.dispatch_unit.parent_id is not None:
            plan.paths.discard("escalate")
            dispatcher = w.street_dispatchers.get(event.dispatch_unit_id)
            if dispatcher is not None:
                services.event_escalate(actor=dispatcher, event=event,
                                        reason="涉及多个部门职责，街道层面难以协调，申请提级。")
                return self._soon(1, 12)
        if plan.fate == S.IN_PROGRESS and event.reopen_count == 0:
            return None
        return self._resolve(plan, event)

    def _resolve(self, plan: Plan, event: Event) -> dt.timedelta | None:
        """Resolve at the planned share of the time limit (some late)."""
        user = self._user_for(event.handler_unit)
        clock = event.clock
        if clock is not None:
            span = clock.due_at - clock.started_at
            due = clock.started_at + span * plan.resolve_factor
            if due > self.clock[0] + dt.timedelta(minutes=30):
                plan.resolve_factor = 0  # only wait once
                return due - self.clock[0]
        kind = "consult" if event.appeal_type == AppealType.CONSULT else (
            event.category.handler_type if event.category is not None else "functional")
        services.event_resolve(actor=user, event=event,
                               result=self.rng.choice(RESULTS.get(kind, RESULTS["functional"])))
        return self._soon(3, 40)

    def _summoned(self, event: Event) -> list[OrgUnit]:
        departments = [u for u in self.world.units.values()
                       if u.kind in (OrgKind.DEPARTMENT, OrgKind.BUREAU)
                       and u.pk in self.world.handlers and u.pk != event.handler_unit_id]
        departments.sort(key=lambda u: u.code)
        return self.rng.sample(departments, k=min(2, len(departments)))

    def _on_resolved(self, plan: Plan, event: Event) -> dt.timedelta | None:
        w = self.world
        rounds = event.callbacks.count()
        if plan.fate == S.RESOLVED and (rounds == 0 or ("wait_second_callback" in plan.paths
                                        and rounds == 1)):
            return None
        if rounds >= len(plan.verdicts):
            # After a second 不满意 the district supervises: it closes with its finding.
            services.event_close(actor=w.staff["supervisor"], event=event,
                                 reason="经督办核查，承办单位已依法依规处理，作办结处理。")
            return None
        verdict = plan.verdicts[rounds]
        note = CALLBACK_NOTES[Satisfaction(verdict)]
        if event.reporter_id is not None and event.reporter is not None:
            services.event_callback(actor=event.reporter, event=event, satisfaction=verdict,
                                    method=Callback.Method.PORTAL, note=note,
                                    by_reporter=True)
        elif event.reporter_phone and self.rng.random() < 0.35:
            callbacks.callback_by_link(token=callbacks.callback_token(event),
                                       satisfaction=verdict, note=note)
        elif event.reporter_phone:
            services.event_callback(actor=w.staff["dispatcher"], event=event,
                                    satisfaction=verdict, method=Callback.Method.PHONE,
                                    note=note)
        else:
            services.event_close(actor=w.staff["dispatcher"], event=event,
                                 reason="无诉求人联系方式，经现场核查已整改，作办结处理。")
            return None
        return self._soon(4, 30)

    def _on_closed(self, plan: Plan, event: Event) -> None:
        return None

    def _on_merged(self, plan: Plan, event: Event) -> None:
        return None


def _party_for(event: Event) -> ResponsibleParty | None:
    if event.location_unit is None:
        return None
    return ResponsibleParty.objects.filter(
        active=True, categories=event.category,
        unit__in=[event.location_unit, *event.location_unit.ancestors()]).first()


# --- set-up -----------------------------------------------------------------------------------

def publish_catalog() -> Any:
    """The shipped dispatch catalog, published (the same file twice changes nothing)."""
    catalog = catalog_service.published_catalog()
    if catalog is not None:
        return catalog
    result = catalog_service.catalog_load(
        actor=None, system=True, publish=True, note="示范区派单目录",
        data=catalog_service.shared_catalog_path().read_bytes())
    return result.catalog


def flag_external_items(catalog: Any) -> int:
    """The demo district's 内外双循环 items (an admin's choice per item)."""
    codes = [c for kind in EXTERNAL_ITEMS.values() for c in kind]
    changed = Category.objects.filter(catalog=catalog, code__in=codes, external_loop=False
                                      ).update(external_loop=True)
    if changed:
        audit_log(actor=None, action="events.catalog.external_loop", obj=catalog,
                  after={"codes": codes})
    return changed


def register_parties(*, catalog: Any, enterprises_csv: Path,
                     units: dict[str, OrgUnit]) -> int:
    """Property companies, shops and construction sites of the demo population that
    answer for their places first (内外双循环): one of each kind per street."""
    if ResponsibleParty.objects.exists():
        return 0
    items = {kind: list(Category.objects.filter(catalog=catalog, code__in=codes))
             for kind, codes in EXTERNAL_ITEMS.items()}
    taken: set[tuple[str, str]] = set()
    created = []
    with open(enterprises_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for kind, section in PARTY_INDUSTRY.items():
                street = row["street_code"]
                if not row["industry"].startswith(section) or (kind, street) in taken \
                        or row["community_code"] not in units or row["status"] != "存续":
                    continue
                taken.add((kind, street))
                party = ResponsibleParty.objects.create(
                    name=row["name"], kind=kind, credit_code=row["credit_code"],
                    contact_name=row["legal_rep_name"], phone=row["phone"],
                    unit=units[street], address=row["address"].removeprefix("广东省深圳市"))
                party.categories.set(items[kind])
                created.append(party)
    if created:
        audit_log(actor=None, action="demo.events.parties", object_type="events.responsibleparty",
                  object_id="*", after={"parties": len(created)})
    return len(created)


def _world(*, district: OrgUnit, persons_csv: Path, buildings_csv: Path, spec: Any,
           catalog: Any) -> World:
    from yiwang.accounts.models import User

    units = _units(district)
    places = load_places(buildings_csv, units)
    persons = load_persons(persons_csv)
    staff_users = list(User.objects.filter(kind="staff", is_active=True, org_unit__isnull=False)
                       .select_related("org_unit").prefetch_related("groups"))
    handlers: dict[int, Any] = {}
    street_dispatchers: dict[int, Any] = {}
    by_name = {u.username: u for u in staff_users}
    for user in sorted(staff_users, key=lambda u: u.username):
        roles = {g.name for g in user.groups.all()}
        unit = user.org_unit
        if unit is None:
            continue
        if roles & {"handler", "grid_worker"}:
            handlers.setdefault(unit.pk, user)
        if "dispatcher" in roles and unit.kind == OrgKind.STREET:
            street_dispatchers.setdefault(unit.pk, user)
    citizens = list(User.objects.filter(kind="citizen", is_active=True).order_by("pk")[:200])
    featured = next((c for c in citizens if c.username == _featured_citizen(spec)), None)
    staff = {"hotline": by_name.get("hotline") or by_name["dispatcher"],
             "dispatcher": by_name["dispatcher"], "supervisor": by_name["supervisor"],
             "grid": next(u for u in staff_users
                          if u.org_unit is not None and u.org_unit.kind == OrgKind.GRID),
             "citizen": featured, "_all": staff_users}
    categories = {c.code: c for c in Category.objects.filter(
        catalog=catalog, level=3, active=True).select_related("handler_unit")}
    polygons = {u.code: prep(shape(u.boundary)) for u in units.values()
                if u.kind == OrgKind.GRID and u.boundary}
    roads = {c.code: list(c.roads) for c in spec.communities} if spec is not None else {}
    return World(district=district, units=units, places=places, persons=persons,
                 staff=staff, handlers=handlers, street_dispatchers=street_dispatchers,
                 citizens=citizens, categories=categories, texts=demo_texts(),
                 polygons=polygons, roads=roads)


def _featured_citizen(spec: Any) -> str:
    from yiwang.core.generator.accounts import build_accounts

    if spec is None:
        return ""
    return next((a.username for a in build_accounts(spec) if a.kind == "citizen"), "")


def setup_demo(*, district: OrgUnit, spec: Any, persons_csv: Path, buildings_csv: Path,
               enterprises_csv: Path, count: int = DEMO_EVENTS, days: int = DEMO_DAYS,
               now: dt.datetime | None = None, train: bool = True) -> dict[str, Any]:
    """The events part of ``demo_setup``; does nothing once the demo has events."""
    from .clients import client_issue, demo_client

    if Event.objects.exists():
        return {}
    now = now or timezone.now()
    seed = spec.seed if spec is not None else DEFAULT_SEED
    rng = random.Random(f"events-demo-{seed}")  # noqa: S311 (demo data, not secrets)
    catalog = publish_catalog()
    flag_external_items(catalog)
    trained = None
    if train and not ClassifierModel.objects.filter(catalog=catalog, active=True).exists():
        trained = learning.train_and_store(catalog, history=False)
    _client, key = demo_client(unit=district, seed=seed)
    if not ClientSystem.objects.filter(name=VIDEO_CLIENT_NAME).exists():
        client_issue(actor=None, system=True, name=VIDEO_CLIENT_NAME, kind="video_ai",
                     unit=district)
    units = _units(district)
    parties = register_parties(catalog=catalog, enterprises_csv=enterprises_csv, units=units)
    if count <= 0:  # the catalog, classifier and clients only (benchmarks load their own)
        return {"events": 0, "parties": parties, "key": key,
                "trained": trained.metrics if trained else None, "counts": {},
                "statuses": {}}
    world = _world(district=district, persons_csv=persons_csv, buildings_csv=buildings_csv,
                   spec=spec, catalog=catalog)
    plans = make_plans(rng=rng, world=world, count=count, now=now, days=days)
    start = min(p.at for p in plans)
    with transaction.atomic(), demo_clock(start) as clock:
        counts = Simulation(world=world, plans=plans, now=now, rng=rng, clock=clock).run()
        audit_log(actor=None, action="demo.load_events", object_type="events.event",
                  object_id="*", after={"events": Event.objects.count(), "seed": seed})
    return {"events": Event.objects.count(), "parties": parties, "key": key,
            "trained": trained.metrics if trained else None, "counts": dict(counts),
            "statuses": dict(Counter(Event.objects.values_list("status", flat=True)))}


def status_counts() -> dict[str, int]:
    return dict(Counter(Event.objects.values_list("status", flat=True)))


