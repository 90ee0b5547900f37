"""The 一网统管 routes of the query-count gate (``yiwang.core.testing.querycounts``).

``setup`` loads the dispatch catalog, adds the event staff (``add_event_staff``), a
citizen, a responsible party for the external loop, and the objects the detail routes
show: a *featured* event led by street A with a co-handler, signed for, in progress, with
a summons, a pending extension and a photo; the citizen's own appeal, resolved after one
reopening, with a report photo and a result photo; a hotline caller's resolved event
(the SMS callback link) and an event sent to the responsible party (its link).

``grow`` adds, per step, a community with a grid in street A (the maps, the place
look-up), a catalog item under 0304 (the catalog, its search), and events in every state
the lists show: waiting for dispatch (territorial and functional items, one from a caller
who rings again: the hotline history), returned, disputed, dispatched, in progress with
an extension request, resolved, with the responsible party, co-handled and summoned by
the department, in grid A (the grid worker's own reports too, one fixed on the spot) and
the citizen's own. The featured event gets a co-handler, a summons, a contact, an urging
and a photo; the citizen's appeal a callback, a reopening, a new result and a photo; the
responsible party replies once more. All of it lies in the callers' scope: the
district's dispatcher and supervisor, street A's handler, grid A's worker, the citizen.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

from django.core.files.base import ContentFile

from yiwang.accounts.models import User
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.testing.querycounts import PinCase
from yiwang.core.tests.factories import District, make_citizen, make_unit
from yiwang.events import callbacks, services
from yiwang.events.models import (
    Callback,
    Category,
    Channel,
    Event,
    EventAttachment,
    ResponsibleParty,
    Satisfaction,
    Summons,
)
from yiwang.events.tests.factories import add_event_staff, item, load_catalog, new_event
from yiwang.events.tests.photos import png_bytes

PNG = png_bytes()
# A caller who rings again: one appeal per step, so the history (10 at most) grows.
CALLER = "13900139001"
CITIZEN_PHONE = "13800138000"
TERRITORIAL = "010101"  # 占道经营: the street where it happens
FUNCTIONAL = "020101"  # 物业服务质量: the district's housing bureau (d.department)
EXTERNAL = "020103"  # 业主委员会与物业选聘: the property company first (内外双循环)
ROADS = "0304"  # 道路与交通设施: grow adds items here


def _photo(event: Event, uploader: User | None, stage: str = EventAttachment.Stage.REPORT,
           name: str = "现场照片.png") -> EventAttachment:
    photo = EventAttachment(event=event, stage=stage, original_name=name,
                            content_type="image/png", size=len(PNG),
                            sha256=hashlib.sha256(PNG).hexdigest(), uploaded_by=uploader)
    photo.file.save("query-count.png", ContentFile(PNG), save=False)
    photo.save()
    return photo


def _e(d: District) -> Any:
    return d.events  # type: ignore[attr-defined]


# --- events in each state --------------------------------------------------------------


def _dispatched(d: District, unit: OrgUnit | None = None, *,
                co: list[OrgUnit] | None = None, **extra: Any) -> Event:
    return services.event_dispatch(actor=d.users["dispatcher"], event=new_event(d, **extra),
                                   unit=unit or d.street_a, co_units=co)


def _accepted(d: District, **extra: Any) -> Event:
    return services.event_accept(actor=d.users["street_handler"],
                                 event=_dispatched(d, **extra))


def _in_progress(d: District, **extra: Any) -> Event:
    return services.event_start(actor=d.users["street_handler"], event=_accepted(d, **extra))


def _resolved(d: District, **extra: Any) -> Event:
    return services.event_resolve(actor=d.users["street_handler"], event=_accepted(d, **extra),
                                  result="已劝离摊主，桌椅已收回店内")


def _returned(d: District) -> Event:
    return services.event_return(actor=d.users["street_handler"], event=_dispatched(d),
                                 reason="该路段属乙街道管辖")


def _external(d: District) -> tuple[Event, str]:
    event = new_event(d, code=EXTERNAL, appeal_type="help", title="物业撤场后垃圾无人清运",
                      description="和平花园物业撤场一周，楼道垃圾堆积无人清运。")
    return services.event_send_external(actor=d.users["dispatcher"], event=event,
                                        party=_e(d).party)


def _department_led(d: District, *, co: list[OrgUnit] | None = None) -> Event:
    return _dispatched(d, d.department, co=co, code=FUNCTIONAL, appeal_type="help",
                       title="小区电梯报修三天没人来",
                       description="和平花园3栋电梯坏了，报修物业三天没人来修。")


def _grid_report(d: District, *, on_spot: str = "") -> Event:
    """The grid worker's own report (采集上报), or one fixed on the spot (自处置)."""
    return services.event_create(
        actor=d.users["grid_worker_a"], channel=Channel.GRID, appeal_type="complaint",
        title="流动摊贩占用人行道", description="和平路口三轮车摆卖水果，占用人行道。",
        category=item("010102"), location_unit=d.grid_a, street=d.street_a,
        address="和平路口", lat=22.51, lon=114.01, resolved_on_spot=on_spot)


