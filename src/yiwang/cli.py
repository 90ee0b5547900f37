"""``yw``: the command line of yiwang. ``./yw help`` lists the commands."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PY = sys.executable
MANAGE = [PY, str(ROOT / "manage.py")]
POSTGRES_URL = os.environ.get(
    "YW_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/yiwang")

HELP = """\
yw — yiwang 一网

  ./yw demo               set up everything and start the platform with the demo district
                          on http://127.0.0.1:8000 (SQLite in var/, task worker, demo accounts)
  ./yw test [pytest args] run the whole test suite: lint, types, tests on SQLite, and again
                          on PostgreSQL when one answers on 127.0.0.1:5432

Other commands
  ./yw serve [addr:port]  start the web server and the task worker (no demo loading)
  ./yw worker             run the background-task worker only
  ./yw migrate            apply database migrations
  ./yw generate [...]     generate a district and its population (see --help)
  ./yw accounts           print the demo accounts
  ./yw audit verify       walk the audit chain and name the first broken entry
  ./yw check-deploy       refuse insecure production settings
  ./yw lint               ruff and mypy
  ./yw i18n               extract and compile message files (zh-Hans, zh-Hant, en)
  ./yw manage ...         any Django management command
Environment: DATABASE_URL, SECRET_KEY, YIWANG_SM4_KEYS, YIWANG_BLIND_INDEX_KEY, ... (README)
"""


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    code = subprocess.call(cmd, cwd=ROOT, env={**os.environ, **(env or {})})
    if check and code != 0:
        sys.exit(code)
    return code


def manage(*args: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    return run([*MANAGE, *args], env=env, check=check)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def serve(addr: str = "127.0.0.1:8000") -> None:
    helpers = [
        subprocess.Popen([*MANAGE, "db_worker", "--queue-name", "*"], cwd=ROOT),
        subprocess.Popen([*MANAGE, "sweep", "--every", "60", "-v", "0"], cwd=ROOT),
    ]
    print(f"yw: task worker started (pid {helpers[0].pid})", flush=True)
    try:
        manage("runserver", addr, "--noreload", check=False)
    finally:
        for process in helpers:
            process.send_signal(signal.SIGTERM)
        for process in helpers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def demo(args: list[str]) -> None:
    addr = args[0] if args else os.environ.get("YW_ADDR", "127.0.0.1:8000")
    manage("migrate", "--no-input", "-v", "0")
    manage("demo_setup")  # idempotent: loads the demo district once
    manage("demo_accounts")
    if os.environ.get("YW_DEMO_NO_SERVE"):
        return
    print(f"yw: serving on http://{addr}/  (Ctrl-C stops)", flush=True)
    serve(addr)


def ensure_postgres() -> bool:
    if port_open("127.0.0.1", 5432):
        return True
    clusters = Path("/etc/postgresql")
    if clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            subprocess.call(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                             "start"])
        for _ in range(20):
            if port_open("127.0.0.1", 5432):
                return True
            time.sleep(0.5)
    return False


BROWSER_PACKAGES = ["chromium", "fonts-noto-cjk"]


def ensure_browser() -> bool:
    """Install Debian's Chromium and CJK fonts for the browser tests when missing.

    Only the distribution's packages are used; no test tool downloads a browser.
    """
    has_cjk_font = bool(shutil.which("fc-list")) and bool(subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True,
        check=False).stdout.strip())
    if Path("/usr/bin/chromium").exists() and has_cjk_font:
        return True
    if os.environ.get("YW_NO_BROWSER_INSTALL"):
        return False
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        print("yw: Chromium is missing and cannot be installed here (needs root and "
              "apt-get): browser tests will be skipped", file=sys.stderr, flush=True)
        return False
    print("yw: installing Chromium and CJK fonts for the browser tests (apt-get)", flush=True)
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "update", "-qq"], env=env, check=False) != 0:
        return False
    code = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                *BROWSER_PACKAGES], env=env, check=False)
    return code == 0 and Path("/usr/bin/chromium").exists()


def pytest(extra: list[str], env: dict[str, str]) -> int:
    code = run([PY, "-m", "pytest", *extra], env=env, check=False)
    if code == 5:
        print("yw: pytest collected no tests — that is a failure", file=sys.stderr)
    return code


def test(args: list[str]) -> None:
    """Lint and types, then the whole suite on SQLite (browser journeys included), then
    everything but the browser journeys on PostgreSQL."""
    lint()
    base_env = {"YIWANG_VAR_DIR": str(ROOT / "var" / "test")}
    if not ensure_browser() and os.environ.get("CI"):
        print("yw: CI needs Chromium for the browser tests and could not install it",
              file=sys.stderr)
    parallel = [] if args else ["-n", os.environ.get("YW_TEST_WORKERS", "2")]
    print("\n== tests on SQLite ==", flush=True)
    failed = pytest([*parallel, *args], {**base_env}) != 0
    if os.environ.get("YW_SKIP_POSTGRES"):
        print("yw: YW_SKIP_POSTGRES set — PostgreSQL run skipped", flush=True)
    elif ensure_postgres():
        print("\n== tests on PostgreSQL (browser journeys ran on SQLite) ==", flush=True)
        pg_args = args or [*parallel, "-m", "not browser"]
        failed |= pytest(pg_args, {**base_env, "DATABASE_URL": POSTGRES_URL}) != 0
    else:
        print("yw: no PostgreSQL on 127.0.0.1:5432 — PostgreSQL run skipped", flush=True)
        if os.environ.get("CI"):
            print("yw: CI requires PostgreSQL", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


def lint() -> None:
    print("== ruff ==", flush=True)
    run([PY, "-m", "ruff", "check", "src", "tests", "bench", "tools", "conftest.py"])
    print("== mypy (core, accounts) ==", flush=True)
    run([PY, "-m", "mypy", "src/yiwang/core", "src/yiwang/accounts"])


def main() -> None:
    args = sys.argv[1:]
    command, rest = (args[0], args[1:]) if args else ("help", [])
    if command in {"help", "-h", "--help"}:
        print(HELP)
    elif command == "demo":
        demo(rest)
    elif command == "test":
        test(rest)
    elif command == "serve":
        manage("migrate", "--no-input", "-v", "0")
        serve(*rest[:1])
    elif command == "worker":
        manage("db_worker", "--queue-name", "*", *rest)
    elif command == "migrate":
        manage("migrate", *rest)
    elif command == "generate":
        manage("generate", *rest)
    elif command == "accounts":
        manage("demo_accounts")
    elif command == "audit":
        manage("audit", *rest)
    elif command == "check-deploy":
        manage("check", "--deploy", "--fail-level", "WARNING", *rest)
    elif command == "lint":
        lint()
    elif command == "i18n":
        manage("i18n", *rest)
    elif command == "bench":
        run([PY, "-m", "bench", *rest])
    elif command == "manage":
        manage(*rest)
    else:
        print(f"yw: unknown command {command!r}\n\n{HELP}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
