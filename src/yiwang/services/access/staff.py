"""Who may call the staff pages (see ``yiwang.access``).

Case readers are the roles with ``services.view_case`` (window clerk, approver, handler,
supervisor, district admin); the others get 403 before any case is looked up. Each
transition has its own route, so this table says which role may do what; the page
re-checks the case's state and revision and answers a conflict with the case page and
a message (a redirect), so a declared ✓ holds whatever state the case is in.
"""

from typing import Any

from yiwang.access import FORBIDDEN, SEES_SUBTREE, SUBTREE, Rule, page

# Staff roles that cannot read cases at all.
NO_CASES: dict[str, Any] = {"dispatcher": FORBIDDEN, "grid_worker": FORBIDDEN,
                            "data_steward": FORBIDDEN, "auditor": FORBIDDEN}


def _action(name: str, *roles: str, note: str = "") -> list[Rule]:
    """A transition: ``roles`` may perform it on cases in scope; other case readers see
    the case but get 403 (404 outside their scope)."""
    audiences: dict[str, Any] = {"staff": SEES_SUBTREE, **NO_CASES,
                                 **{role: SUBTREE for role in roles}, "superuser": SUBTREE}
    return page(f"POST services:case_action_{name}", note=note, **audiences)


ROUTES: list[list[Rule]] = [
    page("GET services:inbox", staff=SUBTREE, **NO_CASES,
         note="Window and department queues; both sides of a case (intake unit, department)."),
    page("GET services:overdue", staff=SUBTREE, **NO_CASES,
         note="超时件 and warnings per handling department in scope; ?format=csv exports."),
    page("GET services:case_detail", staff=SUBTREE, **NO_CASES),
    page("POST services:case_applicant_reveal", staff=SEES_SUBTREE, **NO_CASES,
         window_clerk=SUBTREE, approver=SUBTREE, superuser=SUBTREE,
         note="The applicant's full ID and phone number; audited."),
    _action("accept", "window_clerk"),
    _action("accept_with_deficiency", "window_clerk"),
    _action("refuse", "window_clerk"),
    _action("request_supplement", "window_clerk", "approver", "handler"),
    _action("start_review", "approver", "handler"),
    _action("suspend", "approver", "handler"),
    _action("resume", "approver", "handler"),
    _action("request_extension", "approver", "handler"),
    _action("decide_extension", "approver", "supervisor",
            note="Not by the person who asked for the extension (403)."),
    _action("approve", "approver"),
    _action("reject", "approver"),
    _action("deliver", "window_clerk", "approver"),
    _action("close", "window_clerk", "approver"),
    _action("terminate", "window_clerk", "approver", "handler"),
    _action("claim", "approver", "handler"),
    _action("assign", "approver"),
]