def _citizen_report(d: District, title: str = "小区门口路灯不亮") -> Event:
    citizen = d.users["citizen"]
    return services.event_create(
        actor=citizen, channel=Channel.PORTAL, appeal_type="help", title=title,
        description="和平路1号小区门口的路灯坏了一个星期，晚上很黑。",
        category=item(TERRITORIAL), location_unit=d.community_a, street=d.street_a,
        address="和平路1号", reporter=citizen, reporter_name=citizen.name,
        reporter_phone=CITIZEN_PHONE)


def _citizen_dispatched(d: District) -> Event:
    return services.event_dispatch(actor=d.users["dispatcher"], event=_citizen_report(d),
                                   unit=d.street_a)


def _handled_again(d: District, event: Event, note: str, *,
                   satisfaction: int = Satisfaction.BASICALLY) -> Event:
    """The citizen's verdict; then (on 基本满意, after the supervisor's re-inspection) the
    appeal is reopened; street A resolves it again."""
    u = d.users
    event = services.event_callback(actor=u["citizen"], event=event,
                                    satisfaction=satisfaction,
                                    method=Callback.Method.PORTAL, note=note,
                                    by_reporter=True)
    if event.status != "in_progress":  # 不满意 reopened it already
        event = services.event_reopen(actor=u["event_supervisor"], event=event,
                                      reason="复查发现路灯仍不亮")
    return services.event_resolve(actor=u["street_handler"], event=event,
                                  result="已更换灯泡并检查线路")


# --- setup and grow --------------------------------------------------------------------


def setup(d: District) -> None:
    load_catalog()
    add_event_staff(d)
    u = d.users
    u["citizen"] = make_citizen(phone=CITIZEN_PHONE)
    party = ResponsibleParty.objects.create(
        name="和平物业", kind=ResponsibleParty.Kind.PROPERTY, phone="13800138010",
        contact_name="陈经理", unit=d.community_a, address="和平花园")
    party.categories.add(item(EXTERNAL))
    d.events = SimpleNamespace(party=party, serial=0)  # type: ignore[attr-defined]

    featured = _in_progress(d, co=[d.department], title="和平路餐馆桌椅占道",
                            description="和平路1号餐馆晚上把桌椅摆到人行道上。")
    services.event_summon(actor=u["street_handler"], event=featured, kind=Summons.Kind.SUMMONS,
                          units=[d.community_a, d.department], subject="请到场联合整治",
                          hours=24)
    services.event_request_extension(actor=u["street_handler"], event=featured, days=3,
                                     reason="需与店主协商整改")
    photo = _photo(featured, u["street_handler"], EventAttachment.Stage.HANDLING)

    mine = services.event_resolve(
        actor=u["street_handler"],
        event=services.event_accept(actor=u["street_handler"], event=_citizen_dispatched(d)),
        result="已更换灯泡")
    report_photo = _photo(mine, u["citizen"])
    _photo(mine, u["street_handler"], EventAttachment.Stage.RESULT, "修复后.png")
    mine = _handled_again(d, mine, "第二天又不亮了",
                          satisfaction=Satisfaction.DISSATISFIED)

    resolved = _resolved(d)  # a hotline caller without an account: the SMS link
    external, token = _external(d)
    _e(d).__dict__.update(featured=featured, photo=photo, mine=mine,
                          report_photo=report_photo, resolved=resolved, external=external,
                          token=token, callback_token=callbacks.callback_token(resolved))
    grow(d, 1)


def _community(d: District, i: int) -> OrgUnit:
    """A community with one grid in street A, each with its boundary. Only the community
    is named 和平…: the place look-up stays under its limit of 8 (past it, the second
    search over unit names is skipped: one query fewer, by design)."""
    lon = 114.06 + i / 1000
    community = make_unit(f"440399001{200 + i:03d}", f"和平{i}社区", OrgKind.COMMUNITY,
                          d.street_a, (lon, 22.56, 0.0009))
    make_unit(f"{community.code}001", f"第{i}片网格", OrgKind.GRID, community,
              (lon, 22.56, 0.0004))
    return community


