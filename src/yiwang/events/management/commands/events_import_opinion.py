"""``manage.py events_import_opinion <file>``: import an online-opinion feed (网络舆情).

JSON (a list of records, or ``{"records": [...]}``) or CSV with a header
(``source,url,text,time,place`` or 来源,链接,内容,时间,地点), in UTF-8 or GBK. Each
record is checked on its own: bad ones are listed with their row and skipped, the rest
registered through the normal intake (classified, located, auto-dispatched when
confident). A record is known by its URL, so running the command again on the same or an
overlapping file creates nothing twice: an interrupted import is resumed by rerunning it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from yiwang.accounts.models import User
from yiwang.events.channels import opinion_import


class Command(BaseCommand):
    help = ("Import an online-opinion feed file (JSON or CSV, UTF-8 or GBK) as events; "
            "idempotent by URL.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the feed file (.json or .csv)")
        parser.add_argument("--format", choices=["json", "csv"],
                            help="default: from the file name")
        parser.add_argument("--user", help="register as this staff user (needs "
                                           "events.intake_event); default: the system")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="print the report as JSON")

    def handle(self, *args: Any, file: str, format: str | None = None,
               user: str | None = None, as_json: bool = False, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        fmt = format or path.suffix.lower().lstrip(".")
        if fmt not in ("json", "csv"):
            raise CommandError("Say --format json or --format csv.")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {user!r}.")
        try:
            report = opinion_import(actor=actor, data=path.read_bytes(), fmt=fmt,
                                    system=actor is None)
        except PermissionDenied:
            raise CommandError(f"{user} may not register events (events.intake_event).") \
                from None
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {
                "file": exc.messages}
            raise CommandError("; ".join(m for ms in messages.values() for m in ms)) from None
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{report.total} records: {report.created} new events, "
                          f"{report.duplicates} already imported, "
                          f"{len({e.row for e in report.errors})} with errors.")
        for error in report.errors:
            self.stdout.write(f"  row {error.row} {error.field}: {error.message}")
