"""Periodic jobs run by ``manage.py sweep``: apps register them in ``AppConfig.ready``.

``sweep`` runs once (from cron or a systemd timer) or loops with ``--every``; a job runs
when at least its ``interval`` has passed since it last ran in this process (a one-shot
sweep runs every job). Jobs must be idempotent: two sweeps on two machines may overlap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    run: Callable[[], Any]
    interval: float  # seconds
    last_run: float = field(default=float("-inf"))


_jobs: dict[str, PeriodicJob] = {}


def register_periodic(name: str, run: Callable[[], Any], *, interval: float) -> None:
    """Run ``run()`` from the sweep at most every ``interval`` seconds."""
    _jobs.setdefault(name, PeriodicJob(name, run, interval))


def jobs() -> list[PeriodicJob]:
    return list(_jobs.values())


def run_due(now: float | None = None) -> dict[str, Any]:
    """Run every job whose interval has passed; a failing job is logged, not fatal."""
    now = time.monotonic() if now is None else now
    results: dict[str, Any] = {}
    for job in _jobs.values():
        if now - job.last_run < job.interval:
            continue
        job.last_run = now
        try:
            results[job.name] = job.run()
        except Exception:  # one broken job must not stop the others or the loop
            logger.exception("periodic job %s failed", job.name)
            results[job.name] = "failed"
    return results
