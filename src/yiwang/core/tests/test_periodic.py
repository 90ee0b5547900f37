"""Periodic jobs: each runs when its interval has passed; a failing one stops no other."""

from __future__ import annotations

from yiwang.core import periodic


def test_run_due__respects_intervals_and_survives_a_failing_job(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("database away")

    periodic.register_periodic("often", lambda: ran.append("often") or 1, interval=10)
    periodic.register_periodic("broken", broken, interval=10)
    periodic.register_periodic("rarely", lambda: ran.append("rarely") or 2, interval=100)

    assert periodic.run_due(now=1000) == {"often": 1, "broken": "failed", "rarely": 2}
    assert periodic.run_due(now=1005) == {}
    assert periodic.run_due(now=1011) == {"often": 1, "broken": "failed"}
    assert ran == ["often", "rarely", "often"]
