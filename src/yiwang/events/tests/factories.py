"""Event-center test data on top of the core test district."""

from __future__ import annotations

from typing import Any

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import District, make_staff
from yiwang.events import catalog as catalog_service
from yiwang.events import services
from yiwang.events.models import Category, Channel, Event


def load_catalog() -> None:
    result = catalog_service.catalog_load(
        actor=None, system=True, publish=True,
        data=catalog_service.shared_catalog_path().read_bytes())
    assert result.catalog is not None, result.errors


def add_event_staff(d: District) -> None:
    """Dispatchers at the district and street A, handlers, a supervisor, a co-handler."""
    d.users.update({
        "dispatcher": make_staff("dispatcher", d.district, Role.DISPATCHER),
        "dispatcher2": make_staff("dispatcher2", d.district, Role.DISPATCHER),
        "street_dispatcher": make_staff("street_dispatcher", d.street_a, Role.DISPATCHER),
        "street_handler": make_staff("street_handler", d.street_a, Role.HANDLER),
        "street_b_handler": make_staff("street_b_handler", d.street_b, Role.HANDLER),
        "event_supervisor": make_staff("event_supervisor", d.district, Role.SUPERVISOR),
    })


def item(code: str) -> Category:
    return Category.objects.get(catalog__status="published", code=code)


def new_event(d: District, *, code: str = "010101", appeal_type: str = "complaint",
              **extra: Any) -> Event:
    defaults: dict[str, Any] = {
        "channel": Channel.HOTLINE, "title": "店门口摆摊占道",
        "description": "甲街道某路口餐馆桌椅摆到人行道上，行人只能走机动车道。",
        "category": item(code), "location_unit": d.community_a, "street": d.street_a,
        "address": "甲街道甲一社区和平路1号", "reporter_phone": "13800138001",
        "reporter_name": "王先生"}
    defaults.update(extra)
    return services.event_create(actor=d.users["dispatcher"], appeal_type=appeal_type,
                                 **defaults)
