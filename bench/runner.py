"""The benchmark runner: ``./yw bench NAME [--runs N] [--smoke] [--scale S]``.

A benchmark is a module in ``bench/benchmarks/`` that registers a :class:`Benchmark`
with :func:`register`. The runner prepares its data once (with the foundation's
generator, in a throwaway var dir and database), measures it ``--runs`` times, and
writes ``bench/results/NAME.json`` and ``NAME.md``: median, min and max, the data
size, the machine, the date and the commit. ``--smoke`` runs tiny data once and writes
to a temporary folder, so CI can prove every benchmark still works without timing it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import pkgutil
import shlex
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import benchmarks as benchmarks_pkg
from .machine import git_commit, machine, wait_for_idle
from .sandbox import BenchError

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Context:
    """What one invocation of a benchmark knows: its options and where it may write."""

    name: str
    args: argparse.Namespace
    smoke: bool
    runs: int
    scratch: Path  # a temporary folder, removed after the benchmark
    state: dict[str, Any] = field(default_factory=dict)  # prepare() → run() → cleanup()


@dataclass(frozen=True)
class Benchmark:
    """One named benchmark. ``run`` returns the figures of one measured run."""

    name: str
    description: str  # one line, shown by --list
    prepare: Callable[[Context], dict[str, Any]]  # builds the data; returns its size
    run: Callable[[Context, int], list[dict[str, Any]]]  # one run; one row per measurement
    summarize: Callable[[Context, list[dict[str, Any]]], dict[str, Any]]
    markdown: Callable[[dict[str, Any]], list[str]]  # the body of NAME.md
    cleanup: Callable[[Context], None] = lambda ctx: None
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None
    scale_help: str = "data size"
    default_runs: int = 5
    describe_run: Callable[[dict[str, Any]], str] = lambda row: json.dumps(row)


REGISTRY: dict[str, Benchmark] = {}


def register(benchmark: Benchmark) -> Benchmark:
    if benchmark.name in REGISTRY:
        raise ValueError(f"benchmark {benchmark.name!r} registered twice")
    REGISTRY[benchmark.name] = benchmark
    return benchmark


def discover() -> dict[str, Benchmark]:
    """Import every module of ``bench/benchmarks/``; each registers itself."""
    for module in pkgutil.iter_modules(benchmarks_pkg.__path__):
        importlib.import_module(f"{benchmarks_pkg.__name__}.{module.name}")
    return dict(sorted(REGISTRY.items()))


# --- helpers for benchmarks ---------------------------------------------------------------

def spread(values: Iterable[float], digits: int = 2) -> dict[str, float]:
    """Median, min and max of the runs' values."""
    data = list(values)
    return {"median": round(statistics.median(data), digits), "min": round(min(data), digits),
            "max": round(max(data), digits)}


