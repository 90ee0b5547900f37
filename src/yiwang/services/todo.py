"""The workbench's "my to-do" for case handling: what waits for the signed-in staff member.

Registered in ``ServicesConfig.ready`` with ``register_todo_provider(case_todos)``. Every
count is capped, so the workbench stays one cheap query per item whatever the backlog.
"""

from __future__ import annotations

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


def case_todos(user: Any) -> list[TodoItem]:
    """Cases to accept at my window, cases assigned to me, overdue cases in my scope."""
    if getattr(user, "kind", "") != "staff" or not policies.has_perm(user, "services.view_case"):
        return []
    inbox = reverse("services:inbox")
    source = _("Cases")
    items: list[TodoItem] = []
    if policies.has_perm(user, "services.accept_case"):
        n = selectors.capped_count(selectors.case_inbox(actor=user, tab="intake"), CAP)
        if n:
            items.append(TodoItem(
                title=ngettext("%(n)s application to accept at my window",
                               "%(n)s applications to accept at my window", n)
                % {"n": _count_text(n)},
                url=f"{inbox}?tab=intake", count=n, source=source))
    if policies.has_perm(user, "services.review_case"):
        mine = selectors.case_inbox(actor=user, tab="mine")
        n = selectors.capped_count(mine, CAP)
        if n:
            first = mine.order_by().aggregate(due=Min("clock__due_at"))["due"]
            items.append(TodoItem(
                title=ngettext("%(n)s case assigned to me", "%(n)s cases assigned to me", n)
                % {"n": _count_text(n)},
                url=f"{inbox}?tab=mine", count=n, due_at=first,
                overdue=bool(first and first < timezone.now()), source=source))
    late = selectors.case_overdue_list(actor=user, time_state=TimeState.OVERDUE)
    n = selectors.capped_count(late, CAP)
    if n:
        items.append(TodoItem(
            title=ngettext("%(n)s overdue case in my department",
                           "%(n)s overdue cases in my department", n) % {"n": _count_text(n)},
            url=reverse("services:overdue") + "?time_state=overdue", count=n, overdue=True,
            source=source))
    return items
