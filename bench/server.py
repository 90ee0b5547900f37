"""A production-like server for HTTP benchmarks: gunicorn sync workers on 127.0.0.1."""

from __future__ import annotations

import http.client
import importlib.util
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from .loadgen import check_loopback
from .sandbox import ROOT, BenchError, Sandbox, free_port

GUNICORN_PIN = "gunicorn==27.0.1"


def gunicorn_args() -> list[str]:
    if importlib.util.find_spec("gunicorn") is None:
        raise BenchError(f"gunicorn is not installed: add {GUNICORN_PIN} to "
                         "requirements-dev.txt (or pip install it)")
    import gunicorn.config

    names = {setting.name for setting in gunicorn.config.KNOWN_SETTINGS}
    # gunicorn >= 25 opens a control socket in ~/.gunicorn unless told not to.
    return ["--no-control-socket"] if "control_socket_disable" in names else []


class Gunicorn:
    def __init__(self, sandbox: Sandbox, *, workers: int, env: dict[str, str] | None = None,
                 ) -> None:
        self.sandbox = sandbox
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = sandbox.var_dir / "gunicorn.log"
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60) -> Gunicorn:
        cmd = [sys.executable, "-m", "gunicorn", "yiwang.wsgi:application",
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "5",
               "--log-level", "warning", "--error-logfile", str(self.log), *gunicorn_args()]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.sandbox.env(**self.env),  # noqa: S603
                                     start_new_session=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.proc.returncode}:\n"
                                 + self.log_tail())
            try:
                status, _headers, _body = request(self.base + "/healthz")
                if status == 200 and self._workers_up():
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise BenchError("gunicorn did not answer /healthz in time:\n" + self.log_tail())

    def _workers_up(self) -> bool:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return len(children.read_text().split()) >= self.workers
        except OSError:
            return True  # no children file (old kernel): healthz answered, good enough

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def request(url: str, *, method: str = "GET", body: str | bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """One request to the loopback server: (status, headers, body)."""
    check_loopback(url)
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _cookies(headers: Any, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def login(base: str, *, username: str, password: str) -> str:
    """Sign in through the real login form (CSRF token and all); the Cookie header."""
    jar: dict[str, str] = {}
    status, headers, body = request(base + "/accounts/login/")
    _cookies(headers, jar)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or match is None or "csrftoken" not in jar:
        raise BenchError(f"login page: status {status}, no CSRF token")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": match.group(1).decode(),
                                   "username": username, "password": password})
    status, headers, _body = request(
        base + "/accounts/login/", method="POST", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": f"csrftoken={jar['csrftoken']}",
                 "Referer": base + "/accounts/login/"})
    _cookies(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise BenchError(f"login as {username!r} failed: status {status}, "
                         f"cookies {sorted(jar)}")
    return "; ".join(f"{name}={value}" for name, value in jar.items())
