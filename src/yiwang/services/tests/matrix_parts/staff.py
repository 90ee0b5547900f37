"""Authorization-matrix fixtures of the staff routes (see ``services/tests/matrix.py``).

Every transition route gets one body that is valid input for any of them; the world's
cases are submitted, so intake actions succeed and the others answer with the case page
and a "not possible now" message (a redirect), which the matrix counts as allowed.
"""

from typing import Any

from yiwang.core.testing.matrix import Caller, Probe, World
from yiwang.services.forms_cases import STAFF_ACTIONS


def _colleague(world: World, probe: Probe | None) -> int | str:
    """A reviewer in the probed case's unit (the unit's peer is a handler)."""
    for peer in world.peers.values():
        if probe is not None and peer.org_unit is not None \
                and peer.org_unit.path == probe.unit_path:
            return peer.pk
    return ""


def _action_body(name: str) -> Any:
    def body(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
        fields = {"revision": 0, "reason": "矩阵测试", "opinion": "同意",
                  "procedure": "hearing", "days": 3, "method": "download",
                  "other_items": "营业执照复印件", "decision": "approve",
                  "assignee": _colleague(world, probe)}
        return {f"{name}-{key}": value for key, value in fields.items()}
    return body


PAYLOADS: dict[str, Any] = {
    **{f"POST services:case_action_{name}": _action_body(name) for name in STAFF_ACTIONS},
}
