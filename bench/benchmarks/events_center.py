"""``events_center``: the event center's import, intake and pages at a million events.

Issue 5's budgets on this 2-core machine, with PostgreSQL:

- a bulk import of 1,000,000 historical events in ≤ 5 minutes
  (``manage.py events_import_history``, in a fresh process, file generated beforehand by
  ``manage.py events_generate_history``);
- sustained intake through the HTTP API — ``POST /api/events`` with an API token, as a
  machine channel sends it — with classification, location and auto-dispatch, of
  ≥ 200 events/s (wrk holding several concurrency levels, ≥ 60 s each);
- the dispatcher queue ``/events/queue/`` (a district and a street dispatcher) and, when
  the URL ``events:figures`` exists, the figures page, each within 300 ms (p90 at 1
  connection) with the million events stored.

The database ``yiwang_bench_events`` and its var dir ``/tmp/yw-bench-events-center`` are
kept and reused by later runs (``--reload`` loads again): the demo district, the dispatch
catalog published, the classifier trained (catalog + corpus train split), then the
import. Events created by the intake steps stay (a few tens of thousands a run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.machine import load_average, process_tree_cpu, tool_version
from bench.runner import Benchmark, Context, register, spread
from bench.sandbox import BenchError, Sandbox, _db_name
from bench.server import Gunicorn, login, request

from .services_cases import KeptSandbox

IMPORT_BUDGET_S = 300.0
INTAKE_BUDGET = 200.0
PAGE_BUDGET_MS = 300.0
FULL_EVENTS, SMOKE_EVENTS = 1_000_000, 1_500
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_events"
KEPT_VAR_DIR = Path(tempfile.gettempdir()) / "yw-bench-events-center"
DEMO_PASSWORD = "Yiwang-demo-2026"  # noqa: S105 - yiwang.core.generator.accounts
TOKEN_PERMISSIONS = ["events.intake_event", "events.view_event"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=None,
                        help=f"historical events imported (default {FULL_EVENTS:,}; "
                             f"{SMOKE_EVENTS:,} with --smoke)")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default=None,
                        help="postgres (default) or sqlite (default with --smoke)")
    parser.add_argument("--postgres-url", default=DEFAULT_URL,
                        help="the kept database (default %(default)s)")
    parser.add_argument("--reload", action="store_true",
                        help="drop the kept database and import again")
    parser.add_argument("--intake-connections", default=None,
                        help="intake concurrency levels (default 2,5,10; 2 with --smoke)")
    parser.add_argument("--intake-duration", type=float, default=None,
                        help="seconds per intake step (default 60; 1 with --smoke)")
    parser.add_argument("--connections", default=None,
                        help="page connections per step (default 1,4; 1 with --smoke)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per page step (default 15; 1 with --smoke)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn sync workers (default 2 × CPUs + 1; 2 with --smoke)")
    parser.add_argument("--conn-max-age", default="60",
                        help="DB_CONN_MAX_AGE of the server (default 60)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="in-process calls per function and run (default 15)")
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")


def _csv(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _parameters(ctx: Context) -> dict[str, Any]:
    a = ctx.args
    events = int(a.events or a.scale or (SMOKE_EVENTS if ctx.smoke else FULL_EVENTS))
    database = a.database or ("sqlite" if ctx.smoke else "postgres")
    tool = a.load_tool
    if tool == "auto":
        tool = "wrk" if loadgen.wrk_available() and not ctx.smoke else "python"
    if tool == "wrk" and not loadgen.wrk_available():
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    if database == "postgres":
        _db_name(a.postgres_url)
    return {
        "events": events, "database": database,
        "postgres_url": a.postgres_url if database == "postgres" else None,
        "intake_connections": _csv(a.intake_connections or ("2" if ctx.smoke else "2,5,10")),
        "intake_seconds": a.intake_duration or (1.0 if ctx.smoke else 60.0),
        "connections": _csv(a.connections or ("1" if ctx.smoke else "1,4")),
        "seconds": a.duration or (1.0 if ctx.smoke else 15.0),
        "workers": a.workers or (2 if ctx.smoke else 2 * len(os.sched_getaffinity(0)) + 1),
        "worker_class": "sync", "db_conn_max_age": a.conn_max_age,
        "repeat": a.repeat or (2 if ctx.smoke else 15),
        "load_tool": tool,
        "load_tool_version": tool_version("wrk", "--version") if tool == "wrk" else "python",
        "wrk_threads": 2,
        "budgets": {"import_seconds": IMPORT_BUDGET_S, "intake_events_per_second":
                    INTAKE_BUDGET, "page_p90_ms": PAGE_BUDGET_MS},
    }


def _marker(var_dir: Path) -> Path:
    return var_dir / "bench-events-center.json"


def _timed_manage(sandbox: Sandbox, *args: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, stdout) of ``manage.py ARGS``."""
    cpu0 = loadgen.children_cpu_seconds()
    began = time.perf_counter()
    out = sandbox.manage(*args, capture=True)
    return time.perf_counter() - began, loadgen.children_cpu_seconds() - cpu0, out


