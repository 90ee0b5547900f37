"""``generate_persons``: throughput and memory of ``yw generate --persons N``.

Each run is a fresh ``manage.py generate`` process (Python and Django start-up
included, as a user waits for it) writing into a scratch folder; wall and CPU seconds
and peak RSS come from ``wait4()``. Issue 2's budget: one million persons in under
60 s on a 2-core machine, with memory bounded by the chunk size, not by the population:
a full run also generates a tenth and three times the population once each, to show
the peak RSS stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.machine import load_average
from bench.runner import Benchmark, Context, register, spread
from bench.sandbox import MANAGE, ROOT, BenchError, Sandbox

BUDGET_SECONDS = 60.0
FULL_PERSONS, SMOKE_PERSONS = 1_000_000, 2_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--no-memory-probe", dest="memory_probe", action="store_false",
                        help="skip the extra runs at a tenth and three times the scale")


def generate_once(sandbox: Sandbox, *, persons: int, fmt: str, out: Path) -> dict[str, Any]:
    """One fresh ``manage.py generate`` process: wall seconds, CPU seconds, peak RSS."""
    cmd = [*MANAGE, "generate", "--persons", str(persons), "--format", fmt,
           "--out", str(out), "--quiet"]
    load = load_average()
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=sandbox.env())  # noqa: S603
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        if proc.returncode != 0:
            raise BenchError(f"generate failed with exit code {proc.returncode}")
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        rows = {k: v["rows"] for k, v in manifest["files"].items() if v["rows"] is not None}
        size = sum((out / v["path"]).stat().st_size for v in manifest["files"].values())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "persons": persons,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "load_average_before": load,
        "rows": rows,
        "bytes_written": size,
    }


def prepare(ctx: Context) -> dict[str, Any]:
    persons = int(ctx.args.scale or (SMOKE_PERSONS if ctx.smoke else FULL_PERSONS))
    sandbox = Sandbox().__enter__()
    ctx.state.update(sandbox=sandbox, persons=persons, parameters={
        "persons": persons, "format": ctx.args.format, "chunk_rows": 100_000,
        "command": f"manage.py generate --persons {persons} --format {ctx.args.format} "
                   "--out SCRATCH --quiet",
    })
    # The data is what each run generates: its size is known after the first run.
    return {"persons": persons}


def run(ctx: Context, index: int) -> list[dict[str, Any]]:
    row = generate_once(ctx.state["sandbox"], persons=ctx.state["persons"],
                        fmt=ctx.args.format, out=ctx.scratch / f"run-{index + 1}")
    return [row]


def summarize(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    persons = ctx.state["persons"]
    seconds = spread(r["seconds"] for r in rows)
    total_rows = sum(rows[0]["rows"].values())
    summary = {
        "runs": len(rows),
        "persons": persons,
        "median_seconds": seconds["median"],
        "min_seconds": seconds["min"],
        "max_seconds": seconds["max"],
        "median_cpu_seconds": spread(r["cpu_seconds"] for r in rows)["median"],
        "persons_per_second": round(persons / seconds["median"]),
        "rows_per_second": round(total_rows / seconds["median"]),
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "rows": rows[0]["rows"],
        "bytes_written": rows[0]["bytes_written"],
        "budget_seconds": BUDGET_SECONDS if persons == FULL_PERSONS else None,
        "within_budget": seconds["median"] < BUDGET_SECONDS if persons == FULL_PERSONS
        else None,
    }
    if ctx.args.memory_probe and not ctx.smoke:
        # Memory must not grow with the population: one run each at 0.1x and 3x.
        summary["memory_probe"] = [
            {k: probe[k] for k in ("persons", "seconds", "cpu_seconds", "peak_rss_mb",
                                   "load_average_before")}
            for probe in (generate_once(ctx.state["sandbox"], persons=n, fmt=ctx.args.format,
                                        out=ctx.scratch / f"probe-{n}")
                          for n in (persons // 10, persons * 3))
        ] + [{"persons": persons, "seconds": summary["median_seconds"],
              "cpu_seconds": summary["median_cpu_seconds"],
              "peak_rss_mb": summary["max_peak_rss_mb"], "load_average_before": None}]
        summary["memory_probe"].sort(key=lambda p: p["persons"])
    return summary


def cleanup(ctx: Context) -> None:
    if "sandbox" in ctx.state:
        ctx.state["sandbox"].close()


def markdown(result: dict[str, Any]) -> list[str]:
    s = result["summary"]
    budget = ("✅" if s["within_budget"] else "❌") + f" < {s['budget_seconds']:.0f} s" \
        if s["budget_seconds"] else "—"
    lines = [
        f"Data: {s['persons']:,} persons → " + ", ".join(
            f"{v:,} {k}" for k, v in s["rows"].items())
        + f" rows, {s['bytes_written'] / 1e6:,.0f} MB of {result['parameters']['format']} "
        "per run.",
        "",
        "| runs | median s | min s | max s | persons/s (median) | all rows/s (median) "
        "| CPU s (median) | peak RSS MB (max) | budget |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {s['runs']} | {s['median_seconds']} | {s['min_seconds']} | {s['max_seconds']} "
        f"| {s['persons_per_second']:,} | {s['rows_per_second']:,} | {s['median_cpu_seconds']} "
        f"| {s['max_peak_rss_mb']} | {budget} |",
        "",
        "Per run:",
        "",
        "| # | wall s | CPU s | peak RSS MB | load avg before | CPUs busy before |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['run']} | {r['seconds']} | {r['cpu_seconds']} | {r['peak_rss_mb']} "
              f"| {r['load_average_before']} | {_busy(r)} |" for r in result["runs"]]
    if s.get("memory_probe"):
        lines += ["", "Peak memory against population size (one run each; the middle row "
                  "is the summary above):", "",
                  "| persons | wall s | CPU s | peak RSS MB |", "|---:|---:|---:|---:|"]
        lines += [f"| {p['persons']:,} | {p['seconds']} | {p['cpu_seconds']} "
                  f"| {p['peak_rss_mb']} |" for p in s["memory_probe"]]
    lines += [
        "",
        "Wall time includes Python and Django start-up, building the district (Voronoi "
        "tiling of streets, communities and grids) and writing every file with its SHA-256 "
        "checksum, i.e. what a user waits for. Peak RSS is bounded by one chunk (100,000 rows) "
        "plus the building stock. A load average above the CPU count means other work "
        "shared the machine; CPU seconds are the steadier figure then.",
    ]
    return lines


def _busy(row: dict[str, Any]) -> str:
    busy = row.get("machine_busy_before_run")
    return "—" if busy is None else f"{busy:.0%}"


def describe(row: dict[str, Any]) -> str:
    return (f"{row['seconds']:.2f} s wall, {row['cpu_seconds']:.2f} s CPU, "
            f"{row['peak_rss_mb']:.0f} MB peak RSS (load {row['load_average_before']})")


BENCHMARK = register(Benchmark(
    name="generate_persons",
    description="Generator throughput: `yw generate --persons 1000000` (CSV) in a fresh "
                "process — wall and CPU seconds, persons/s, peak RSS.",
    prepare=prepare, run=run, summarize=summarize, markdown=markdown, cleanup=cleanup,
    add_arguments=add_arguments, describe_run=describe,
    scale_help=f"persons to generate (default {FULL_PERSONS:,}; {SMOKE_PERSONS:,} with "
               "--smoke); accepts 1e6, 250k, 1m",
    default_runs=5,
))
