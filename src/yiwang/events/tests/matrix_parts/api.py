"""Authorization-matrix fixtures of the 一网统管 JSON API (see ``events/tests/matrix.py``).

The world's events are *dispatched* to the unit they lie in, from the district's
dispatch centre. The transitions that start there and concern the lead handler (accept,
contact, return) or any unit (urge) are called for real; the others answer 422 to the
roles holding their permission (the state does not allow them), or concern the dispatch
centre at the district, outside a street caller's scope (403): their in-scope probes are
skipped here, and each transition is tested from its own state, with each role, in
``test_api_actions.py``.
"""

from typing import Any

from yiwang.core.testing.matrix import Probe, World
from yiwang.events.models import Event
from yiwang.events.services import TRANSITIONS

MISSING_EVENT = "440399197001019999999"
EVENT = "/api/events/{event_number}/"


def _revision(probe: Probe | None) -> int:
    if probe is None:
        return 0
    found = Event.objects.filter(number=probe.value).values_list("revision", flat=True)
    return found.first() or 0


def _body(**fields: Any) -> Any:
    def make(world: World, caller: Any, probe: Probe | None) -> dict[str, Any]:
        values = {k: (v(world) if callable(v) else v) for k, v in fields.items()}
        return {"revision": _revision(probe), **values}
    return make


def _street_b(world: World) -> str:
    return world.district.street_b.code


PAYLOADS: dict[str, Any] = {
    "POST /api/events/classify": lambda w, c, p: {"text": "门口有人摆摊占道经营，桌椅摆到人行道"},
    "POST /api/events": lambda w, c, p: {
        "description": "和平路1号餐馆把桌椅摆到人行道上，行人只能走机动车道",
        "appeal_type": "complaint", "address": "和平路1号"},
    "POST /api/events/opinion-feed": lambda w, c, p: {"records": [{
        "source": "微博", "url": "https://weibo.com/matrix/1", "time": "2026-11-20 09:30",
        "text": "和平路路口天天有流动摊贩占道，晚上很吵", "place": "和平路"}]},
    f"POST {EVENT}dispatch": _body(unit=_street_b),
    f"POST {EVENT}accept": _body(),
    f"POST {EVENT}start": _body(),
    f"POST {EVENT}contact": _body(note="电话联系市民，约定明天上午现场处理"),
    f"POST {EVENT}resolve": _body(result="已清理占道桌椅"),
    f"POST {EVENT}callback": _body(satisfaction=3, method="phone"),
    f"POST {EVENT}close": _body(reason="市民无法联系"),
    f"POST {EVENT}reopen": _body(reason="复核未办结"),
    f"POST {EVENT}return": _body(reason="不属于本单位职责"),
    f"POST {EVENT}dispute-return": _body(reason="属于该单位职责"),
    f"POST {EVENT}decide-dispute": _body(uphold_return=True, reason="退单理由成立"),
    f"POST {EVENT}reassign": _body(unit=_street_b, reason="属地错误"),
    f"POST {EVENT}co-handlers": _body(unit=_street_b, note="协助执法"),
    f"POST {EVENT}co-done": _body(note="已协助"),
    f"POST {EVENT}extensions": _body(days=3, reason="需协调多部门"),
    f"POST {EVENT}decide-extension": _body(approve=True, note="同意"),
    f"POST {EVENT}merge": _body(into=MISSING_EVENT, reason="重复诉求"),
    f"POST {EVENT}summons": _body(kind="summons", units=lambda w: [_street_b(w)], subject="请到场",
                                  hours=24),
    f"POST {EVENT}escalate": _body(reason="超出街道处置能力"),
    f"POST {EVENT}urge": _body(reason="请加快办理"),
    f"POST {EVENT}send-external": _body(party=1),
}

# Transitions the world's dispatched events allow, for roles acting on the lead handler
# (accept, contact, return) or on any of the event's units (urge).
CALLED_FOR_REAL = {"accept", "contact", "return", "urge"}
_WHY = ("the world's event is dispatched from the district centre: this transition "
        "answers 422 there, or 403 to a street's dispatcher (test_api_actions.py)")


def _path(name: str) -> str:
    from yiwang.events.api import ACTION_PATHS

    return f"{EVENT}{ACTION_PATHS[name]}"


SKIP_PROBES: dict[tuple[str, str], str] = {
    **{(_path(name), label): _WHY for name in TRANSITIONS if name not in CALLED_FOR_REAL
       for label in ("peer", "outside")},
    (_path("callback"), "own"): "the reporter's own event is not resolved yet: 422 "
                                "(test_api_actions.py)",
}
