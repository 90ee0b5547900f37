"""Who may call the hotline routes (see ``yiwang.access``).

The 12345 screen is for roles that register events (``events.intake_event``: the
dispatcher — the hotline operator — and the grid worker); everyone else gets 403. The
caller-history look-up lists only events in the operator's scope; category and place
suggestions are district-wide reference data.
"""

from typing import Any

from yiwang.access import ANY, SUBTREE, Rule, page

INTAKE: dict[str, Any] = {"dispatcher": ANY, "grid_worker": ANY, "superuser": ANY}

ROUTES: list[list[Rule]] = [
    page("GET|POST events:hotline", **INTAKE,
         note="The 12345 operator's screen; a valid call redirects to the confirmation."),
    page("GET events:hotline_history", dispatcher=SUBTREE, grid_worker=SUBTREE,
         superuser=SUBTREE, note="A caller's earlier appeals (?phone=), masked, in scope."),
    page("GET events:hotline_suggest", **INTAKE,
         note="Top-5 catalog items for ?text= with scores and implied handlers."),
    page("GET events:hotline_places", **INTAKE,
         note="Streets and communities matching ?address=."),
]
