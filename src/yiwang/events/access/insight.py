"""Who may call the insight routes (see ``yiwang.access``): the event figures (考核指标)."""

from yiwang.access import SUBTREE, Rule, page
from yiwang.accounts.roles import ROLE_PERMISSIONS, Role

# Event readers (events.view_event); the page counts only the units of the caller's subtree.
_READERS = {r.value: SUBTREE for r in Role if "events.view_event" in ROLE_PERMISSIONS[r]}

ROUTES: list[list[Rule]] = [
    page("GET events:figures", **_READERS, superuser=SUBTREE,
         note="Figures of the units in the caller's subtree (events.view_event); "
              "?format=csv|xlsx exports the same figures."),
]
