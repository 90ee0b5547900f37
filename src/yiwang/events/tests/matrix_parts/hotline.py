"""Authorization-matrix fixtures of the hotline routes (see ``events/tests/matrix.py``).

A valid call (so an allowed POST registers it and redirects to the confirmation), and a
caller number that every world event carries (``dispatch.extend_world`` sets it), so the
history look-up would show any event outside the caller's scope.
"""

from typing import Any

from yiwang.core.testing.matrix import Caller, Probe, World

WORLD_PHONE = "13800138009"


def _call(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    return {"call_id": f"matrix-{caller.label}", "phone": "13800138001",
            "description": "店门口摆摊占道，桌椅摆到人行道上", "appeal_type": "complaint",
            "address": "甲街道和平路1号", "reporter_name": "王先生"}


PAYLOADS: dict[str, Any] = {"POST events:hotline": _call}
QUERIES: dict[str, dict[str, Any]] = {
    "events:hotline_history": {"phone": WORLD_PHONE},
    "events:hotline_suggest": {"text": "店门口摆摊占道"},
    "events:hotline_places": {"address": "甲街道"},
}
