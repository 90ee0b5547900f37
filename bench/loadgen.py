"""HTTP load against a server on 127.0.0.1: wrk when installed, else a small Python loop.

Both return the same figures: requests, requests/s, latency percentiles, responses by
status and socket errors. Every run is bounded in time, and only loopback addresses
are accepted as targets.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sandbox import BenchError

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
WRK_POST_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
LOOPBACK = re.compile(r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|::1)$")
MAX_SECONDS = 120  # no single load step may run longer


@dataclass(frozen=True)
class Load:
    url: str
    connections: int
    seconds: float
    headers: tuple[tuple[str, str], ...] = ()
    # POST load: a file of request bodies, one a line, sent in turn (None: GET).
    bodies: Path | None = None


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if not LOOPBACK.match(host):
        raise BenchError(f"refusing to send load to {host!r}: only 127.0.0.1 is allowed")


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _result(*, requests: int, seconds: float, latencies_us: dict[str, float],
            statuses: dict[str, int], socket_errors: dict[str, int], tool: str,
            client_cpu_seconds: float) -> dict[str, Any]:
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    return {
        "tool": tool,
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "latency_ms": {k: round(v / 1000, 2) for k, v in latencies_us.items()},
        "statuses": dict(sorted(statuses.items())),
        "non_2xx": requests - ok if statuses else requests,
        "socket_errors": socket_errors,
        "client_cpu_seconds": round(client_cpu_seconds, 2),
    }


def run_wrk(load: Load, *, threads: int) -> dict[str, Any]:
    check_loopback(load.url)
    if not 0 < load.seconds <= MAX_SECONDS:
        raise BenchError(f"a load step lasts 1–{MAX_SECONDS} s, not {load.seconds}")
    threads = max(1, min(threads, load.connections))
    cmd = ["wrk", "-t", str(threads), "-c", str(load.connections),
           "-d", f"{max(1, round(load.seconds))}s", "--timeout", "10s",
           "-s", str(WRK_POST_SCRIPT if load.bodies else WRK_SCRIPT)]
    for name, value in load.headers:
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(load.url)
    if load.bodies:
        cmd += ["--", str(load.bodies)]
    cpu_before = children_cpu_seconds()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: S603
                            text=True)
    try:
        out, err = proc.communicate(timeout=load.seconds + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError("wrk did not finish in time") from None
    # communicate() reaped wrk: its CPU time is now in our children's rusage.
    client_cpu = children_cpu_seconds() - cpu_before
    line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}): {err.strip() or out.strip()}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    lat = data["latency_us"]
    return _result(
        requests=data["requests"], seconds=data["duration_us"] / 1e6,
        latencies_us={"p50": lat["p50"], "p90": lat["p90"], "p99": lat["p99"],
                      "mean": lat["mean"], "max": lat["max"]},
        statuses=data["statuses"], socket_errors=data["socket_errors"], tool="wrk",
        client_cpu_seconds=client_cpu)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[index]


def run_python(load: Load, *, max_requests: int = 100_000) -> dict[str, Any]:
    """A closed-loop load of ``connections`` threads, each sending one request at a time.

    Far weaker than wrk (the GIL caps it at a few hundred requests/s): for smoke runs
    and machines without wrk, never for committed figures.
    """
    check_loopback(load.url)
    if not 0 < load.seconds <= MAX_SECONDS:
        raise BenchError(f"a load step lasts 1–{MAX_SECONDS} s, not {load.seconds}")
    parts = urllib.parse.urlsplit(load.url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = dict(load.headers)
    bodies = ([line for line in load.bodies.read_text(encoding="utf-8").splitlines() if line]
              if load.bodies else [])
    sent = [0]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    lock = threading.Lock()
    budget = [max_requests]
    deadline = time.perf_counter() + load.seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80,
                                          timeout=10)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                    sent[0] += 1
                    body = bodies[sent[0] % len(bodies)].encode() if bodies else None
                began = time.perf_counter()
                try:
                    conn.request("POST" if bodies else "GET", path, body=body,
                                 headers=headers)
                    response = conn.getresponse()
                    response.read()
                except TimeoutError:
                    kind = "timeout"
                except ConnectionRefusedError:
                    kind = "connect"
                except (OSError, http.client.HTTPException):
                    kind = "read"
                else:
                    kind = ""
                elapsed = (time.perf_counter() - began) * 1e6
                with lock:
                    if kind:
                        errors[kind] += 1
                        conn.close()
                        continue
                    latencies.append(elapsed)
                    key = str(response.status)
                    statuses[key] = statuses.get(key, 0) + 1
        finally:
            conn.close()

    cpu_before = time.process_time()
    started = time.perf_counter()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(load.connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=load.seconds + 15)
    seconds = time.perf_counter() - started
    latencies.sort()
    return _result(
        requests=len(latencies), seconds=seconds,
        latencies_us={"p50": _percentile(latencies, 50), "p90": _percentile(latencies, 90),
                      "p99": _percentile(latencies, 99),
                      "mean": sum(latencies) / len(latencies) if latencies else 0.0,
                      "max": latencies[-1] if latencies else 0.0},
        statuses=statuses, socket_errors=errors, tool="python",
        client_cpu_seconds=time.process_time() - cpu_before)


def children_cpu_seconds() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system
