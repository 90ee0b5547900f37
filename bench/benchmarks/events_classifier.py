"""``events_classifier``: accuracy, training time and latency of the appeal classifier.

Issue 5 asks for ≥ 90 % top-1 and ≥ 97 % top-3 on appeal texts the model has never
seen, measured on a held-out split, and the figure reported with the model. Each run is
a fresh Python process (Django set up, no database needed) that does what
``manage.py events_train`` does with an empty history: train on the catalog's keywords
(``shared/data/dispatch_catalog.csv`` as shipped in ``events/data/``) and the train split
(60 %) of the hand-written corpus ``events/corpus/appeals.jsonl`` plus its texts marked
``train``, evaluate on the held-out 40 % (stratified per item, by a hash of the text) and
on the second held-out set ``events/corpus/heldout2.jsonl`` (written before any tuning
against it, never trained on), then load the stored form of
the model (npz arrays, no pickle) and time single predictions (``rank(text, 5)``, one
text at a time, cycling through the held-out texts).

Reported: top-1 / top-3 overall and per style of text, for both held-out sets (never
added together), training wall and CPU seconds
(budget: < 60 s on 2 cores, so the demo can train at set-up), loading time and the
median / p99 latency of one prediction (budget ≤ 5 ms). Accuracy does not vary between
runs (training is deterministic); times do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.machine import load_average
from bench.runner import Benchmark, Context, register, spread
from bench.sandbox import ROOT, BenchError, Sandbox

TRAIN_BUDGET_SECONDS = 60.0
LATENCY_BUDGET_MS = 5.0
TARGET_TOP1, TARGET_TOP3 = 0.90, 0.97
SMOKE_ITEMS = 12

SCRIPT = """
import json, sys
import django
django.setup()
from yiwang.events import learning
items, predictions = int(sys.argv[1]), int(sys.argv[2])
catalog = learning.items_from_csv()
rows = learning.load_corpus()
if items:
    catalog = catalog[:items]
    codes = {i.code for i in catalog}
    rows = [r for r in rows if r["code"] in codes]
print(json.dumps(learning.measure(runs_latency=predictions, corpus_rows=rows,
                                  items=catalog)))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", type=int, default=None,
                        help="single predictions timed per run (default 3000; 200 with "
                             "--smoke)")