def _catalog_item(d: District, i: int) -> Category:
    parent = Category.objects.get(catalog__status="published", code=ROADS)
    return Category.objects.create(
        catalog=parent.catalog, parent=parent, level=3, code=f"{ROADS}{10 + i:02d}",
        name=f"井盖沉降（{i}号片区）", handler_type="functional", default_handler="区住房和建设局",
        handler_unit=d.department, keywords=["井盖沉降"], appeal_types=["求助"])


def grow(d: District, n: int) -> None:
    u, e = d.users, _e(d)
    for _ in range(n):
        e.serial += 1
        i = e.serial
        community = _community(d, i)
        _catalog_item(d, i)
        # the dispatch queue and the hotline caller's history
        new_event(d, reporter_phone=CALLER, reporter_name="刘女士")
        new_event(d, code=FUNCTIONAL, appeal_type="help", title="物业不管小区卫生",
                  description="和平花园物业不打扫楼道，垃圾堆了一周。")
        _returned(d)
        services.event_dispute_return(actor=u["dispatcher"], event=_returned(d),
                                      reason="属地在甲街道，应由甲街道办理")
        services.event_request_extension(actor=u["street_handler"], event=_in_progress(d),
                                         days=2, reason="店主外出，需约谈")
        _resolved(d)
        _external(d)
        # street A's inbox: to sign, in progress, co-handling, summoned
        _dispatched(d)
        _accepted(d)
        _department_led(d, co=[d.street_a])
        summoned = services.event_accept(actor=u["dept_handler"], event=_department_led(d))
        services.event_summon(actor=u["dept_handler"], event=summoned,
                              kind=Summons.Kind.CONSULTATION, units=[d.street_a],
                              subject="请甲街道参加会商", hours=48)
        # grid A: open events, the worker's reports of today
        new_event(d, location_unit=d.grid_a, title="网格内占道经营")
        _grid_report(d)
        _grid_report(d, on_spot="已劝离摊贩")
        # the events map: a located event in the new community (a new cluster)
        new_event(d, location_unit=community, lat=22.5604, lon=114.0604 + i / 1000,
                  title=f"和平{i}社区井盖缺失")
        # the citizen's own appeals
        _citizen_report(d, title=f"路灯不亮（第{i}次反映）")
        _citizen_dispatched(d)
        # the featured event's page: assignments, summonses, supervisions, timeline
        featured = services.event_add_co_handler(actor=u["dispatcher"], event=e.featured,
                                                 unit=community, note="社区协助劝导")
        services.event_summon(actor=u["street_handler"], event=featured,
                              kind=Summons.Kind.SUMMONS, units=[community, d.community_a],
                              subject=f"第{i}次联合整治", hours=24)
        featured = services.event_contact(actor=u["street_handler"], event=featured,
                                          note=f"第{i}次电话联系市民")
        services.event_urge(actor=u["event_supervisor"], event=featured, reason="请加快办理")
        _photo(featured, u["street_handler"], EventAttachment.Stage.HANDLING, f"整治{i}.png")
        # the citizen's appeal: callbacks, public timeline, photos
        _handled_again(d, e.mine, f"第{i}次回访：基本满意，偶尔闪烁")
        _photo(e.mine, u["street_handler"], EventAttachment.Stage.RESULT, f"修复{i}.png")
        # the responsible party's page: its replies
        services.external_respond(token=e.token, fixed=False, response=f"第{i}次回复：已安排保洁")


