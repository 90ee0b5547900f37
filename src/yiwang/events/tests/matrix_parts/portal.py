"""Authorization-matrix fixtures of the portal routes (see ``events/tests/matrix.py``).

``extend_world`` adds a photo to every event of the shared world (the citizens' own and
the units' events of the peer reporter), a resolved hotline event whose SMS callback
link is ``callback_token``'s real probe, and an external-loop task whose secret is
``external_token``'s. Made-up tokens must answer 404 like a missing object.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.core.testing.matrix import CITIZEN, ENTERPRISE, Caller, Probe, World
from yiwang.events import callbacks, services
from yiwang.events.models import (
    Category,
    Channel,
    Event,
    EventAttachment,
    ExternalTask,
    ResponsibleParty,
)
from yiwang.events.tests.photos import png_bytes

MISSING_PHOTO = 987_654_321


def _photo(event: Event) -> EventAttachment:
    name = default_storage.save("events/matrix/photo.png", ContentFile(png_bytes()))
    data = png_bytes()
    return EventAttachment.objects.create(
        event=event, stage=EventAttachment.Stage.REPORT, file=name, original_name="p.png",
        content_type="image/png", size=len(data), sha256="0" * 64)


def extend_world(world: World) -> None:
    data = world.extra["events"]
    photos: dict[str, Any] = {"units": {}, "own": {}}
    for code, objects in data["units"].items():
        photos["units"][code] = _photo(objects["event"])
    for user_id, objects in data["own"].items():
        photos["own"][user_id] = _photo(objects["event"])
    category = Category.objects.get(catalog__status="published", code="010101")
    resolved = services.event_create(
        actor=None, system=True, channel=Channel.HOTLINE, appeal_type="complaint",
        title="路灯不亮", description="和平路路灯坏了三天", category=category,
        reporter_phone="13800138009", reporter_name="李女士")
    Event.objects.filter(pk=resolved.pk).update(status="resolved", resolution="已修复")
    external = services.event_create(
        actor=None, system=True, channel=Channel.HOTLINE, appeal_type="complaint",
        title="小区垃圾堆放", description="小区门口垃圾两天没清", category=category)
    Event.objects.filter(pk=external.pk).update(status="external")
    party = ResponsibleParty.objects.create(
        name="矩阵物业", kind="property", phone="13800138010", unit=world.district.street_a)
    secret = "matrix-external-secret-0001"
    ExternalTask.objects.create(event=external, party=party, token=secret,
                                token_hash=services._token_hash(secret),
                                due_at=timezone.now() + dt.timedelta(days=5))
    world.extra["events_portal"] = {
        "photos": photos, "callback_token": callbacks.callback_token(resolved),
        "external_token": secret}


def _objects(world: World) -> dict[str, Any]:
    return world.extra["events_portal"]  # type: ignore[no-any-return]


def _photo_probes(world: World, caller: Caller) -> list[Probe]:
    photos = _objects(world)["photos"]
    reporter = world.extra["events"]["reporter"]
    probes: list[Probe] = []
    if caller.audience in (CITIZEN, ENTERPRISE) and caller.user is not None:
        mine = photos["own"][caller.user.pk]
        probes.append(Probe("own", mine.pk, caller.user.pk, world.district.district.path))
    for label, unit in (("peer", world.home_unit(caller)), ("outside", world.outside_unit(caller))):
        probes.append(Probe(label, photos["units"][unit.code].pk, reporter.pk, unit.path))
    return [*probes, Probe("missing", MISSING_PHOTO, exists=False)]


def _callback_probes(world: World, caller: Caller) -> list[Probe]:
    return [Probe("any", _objects(world)["callback_token"]),
            Probe("missing", "eyJuIjoiMSIsInIiOjF9:made-up:signature", exists=False)]


def _external_probes(world: World, caller: Caller) -> list[Probe]:
    return [Probe("any", _objects(world)["external_token"]),
            Probe("missing", "made-up-external-token", exists=False)]


PROBES: dict[str, Any] = {"event_photo": _photo_probes, "callback_token": _callback_probes,
                          "external_token": _external_probes}
KWARG_KINDS: dict[str, str] = {"photo_id": "event_photo", "callback_token": "callback_token",
                               "external_token": "external_token"}
QUERIES: dict[str, dict[str, Any]] = {"events:report_place": {"lat": 22.51, "lon": 114.01}}
PAYLOADS: dict[str, Any] = {
    "POST events:portal_report": lambda w, c, p: {
        "key": "matrix-portal-key-0001", "appeal_type": "complaint",
        "description": "和平路人行道上的井盖松动，踩上去会响", "address": "甲街道和平路1号",
        "phone": "13800138000",
        "photos": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")},
    "POST events:portal_callback": lambda w, c, p: {"satisfaction": "3"},
    "POST events:callback_link": lambda w, c, p: {"satisfaction": "3", "note": ""},
    "POST events:external_task": lambda w, c, p: {"fixed": "0", "response": "明天上午清理"},
}
