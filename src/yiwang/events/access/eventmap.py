"""Who may call the events map (see ``yiwang.access``): every event reader, in their
subtree — the map counts and lists only events whose dispatch centre, lead handler or
location lies there, and draws only the boundaries of their subtree."""

from typing import Any

from yiwang.access import SUBTREE, Rule, page
from yiwang.accounts.roles import ROLE_PERMISSIONS, Role

READERS = tuple(r.value for r in Role if "events.view_event" in ROLE_PERMISSIONS[r])


def _roles(access: Any, roles: tuple[str, ...]) -> dict[str, Any]:
    return {role: access for role in roles}


ROUTES: list[list[Rule]] = [
    page("GET events:map", **_roles(SUBTREE, READERS), superuser=SUBTREE,
         note="The events map (一张图): clusters, heat and events per community; "
              "未定位 events listed apart."),
]
