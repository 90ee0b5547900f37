from __future__ import annotations

from typing import Any

from django.db import DatabaseError


def health_report(connection: Any) -> dict[str, Any]:
    report: dict[str, Any] = {"status": "ok", "checks": {}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["checks"]["database"] = {"status": "ok", "vendor": connection.vendor}
    except DatabaseError as exc:
        report["status"] = "error"
        report["checks"]["database"] = {"status": "error", "error": exc.__class__.__name__}
        return report
    try:
        from django_tasks_db.models import DBTaskResult

        backlog = DBTaskResult.objects.filter(status="READY").count()
        report["checks"]["tasks"] = {"status": "ok", "backlog": backlog}
    except DatabaseError as exc:
        report["status"] = "error"
        report["checks"]["tasks"] = {"status": "error", "error": exc.__class__.__name__}
    return report