def _load(sandbox: Sandbox, events: int, scratch: Path, *, train: bool = True
          ) -> dict[str, Any]:
    began = time.perf_counter()
    sandbox.manage("migrate", "--no-input", "-v", "0")
    sandbox.manage("demo_setup", "--events", "0", capture=True)
    demo = time.perf_counter() - began
    setup = json.loads(sandbox.python("-m", __name__, "setup", "train" if train else "keywords"))
    history = scratch / "history.csv"
    gen_s, _gen_cpu, gen_out = _timed_manage(sandbox, "events_generate_history", str(history),
                                   "--events", str(events))
    written = json.loads(gen_out.strip().splitlines()[-1])
    load_before = load_average()
    import_s, import_cpu, import_out = _timed_manage(sandbox, "events_import_history", str(history),
                                         "--json", "--quiet")
    report = json.loads(import_out)
    if report["created"] != events or report["error_count"]:
        raise BenchError(f"the import created {report['created']} of {events} events, "
                         f"refused {report['error_count']}: {report['errors'][:3]}")
    history.unlink(missing_ok=True)
    return {"demo_setup_seconds": round(demo, 1), "setup": setup,
            "generate_seconds": round(gen_s, 1), "file_bytes": written["bytes"],
            "import_wall_seconds": round(import_s, 1),
            "import_seconds_in_command": report["seconds"],
            "import_cpu_seconds": round(import_cpu, 1),
            "load_average_before_import": load_before,
            "load_average_after_import": load_average(),
            "import_events_per_second": round(events / import_s),
            "import_batches": report["batches"], "rollup_rebuilt": report["rollup_rebuilt"],
            "within_budget": import_s <= IMPORT_BUDGET_S}


