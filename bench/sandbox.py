"""A throwaway var dir and database for the processes a benchmark starts.

Every ``manage.py`` or server process a benchmark runs gets ``YIWANG_VAR_DIR`` and
``DATABASE_URL`` pointing here, so a benchmark never reads or writes the developer's
``var/`` or database. PostgreSQL databases are created for the run and dropped after it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench"


class BenchError(RuntimeError):
    """A benchmark cannot run or produced invalid figures; the message says why."""


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_reachable(url: str = DEFAULT_POSTGRES_URL) -> bool:
    parts = urllib.parse.urlsplit(url)
    return port_open(parts.hostname or "127.0.0.1", parts.port or 5432)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin_connect(url: str) -> Any:
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname="postgres", autocommit=True, connect_timeout=5)


def _db_name(url: str) -> str:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum() or "bench" not in name:
        # Dropping the database is part of the run: never point this at a real one.
        raise BenchError(f"refusing PostgreSQL database {name!r}: its name must contain "
                         "'bench' and only letters, digits and underscores")
    return name


class Sandbox:
    """A temporary var dir plus a SQLite file in it or a fresh PostgreSQL database."""

    def __init__(self, *, database: str = "sqlite", postgres_url: str = DEFAULT_POSTGRES_URL,
                 keep: bool = False) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="yw-bench-"))
        self.database = database
        self.keep = keep
        if database == "sqlite":
            self.database_url = f"sqlite:///{self.var_dir / 'yiwang.sqlite3'}"
        elif database == "postgres":
            self.database_url = postgres_url
            self._pg_name = _db_name(postgres_url)
        else:
            raise BenchError(f"unknown database {database!r} (sqlite or postgres)")

    def __enter__(self) -> Sandbox:
        if self.database == "postgres":
            if not postgres_reachable(self.database_url):
                raise BenchError(f"no PostgreSQL answers for {self.database_url}")
            with _admin_connect(self.database_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.database == "postgres" and not self.keep:
            try:
                with _admin_connect(self.database_url) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
            except Exception as exc:  # cleaning up: say so and go on
                print(f"bench: could not drop {self._pg_name}: {exc}", file=sys.stderr)
        if not self.keep:
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process of the run."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        pythonpath = [str(ROOT / "src"), str(ROOT)]
        if env.get("PYTHONPATH"):
            pythonpath.append(env["PYTHONPATH"])
        env.update({
            "YIWANG_VAR_DIR": str(self.var_dir),
            "DATABASE_URL": self.database_url,
            "DJANGO_SETTINGS_MODULE": "yiwang.settings",
            "PYTHONPATH": os.pathsep.join(pythonpath),
            # Plain HTTP on 127.0.0.1: a Secure cookie would never be sent back.
            "SECURE_COOKIES": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        })
        env.update(extra)
        return env

    def manage(self, *args: str, capture: bool = False, **env: str) -> str:
        """Run ``manage.py ARGS`` in the sandbox; its stdout when ``capture``."""
        proc = subprocess.run(  # noqa: S603
            [*MANAGE, *args], cwd=ROOT, env=self.env(**env), text=True,
            stdout=subprocess.PIPE if capture else None, check=False)
        if proc.returncode != 0:
            raise BenchError(f"manage.py {' '.join(args)} failed with exit code "
                             f"{proc.returncode}")
        return proc.stdout or ""

    def python(self, *args: str) -> str:
        """Run ``python ARGS`` in the sandbox and return its stdout."""
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env(),  # noqa: S603
                              text=True, stdout=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise BenchError(f"python {' '.join(args)} failed with exit code "
                             f"{proc.returncode}")
        return proc.stdout
