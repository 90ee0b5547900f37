"""Steps of a benchmark that run inside Django, in the sandbox's environment.

    python -m bench.djhelper token USERNAME          create an API token, print it
    python -m bench.djhelper size                    database version and table rows (JSON)
    python -m bench.djhelper probe SPEC_JSON         per target: status, SQL queries, and
                                                     in-process milliseconds per request
    python -m bench.djhelper prepare SPEC_JSON       token, size and probe in one process
    python -m bench.djhelper profile URL [USERNAME]  cProfile of one page, top functions

The runner starts these as subprocesses with ``YIWANG_VAR_DIR`` and ``DATABASE_URL`` of
the throwaway sandbox (``bench.sandbox``); do not run them against a real database.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from typing import Any

import django

TOKEN_PERMISSIONS = ["core.view_orgunit"]


def _setup() -> None:
    if "YIWANG_VAR_DIR" not in os.environ:
        raise SystemExit("bench.djhelper runs inside a benchmark's sandbox only "
                         "(YIWANG_VAR_DIR is not set)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    django.setup()


def token(username: str) -> str:
    from yiwang.accounts.models import User
    from yiwang.accounts.services import token_create

    user = User.objects.get(username=username)
    _token, plain = token_create(actor=user, name="bench", permissions=TOKEN_PERMISSIONS)
    return plain


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
        else:
            cursor.execute("SELECT version()")
        return str(cursor.fetchone()[0]).split(" on ")[0]


def size() -> dict[str, int]:
    from yiwang.accounts.models import ApiToken, User
    from yiwang.core.models.audit import AuditEntry
    from yiwang.core.models.org import OrgUnit

    return {
        "org_units": OrgUnit.objects.count(),
        "users": User.objects.count(),
        "staff_users": User.objects.filter(kind="staff").count(),
        "api_tokens": ApiToken.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
    }


def _client(spec: dict[str, Any]) -> Any:
    from django.test import Client

    from yiwang.accounts.models import User

    client = Client()
    if spec.get("user"):
        client.force_login(User.objects.get(username=spec["user"]))
    return client


def probe(specs: list[dict[str, Any]], repeat: int) -> list[dict[str, Any]]:
    """Each target without HTTP or concurrency: what one request costs the server."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = []
    for spec in specs:
        client = _client(spec)
        headers = spec.get("headers", {})
        for _ in range(3):  # warm caches: templates, translations, permissions
            client.get(spec["path"], headers=headers)
        times, queries, status = [], 0, 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(spec["path"], headers=headers)
                times.append((time.perf_counter() - began) * 1000)
            queries, status = len(captured.captured_queries), response.status_code
        out.append({"target": spec["name"], "status": status, "queries": queries,
                    "bytes": len(response.content),
                    "in_process_ms": round(statistics.median(times), 2)})
    return out


def profile(path: str, username: str | None, repeat: int = 30) -> str:
    client = _client({"user": username})
    for _ in range(3):
        client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(path)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer).sort_stats("cumulative")
    stats.print_stats(40)
    return buffer.getvalue()


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    _setup()
    command, rest = argv[0], argv[1:]
    if command == "token":
        print(token(rest[0]))
    elif command == "size":
        print(json.dumps({"version": database_version(), "tables": size()}))
    elif command == "probe":
        spec = json.loads(rest[0])
        print(json.dumps(probe(spec["targets"], repeat=int(spec.get("repeat", 20)))))
    elif command == "prepare":
        # One Django start-up instead of three: {"user", "repeat", "targets"}; a target
        # with "auth": "token" is probed with the new token.
        spec = json.loads(rest[0])
        plain = token(spec["user"])
        for target in spec["targets"]:
            if target.pop("auth", None) == "token":
                target["headers"] = {"Authorization": f"Bearer {plain}"}
        print(json.dumps({"token": plain, "version": database_version(), "tables": size(),
                          "probe": probe(spec["targets"], repeat=int(spec["repeat"]))}))
    elif command == "profile":
        print(profile(rest[0], rest[1] if len(rest) > 1 else None))
    else:
        raise SystemExit(f"unknown command {command!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
