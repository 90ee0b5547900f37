"""Check the declared authorization matrix and render it for the security review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang import access

DOC = Path(settings.PROJECT_DIR) / "docs" / "authorization-matrix.md"


class Command(BaseCommand):
    help = ("Report routes without an access rule (and rules without a route); with "
            "--write, render the matrix to docs/authorization-matrix.md.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true",
                            help=f"write the Markdown table to {DOC}")
        parser.add_argument("--print", action="store_true", dest="show",
                            help="print the Markdown table")

    def handle(self, *args: Any, write: bool, show: bool, **options: Any) -> None:
        table = access.policy_table()
        problems = access.check(table=table)
        for problem in problems:
            self.stderr.write(problem)
        if show:
            self.stdout.write(access.render_markdown(table), ending="")
        if write:
            DOC.parent.mkdir(parents=True, exist_ok=True)
            DOC.write_text(access.render_markdown(table), encoding="utf-8")
            self.stdout.write(f"wrote {DOC}")
        if problems:
            raise CommandError(f"{len(problems)} route(s) without a matching access rule")
        if not (write or show):
            self.stdout.write(f"{len(table.rules)} access rules cover every route.")
