"""``manage.py events_generate_history OUT --events N``: a realistic file of closed
historical events for ``events_import_history`` (tests, demos, benchmarks)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yiwang.events.historygen import generate_history


class Command(BaseCommand):
    help = ("Write a file of realistic closed historical events (catalog items, corpus "
            "train-split texts, points in the district, two years of times).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("out", help="the file to write")
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument("--format", choices=["csv", "jsonl", "parquet"], default=None,
                            help="default: from the file name, else csv")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--years", type=float, default=2.0)

    def handle(self, *args: Any, out: str, events: int, format: str | None, seed: int,
               years: float, **options: Any) -> None:
        fmt = format or {"jsonl": "jsonl", "parquet": "parquet"}.get(
            out.rsplit(".", 1)[-1].lower(), "csv")
        try:
            written = generate_history(out=out, events=events, fmt=fmt, seed=seed,
                                       years=years)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(written))
