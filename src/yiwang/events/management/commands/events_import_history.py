"""``manage.py events_import_history FILE``: load closed historical events in bulk.

CSV, JSON Lines or Parquet (UTF-8 or GBK); the columns are documented in
``yiwang/events/history.py``. Idempotent (a row already imported, by channel and
source_ref, is counted and skipped) and resumable (rerun the same file after a crash:
it goes on after the last committed batch). Bad rows are listed with their number and
reason; every other row is imported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from yiwang.accounts.models import User
from yiwang.events.history import DEFAULT_BATCH, ImportError_, history_import


class Command(BaseCommand):
    help = ("Import closed historical events (CSV, JSON Lines or Parquet) in bulk with their "
            "final assignment and a compact timeline; idempotent and resumable.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the file (.csv, .jsonl or .parquet)")
        parser.add_argument("--format", choices=["csv", "jsonl", "parquet"],
                            help="default: from the file name")
        parser.add_argument("--encoding", help="default: UTF-8 if it decodes, else GBK")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                            help="rows per transaction and checkpoint (default %(default)s)")
        parser.add_argument("--user", help="import as this staff user (needs "
                                           "events.intake_event); default: the system")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="print the report as JSON")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args: Any, file: str, format: str | None = None,
               encoding: str | None = None, batch_size: int = DEFAULT_BATCH,
               user: str | None = None, as_json: bool = False, quiet: bool = False,
               **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {user!r}.")

        def progress(text: str) -> None:
            if not quiet:
                print(f"  {text}", file=sys.stderr, flush=True)

        try:
            report = history_import(actor=actor, path=path, fmt=format, encoding=encoding,
                                    batch_size=batch_size, system=actor is None,
                                    progress=progress)
        except PermissionDenied:
            raise CommandError(f"{user} may not register events (events.intake_event).") \
                from None
        except (ImportError_, LookupError) as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        if report.already_done:
            self.stdout.write(f"{path.name} was imported already: nothing to do.")
        elif report.resumed_from_row:
            self.stdout.write(f"resumed after row {report.resumed_from_row:,}.")
        self.stdout.write(f"{report.rows:,} rows: {report.created:,} events created, "
                          f"{report.duplicates:,} already imported, {report.error_count:,} "
                          f"refused ({report.seconds:.1f} s).")
        for error in report.errors:
            self.stdout.write(f"  row {error.row} {error.field}: {error.message}")
        if report.error_count > len(report.errors):
            self.stdout.write(f"  … and {report.error_count - len(report.errors):,} more")