CASES = [
    # hotline (the district dispatcher registers calls)
    PinCase("GET events:hotline", "dispatcher", lambda d: f"/events/hotline/?phone={CALLER}"),
    PinCase("GET events:hotline_history", "dispatcher",
            lambda d: f"/events/hotline/history/?phone={CALLER}"),
    # the classifier's top 5 for a fixed text: the catalog rows do not change it
    PinCase("GET events:hotline_suggest", "dispatcher",
            lambda d: "/events/hotline/suggest/?text=店门口摆摊占道", lists=False),
    PinCase("GET events:hotline_places", "dispatcher",
            lambda d: "/events/hotline/places/?address=和平"),
    # the dispatch centre's queue, every tab
    PinCase("GET events:queue", "dispatcher", lambda d: "/events/queue/"),
    PinCase("GET events:queue?tab=disputed", "event_supervisor",
            lambda d: "/events/queue/?tab=disputed"),
    PinCase("GET events:queue?tab=extension", "dispatcher",
            lambda d: "/events/queue/?tab=extension"),
    PinCase("GET events:queue?tab=callback", "dispatcher",
            lambda d: "/events/queue/?tab=callback"),
    PinCase("GET events:queue?tab=external", "dispatcher",
            lambda d: "/events/queue/?tab=external"),
    PinCase("GET events:queue?tab=all", "dispatcher", lambda d: "/events/queue/?tab=all"),
    PinCase("GET events:queue?q", "dispatcher", lambda d: "/events/queue/?tab=all&q=占道"),
    # street A's handler inbox, every tab
    PinCase("GET events:inbox", "street_handler", lambda d: "/events/inbox/"),
    PinCase("GET events:inbox?tab=handling", "street_handler",
            lambda d: "/events/inbox/?tab=handling"),
    PinCase("GET events:inbox?tab=co", "street_handler", lambda d: "/events/inbox/?tab=co"),
    PinCase("GET events:inbox?tab=summons", "street_handler",
            lambda d: "/events/inbox/?tab=summons"),
    PinCase("GET events:inbox?tab=resolved", "street_handler",
            lambda d: "/events/inbox/?tab=resolved"),
    PinCase("GET events:inbox?tab=all", "street_handler", lambda d: "/events/inbox/?tab=all"),
    # the event page: the dispatcher's forms, the handler's owed summons responses
    PinCase("GET events:event_detail", "dispatcher",
            lambda d: f"/events/{_e(d).featured.number}/"),
    PinCase("GET events:event_detail?handler", "street_handler",
            lambda d: f"/events/{_e(d).featured.number}/"),
    PinCase("GET events:attachment", "dispatcher",
            lambda d: f"/events/attachments/{_e(d).photo.pk}/", lists=False),
    # the grid worker's phone
    PinCase("GET events:field_home", "grid_worker_a", lambda d: "/events/field/"),
    PinCase("GET events:field_report", "grid_worker_a", lambda d: "/events/field/report/"),
    PinCase("GET events:field_suggest", "grid_worker_a",
            lambda d: "/events/field/suggest/?description=井盖破损&q=井盖"),
    PinCase("GET events:report_place", "grid_worker_a",
            lambda d: "/events/report/place/?lat=22.51&lon=114.01", lists=False),
    # the citizen's portal
    PinCase("GET events:portal_report", "citizen", lambda d: "/events/report/"),
    PinCase("GET events:portal_mine", "citizen", lambda d: "/events/my/"),
    PinCase("GET events:portal_event", "citizen",
            lambda d: f"/events/my/{_e(d).mine.number}/"),
    PinCase("GET events:portal_photo", "citizen",
            lambda d: f"/events/my/photos/{_e(d).report_photo.pk}/", lists=False),
    # the links without an account
    PinCase("GET events:callback_link", None,
            lambda d: f"/events/callback/{_e(d).callback_token}/", lists=False),
    PinCase("GET events:external_task", None, lambda d: f"/events/external/{_e(d).token}/"),
    # the events map: clusters, heat, per community, a cluster's list
    PinCase("GET events:map", "dispatcher", lambda d: "/events/map/?state=all"),
    PinCase("GET events:map?layer=heat", "street_handler",
            lambda d: "/events/map/?layer=heat&state=open"),
    PinCase("GET events:map?layer=units", "dispatcher",
            lambda d: "/events/map/?layer=units&state=all"),
    PinCase("GET events:map?cell", "street_handler",
            lambda d: "/events/map/?state=all&unit=440399001000"
                      "&cell=114.00000,22.50000,114.10000,22.60000"),
    # the figures (this month, as the events grow)
    PinCase("GET events:figures", "event_supervisor", lambda d: "/events/figures/"),
    PinCase("GET events:figures?by=week", "street_dispatcher",
            lambda d: "/events/figures/?by=week"),
    # API
    PinCase("GET /api/dispatch-catalog", None, lambda d: "/api/dispatch-catalog"),
    PinCase("GET /api/dispatch-catalog/{category_code}", None,
            lambda d: f"/api/dispatch-catalog/{ROADS}"),
    PinCase("GET /api/events", "dispatcher", lambda d: "/api/events"),
    PinCase("GET /api/events?citizen", "citizen", lambda d: "/api/events"),
    PinCase("GET /api/events/{event_number}", "dispatcher",
            lambda d: f"/api/events/{_e(d).featured.number}"),
    PinCase("GET /api/events/{event_number}?citizen", "citizen",
            lambda d: f"/api/events/{_e(d).mine.number}"),
    PinCase("GET /api/events/{event_number}/updates", "dispatcher",
            lambda d: f"/api/events/{_e(d).featured.number}/updates"),
    PinCase("GET /api/events/{event_number}/updates?citizen", "citizen",
            lambda d: f"/api/events/{_e(d).mine.number}/updates"),
    PinCase("GET /api/events/figures", "event_supervisor",
            lambda d: "/api/events/figures?by=street"),
]
