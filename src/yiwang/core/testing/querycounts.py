"""Pinned SQL query counts of pages and API calls (NetBox's ``query_counts.json``).

A list or detail view must run the same number of queries whatever the amount of data,
and that number is written down, so an N+1 query fails a test instead of a deployment::

    from yiwang.core.testing.querycounts import assert_pinned_queries

    assert_pinned_queries(
        "GET accounts:staff_list",
        lambda: client.get("/accounts/staff/"),
        grow=lambda: add_more_staff(3),    # more rows of what the view lists
    )

The call runs once to warm caches, once with the data as it is, then ``grow()`` adds
rows and it runs again: the two counts must be equal (else: an N+1, with the new SQL
shown), and equal to the pin in ``tests/gates/query_counts.json``. To pin new or changed
counts, run the tests with ``YW_PIN_QUERIES=1``; the file is rewritten (safe under
``pytest -n``) and the diff goes into review with the change that caused it.

The gate (``tests/gates/test_query_counts.py``) pins one ``PinCase`` per GET route. An app
pins its own routes in ``<app>/tests/query_cases.py`` (collected by ``suites()``), which
defines ``CASES`` (a list of ``PinCase``), ``setup(district)`` (its callers, added to
``district.users``, and its data, all in their scope), ``grow(district, n)`` (``n`` more
of everything its lists show) and optionally ``NOT_PINNED`` (route name → why not).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

PIN_FILE = Path(settings.PROJECT_DIR) / "tests" / "gates" / "query_counts.json"
PIN_ENV = "YW_PIN_QUERIES"
REPIN = f"{PIN_ENV}=1 .venv/bin/python -m pytest tests/gates/test_query_counts.py"


class QueryCountError(AssertionError):
    pass


@dataclass(frozen=True)
class Measurement:
    count: int
    sql: list[str]
    response: Any

    def listing(self) -> str:
        return "\n".join(f"  {i + 1:>3}. {q}" for i, q in enumerate(self.sql))


def measure(call: Callable[[], Any]) -> Measurement:
    """The queries ``call`` runs on the default database."""
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    return Measurement(len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries],
                       response)


def pinning() -> bool:
    return os.environ.get(PIN_ENV, "") not in ("", "0")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"yw-{path.stem}-{digest}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_pins(path: Path = PIN_FILE) -> dict[str, int]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write_pin(name: str, count: int, path: Path = PIN_FILE) -> None:
    with _locked(path):  # pytest -n: workers pin at the same time
        pins = load_pins(path)
        pins[name] = count
        path.write_text(json.dumps(dict(sorted(pins.items())), indent=2, ensure_ascii=False)
                        + "\n", encoding="utf-8")


def _content(response: Any) -> bytes | None:
    return getattr(response, "content", None)


def _diff(before: list[str], after: list[str]) -> list[str]:
    remaining = list(before)
    extra = []
    for sql in after:
        if sql in remaining:
            remaining.remove(sql)
        else:
            extra.append(sql)
    return extra


def assert_pinned_queries(name: str, call: Callable[[], Any], *,
                          grow: Callable[[], Any] | None = None,
                          check: Callable[[Any], None] | None = None,
                          lists: bool = False, path: Path = PIN_FILE) -> int:
    """Fail unless ``call`` runs the pinned number of queries, with and without ``grow``.

    ``check`` is applied to each response (e.g. that the page answered 200), so a count is
    never pinned for an error page. With ``lists``, the response must change when rows
    are added, or ``grow`` proves nothing about the view. Returns the count.
    """
    call()  # warm up: content types, translations, the session's first read
    base = measure(call)
    if check:
        check(base.response)
    if grow is not None:
        grow()
        grown = measure(call)
        if check:
            check(grown.response)
        if lists and _content(grown.response) == _content(base.response):
            raise QueryCountError(f"{name}: the response did not change when rows were "
                                  f"added; grow() must add what the view lists")
        if grown.count != base.count:
            extra = _diff(base.sql, grown.sql)
            raise QueryCountError(
                f"{name}: {base.count} queries before adding rows, {grown.count} after: the "
                f"count depends on the data (an N+1; select_related/prefetch_related?).\n"
                f"Queries that came with the rows:\n"
                + "\n".join(f"  - {q}" for q in extra))
    if pinning():
        write_pin(name, base.count, path)
        return base.count
    pinned = load_pins(path).get(name)
    if pinned is None:
        raise QueryCountError(f"{name}: no pinned query count in {path.name} "
                              f"({base.count} now). Pin it: {REPIN}")
    if base.count != pinned:
        verdict = ("more than pinned: a new query or an N+1" if base.count > pinned
                   else "fewer than pinned: good, re-pin so the gain is kept")
        raise QueryCountError(
            f"{name}: {base.count} queries, pinned {pinned} ({verdict}). If the change is "
            f"intended, re-pin: {REPIN}\nQueries:\n{base.listing()}")
    return base.count


# --- the gate's cases, per app ----------------------------------------------------------------

@dataclass(frozen=True)
class PinCase:
    """One pinned call: ``caller`` is a key of ``district.users`` (``None``: anonymous)."""

    name: str                     # "GET <route name>", plus a suffix for a variant
    caller: str | None
    url: Callable[[Any], str]     # district → URL
    lists: bool = True            # a list: more rows must show; a detail shows the same

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Suite:
    """The pinned cases of one app and the data they run on."""

    app: str
    cases: list[PinCase]
    setup: Callable[[Any], None]
    grow: Callable[[Any, int], None]
    not_pinned: dict[str, str]


@functools.cache
def suites() -> list[Suite]:
    """The ``<app>/tests/query_cases.py`` modules of the project's apps."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.tests.query_cases"
        if not config.name.startswith("yiwang.") or importlib.util.find_spec(
                f"{config.name}.tests") is None or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        found.append(Suite(config.label, list(module.CASES), module.setup, module.grow,
                           dict(getattr(module, "NOT_PINNED", {}))))
    return found
