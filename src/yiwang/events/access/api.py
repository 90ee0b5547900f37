"""Who may call the 一网统管 JSON API (see ``yiwang.access``).

Scoped like the pages: event readers are the roles with ``events.view_event`` (handler,
dispatcher, grid worker, supervisor, district admin), each in its subtree (plus the
events its unit co-handles); roles without it find no event (404, or an empty list);
citizens and enterprises read the events they reported. Each transition is its own
operation: the roles holding its permission act in their subtree, other readers get 403
(404 outside), and the transition's unit decides (``services.TRANSITIONS``: the dispatch
centre, the lead handler or a co-handler), so a street dispatcher is refused on an
event of the district centre's queue; that, the 409 and the 422 are tested in
``events/tests/test_api_actions.py``.
"""

from typing import Any

from yiwang.access import (
    ANY,
    EMPTY,
    LOGIN,
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
from yiwang.accounts.roles import ROLE_PERMISSIONS, Role
from yiwang.events.api import ACTION_PATHS
from yiwang.events.services import TRANSITIONS

READERS = tuple(r.value for r in Role if "events.view_event" in ROLE_PERMISSIONS[r])
NON_READERS = tuple(r.value for r in Role if r.value not in READERS)
INTAKE = tuple(r.value for r in Role if "events.intake_event" in ROLE_PERMISSIONS[r])
SEES_OWN = Access(Outcome.FORBIDDEN, Scope.OWN)  # the reporter sees it, may not act


def _roles(access: Any, roles: tuple[str, ...]) -> dict[str, Any]:
    return {role: access for role in roles}


def _holding(*perms: str) -> tuple[str, ...]:
    return tuple(r for r in READERS if set(perms) & ROLE_PERMISSIONS[Role(r)])


def _action(name: str) -> list[Rule]:
    perms = (TRANSITIONS[name].perm or "").split("|")
    note = {
        "callback": "The reporter answers for themselves (回访 through the portal).",
        "decide_extension": "Not by the person who asked for the extension (403).",
        "co_done": "Only a co-handling unit's staff, when the event has one.",
    }.get(name, "409 stale revision; 422 when the state does not allow it.")
    return api(f"POST /api/events/{{event_number}}/{ACTION_PATHS[name]}", note=note,
               citizens=OWN if name == "callback" else SEES_OWN,
               **{**_roles(NOT_FOUND, NON_READERS), **_roles(SEES_SUBTREE, READERS),
                  **_roles(SUBTREE, _holding(*perms))}, superuser=SUBTREE)


ROUTES: list[list[Rule]] = [
    api("GET /api/dispatch-catalog", everyone=ANY, note="The published 派单目录."),
    api("GET /api/dispatch-catalog/{category_code}", everyone=ANY),
    api("POST /api/events/classify", **_roles(ANY, READERS), superuser=ANY,
        note="Staff who read or register events; must answer in ~10 ms."),
    api("GET /api/events", citizens=OWN, **_roles(EMPTY, NON_READERS),
        **_roles(SUBTREE, READERS), superuser=SUBTREE,
        note="Also the events a unit in scope co-handles."),
    api("POST /api/events", citizens=ANY, **_roles(ANY, INTAKE), superuser=ANY,
        note="Staff: hotline or grid (events.intake_event); citizens: portal, as reporter. "
             "Idempotency-Key: a retry answers 200 with the same event."),
    api("POST /api/events/opinion-feed", **_roles(ANY, INTAKE), superuser=ANY,
        note="网络舆情 import; idempotent by URL."),
    api("POST /api/events/video-ai", everyone=LOGIN,
        note="Only with a video-AI client system's key and a valid signature "
             "(test_channels_video_ai.py); a session grants nothing."),
    api("GET /api/events/{event_number}", citizens=OWN, **_roles(NOT_FOUND, NON_READERS),
        **_roles(SUBTREE, READERS), superuser=SUBTREE,
        note="Also for co-handling and summoned units."),
    api("GET /api/events/{event_number}/updates", citizens=OWN,
        **_roles(NOT_FOUND, NON_READERS), **_roles(SUBTREE, READERS), superuser=SUBTREE,
        note="Citizens see the public steps only."),
    *(_action(name) for name in TRANSITIONS),
]

# --- figures (考核指标) ---------------------------------------------------------------------
ROUTES += [
    api("GET /api/events/figures", **_roles(SUBTREE, READERS), superuser=SUBTREE,
        note="The figures page's numbers over the units of the caller's subtree; other "
             "roles and citizens 403."),
]
