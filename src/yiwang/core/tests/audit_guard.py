"""Lift and restore the audit table's append-only triggers in tests."""

from __future__ import annotations

import importlib

from django.db import connection

guard = importlib.import_module("yiwang.core.migrations.0002_audit_append_only")


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop_append_only_guard() -> None:
    """What a malicious DBA could do: remove the triggers."""
    _run({"sqlite": guard.SQLITE_DROP, "postgresql": guard.POSTGRES_DROP}[connection.vendor])


def restore_append_only_guard() -> None:
    _run({"sqlite": guard.SQLITE, "postgresql": guard.POSTGRES}[connection.vendor])