def _reusable(sandbox: KeptSandbox, events: int) -> dict[str, Any] | None:
    try:
        marker = json.loads(_marker(sandbox.var_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("database_url") != sandbox.database_url or not sandbox.exists() \
            or marker.get("events") != events:
        return None
    sandbox.manage("migrate", "--no-input", "-v", "0")
    counted = json.loads(sandbox.python("-m", __name__, "count"))
    return marker if counted["imported"] == events else None


def prepare(ctx: Context) -> dict[str, Any]:
    params = _parameters(ctx)
    ctx.state.update(parameters=params, servers=[])
    events = params["events"]
    if params["database"] == "postgres" and not ctx.smoke:
        sandbox: Sandbox = KeptSandbox(postgres_url=params["postgres_url"],
                                       var_dir=KEPT_VAR_DIR).__enter__()
        assert isinstance(sandbox, KeptSandbox)
        marker = None if ctx.args.reload else _reusable(sandbox, events)
        reused = marker is not None
        if marker is None:
            print(f"  importing {events:,} historical events into "
                  f"{params['postgres_url']} (kept for the next run)…", flush=True)
            sandbox.create()
            marker = {"database_url": sandbox.database_url, "events": events,
                      "loaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "load": _load(sandbox, events, ctx.scratch)}
            _marker(sandbox.var_dir).write_text(json.dumps(marker, indent=2),
                                                encoding="utf-8")
        else:
            print(f"  reusing {events:,} events in {params['postgres_url']} "
                  f"(imported {marker['loaded_at']})", flush=True)
    else:
        url = params["postgres_url"] or DEFAULT_URL
        if params["database"] == "postgres":
            url = f"{url.rsplit('/', 1)[0]}/yiwang_bench_smoke_events_{os.getpid()}"
        sandbox = Sandbox(database=params["database"], postgres_url=url).__enter__()
        ctx.state["throwaway"] = sandbox
        # Smoke runs classify by the catalog's keywords: training takes most of a minute.
        marker = {"events": events, "load": _load(sandbox, events, ctx.scratch,
                                                  train=not ctx.smoke),
                  "loaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        reused = False
    ctx.state["sandbox"] = sandbox
    info = json.loads(sandbox.python("-m", __name__, "describe"))
    bodies = ctx.scratch / "bodies.jsonl"
    bodies.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b in info.pop("bodies"))
                      + "\n", encoding="utf-8")
    server = Gunicorn(sandbox, workers=params["workers"],
                      env={"DB_CONN_MAX_AGE": str(params["db_conn_max_age"])}).start()
    ctx.state["servers"].append(server)
    ctx.state["server"] = server
    token = info.pop("token")
    ctx.state["intake"] = {
        "url": server.base + "/api/events", "bodies": bodies,
        "headers": (("Authorization", f"Bearer {token}"),
                    ("Content-Type", "application/json"))}
    first = bodies.read_text(encoding="utf-8").splitlines()[0]
    status, _h, body = request(server.base + "/api/events", method="POST",
                               body=first.encode(), headers=dict(ctx.state["intake"]["headers"]))
    if status != 201:
        raise BenchError(f"POST /api/events answered {status}: {body[:300]!r}\n"
                         + server.log_tail())
    cookies = {role: login(server.base, username=name, password=DEMO_PASSWORD)
               for role, name in info["users"].items()}
    targets = {"queue_district": ("/events/queue/", "district"),
               "queue_street": ("/events/queue/", "street")}
    if info["figures_path"]:
        targets["figures"] = (info["figures_path"], "district")
    available = {}
    for name, (path, who) in targets.items():
        headers = (("Cookie", cookies[who]),)
        status, response_headers, body = request(server.base + path, headers=dict(headers))
        if status != 200:
            raise BenchError(f"{path} as {info['users'][who]} answered {status} "
                             f"{response_headers.get('Location', '')}:\n" + server.log_tail())
        available[name] = {"url": server.base + path, "headers": headers, "path": path,
                           "user": info["users"][who], "bytes": len(body)}
    ctx.state["targets"] = available
    params["targets"] = {n: {"path": t["path"], "user": t["user"]} for n, t in
                         available.items()}
    params["figures_page"] = info["figures_path"] or None
    if not ctx.smoke:  # warm every worker
        for target in available.values():
            _http(ctx, loadgen.Load(url=target["url"], connections=params["workers"],
                                    seconds=3, headers=target["headers"]))
        intake = ctx.state["intake"]
        _http(ctx, loadgen.Load(url=intake["url"], connections=params["workers"], seconds=3,
                                headers=intake["headers"], bodies=intake["bodies"]))
    return {"events": events, "reused_database": reused, "loaded_at": marker["loaded_at"],
            "load": marker["load"], **info}


def _http(ctx: Context, load: loadgen.Load) -> dict[str, Any]:
    params = ctx.state["parameters"]
    if params["load_tool"] == "wrk":
        return loadgen.run_wrk(load, threads=params["wrk_threads"])
    return loadgen.run_python(load)


def _step(ctx: Context, load: loadgen.Load) -> dict[str, Any]:
    server: Gunicorn = ctx.state["server"]
    before = load_average()
    cpu0 = process_tree_cpu(server.pid)
    result = _http(ctx, load)
    cpu = process_tree_cpu(server.pid) - cpu0
    ok = result["requests"] - result["non_2xx"]
    if ok <= 0:
        raise BenchError(f"{load.url} c={load.connections}: no 2xx response "
                         f"({result['statuses']}, {result['socket_errors']})\n"
                         + server.log_tail())
    return {"connections": load.connections, "requests": result["requests"],
            "ok": ok, "errors": result["non_2xx"] + sum(result["socket_errors"].values()),
            "statuses": result["statuses"], "socket_errors": result["socket_errors"],
            "seconds": result["seconds"],
            "requests_per_second": result["requests_per_second"],
            "ok_per_second": round(ok / result["seconds"], 1) if result["seconds"] else 0,
            "latency_ms": result["latency_ms"],
            "server_cpu_ms_per_request": round(cpu / max(result["requests"], 1) * 1000, 2),
            "client_cpu_seconds": result["client_cpu_seconds"],
            "load_average_before": before}


def run(ctx: Context, index: int) -> list[dict[str, Any]]:
    params = ctx.state["parameters"]
    sandbox: Sandbox = ctx.state["sandbox"]
    rows: list[dict[str, Any]] = []
    before = load_average()
    probes = json.loads(sandbox.python("-m", __name__, "probe", str(params["repeat"])))
    for name, figures in probes.items():
        rows.append({"kind": "function", "target": name, **figures,
                     "load_average_before": before})
    for name, target in ctx.state["targets"].items():
        for connections in params["connections"]:
            row = _step(ctx, loadgen.Load(url=target["url"], connections=connections,
                                          seconds=params["seconds"],
                                          headers=target["headers"]))
            if row["errors"]:
                raise BenchError(f"{name} c={connections}: {row['statuses']}, "
                                 f"{row['socket_errors']}; every page must answer 200")
            rows.append({"kind": "page", "target": name, **row})
    intake = ctx.state["intake"]
    for connections in params["intake_connections"]:
        row = _step(ctx, loadgen.Load(url=intake["url"], connections=connections,
                                      seconds=params["intake_seconds"],
                                      headers=intake["headers"], bodies=intake["bodies"]))
        rows.append({"kind": "intake", "target": "POST /api/events", **row})
    counted = json.loads(sandbox.python("-m", __name__, "outcomes", str(index)))
    rows.append({"kind": "outcomes", "target": "intake outcomes", **counted,
                 "load_average_before": load_average()})
    return rows


def summarize(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    params = ctx.state["parameters"]
    functions = []
    for name in dict.fromkeys(r["target"] for r in rows if r["kind"] == "function"):
        mine = [r for r in rows if r["kind"] == "function" and r["target"] == name]
        functions.append({"target": name, "what": mine[0]["what"],
                          "queries": mine[0]["queries"],
                          "ms": {q: spread(r["ms"][q] for r in mine)
                                 for q in ("p50", "p90", "max")}})
    pages = []
    for name, target in params["targets"].items():
        for connections in params["connections"]:
            mine = [r for r in rows if r["kind"] == "page" and r["target"] == name
                    and r["connections"] == connections]
            latency = {q: spread(r["latency_ms"][q] for r in mine) for q in ("p50", "p90",
                                                                             "p99")}
            pages.append({"target": name, **target, "connections": connections,
                          "requests_per_second": spread(
                              (r["requests_per_second"] for r in mine), 1),
                          "latency_ms": latency,
                          "server_cpu_ms_per_request": spread(
                              r["server_cpu_ms_per_request"] for r in mine)["median"],
                          "within_budget": latency["p90"]["median"] <= PAGE_BUDGET_MS})
    intake = []
    for connections in params["intake_connections"]:
        mine = [r for r in rows if r["kind"] == "intake" and r["connections"] == connections]
        intake.append({
            "connections": connections,
            "events_per_second": spread((r["ok_per_second"] for r in mine), 1),
            "latency_ms": {q: spread(r["latency_ms"][q] for r in mine)
                           for q in ("p50", "p90", "p99")},
            "errors": sum(r["errors"] for r in mine),
            "requests": sum(r["requests"] for r in mine),
            "server_cpu_ms_per_request": spread(
                r["server_cpu_ms_per_request"] for r in mine)["median"]})
    best = max((i["events_per_second"]["median"] for i in intake), default=0.0)
    outcomes = [r for r in rows if r["kind"] == "outcomes"]
    load = (ctx.state.get("load_figures") or {})
    del load
    return {"runs": ctx.runs, "budgets": params["budgets"], "pages": pages,
            "intake": intake, "intake_best_events_per_second": best,
            "intake_within_budget": best >= INTAKE_BUDGET, "functions": functions,
            "outcomes": outcomes[-1] if outcomes else {}}


def cleanup(ctx: Context) -> None:
    for server in ctx.state.get("servers", []):
        server.stop()
    throwaway = ctx.state.get("throwaway")
    if throwaway is not None:
        throwaway.close()


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown(result: dict[str, Any]) -> list[str]:
    p, s, data = result["parameters"], result["summary"], result["data"]
    load = data["load"]
    tables = ", ".join(f"{v:,} {k}" for k, v in data["tables"].items())
    lines = [
        f"Data: {data['database_version']} ({data['database_bytes'] / 2**30:.2f} GiB): "
        f"{tables}. Imported {data['loaded_at']}"
        + (" (reused by this run)" if data["reused_database"] else " by this run") + ".",
        "",
        "## Import",
        "",
        f"`manage.py events_import_history` of **{data['events']:,} historical events** "
        f"(CSV, {load['file_bytes'] / 2**20:.0f} MiB, written by `events_generate_history` in "
        f"{load['generate_seconds']} s), in a fresh process: **{load['import_wall_seconds']} s"
        f"** wall ({load['import_events_per_second']:,} events/s, "
        f"{load['import_batches']} batches; budget ≤ {IMPORT_BUDGET_S:g} s: "
        f"{_yes(load['within_budget'])}). Each event comes with its lead assignment and "
        "a timeline of three entries; one audit entry per batch. Before it: `demo_setup` "
        f"{load['demo_setup_seconds']} s, catalog and classifier "
        f"{load['setup']['seconds']} s.",
        "",
        "## Intake",
        "",
        f"`POST /api/events` with the API token of `{data['token_user']}` "
        f"({', '.join(TOKEN_PERMISSIONS)}), a different report each request "
        f"({data['body_count']} texts of the corpus, 80 % with a point in the district): "
        "classified by the active model, located, auto-dispatched when confident. gunicorn "
        f"{p['workers']} {p['worker_class']} workers, DB_CONN_MAX_AGE={p['db_conn_max_age']},"
        f" {p['load_tool_version']} with {p['wrk_threads']} threads, "
        f"{p['intake_seconds']:g} s per step, {s['runs']} runs. Budget ≥ "
        f"{INTAKE_BUDGET:g} events/s (2xx answers per second).",
        "",
        "| connections | events/s median (min–max) | p50 ms | p90 ms | p99 ms | errors "
        "| server CPU ms/event |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i in s["intake"]:
        eps, lat = i["events_per_second"], i["latency_ms"]
        lines.append(f"| {i['connections']} | {eps['median']} ({eps['min']}–{eps['max']}) "
                     f"| {lat['p50']['median']} | {lat['p90']['median']} "
                     f"| {lat['p99']['median']} | {i['errors']} of {i['requests']:,} "
                     f"| {i['server_cpu_ms_per_request']} |")
    o = s.get("outcomes") or {}
    lines += ["", f"Best: **{s['intake_best_events_per_second']} events/s** — within budget: "
              f"{_yes(s['intake_within_budget'])}."]
    if o:
        lines += ["", "What the intake did (events registered through the API in the ten "
                  f"minutes before the last run's last one, {o['created']:,}): "
                  + ", ".join(f"{k} {v:,}" for k, v in o["status"].items())
                  + f"; classified {o['classified']:,}, located {o['located']:,}, "
                  f"auto-dispatched {o['auto_dispatched']:,}."]
    lines += [
        "",
        "## Pages",
        "",
        f"Signed in through the login form; {p['seconds']:g} s per step. Budget "
        f"≤ {PAGE_BUDGET_MS:g} ms (p90 at 1 connection, median of the runs)."
        + ("" if p.get("figures_page") else " The figures page (`events:figures`) does "
           "not exist on this commit: not measured."),
        "",
        "| page | user | conns | p50 ms | p90 ms | p99 ms | req/s | server CPU ms/req "
        "| within |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in s["pages"]:
        lat = c["latency_ms"]
        lines.append(f"| `{c['path']}` | `{c['user']}` | {c['connections']} "
                     f"| {lat['p50']['median']} | {lat['p90']['median']} "
                     f"| {lat['p99']['median']} | {c['requests_per_second']['median']} "
                     f"| {c['server_cpu_ms_per_request']} "
                     f"| {_yes(c['within_budget']) if c['connections'] == 1 else '—'} |")
    lines += ["", "In process (no HTTP), median over the runs of each run's p50 / p90 of "
              f"{p['repeat']} calls:", "",
              "| function | what | SQL queries | p50 ms | p90 ms | max ms |",
              "|---|---|---:|---:|---:|---:|"]
    for f in s["functions"]:
        ms = f["ms"]
        lines.append(f"| `{f['target']}` | {f['what']} | {f['queries']} "
                     f"| {ms['p50']['median']} | {ms['p90']['median']} "
                     f"| {ms['max']['median']} |")
    before = {r["run"]: (r.get("machine_busy_before_run"), r["load_average_before"])
              for r in result["runs"] if r["kind"] == "function"}
    lines += ["", "How busy the machine was before each run (shared with other work): "
              + "; ".join(f"run {run}: load average {load_}"
                          + (f", CPUs {busy:.0%} busy" if busy is not None else "")
                          for run, (busy, load_) in sorted(before.items())) + "."]
    return lines


def describe(row: dict[str, Any]) -> str:
    if row["kind"] == "function":
        return (f"{row['target']:<34} p50 {row['ms']['p50']} ms  p90 {row['ms']['p90']} ms "
                f" {row['queries']} queries")
    if row["kind"] == "outcomes":
        return f"intake outcomes: {json.dumps({k: v for k, v in row.items() if k != 'run'})}"
    lat = row["latency_ms"]
    return (f"{row['kind']} {row['target']:<18} c={row['connections']:<2} "
            f"{row['ok_per_second']:>6.1f} ok/s  p50 {lat['p50']} ms  p90 {lat['p90']} ms  "
            f"p99 {lat['p99']} ms  errors {row['errors']}  "
            f"server {row['server_cpu_ms_per_request']} ms CPU/req")


BENCHMARK = register(Benchmark(
    name="events_center",
    description="The event center at 1,000,000 events in PostgreSQL (issue 5): historical "
                "import time, sustained API intake (events/s) and the dispatcher queue "
                "and figures pages' latency.",
    prepare=prepare, run=run, summarize=summarize, markdown=markdown, cleanup=cleanup,
    add_arguments=add_arguments, describe_run=describe,
    scale_help="historical events (same as --events)", default_runs=3,
))


# --- inside Django, in the sandbox: python -m bench.benchmarks.events_center CMD ------------


def _django() -> None:
    import django

    if "YIWANG_VAR_DIR" not in os.environ:
        raise SystemExit("runs inside the benchmark's sandbox only (YIWANG_VAR_DIR unset)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    django.setup()


def _setup(train: bool) -> dict[str, Any]:
    """Publish the shipped dispatch catalog and train the classifier (no history)."""
    from yiwang.events import catalog, learning

    began = time.perf_counter()
    if catalog.published_catalog() is None:
        result = catalog.catalog_load(actor=None, system=True, publish=True,
                                      data=catalog.shared_catalog_path().read_bytes())
        if result.catalog is None:
            raise SystemExit(f"catalog: {result.errors}")
    published = catalog.published_catalog()
    assert published is not None
    if not train:
        return {"seconds": round(time.perf_counter() - began, 1), "classifier": "keywords"}
    trained = learning.train_and_store(published, force=True, history=False)
    return {"seconds": round(time.perf_counter() - began, 1),
            "classifier": f"v{trained.row.version}",
            "classifier_top1": trained.metrics.get("top1")}


def _count() -> dict[str, int]:
    from django.db.models import Sum

    from yiwang.events.models import HistoryImport

    done = HistoryImport.objects.filter(status=HistoryImport.Status.DONE)
    return {"imported": int(done.aggregate(n=Sum("created"))["n"] or 0)}


def _users() -> dict[str, str]:
    from yiwang.accounts.models import User

    street = (User.objects.filter(username__startswith="dispatcher.", is_active=True)
              .order_by("username").first())
    if street is None:
        raise SystemExit("no street dispatcher in the demo accounts")
    return {"district": "dispatcher", "street": street.username}


def _bodies() -> list[dict[str, Any]]:
    """Reports to send: held-out corpus texts (the model never saw them), 80 % with a
    point inside a grid of the district."""
    import random

    from yiwang.core.models import OrgUnit
    from yiwang.events.learning import load_corpus, split_corpus

    rng = random.Random(5)  # noqa: S311 - test data
    _train, held_out = split_corpus(load_corpus())
    grids = list(OrgUnit.objects.filter(kind="grid", is_active=True, boundary__isnull=False)
                 .values_list("centroid_lon", "centroid_lat", "min_lon", "min_lat",
                              "max_lon", "max_lat"))
    out = []
    for row in held_out[:600]:
        body: dict[str, Any] = {"description": row["text"], "reporter_name": "测试",
                                "reporter_phone": f"138{rng.randrange(10**8):08d}"}
        if grids and rng.random() < 0.8:
            lon, lat, *_ = rng.choice(grids)
            body["lon"], body["lat"] = round(lon, 6), round(lat, 6)
        out.append(body)
    rng.shuffle(out)
    return out


def _describe() -> dict[str, Any]:
    from django.db import connection
    from django.urls import NoReverseMatch, reverse

    from yiwang.accounts.models import User
    from yiwang.accounts.services import token_create
    from yiwang.core.models.audit import AuditEntry
    from yiwang.events.models import Assignment, Event, EventUpdate

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            version, size = cursor.fetchone()
            version = str(version).split(" on ")[0]
        else:
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
            version = cursor.fetchone()[0]
            size = Path(connection.settings_dict["NAME"]).stat().st_size
    try:
        figures = reverse("events:figures")
    except NoReverseMatch:
        figures = ""
    users = _users()
    _token, plain = token_create(actor=User.objects.get(username=users["district"]),
                                 name="bench intake", permissions=TOKEN_PERMISSIONS)
    bodies = _bodies()
    return {"database_version": version, "database_bytes": size, "users": users,
            "figures_path": figures, "token": plain, "token_user": users["district"],
            "bodies": bodies, "body_count": len(bodies),
            "tables": {"events": Event.objects.count(),
                       "assignments": Assignment.objects.count(),
                       "event_updates": EventUpdate.objects.count(),
                       "audit_entries": AuditEntry.objects.count()}}


def _timed(fn: Any, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            fn()
            times.append((time.perf_counter() - began) * 1000)
        queries = len(captured.captured_queries)
    times.sort()
    return {"queries": queries, "ms": {
        "p50": round(statistics.median(times), 1),
        "p90": round(times[min(len(times) - 1, int(len(times) * 0.9))], 1),
        "max": round(times[-1], 1)}}


def _probe(repeat: int) -> dict[str, Any]:
    from django.test import Client

    from yiwang.accounts.models import User
    from yiwang.events import selectors

    users = _users()
    probes: dict[str, Any] = {}
    for who, username in users.items():
        user = User.objects.get(username=username)
        tabs = selectors.tabs_for(user, selectors.QUEUE_TABS)
        tab = "received" if "received" in [t.code for t in tabs] else tabs[0].code

        def queue(user: Any = user, tab: str = tab, tabs: Any = tabs) -> None:
            qs = selectors.event_queue(actor=user, tab=tab, q=None, channel=None,
                                       time_state=None, urgent=False)
            page = selectors.CappedPaginator(qs, 25).get_page(1)
            list(page.object_list)
            selectors.tab_counts(actor=user, tabs=tabs, of="queue")

        probes[f"event_queue[{who}]"] = {
            "what": f"{username}: tab {tab}, page 1 + tab counts", **_timed(queue, repeat)}
        client = Client()
        client.force_login(user)

        def page(client: Any = client) -> None:
            response = client.get("/events/queue/")
            assert response.status_code == 200, response.status_code

        probes[f"queue page[{who}]"] = {"what": f"{username}: the whole view (test client)",
                                        **_timed(page, repeat)}
    try:
        from django.urls import reverse

        figures_path = reverse("events:figures")
    except Exception:
        return probes
    client = Client()
    client.force_login(User.objects.get(username=users["district"]))

    def figures(client: Any = client) -> None:
        assert client.get(figures_path).status_code == 200

    probes["figures page[district]"] = {"what": "dispatcher: the whole view (test client)",
                                        **_timed(figures, repeat)}
    return probes


def _outcomes(index: int) -> dict[str, Any]:
    """What the intake of this run did: statuses, classified, located, auto-dispatched."""
    from django.db.models import Count

    from yiwang.events.models import Event, EventUpdate

    mine = Event.objects.filter(source_ref="", channel="hotline",
                                intake_by__username="dispatcher")
    since = (EventUpdate.objects.filter(event__in=mine, action="create")
             .order_by("-at").values_list("at", flat=True)[:1])
    recent = mine
    if since:
        import datetime as dt

        recent = mine.filter(received_at__gte=since[0] - dt.timedelta(minutes=10))
    return {"created": recent.count(),
            "status": dict(recent.values_list("status").annotate(n=Count("id")).order_by()),
            "classified": recent.filter(category__isnull=False).count(),
            "located": recent.filter(location_unit__isnull=False).count(),
            "auto_dispatched": EventUpdate.objects.filter(
                event__in=recent, action="dispatch", actor__isnull=True).count()}


def main(argv: list[str]) -> None:
    _django()
    command = argv[0] if argv else ""
    if command == "setup":
        print(json.dumps(_setup(argv[1:] != ["keywords"])))
    elif command == "count":
        print(json.dumps(_count()))
    elif command == "describe":
        print(json.dumps(_describe(), ensure_ascii=False))
    elif command == "probe":
        print(json.dumps(_probe(int(argv[1])), ensure_ascii=False))
    elif command == "outcomes":
        print(json.dumps(_outcomes(int(argv[1]))))
    else:
        raise SystemExit("commands: setup, count, describe, probe REPEAT, outcomes RUN")


if __name__ == "__main__":
    main(sys.argv[1:])
