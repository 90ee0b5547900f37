"""Authorization-matrix fixtures of the open311 routes (see ``events/tests/matrix.py``).

``extend_world`` registers an Open311 client system and one request it sent, so the
public lists are not empty and ``tokens/{token}`` has a token to find. The ``event``
probes of the shared world are portal appeals, which Open311 does not publish (only
channels in ``YIWANG_OPEN311_PUBLIC_CHANNELS``, by default Open311's own): for
``requests/{event_number}`` they are skipped here and the visibility rules are tested in
``test_open311_requests.py``; the ``missing`` probe still runs.
"""

from __future__ import annotations

from typing import Any

from yiwang.core.testing.matrix import Caller, Probe, World
from yiwang.events.clients import client_issue
from yiwang.events.models import Category, Channel
from yiwang.events.open311_impl.submit import token_of
from yiwang.events.services import event_create


def extend_world(world: World) -> None:
    client, _key = client_issue(actor=None, system=True, name="matrix Open311 client",
                                kind="open311", unit=world.district.district)
    category = Category.objects.get(catalog__status="published", code="010102")
    event = event_create(actor=None, system=True, channel=Channel.OPEN311,
                         appeal_type="complaint", title="流动摊贩",
                         description="地铁口有人推车卖水果", category=category,
                         source_ref=f"{client.pk}:matrix-token")
    world.extra["open311"] = {"client": client, "event": event, "token": token_of(event)}


def _token_probes(world: World, caller: Caller) -> list[Probe]:
    return [Probe("any", world.extra["open311"]["token"]),
            Probe("missing", "0-no-such-token", exists=False)]


PROBES: dict[str, Any] = {"open311_token": _token_probes}
KWARG_KINDS: dict[str, str] = {"request_token": "open311_token"}
_NOT_PUBLISHED = ("a portal appeal: Open311 publishes only its public channels "
                  "(test_open311_requests.py)")
SKIP_PROBES: dict[tuple[str, str], str] = {
    (f"open311:request_{fmt}", label): _NOT_PUBLISHED
    for fmt in ("xml", "json") for label in ("own", "peer", "outside")
}
