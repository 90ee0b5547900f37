"""The staff workbench's "my to-do" inbox. Apps register providers; each returns items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TodoItem:
    title: str
    url: str
    count: int = 1
    due_at: dt.datetime | None = None
    overdue: bool = False
    source: str = ""


TodoProvider = Callable[[Any], list[TodoItem]]
_providers: list[TodoProvider] = []


def register_todo_provider(provider: TodoProvider) -> TodoProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def todo_items(user: Any) -> list[TodoItem]:
    items: list[TodoItem] = []
    for provider in _providers:
        items.extend(provider(user))
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    # Overdue first, then by due time; items without a due time last.
    return sorted(items, key=lambda i: (not i.overdue, i.due_at is None, i.due_at or latest))
