"""Benchmark ``yw generate --persons 1000000``: wall time, CPU time and peak memory.

Runs the real command in a fresh process several times (Django start-up included, as a
user would see it), then writes ``bench/results/generate_persons.json`` and ``.md``.

    .venv/bin/python bench/generate_persons.py [--persons N] [--runs N] [--format csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BUDGET_SECONDS = 60.0  # the target: one million persons in under a minute on 2 cores


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    versions = subprocess.run(
        [sys.executable, "-c", "import numpy, pyarrow, shapely; "
         "print(numpy.__version__, pyarrow.__version__, shapely.__version__)"],
        capture_output=True, text=True, check=True).stdout.split()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": versions[0], "pyarrow": versions[1], "shapely": versions[2],
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S607
            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def run_once(*, persons: int, fmt: str, out: Path) -> dict[str, Any]:
    """One fresh ``manage.py generate`` process: wall seconds, CPU seconds, peak RSS."""
    cmd = [sys.executable, str(ROOT / "manage.py"), "generate", "--persons", str(persons),
           "--format", fmt, "--out", str(out), "--quiet"]
    load = os.getloadavg()[0]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)  # noqa: S603
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"generate failed with exit code {proc.returncode}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rows = {k: v["rows"] for k, v in manifest["files"].items() if v["rows"] is not None}
    size = sum((out / v["path"]).stat().st_size for v in manifest["files"].values())
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "load_average_before": round(load, 2),
        "rows": rows,
        "bytes_written": size,
    }


def write_markdown(result: dict[str, Any], path: Path) -> None:
    s = result["summary"]
    m = result["machine"]
    lines = [
        f"# `{result['command']}`",
        "",
        f"Measured {result['measured_at']} at commit `{result['commit'] or 'uncommitted'}` "
        "(plus the working tree of that moment).",
        "",
        "| runs | median s | min s | max s | persons/s (median) | all rows/s (median) "
        "| CPU s (median) | peak RSS MB (max) | budget |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {s['runs']} | {s['median_seconds']} | {s['min_seconds']} | {s['max_seconds']} "
        f"| {s['persons_per_second']:,} | {s['rows_per_second']:,} | {s['median_cpu_seconds']} "
        f"| {s['max_peak_rss_mb']} | {'✅' if s['within_budget'] else '❌'} < "
        f"{BUDGET_SECONDS:.0f} s |",
        "",
        "Per run:",
        "",
        "| # | wall s | CPU s | peak RSS MB | load avg before |",
        "|---:|---:|---:|---:|---:|",
    ]
    for i, run in enumerate(result["runs"], start=1):
        lines.append(f"| {i} | {run['seconds']} | {run['cpu_seconds']} | {run['peak_rss_mb']} "
                     f"| {run['load_average_before']} |")
    rows = result["runs"][0]["rows"]
    lines += [
        "",
        "Rows per run: " + ", ".join(f"{v:,} {k}" for k, v in rows.items())
        + f"; {result['runs'][0]['bytes_written'] / 1e6:,.0f} MB written.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, Python "
        f"{m['python']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}, shapely {m['shapely']}, "
        f"{m['platform']}.",
        "",
        "Wall time includes Python and Django start-up, building the district and writing "
        "the files. A load average above the CPU count means other work shared the "
        "machine; CPU seconds are the steadier figure then.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    runs = []
    for i in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="yw-bench-"))
        try:
            run = run_once(persons=args.persons, fmt=args.format, out=out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        runs.append(run)
        print(f"run {i + 1}/{args.runs}: {run['seconds']:.2f} s wall, "
              f"{run['cpu_seconds']:.2f} s CPU, {run['peak_rss_mb']:.0f} MB peak RSS", flush=True)
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    total_rows = sum(runs[0]["rows"].values())
    result = {
        "benchmark": "generate_persons",
        "command": f"yw generate --persons {args.persons} --format {args.format} --quiet",
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": machine(),
        "runs": runs,
        "summary": {
            "runs": len(runs),
            "median_seconds": round(median, 2),
            "min_seconds": round(min(seconds), 2),
            "max_seconds": round(max(seconds), 2),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 2),
            "persons_per_second": round(args.persons / median),
            "rows_per_second": round(total_rows / median),
            "max_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "within_budget": median < BUDGET_SECONDS,
        },
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "generate_persons.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_markdown(result, args.results / "generate_persons.md")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
