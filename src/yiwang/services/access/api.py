"""Who may call the services API (see ``yiwang.access``).

Scoped like the pages: citizens and enterprises act on their own cases and ratings; staff
read what lies in their subtree with the ``view_*`` permissions of their role (roles
without them get 404 or an empty list, so nothing leaks) and act with the permission of
each transition (``services.cases.TRANSITION_PERMISSIONS``).
"""

from yiwang.access import (
    ANY,
    EMPTY,
    FORBIDDEN,
    NOT_FOUND,
    OWN,
    SEES_SUBTREE,
    SUBTREE,
    Access,
    Outcome,
    Rule,
    Scope,
    api,
)

# The applicant sees their own case but the transition is staff work: 403 (404 others').
SEES_OWN = Access(Outcome.FORBIDDEN, Scope.OWN)
# Staff roles without services.view_* permissions: no case, matter version or rating of
# theirs exists.
NO_SERVICES = {"dispatcher": NOT_FOUND, "grid_worker": NOT_FOUND, "data_steward": NOT_FOUND,
               "auditor": NOT_FOUND}
NO_SERVICES_LIST = {role: EMPTY for role in NO_SERVICES}
CASE_READERS = {"window_clerk": SUBTREE, "approver": SUBTREE, "handler": SUBTREE,
                "supervisor": SUBTREE, "district_admin": SUBTREE, "superuser": SUBTREE}
ALL_CASE_READERS_SEE = {role: SEES_SUBTREE for role in CASE_READERS}
# District admins keep the catalog and see cases, not ratings.
RATING_READERS = {r: a for r, a in CASE_READERS.items() if r != "district_admin"}
RATING_READERS_SEE = {role: SEES_SUBTREE for role in RATING_READERS}


def case_action(name: str, *, applicant: bool = False, **acting: Access) -> list[Rule]:
    """A transition: the roles holding its permission act in their subtree, other case
    readers are refused (403, 404 outside), the rest find nothing."""
    return api(f"POST /api/cases/{{number}}/actions/{name}", citizens=OWN if applicant
               else SEES_OWN, **{**ALL_CASE_READERS_SEE, **acting}, **NO_SERVICES,
               note="409 stale revision; 422 when the case's state does not allow it.")


CLERK = {"window_clerk": SUBTREE, "superuser": SUBTREE}
REVIEWER = {"approver": SUBTREE, "handler": SUBTREE, "superuser": SUBTREE}
DECIDER = {"approver": SUBTREE, "superuser": SUBTREE}
INTAKE_OR_REVIEW = {**CLERK, **REVIEWER}
INTAKE_OR_DECIDE = {**CLERK, **DECIDER}

ROUTES: list[list[Rule]] = [
    # catalog
    api("GET /api/matters", everyone=ANY, note="The published catalog."),
    api("GET /api/matters/{matter_code}", everyone=ANY,
        note="The 办事指南 of the version in force."),
    api("GET /api/matters/{matter_code}/versions", citizens=NOT_FOUND, **CASE_READERS,
        **NO_SERVICES),
    api("GET /api/matter-versions/{version_id}", citizens=NOT_FOUND, **CASE_READERS,
        **NO_SERVICES),
    api("GET /api/matter-versions/{version_id}/diff", citizens=NOT_FOUND, **CASE_READERS,
        **NO_SERVICES),
    api("GET /api/catalog/report", citizens=EMPTY, **CASE_READERS, **NO_SERVICES_LIST),
    # cases
    api("GET /api/cases", citizens=OWN, **CASE_READERS, **NO_SERVICES_LIST),
    api("POST /api/cases", citizens=ANY, window_clerk=ANY,
        note="Citizens and enterprises for themselves; clerks (services.add_case) for a "
             "registered applicant at their unit's window."),
    api("GET /api/cases/{number}", citizens=OWN, **CASE_READERS, **NO_SERVICES),
    api("GET /api/cases/{number}/events", citizens=OWN, **CASE_READERS, **NO_SERVICES),
    case_action("submit", applicant=True, **CLERK),
    case_action("accept", **CLERK),
    case_action("accept_with_deficiency", **CLERK),
    case_action("refuse", **CLERK),
    case_action("request_supplement", **INTAKE_OR_REVIEW),
    case_action("supplement", applicant=True, **CLERK),
    case_action("claim", **REVIEWER),
    case_action("assign", **DECIDER),
    case_action("start_review", **REVIEWER),
    case_action("suspend", **REVIEWER),
    case_action("resume", **REVIEWER),
    case_action("request_extension", **REVIEWER),
    case_action("decide_extension", supervisor=SUBTREE, **DECIDER),
    case_action("approve", **DECIDER),
    case_action("reject", **DECIDER),
    case_action("deliver", **INTAKE_OR_DECIDE),
    case_action("close", **INTAKE_OR_DECIDE),
    case_action("withdraw", applicant=True),
    case_action("terminate", **INTAKE_OR_REVIEW),
    api("GET /api/cases/{number}/materials", citizens=OWN, **CASE_READERS, **NO_SERVICES),
    api("POST /api/cases/{number}/materials", citizens=OWN,
        **{**ALL_CASE_READERS_SEE, **INTAKE_OR_REVIEW}, **NO_SERVICES,
        note="Applicants: drafts and open supplement items; staff: materials and results."),
    api("GET /api/materials/{material_id}", citizens=OWN, **CASE_READERS, **NO_SERVICES,
        note="A download; audited."),
    # 好差评
    api("POST /api/cases/{number}/ratings", citizens=OWN, **ALL_CASE_READERS_SEE,
        **NO_SERVICES, note="The applicant rates a decided case once per channel."),
    api("GET /api/ratings", citizens=OWN, **RATING_READERS, **NO_SERVICES_LIST,
        district_admin=EMPTY),
    api("GET /api/rectifications", citizens=EMPTY, **RATING_READERS, **NO_SERVICES_LIST,
        district_admin=EMPTY),
    api("GET /api/rectifications/{rectification_id}", citizens=NOT_FOUND, **RATING_READERS,
        **NO_SERVICES, district_admin=NOT_FOUND),
    *[api(f"POST /api/rectifications/{{rectification_id}}/actions/{name}",
          citizens=NOT_FOUND, **{**RATING_READERS_SEE, **acting}, **NO_SERVICES,
          district_admin=NOT_FOUND)
      for name, acting in [
          ("contact", REVIEWER), ("rectify", REVIEWER), ("callback", REVIEWER),
          ("appeal", REVIEWER),
          ("decide_appeal", {"supervisor": SUBTREE, "superuser": SUBTREE})]],
    # statistics
    api("GET /api/statistics/services", **CASE_READERS, **{r: FORBIDDEN for r in NO_SERVICES},
        note="The statistics page's figures, over the caller's scope."),
]
