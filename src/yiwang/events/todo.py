"""The workbench's "my to-do" for events: what waits for the signed-in staff member.

Register in ``EventsConfig.ready`` with ``register_todo_provider(event_todos)``. Every
count is capped, so the workbench stays one cheap query per item whatever the backlog.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core import policies
from yiwang.core.workbench import TodoItem

from . import selectors
from .models import TimeState

CAP = selectors.TAB_COUNT_CAP


def _count_text(n: int) -> str:
    return f"{CAP}+" if n > CAP else str(n)


def event_todos(user: Any) -> list[TodoItem]:
    """Events to dispatch, to sign for, due soon in my unit, summonses my unit owes."""
    if getattr(user, "kind", "") != "staff" or not policies.has_perm(user, "events.view_event"):
        return []
    source = _("Events")
    items: list[TodoItem] = []
    if policies.has_perm(user, "events.dispatch_event"):
        qs = selectors.event_queue(actor=user, tab="received")
        n = selectors.capped_count(qs, CAP)
        if n:
            items.append(TodoItem(
                title=ngettext("%(n)s event to dispatch", "%(n)s events to dispatch", n)
                % {"n": _count_text(n)},
                url=reverse("events:queue") + "?tab=received", count=n, source=source))
    if not policies.has_perm(user, "events.handle_event"):
        return items
    inbox = reverse("events:inbox")
    to_sign = selectors.event_inbox(actor=user, tab="to_sign")
    n = selectors.capped_count(to_sign, CAP)
    if n:
        first = to_sign.order_by().aggregate(due=Min("response_clock__due_at"))["due"]
        items.append(TodoItem(
            title=ngettext("%(n)s event to sign for", "%(n)s events to sign for", n)
            % {"n": _count_text(n)},
            url=f"{inbox}?tab=to_sign", count=n, due_at=first,
            overdue=bool(first and first < timezone.now()), source=source))
    late = selectors.event_inbox(actor=user, tab="handling").filter(
        time_state__in=(TimeState.WARNING, TimeState.OVERDUE))
    n = selectors.capped_count(late, CAP)
    if n:
        first = late.order_by().aggregate(due=Min("clock__due_at"))["due"]
        items.append(TodoItem(
            title=ngettext("%(n)s event due soon or overdue", "%(n)s events due soon or overdue",
                           n) % {"n": _count_text(n)},
            url=f"{inbox}?tab=handling", count=n, due_at=first,
            overdue=bool(first and first < timezone.now()), source=source))
    owed = selectors.event_inbox(actor=user, tab="summons")
    n = selectors.capped_count(owed, CAP)
    if n:
        items.append(TodoItem(
            title=ngettext("%(n)s summons to answer", "%(n)s summonses to answer", n)
            % {"n": _count_text(n)},
            url=f"{inbox}?tab=summons", count=n, due_at=_first_summons_due(user), source=source))
    return items


def _first_summons_due(user: Any) -> dt.datetime | None:
    from .models import SummonsResponse

    ids = selectors.scope_unit_ids(user)
    qs = SummonsResponse.objects.filter(responded_at__isnull=True)
    if ids is not None:
        qs = qs.filter(unit_id__in=ids)
    due: dt.datetime | None = qs.aggregate(due=Min("summons__due_at"))["due"]
    return due
