"""Who may call the dispatch routes: the queue, the inbox, the event page and one route
per transition (see ``yiwang.access``).

Event readers are the roles with ``events.view_event`` (handler, dispatcher, grid
worker, supervisor, district admin); the others get 403 before any event is looked up.
Each transition has its own route, so this table says which role may do what; the page
re-checks the event's state and revision and answers a conflict with the event page and
a message (a redirect), so a declared ✓ holds whatever state the event is in.
"""

from typing import Any

from yiwang.access import SEES_SUBTREE, SUBTREE, Rule, page
from yiwang.accounts.roles import ROLE_PERMISSIONS, Role
from yiwang.events.forms import STAFF_ACTIONS
from yiwang.events.services import TRANSITIONS

READERS = tuple(r.value for r in Role if "events.view_event" in ROLE_PERMISSIONS[r])


def _holding(*perms: str) -> tuple[str, ...]:
    return tuple(r for r in READERS if set(perms) & ROLE_PERMISSIONS[Role(r)])


def _roles(access: Any, roles: tuple[str, ...]) -> dict[str, Any]:
    return {role: access for role in roles}


def _action(name: str) -> list[Rule]:
    """A transition: roles holding its permission may perform it on events in scope;
    other event readers see the event but get 403 (404 outside their scope)."""
    perms = (TRANSITIONS[name].perm or "").split("|")
    note = {"decide_extension": "Not by the person who asked for the extension (403).",
            "co_done": "Only a co-handling unit's staff, when the event has one."}.get(name, "")
    return page(f"POST events:event_action_{name}", note=note,
                **{**_roles(SEES_SUBTREE, READERS), **_roles(SUBTREE, _holding(*perms))},
                superuser=SUBTREE)


ROUTES: list[list[Rule]] = [
    page("GET events:queue", **_roles(SUBTREE, _holding(
        "events.dispatch_event", "events.supervise_event", "events.callback_event")),
        superuser=SUBTREE,
        note="The dispatch centre's queue: 待分拨, 退单争议, 延期申请, 待回访, 外循环, 全部."),
    page("GET events:inbox", **_roles(SUBTREE, _holding(
        "events.handle_event", "events.supervise_event")), superuser=SUBTREE,
        note="The handler inbox: 待签收, 办理中, 协办, 吹哨/会商, 待回访, 全部."),
    page("GET events:event_detail", **_roles(SUBTREE, READERS), superuser=SUBTREE,
         note="Also for co-handling and summoned units outside the event's own units."),
    page("POST events:event_reporter_reveal", **{
        **_roles(SEES_SUBTREE, READERS),
        **_roles(SUBTREE, _holding("accounts.view_personal_data", "events.handle_event",
                                   "events.callback_event"))}, superuser=SUBTREE,
         note="The reporter's name and phone in full for those who must call them; "
              "audited. Anonymous reports stay hidden outside the dispatch centre."),
    page("GET events:attachment", **_roles(SUBTREE, READERS), superuser=SUBTREE,
         note="A photo or file of an event readable by the caller; audited."),
    page("POST events:summons_respond", **_roles(SUBTREE, _holding("events.handle_event")),
         superuser=SUBTREE, note="A called unit answers a summons (吹哨报到) or 会商."),
    *(_action(name) for name in STAFF_ACTIONS),
]
