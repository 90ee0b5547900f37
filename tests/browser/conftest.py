"""Fixtures of the real-browser suite: Debian's Chromium driven by Playwright, against
pytest-django's live server (a threaded server on the test database), see harness.py.

Without Chromium the tests skip with a loud message; with ``CI`` set they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    FAILURES,
    NON_BLOCKING,
    SCREENS,
    VIEWPORTS,
    Tab,
    chromium_problem,
    slug,
)

HERE = Path(__file__).resolve().parent
SKIP_BANNER = "BROWSER TESTS SKIPPED"
TIMEOUT_MS = 30_000
_phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NON_BLOCKING:
        terminalreporter.write_sep("-", "axe-core: moderate/minor findings (not failing)")
        for rule, paths in sorted(NON_BLOCKING.items()):
            terminalreporter.write_line(f"{rule}: /" + ", /".join(sorted(paths)))
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if SKIP_BANNER in str(getattr(r, "longrepr", ""))]
    if skipped:
        terminalreporter.write_sep("!", f"{SKIP_BANNER}: {len(skipped)} tests did not run",
                                   red=True, bold=True)
        terminalreporter.write_line(str(skipped[0].longrepr[-1]), red=True)


@pytest.fixture(scope="session")
def chromium() -> str:
    problem = chromium_problem()
    if problem:
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"the browser tests must run in CI, but {problem}", pytrace=False)
        pytest.skip(f"{SKIP_BANNER} — {problem}")
    return CHROMIUM


@pytest.fixture
def playwright_driver(chromium: str, live_server: Any,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Playwright's sync API runs an asyncio loop in this thread, and Django refuses ORM
    calls while one runs. The test's own ORM calls are plain blocking calls, so allow
    them, for this test only; the driver starts after the database is set up (live_server
    first) and stops before the database is flushed.

    While the loop runs, Django keeps this thread's connections apart from the ones
    opened before (asgiref's Local goes by context), so close them on both sides of the
    switch: a connection left open keeps PostgreSQL from dropping the test database.
    (Closing never drops SQLite's in-memory test database: Django keeps that one open.)"""
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    # Generous: CI machines have two cores and run other suites' servers beside this one.
    expect.set_options(timeout=TIMEOUT_MS)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    connections.close_all()
    with sync_playwright() as driver:
        try:
            yield driver
        finally:
            connections.close_all()


@pytest.fixture
def open_tab(request: pytest.FixtureRequest, live_server: Any, playwright_driver: Any,
             chromium: str) -> Iterator[Callable[..., Tab]]:
    """``open_tab("desktop" | "mobile")``: a fresh Chromium (its own empty profile) on the
    live server, with axe-core in every document. Browser locale zh-CN, as most users."""
    from django.core.cache import cache

    # The live server shares this process's cache, and cached facts (the district's name)
    # must not outlive the flushed database of an earlier test.
    cache.clear()
    opened: list[tuple[Any, Tab, str]] = []
    prefix = slug(request.node.name.removeprefix("test_"))
    failures = FAILURES / slug(request.node.nodeid)
    # Files of this test's previous run, lest they be taken for this run's.
    shutil.rmtree(failures, ignore_errors=True)
    for stale in SCREENS.glob(f"{prefix}-*.png"):
        stale.unlink(missing_ok=True)

    def open_(viewport: str = "desktop", *, locale: str = "zh-CN") -> Tab:
        profile = tempfile.mkdtemp(prefix="yw-chromium-")
        context = playwright_driver.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            locale=locale, timezone_id="Asia/Shanghai", **VIEWPORTS[viewport])
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(path=str(AXE_JS))
        page = context.pages[0] if context.pages else context.new_page()
        name = prefix if not opened else f"{prefix}-tab{len(opened) + 1}"
        tab = Tab(page=page, base_url=live_server.url, name=name, viewport=viewport)
        opened.append((context, tab, profile))
        return tab

    yield open_

    phases = request.node.stash.get(_phase_reports, {})
    failed = any(r.failed for r in phases.values())
    unchecked: list[str] = []
    for number, (context, tab, profile) in enumerate(opened, 1):
        if failed:
            tab.save_failure_artifacts(failures, f"tab{number}-{tab.viewport}")
        else:
            unchecked += tab.unchecked_pages()
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    if failed:
        print(f"\nbrowser artifacts: {failures}")
    elif unchecked:
        pytest.fail("pages loaded without the accessibility check (use tab.visit() or "
                    f"`with tab.navigation():`): {unchecked}", pytrace=False)
