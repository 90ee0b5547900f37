from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from yiwang.core.notifications import requeue_due
from yiwang.core.periodic import run_due


class Command(BaseCommand):
    help = ("Periodic maintenance: requeue notifications whose retry time has come or whose "
            "worker died, then run the apps' periodic jobs (deadlines, …). Run from "
            "cron/systemd, or with --every SECONDS as a loop.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--every", type=int, default=0,
                            help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        while True:
            count = requeue_due()
            if count and options["verbosity"] > 0:
                self.stdout.write(f"requeued {count} notification(s)")
            for name, result in run_due().items():
                if options["verbosity"] > 1 or (options["verbosity"] > 0 and result):
                    self.stdout.write(f"{name}: {result}")
            if every <= 0:
                return
            time.sleep(every)
