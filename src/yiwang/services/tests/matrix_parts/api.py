"""Authorization-matrix fixtures of the services API (see ``services/tests/matrix.py``).

The world's cases are *submitted* and its rectifications *open*: the transitions that
start there (accept, refuse, 补正, withdraw, contact, appeal) are called for real; the
others answer 422 to the roles that hold their permission (the state does not allow
them), so their in-scope probes are skipped here and each transition is tested from its
own state in ``test_api_cases.py`` / ``test_api_ratings.py``.
"""

from typing import Any

from yiwang.core.testing.matrix import CITIZEN, Caller, Probe, World
from yiwang.services.models import Case, Rectification


def _case_revision(probe: Probe | None) -> int:
    if probe is None:
        return 0
    found = Case.objects.filter(number=probe.value).values_list("revision", flat=True)
    return found.first() or 0


def _rectification_revision(probe: Probe | None) -> int:
    if probe is None or not isinstance(probe.value, int):
        return 0
    found = Rectification.objects.filter(pk=probe.value).values_list("revision", flat=True)
    return found.first() or 0


def _new_case(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    version = world.extra["services"]["units"][world.home_unit(caller).code]["version"]
    body: dict[str, Any] = {"matter_code": version.implementation_code,
                            "form_data": {"project": "矩阵示范项目"}}
    if caller.user is not None and caller.user.kind == "staff":
        citizen = next(c.user for c in world.callers if c.audience == CITIZEN)
        body["applicant_id_number"] = citizen.id_number
    return body


def _case_body(**fields: Any) -> Any:
    return lambda w, c, p: {"revision": _case_revision(p), **fields}


def _rectification_body(**fields: Any) -> Any:
    return lambda w, c, p: {"revision": _rectification_revision(p), **fields}


CASE = "/api/cases/{number}/actions/"
RECTIFICATION = "/api/rectifications/{rectification_id}/actions/"
ITEMS = [{"material": None, "description": "建设工程规划许可证"}]

PAYLOADS: dict[str, Any] = {
    "POST /api/cases": _new_case,
    f"POST {CASE}submit": _case_body(),
    f"POST {CASE}accept": _case_body(),
    f"POST {CASE}accept_with_deficiency": _case_body(items=ITEMS),
    f"POST {CASE}refuse": _case_body(reason="不属于本部门受理范围"),
    f"POST {CASE}request_supplement": _case_body(items=ITEMS, reason="材料不齐"),
    f"POST {CASE}supplement": _case_body(),
    f"POST {CASE}claim": _case_body(),
    f"POST {CASE}assign": _case_body(assignee="approver_a"),
    f"POST {CASE}start_review": _case_body(),
    f"POST {CASE}suspend": _case_body(procedure="hearing", reason="需要听证"),
    f"POST {CASE}resume": _case_body(),
    f"POST {CASE}request_extension": _case_body(days=5, reason="需要现场核查"),
    f"POST {CASE}decide_extension": _case_body(approve=True, reason="同意"),
    f"POST {CASE}approve": _case_body(opinion="符合条件"),
    f"POST {CASE}reject": _case_body(reason="不符合条件"),
    f"POST {CASE}deliver": _case_body(method="download"),
    f"POST {CASE}close": _case_body(),
    f"POST {CASE}withdraw": _case_body(reason="不再需要"),
    f"POST {CASE}terminate": _case_body(reason="逾期未补正"),
    "POST /api/cases/{number}/ratings": lambda w, c, p: {
        "level": 4, "channel": "mobile", "tags": ["态度好"], "text": ""},
    f"POST {RECTIFICATION}contact": _rectification_body(
        verification="核实属实", contact_note="电话联系申请人"),
    f"POST {RECTIFICATION}rectify": _rectification_body(result="已优化流程"),
    f"POST {RECTIFICATION}callback": _rectification_body(level=4, note="满意"),
    f"POST {RECTIFICATION}appeal": _rectification_body(reason="评价与办件无关"),
    f"POST {RECTIFICATION}decide_appeal": _rectification_body(uphold=True, decision="属实"),
}

NOT_FROM_SUBMITTED = "the world's case is submitted: this transition answers 422 there " \
                     "(tested from its own state in test_api_cases.py)"
SKIP_PROBES: dict[tuple[str, str], str] = {
    # (The superuser's scope covers the outside unit too.)
    **{(f"{CASE}{name}", label): NOT_FROM_SUBMITTED for name in (
        "submit", "supplement", "claim", "assign", "start_review", "suspend", "resume",
        "request_extension", "decide_extension", "approve", "reject", "deliver", "close",
        "terminate") for label in ("peer", "outside")},
    (f"{CASE}submit", "own"): NOT_FROM_SUBMITTED,
    (f"{CASE}supplement", "own"): NOT_FROM_SUBMITTED,
    **{(f"{RECTIFICATION}{name}", label): "the world's rectification is open: this step "
       "answers 422 there (tested in test_api_ratings.py)"
       for name in ("rectify", "callback", "decide_appeal") for label in ("peer", "outside")},
    ("/api/cases/{number}/ratings", "own"):
        "the world's own case is not decided yet: 422 (tested in test_api_ratings.py)",
    # The matrix sends JSON bodies; an upload is multipart, so an allowed caller meets
    # "choose a file" (422). GET shares the route: test_api_materials.py covers both.
    ("/api/cases/{number}/materials", "own"): "uploads are multipart (test_api_materials.py)",
    ("/api/cases/{number}/materials", "peer"): "uploads are multipart (test_api_materials.py)",
    ("/api/cases/{number}/materials", "outside"):
        "uploads are multipart; the superuser's scope covers it (test_api_materials.py)",
}