def measure_once(sandbox: Sandbox, *, items: int, predictions: int) -> dict[str, Any]:
    load = load_average()
    began = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SCRIPT, str(items), str(predictions)], cwd=ROOT,
        env=sandbox.env(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchError("the classifier measurement failed")
    result = json.loads(output.strip().splitlines()[-1])
    return {
        "process_seconds": round(seconds, 3),
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "load_average_before": load,
        **result,
    }


def prepare(ctx: Context) -> dict[str, Any]:
    items = SMOKE_ITEMS if ctx.smoke else int(ctx.args.scale or 0)
    predictions = ctx.args.predictions or (200 if ctx.smoke else 3000)
    sandbox = Sandbox().__enter__()
    ctx.state.update(sandbox=sandbox, items=items, predictions=predictions, parameters={
        "catalog_items": items or "all (179)", "predictions_timed": predictions,
        "command": "./yw bench events_classifier",
        "same_as": "manage.py events_train --no-history (minus the database)",
    })
    return {"catalog_items": items or 179}


def run(ctx: Context, index: int) -> list[dict[str, Any]]:
    return [measure_once(ctx.state["sandbox"], items=ctx.state["items"],
                         predictions=ctx.state["predictions"])]


def summarize(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    first = rows[0]
    metrics = first["metrics"]
    heldout2 = first["heldout2"]
    train = spread(r["train_seconds"] for r in rows)
    return {
        "runs": len(rows),
        "n_test": metrics["n_test"],
        "top1": metrics["top1"],
        "top3": metrics["top3"],
        "target_top1": TARGET_TOP1,
        "target_top3": TARGET_TOP3,
        "meets_target": bool(metrics["top1"] >= TARGET_TOP1 and metrics["top3"] >= TARGET_TOP3),
        "by_style": metrics["by_style"],
        "heldout2": {"n_test": heldout2["n_test"], "top1": heldout2["top1"],
                     "top3": heldout2["top3"], "by_style": heldout2["by_style"]},
        "heldout2_meets_target": bool(heldout2["top1"] >= TARGET_TOP1
                                      and heldout2["top3"] >= TARGET_TOP3),
        "by_channel": metrics["by_channel"],
        "training_examples": first["training_examples"],
        "cross_validation": first["cross_validation"],
        "features": first["features"],
        "blob_bytes": first["blob_bytes"],
        "temperature": first["temperature"],
        "blend": first["blend"],
        "median_train_seconds": train["median"],
        "min_train_seconds": train["min"],
        "max_train_seconds": train["max"],
        "within_train_budget": train["median"] < TRAIN_BUDGET_SECONDS,
        "median_process_seconds": spread(r["process_seconds"] for r in rows)["median"],
        "median_load_ms": spread(r["load_ms"] for r in rows)["median"],
        "latency_median_ms": spread((r["latency_ms"]["median"] for r in rows), 3)["median"],
        "latency_p99_ms": spread((r["latency_ms"]["p99"] for r in rows), 3)["median"],
        "within_latency_budget": all(r["latency_ms"]["p99"] <= LATENCY_BUDGET_MS for r in rows),
        "latency_cpu_p99_ms": spread((r["latency_cpu_ms"]["p99"] for r in rows), 3)["median"],
        "median_load_average_before": spread(
            (r["load_average_before"] for r in rows), 2)["median"],
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "libraries": first["libraries"],
    }


def cleanup(ctx: Context) -> None:
    if "sandbox" in ctx.state:
        ctx.state["sandbox"].close()


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def markdown(result: dict[str, Any]) -> list[str]:
    s = result["summary"]
    h2 = s["heldout2"]

    def verdict(met: bool) -> str:
        return "✅" if met else "❌ below target"

    lines = [
        f"Two held-out sets, never trained on, reported separately: the **held-out split** "
        f"of the hand-written corpus ({s['n_test']} texts, fixed since the first model) and "
        f"the **second held-out set** ({h2['n_test']} texts, written before any tuning "
        "against it). Model: char 1–3-gram TF-IDF of the text and of the standard terms "
        "the colloquial lexicon adds → LinearSVC, softmax temperature "
        f"{s['temperature']}, keyword blend {s['blend']} (both by 3-fold CV on the train "
        f"split: top-1 {_pct(s['cross_validation'].get('cv_top1', 0))}, top-3 "
        f"{_pct(s['cross_validation'].get('cv_top3', 0))}); {s['features']:,} features; "
        f"stored blob {s['blob_bytes'] / 1e6:.1f} MB.",
        "",
        "| held-out set | n | top-1 | top-3 | target ≥ 90 % / ≥ 97 % |",
        "|---|---:|---:|---:|---|",
        f"| split of the corpus | {s['n_test']} | **{_pct(s['top1'])}** "
        f"| **{_pct(s['top3'])}** | {verdict(s['meets_target'])} |",
        f"| second set | {h2['n_test']} | **{_pct(h2['top1'])}** | **{_pct(h2['top3'])}** "
        f"| {verdict(s['heldout2_meets_target'])} |",
        "",
        "| train s (median, min–max) | load ms | predict p50 ms | predict p99 ms "
        "| predict p99 CPU ms | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s['median_train_seconds']} ({s['min_train_seconds']}–{s['max_train_seconds']}) "
        f"| {s['median_load_ms']} | {s['latency_median_ms']} | {s['latency_p99_ms']} "
        f"| {s['latency_cpu_p99_ms']} | {s['max_peak_rss_mb']} |",
        "",
        f"Load average before the runs: {s['median_load_average_before']} on "
        "2 CPUs. The wall-clock p99 of a prediction includes being preempted on a busy "
        "machine; the CPU p99 is what the code itself costs (budget: 5 ms).",
        "",
        "Per style of text (the `style` tag), held-out split:",
        "",
        "| style | n | top-1 | top-3 |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {k} | {v['n']} | {_pct(v['top1'])} | {_pct(v['top3'])} |"
              for k, v in s["by_style"].items()]
    lines += ["", "Second held-out set:", "", "| style | n | top-1 | top-3 |",
              "|---|---:|---:|---:|"]
    lines += [f"| {k} | {v['n']} | {_pct(v['top1'])} | {_pct(v['top3'])} |"
              for k, v in h2["by_style"].items()]
    lines += ["", "Training examples: " + ", ".join(
        f"{k} {v:,}" for k, v in s["training_examples"].items())
        + " (catalog = each keyword and item name, all of an item's keywords together, "
        "and lexicon variants of a keyword; corpus = the train split and the texts marked "
        "train)."]
    lines += ["", "Per run:", "",
              "| # | train s | process wall s | process CPU s | p50 ms | p99 ms "
              "| load avg before |", "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['run']} | {r['train_seconds']} | {r['process_seconds']} "
              f"| {r['process_cpu_seconds']} | {r['latency_ms']['median']} "
              f"| {r['latency_ms']['p99']} | {r['load_average_before']} |"
              for r in result["runs"]]
    lines += [
        "",
        "Training time includes normalising every text (OpenCC), the 3-fold "
        "cross-validation that fits the temperature and the keyword blend, and the final "
        "fit; the process time adds Python and Django start-up. Latency is one "
        "`rank(text, 5)` on the loaded (npz) model, text normalisation included. "
        "The corpus was written by the developers, not by citizens: see "
        "`docs/adr/0008-event-classification.md` for what the figure means and what "
        "would raise it.",
    ]
    return lines


def describe(row: dict[str, Any]) -> str:
    m = row["metrics"]
    h2 = row["heldout2"]
    return (f"top-1 {m['top1']:.3f}, top-3 {m['top3']:.3f} on {m['n_test']} held-out; "
            f"second set top-1 {h2['top1']:.3f}, top-3 {h2['top3']:.3f}; "
            f"train {row['train_seconds']:.1f} s; predict p50 {row['latency_ms']['median']} "
            f"ms, p99 {row['latency_ms']['p99']} ms")


BENCHMARK = register(Benchmark(
    name="events_classifier",
    description="Appeal classifier: top-1/top-3 on the held-out corpus split and on the "
                "second held-out set, training seconds, prediction latency (p50/p99).",
    prepare=prepare, run=run, summarize=summarize, markdown=markdown, cleanup=cleanup,
    add_arguments=add_arguments, describe_run=describe,
    scale_help="catalog items to train on (default all 179; 12 with --smoke)",
    default_runs=3,
))