def parse_scale(text: str) -> float:
    """``1000000``, ``1_000_000``, ``1e6``, ``1m`` or ``250k``."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1e3, "m": 1e6}.get(text[-1:], 1)
    if factor != 1:
        text = text[:-1]
    value = float(text) * factor
    if value <= 0:
        raise argparse.ArgumentTypeError("the scale must be positive")
    return value


# --- the command line -----------------------------------------------------------------------

def build_parser(registry: dict[str, Benchmark]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yw bench", description=(__doc__ or "").split("\n\n")[0],
        epilog="Benchmarks: " + ", ".join(registry) + ". `yw bench NAME --help` for options.")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    sub = parser.add_subparsers(dest="name", metavar="NAME")
    for bench in registry.values():
        p = sub.add_parser(bench.name, help=bench.description, description=bench.description)
        p.add_argument("--runs", type=int, default=None,
                       help=f"measured runs (default {bench.default_runs}; 1 with --smoke)")
        p.add_argument("--smoke", action="store_true",
                       help="tiny data, one short run, results to a temporary folder: "
                            "proves the benchmark works, measures nothing")
        p.add_argument("--scale", type=parse_scale, default=None, help=bench.scale_help)
        p.add_argument("--idle-wait", type=float, default=0, metavar="SECONDS",
                       help="before each run, wait up to SECONDS for the CPUs to be less "
                            "than 25%% busy (records how busy they were either way)")
        p.add_argument("--render", action="store_true",
                       help="only rewrite NAME.md from the existing NAME.json (after a "
                            "change of the report's layout)")
        p.add_argument("--results", type=Path, default=None,
                       help="folder for NAME.json and NAME.md (default bench/results/, "
                            "a temporary folder with --smoke)")
        bench.add_arguments(p)
    return parser


def run_benchmark(bench: Benchmark, args: argparse.Namespace,
                  argv: Sequence[str]) -> dict[str, Any]:
    runs = args.runs if args.runs is not None else (1 if args.smoke else bench.default_runs)
    if runs < 1:
        raise BenchError("--runs must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix=f"yw-bench-{bench.name}-"))
    ctx = Context(name=bench.name, args=args, smoke=args.smoke, runs=runs, scratch=scratch)
    started = dt.datetime.now(dt.UTC)
    try:
        print(f"bench {bench.name}: preparing data{' (smoke)' if args.smoke else ''}…",
              flush=True)
        data = bench.prepare(ctx)
        rows: list[dict[str, Any]] = []
        for index in range(runs):
            busy = wait_for_idle(args.idle_wait) if args.idle_wait > 0 else None
            for row in bench.run(ctx, index):
                row = {"run": index + 1, **row}
                if busy is not None:
                    row["machine_busy_before_run"] = busy
                rows.append(row)
                print(f"run {index + 1}/{runs}: {bench.describe_run(row)}", flush=True)
        summary = bench.summarize(ctx, rows)
    finally:
        bench.cleanup(ctx)
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "benchmark": bench.name,
        "description": bench.description,
        "command": "yw bench " + shlex.join(argv),
        "smoke": args.smoke,
        "measured_at": started.strftime("%Y-%m-%d %H:%M UTC"),
        **git_commit(),
        "machine": machine(),
        "parameters": ctx.state.get("parameters", {}),
        "data": data,
        "runs": rows,
        "summary": summary,
    }


def write_results(bench: Benchmark, result: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / f"{bench.name}.json", folder / f"{bench.name}.md"
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                         encoding="utf-8")
    md_path.write_text("\n".join(markdown_page(bench, result)) + "\n", encoding="utf-8")
    return json_path, md_path


def markdown_page(bench: Benchmark, result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    commit = f"`{result['commit'] or 'unknown'}`"
    if result.get("dirty"):
        commit += " (with uncommitted changes)"
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return [
        f"# {bench.name}",
        "",
        bench.description,
        "",
        f"`{result['command']}` — measured {result['measured_at']} at commit {commit}.",
        "",
        *bench.markdown(result),
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, {m['os']}, "
        f"Linux {m['kernel']}, Python {m['python']}; {packages}.",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    registry = discover()
    parser = build_parser(registry)
    args = parser.parse_args(argv)
    if args.list or args.name is None:
        width = max(len(name) for name in registry)
        for name, bench in registry.items():
            print(f"{name:<{width}}  {bench.description}")
        if not args.list:
            print("\nRun one: ./yw bench NAME [--runs N] [--smoke] [--scale S]")
        return 0
    bench = registry[args.name]
    if args.render:
        folder = args.results or RESULTS
        result = json.loads((folder / f"{bench.name}.json").read_text(encoding="utf-8"))
        json_path, md_path = write_results(bench, result, folder)
        print(f"rewrote {md_path}")
        return 0
    smoke_dir = None
    try:
        result = run_benchmark(bench, args, argv)
        folder = args.results
        if folder is None:
            folder = RESULTS
            if args.smoke:
                folder = smoke_dir = Path(tempfile.mkdtemp(prefix="yw-bench-smoke-"))
        json_path, md_path = write_results(bench, result, folder)
    except BenchError as exc:
        print(f"bench {args.name}: {exc}", file=sys.stderr)
        return 1
    finally:
        if smoke_dir is not None:
            shutil.rmtree(smoke_dir, ignore_errors=True)
    print(json.dumps(result["summary"], ensure_ascii=False, indent=2))
    if smoke_dir is None:
        print(f"wrote {json_path} and {md_path}")
    else:
        print("smoke run: nothing written to bench/results/")
    return 0
