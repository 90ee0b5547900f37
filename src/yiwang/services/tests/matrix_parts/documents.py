"""Authorization-matrix fixtures of the documents routes (see ``services/tests/matrix.py``).

``services:case_notice`` answers 404 for a case without a notice, so it is probed with
*decided* cases (kwarg ``decided_number``): the world's closed cases, each given an
approval and its decision notice the first time a probe needs it. The probes run in the
test's transaction, so what they add is rolled back with it.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from yiwang.core.testing.matrix import SUPERUSER, Caller, Probe, World
from yiwang.services.documents import issue_decision_notice, notice_of
from yiwang.services.models import Case, CaseEvent, CaseStatus
from yiwang.services.tests.matrix import PROBES as SERVICE_PROBES


def _issue_notice(case: Case, issuer: Any) -> None:
    if notice_of(case) is not None:
        return
    now = timezone.now()
    CaseEvent.objects.create(case=case, action="approve", from_status=CaseStatus.UNDER_REVIEW,
                             to_status=CaseStatus.APPROVED, actor=issuer, reason="符合条件",
                             at=now)
    Case.objects.filter(pk=case.pk).update(decided_at=now)
    case.refresh_from_db()
    issue_decision_notice(case=case, actor=issuer)


def _decided_case_probes(world: World, caller: Caller) -> list[Probe]:
    issuer = next(c.user for c in world.callers if c.audience == SUPERUSER)
    probes = SERVICE_PROBES["closed_case"](world, caller)
    for probe in probes:
        if probe.exists:
            _issue_notice(Case.objects.get(number=probe.value), issuer)
    return probes


PROBES = {"decided_case": _decided_case_probes}
KWARG_KINDS = {"decided_number": "decided_case"}
