"""Screenshots of the main pages, to look at what people see.

Starts the dev server on a free port against a throw-away SQLite database loaded with
the test district (the same one the tests use), signs in as a few roles and saves
desktop and mobile (390 px) screenshots under ``var/screenshots/``.

Needs Chromium from the distribution (``apt-get install chromium fonts-noto-cjk``) and
the ``playwright`` Python package; it never downloads a browser.

    .venv/bin/python tools/screenshots.py            # everything
    .venv/bin/python tools/screenshots.py home login # only pages whose name matches
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("YW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct-horse-battery-9"  # noqa: S105 (the factories' test password)

SEED = """
from django.utils import timezone
from yiwang.core.tests.factories import build_district, make_citizen
from yiwang.core.notifications import notify
from yiwang.core.audit import audit_log
from yiwang.core import services as core_services
import datetime as dt
d = build_district()
admin = d.users["district_admin"]
for i, (subject, url) in enumerate([("welcome", ""), ("welcome", "/workbench/org/")]):
    notify(recipient=admin, template="welcome", key=f"shot-{i}",
           context={"name": admin.name, "username": admin.username, "site": "yiwang"}, url=url)
notify(recipient=d.users["clerk_a"], template="welcome", key="shot-clerk",
       context={"name": "clerk_a", "username": "clerk_a", "site": "yiwang"})
citizen = make_citizen(phone="13812345678")
notify(recipient=citizen, template="welcome", key="shot-citizen",
       context={"name": citizen.name, "username": citizen.username, "site": "yiwang"})
core_services.calendar_override_set(actor=admin, date=dt.date(2025, 9, 16), is_workday=False,
                                    note="台风红色预警，全区停工")
for u in d.users.values():
    audit_log(actor=admin, action="accounts.staff.review", obj=u, reason="年度账号核查")
"""


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    user: str | None = None  # username to sign in as
    langs: tuple[str, ...] = ("zh-hans",)


SHOTS = [
    Shot("home", "/", None, ("zh-hans", "zh-hant", "en")),
    Shot("login", "/accounts/login/", None, ("zh-hans", "zh-hant", "en")),
    Shot("register", "/accounts/register/", None),
    Shot("me-citizen", "/accounts/me/", "citizen"),
    Shot("workbench", "/workbench/", "d_admin", ("zh-hans", "en")),
    Shot("workbench-clerk", "/workbench/", "clerk_a"),
    Shot("org-tree", "/workbench/org/", "d_admin", ("zh-hans", "zh-hant")),
    Shot("org-detail", "/workbench/org/440399000000/", "d_admin"),
    Shot("staff-list", "/accounts/staff/", "d_admin", ("zh-hans", "en")),
    Shot("staff-detail", "/accounts/staff/{clerk_b}/", "d_admin"),
    Shot("audit", "/workbench/audit/", "auditor"),
    Shot("calendar", "/workbench/calendar/?", "d_admin"),
    Shot("tokens", "/accounts/tokens/", "d_admin"),
    Shot("admin-home", "/workbench/admin/", "d_admin"),
    Shot("notifications", "/notifications/", "d_admin"),
]
VIEWPORTS = {"desktop": (1280, 800), "mobile": (390, 844)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback only)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def main(filters: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="yw-shots-"))
    env = {**os.environ, "YIWANG_VAR_DIR": str(tmp), "DEBUG": "0",
           "YIWANG_MANIFEST_STATIC": "0", "YIWANG_TASK_BACKEND": "immediate",
           "AXES_FAILURE_LIMIT": "1000", "DJANGO_SETTINGS_MODULE": "yiwang.settings",
           "PYTHONPATH": str(ROOT / "src")}
    manage = [sys.executable, str(ROOT / "manage.py")]
    # Only our own manage.py with fixed arguments is run (S603).
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True,  # noqa: S603
                   cwd=ROOT)
    subprocess.run([*manage, "shell", "-c", SEED], env=env, check=True, cwd=ROOT)  # noqa: S603
    ids = subprocess.run(  # noqa: S603
        [*manage, "shell", "-c", "from yiwang.accounts.models import User;"
         "print(User.objects.get(username='clerk_b').pk)"],
        env=env, check=True, cwd=ROOT, capture_output=True, text=True).stdout.split()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    OUT.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    try:
        wait_for(base + "/healthz")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for shot in SHOTS:
                if filters and not any(f in shot.name for f in filters):
                    continue
                for lang in shot.langs:
                    for view, (width, height) in VIEWPORTS.items():
                        ctx = browser.new_context(viewport={"width": width, "height": height},
                                                  device_scale_factor=1)
                        ctx.add_cookies([{"name": "django_language", "value": lang,
                                          "url": base}])
                        page = ctx.new_page()
                        if shot.user:
                            page.goto(base + "/accounts/login/")
                            page.fill("#id_username", shot.user)
                            page.fill("#id_password", PASSWORD)
                            page.click("form button[type=submit]:not([name=language])")
                            page.wait_for_load_state("networkidle")
                        page.goto(base + shot.path.format(clerk_b=ids))
                        page.wait_for_load_state("networkidle")
                        path = OUT / f"{shot.name}-{lang}-{view}.png"
                        page.screenshot(path=str(path), full_page=True)
                        saved.append(path)
                        ctx.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for path in saved:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
