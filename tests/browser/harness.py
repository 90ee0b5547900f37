"""The browser suite's machinery: Chromium from the distribution, axe-core on every page.

A journey drives a :class:`Tab`. Every page it reaches is checked the same way, so a
journey cannot forget to: ``tab.visit(path)`` for a typed address, ``with tab.navigation():``
around a click or key press that loads a page. After each load the tab

1. checks that the page's own CSS and JavaScript loaded (a page without CSS still
   "works", and a CSP mistake only shows in the console), and that the console shows
   no error;
2. runs axe-core (vendored from the npm registry, ``vendor/``) with the WCAG 2.1 A/AA
   rules, and fails on any serious or critical violation with a readable report;
3. saves a full-page screenshot under ``test-artifacts/screens/`` to look at.

A page load that no ``visit``/``navigation`` covered fails the test at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "axe.min.js"
ARTIFACTS = Path(os.environ.get("YW_TEST_ARTIFACTS", ROOT / "test-artifacts"))
SCREENS = ARTIFACTS / "screens"
FAILURES = ARTIFACTS / "failures"

# A page load on a loaded machine: generous, as a person on a slow network waits too.
NAVIGATION_TIMEOUT_MS = 90_000
CHROMIUM = os.environ.get("YW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
               "has_touch": True, "device_scale_factor": 1},
}

# WCAG 2.1 level A and AA; "best-practice" rules are not part of the gate.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
# Rules switched off, each with its reason. Keep this empty unless a rule is wrong for us.
AXE_DISABLED_RULES: dict[str, str] = {}


# Moderate and minor findings do not fail a test; the session lists them at its end.
NON_BLOCKING: dict[str, set[str]] = {}


def chromium_problem() -> str | None:
    """Why the browser suite cannot run on this machine, or None when it can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return ("the `playwright` Python package is missing "
                "(`.venv/bin/pip install -r requirements-dev.txt`)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"no Chromium at {CHROMIUM} (`apt-get install -y chromium fonts-noto-cjk`, "
                "or point YW_CHROMIUM at one)")
    fc_list = shutil.which("fc-list")
    if fc_list:
        # Only a fixed fontconfig query, no user input (S603).
        fonts = subprocess.run([fc_list, ":lang=zh-cn", "family"],  # noqa: S603
                               capture_output=True, text=True, check=False).stdout
        if not fonts.strip():
            return ("no Chinese font: pages would render as empty boxes "
                    "(`apt-get install -y fonts-noto-cjk`)")
    return None


class PageCheckFailed(AssertionError):
    """A page loaded badly: blocking axe violations, missing assets or console errors."""

    def __init__(self, message: str, report: dict[str, Any]):
        super().__init__(message)
        self.report = report


def blocking(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in report["violations"] if v["impact"] in BLOCKING_IMPACTS]


def format_violations(report: dict[str, Any], violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core {report['axe_version']}: {len(violations)} serious/critical "
             f"accessibility violation(s) on {report['url']} "
             f"(lang {report['lang']}, {report['viewport']}):"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']} — {v['help']}")
        lines.append(f"      {v['helpUrl']}")
        for node in v["nodes"][:8]:
            target = " ".join(" >> ".join(t) if isinstance(t, list) else t
                              for t in node["target"])
            lines.append(f"      - {target}")
            lines.append(f"          {node['html'][:160]}")
            summary = re.sub(r"\s*\n\s*", " | ", (node.get("failureSummary") or "").strip())
            if summary:
                lines.append(f"          {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"      … and {len(v['nodes']) - 8} more elements")
    return "\n".join(lines)


# Run in the page: axe itself is already there (added to every document by an init script).
AXE_RUN = """async ([tags, disabled]) => {
  const rules = Object.fromEntries(disabled.map((id) => [id, {enabled: false}]));
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, rules, resultTypes: ["violations"]});
  return {
    axe_version: axe.version, url: location.href, lang: document.documentElement.lang,
    title: document.title,
    violations: result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
      nodes: v.nodes.map((n) => ({target: n.target, html: n.html, impact: n.impact,
                                  failureSummary: n.failureSummary})),
    })),
    incomplete: result.incomplete.map((v) => v.id),
  };
}"""

# Run in the page: did our own stylesheets and scripts arrive and apply?
ASSETS_CHECK = """() => {
  const problems = [];
  for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
    let rules = 0;
    try { rules = link.sheet ? link.sheet.cssRules.length : 0; } catch (e) { rules = 0; }
    if (!rules) problems.push("stylesheet did not load: " + link.href);
  }
  const root = getComputedStyle(document.documentElement);
  if (!root.getPropertyValue("--yw-blue").trim())
    problems.push("yiwang.css is not applied (--yw-blue missing)");
  if (!root.getPropertyValue("--bs-body-font-size").trim())
    problems.push("bootstrap.min.css is not applied");
  if (document.querySelector('script[src*="htmx"]') && !window.htmx)
    problems.push("htmx did not load");
  if (document.querySelector('script[src*="bootstrap"]') && !window.bootstrap)
    problems.push("bootstrap.bundle.js did not load");
  return problems;
}"""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "root"


@dataclass
class Tab:
    """One browser tab of a journey (its own Chromium profile: cookies start empty)."""

    page: Any
    base_url: str
    name: str  # prefix of the screenshots' file names
    viewport: str
    reports: list[dict[str, Any]] = field(default_factory=list)
    _loads: list[str] = field(default_factory=list)
    _asset_errors: list[str] = field(default_factory=list)
    _console_errors: list[str] = field(default_factory=list)
    _unchecked: list[str] = field(default_factory=list)
    _step: int = 0

    def __post_init__(self) -> None:
        self.page.on("load", lambda page: self._loads.append(page.url))
        self.page.on("requestfailed", lambda req: self._asset_errors.append(
            f"{req.method} {req.url}: {req.failure}"))
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self._console_errors.append(f"uncaught: {exc}"))

    def _on_response(self, response: Any) -> None:
        # The document's own status is the journey's business (a form error answers 400).
        if response.status >= 400 and response.request.resource_type != "document":
            self._asset_errors.append(f"{response.status} {response.url}")

    def _on_console(self, message: Any) -> None:
        # "Failed to load resource" repeats what _on_response and requestfailed report.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self._console_errors.append(message.text)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    # --- moving around -------------------------------------------------------------------

    def visit(self, path: str, *, status: int = 200) -> Any:
        """Type an address into the location bar, then check the page."""
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        self.check()
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        return response

    @contextlib.contextmanager
    def navigation(self, *, status: int = 200) -> Iterator[None]:
        """Wrap the click or key press that loads a page: ``with tab.navigation(): …``."""
        # Wait for the answer to arrive (commit), then for the page's load in check():
        # a loaded CI machine can take long over a POST (Argon2, a busy database) without
        # anything being wrong, so the wait is generous and in two steps.
        with self.page.expect_navigation(wait_until="commit",
                                         timeout=NAVIGATION_TIMEOUT_MS) as info:
            yield
        response = info.value
        self.check()
        if response is not None:  # None for a same-document navigation
            assert response.status == status, \
                f"{response.url} answered {response.status}, not {status}"

    # --- the checks ----------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Check the page now on screen; raise PageCheckFailed if it fails the gate."""
        self.page.wait_for_load_state("load", timeout=NAVIGATION_TIMEOUT_MS)
        report = self.page.evaluate(AXE_RUN, [AXE_TAGS, sorted(AXE_DISABLED_RULES)])
        # Read after a round trip to the page, so this page's own load event is in.
        loads, self._loads = self._loads, []
        self._unchecked.extend(loads[:-1])  # pages left before anyone checked them
        report["viewport"] = self.viewport
        report["assets"] = self.page.evaluate(ASSETS_CHECK) + self._asset_errors
        report["console_errors"] = list(self._console_errors)
        self._asset_errors.clear()
        self._console_errors.clear()
        self.reports.append(report)
        self.screenshot(report)
        for v in report["violations"]:
            if v["impact"] not in BLOCKING_IMPACTS:
                NON_BLOCKING.setdefault(f"{v['impact']} {v['id']}", set()).add(
                    report["url"].split("//", 1)[-1].split("/", 1)[-1].split("?")[0])
        problems = []
        bad = blocking(report)
        if bad:
            problems.append(format_violations(report, bad))
        if report["assets"]:
            problems.append(f"assets failed on {report['url']}:\n  "
                            + "\n  ".join(report["assets"]))
        if report["console_errors"]:
            problems.append(f"console errors on {report['url']}:\n  "
                            + "\n  ".join(report["console_errors"]))
        if problems:
            raise PageCheckFailed("\n".join(problems), report)
        return report

    def screenshot(self, report: dict[str, Any]) -> Path:
        self._step += 1
        path = report["url"].split("//", 1)[-1].split("/", 1)[-1].split("?")[0]
        name = (f"{self.name}-{self._step:02d}-{slug(path)}-"
                f"{report['lang'] or 'nolang'}-{self.viewport}.png")
        SCREENS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret leaves style="" on every input, and htmx then
        # copies that attribute while settling a swap, which the CSP reports as an error.
        self.page.screenshot(path=str(SCREENS / name), full_page=True, caret="initial")
        return SCREENS / name

    def unchecked_pages(self, *, forget: bool = False) -> list[str]:
        """Pages that loaded but were never checked (the last one included)."""
        pages = self._unchecked + self._loads
        if forget:
            self._unchecked, self._loads = [], []
        return pages

    def save_failure_artifacts(self, directory: Path, label: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a crashed page still gets its JSON saved
            self.page.screenshot(path=str(directory / f"{label}.png"), full_page=True,
                                 caret="initial")
            (directory / f"{label}.html").write_text(self.page.content(), encoding="utf-8")
        (directory / f"{label}-axe.json").write_text(
            json.dumps(self.reports, ensure_ascii=False, indent=2), encoding="utf-8")
