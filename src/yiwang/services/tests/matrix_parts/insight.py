"""Authorization-matrix fixtures of the insight routes (see ``services/tests/matrix.py``).

The world's rectifications are open, so ``contact`` and ``appeal`` succeed; ``rectify``,
``callback`` and ``decide_appeal`` are refused by the state machine after authorization,
which sends the user back to the page (a redirect) with the reason.
"""

from __future__ import annotations

from typing import Any

from yiwang.services.models import Rectification


def _revision(probe: Any) -> int:
    found = Rectification.objects.filter(pk=probe.value).values_list("revision", flat=True) \
        if probe is not None else []
    return next(iter(found), 0)


def _step(name: str, **fields: str) -> Any:
    return lambda world, caller, probe: {
        f"{name}-revision": _revision(probe), **{f"{name}-{k}": v for k, v in fields.items()}}


PAYLOADS: dict[str, Any] = {
    "POST services:rectification_action_contact": _step(
        "contact", verification="核实属实", contact_note="电话联系申请人"),
    "POST services:rectification_action_rectify": _step("rectify", result="优化流程"),
    "POST services:rectification_action_callback": _step("callback", level="4", note="认可"),
    "POST services:rectification_action_appeal": _step("appeal", reason="评价与办件无关"),
    "POST services:rectification_action_decide_appeal": _step(
        "decide_appeal", outcome="uphold", decision="经复核属实"),
}
