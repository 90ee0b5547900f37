"""``services_cases``: a department's inbox and the statistics page with 1,000,000 cases.

Issue 4's budget: with a million cases in PostgreSQL, a department's inbox page and the
statistics page each answer within 300 ms on this (2-core) machine.

The data: the demo district (``migrate`` + ``demo_setup``: 59 matters of 22
departments, staff, applicant accounts, 3,000 demo cases) plus synthetic cases up to
``--cases`` from ``yiwang.services.bulkload`` (PostgreSQL ``COPY``): two years of
submissions, most cases closed, open cases recent with clocks and time states, their
timelines, ratings for about 40 % of closed cases and rectifications for the bad ones.
Loading a million takes minutes, so the database is **kept and reused**: a later run
finds ``yiwang_bench_cases`` with the same number of cases (and the var dir it was
loaded with, ``/tmp/yw-bench-services-cases``) and only migrates it. ``--reload``
starts again from an empty database.

Each run measures, signed in through the real login form, on gunicorn (sync workers,
DEBUG off) with wrk (or the Python loop) at a fixed concurrency:

- ``inbox``: ``/services/inbox/`` (the approver's default tab) and ``?tab=all``, as the
  approver of the department with the most cases;
- ``statistics``: ``/services/statistics/`` (this quarter by department) and a full
  year, as the district supervisor.

Pages that do not resolve yet (404) are skipped and said so. Every run also times the
functions behind the pages in process (``case_statistics`` for a quarter and a year,
the inbox selector's page and counts), so a slow page can be told from a slow query.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.machine import load_average, process_tree_cpu, tool_version
from bench.runner import Benchmark, Context, register, spread
from bench.sandbox import (
    BenchError,
    Sandbox,
    _admin_connect,
    _db_name,
    postgres_reachable,
)
from bench.server import Gunicorn, login, request

BUDGET_MS = 300.0
FULL_CASES, SMOKE_CASES = 1_000_000, 4_000  # the demo district brings 3,000
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_cases"
KEPT_VAR_DIR = Path(tempfile.gettempdir()) / "yw-bench-services-cases"
DEMO_PASSWORD = "Yiwang-demo-2026"  # noqa: S105 - yiwang.core.generator.accounts
FULL_YEAR = "2025"  # fully inside the two years of generated submissions


def _targets(year: str) -> dict[str, dict[str, str]]:
    return {
        "inbox_default": {"path": "/services/inbox/", "user": "approver"},
        "inbox_all": {"path": "/services/inbox/?tab=all", "user": "approver"},
        "statistics_default": {"path": "/services/statistics/", "user": "supervisor"},
        "statistics_year": {"path": f"/services/statistics/?period={year}&by=department",
                            "user": "supervisor"},
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=None,
                        help=f"cases in the database (default {FULL_CASES:,}; "
                             f"{SMOKE_CASES:,} with --smoke)")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default=None,
                        help="postgres (default) or sqlite (default with --smoke)")
    parser.add_argument("--postgres-url", default=DEFAULT_URL,
                        help="the kept database (default %(default)s); its name must "
                             "contain 'bench'")
    parser.add_argument("--reload", action="store_true",
                        help="drop the kept database and load it again")
    parser.add_argument("--connections", default=None,
                        help="concurrent connections per step (default 1,4; 1 with --smoke)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per step (default 15; 1 with --smoke)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn sync workers (default 2 × CPUs + 1; 2 with --smoke)")
    parser.add_argument("--conn-max-age", default="60",
                        help="DB_CONN_MAX_AGE for the server (default 60: persistent "
                             "connections, as production should run; 0 = one per request)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="in-process calls per function and run (default 15)")
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")


# --- the kept database -----------------------------------------------------------------------


class KeptSandbox(Sandbox):
    """A PostgreSQL database and var dir that outlive the run, for reuse by the next."""

    def __init__(self, *, postgres_url: str, var_dir: Path) -> None:
        super().__init__(database="postgres", postgres_url=postgres_url, keep=True)
        shutil.rmtree(self.var_dir, ignore_errors=True)  # the temporary one
        self.var_dir = var_dir

    def exists(self) -> bool:
        with _admin_connect(self.database_url) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                [self._pg_name]).fetchone() is not None

    def create(self) -> None:
        """A fresh, empty database and var dir."""
        shutil.rmtree(self.var_dir, ignore_errors=True)
        self.var_dir.mkdir(parents=True)
        with _admin_connect(self.database_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self._pg_name}"')

    def __enter__(self) -> KeptSandbox:
        if not postgres_reachable(self.database_url):
            raise BenchError(f"no PostgreSQL answers for {self.database_url}")
        return self


def _marker(var_dir: Path) -> Path:
    return var_dir / "bench-services-cases.json"


def _reusable(sandbox: KeptSandbox, cases: int) -> dict[str, Any] | None:
    """The earlier load's figures when the kept database holds exactly ``cases``."""
    try:
        marker = json.loads(_marker(sandbox.var_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("database_url") != sandbox.database_url or not sandbox.exists():
        return None
    sandbox.manage("migrate", "--no-input", "-v", "0")
    counted = json.loads(sandbox.python("-m", __name__, "count"))
    return marker if counted["cases"] == cases == marker.get("cases") else None


def _load(sandbox: Sandbox, cases: int) -> dict[str, Any]:
    """migrate + demo_setup + bulk cases up to ``cases``; the loader's figures."""
    began = time.perf_counter()
    sandbox.manage("migrate", "--no-input", "-v", "0")
    sandbox.manage("demo_setup", "--events", "0", capture=True)
    demo = time.perf_counter() - began
    loaded = json.loads(sandbox.python("-m", __name__, "load", str(cases)))
    loaded["demo_setup_seconds"] = round(demo, 1)
    loaded["total_seconds"] = round(time.perf_counter() - began, 1)
    return loaded


# --- prepare / run ---------------------------------------------------------------------------


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _parameters(ctx: Context) -> dict[str, Any]:
    a = ctx.args
    if a.scale is not None and a.cases is not None:
        raise BenchError("give --cases or --scale, not both")
    cases = int(a.cases or a.scale or (SMOKE_CASES if ctx.smoke else FULL_CASES))
    database = a.database or ("sqlite" if ctx.smoke else "postgres")
    tool = a.load_tool
    if tool == "auto":
        tool = "wrk" if loadgen.wrk_available() and not ctx.smoke else "python"
    if tool == "wrk" and not loadgen.wrk_available():
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    if database == "postgres" and not ctx.smoke:
        _db_name(a.postgres_url)  # refuses a name without 'bench'
    return {
        "cases": cases,
        "database": database,
        "postgres_url": a.postgres_url if database == "postgres" else None,
        "connections": [int(c) for c in _csv(a.connections or ("1" if ctx.smoke else "1,4"))],
        "seconds": a.duration or (1.0 if ctx.smoke else 15.0),
        "workers": a.workers or (2 if ctx.smoke else 2 * len(os.sched_getaffinity(0)) + 1),
        "worker_class": "sync",
        "db_conn_max_age": a.conn_max_age,
        "repeat": a.repeat or (2 if ctx.smoke else 15),
        "load_tool": tool,
        "load_tool_version": tool_version("wrk", "--version") if tool == "wrk" else "python",
        "wrk_threads": 1,
        "budget_ms": BUDGET_MS,
        "full_year": FULL_YEAR,
    }


def prepare(ctx: Context) -> dict[str, Any]:
    params = _parameters(ctx)
    ctx.state.update(parameters=params, servers=[])
    cases = params["cases"]
    if params["database"] == "postgres" and not ctx.smoke:
        sandbox: Sandbox = KeptSandbox(postgres_url=params["postgres_url"],
                                       var_dir=KEPT_VAR_DIR).__enter__()
        assert isinstance(sandbox, KeptSandbox)
        marker = None if ctx.args.reload else _reusable(sandbox, cases)
        if marker is None:
            print(f"  loading {cases:,} cases into {params['postgres_url']} "
                  "(minutes; kept for the next run)…", flush=True)
            sandbox.create()
            loaded = _load(sandbox, cases)
            marker = {"database_url": sandbox.database_url, "cases": cases,
                      "loaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "load": loaded}
            _marker(sandbox.var_dir).write_text(json.dumps(marker, indent=2),
                                                encoding="utf-8")
            reused = False
        else:
            print(f"  reusing {cases:,} cases in {params['postgres_url']} "
                  f"(loaded {marker['loaded_at']})", flush=True)
            reused = True
    else:
        url = params["postgres_url"]
        if params["database"] == "postgres":  # a smoke run: never the kept database
            url = f"{url.rsplit('/', 1)[0]}/yiwang_bench_smoke_cases_{os.getpid()}"
        sandbox = Sandbox(database=params["database"],
                          postgres_url=url or DEFAULT_URL).__enter__()
        ctx.state["throwaway"] = sandbox
        marker = {"cases": cases, "load": _load(sandbox, cases),
                  "loaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        reused = False
    ctx.state["sandbox"] = sandbox
    info = json.loads(sandbox.python("-m", __name__, "describe"))
    params["users"] = info["users"]
    targets = _targets(params["full_year"])
    server = Gunicorn(sandbox, workers=params["workers"],
                      env={"DB_CONN_MAX_AGE": str(params["db_conn_max_age"])}).start()
    ctx.state["servers"].append(server)
    ctx.state["server"] = server
    cookies = {role: login(server.base, username=name, password=DEMO_PASSWORD)
               for role, name in info["users"].items()}
    available, missing = {}, {}
    for name, target in targets.items():
        headers = (("Cookie", cookies[target["user"]]),)
        status, response_headers, body = request(server.base + target["path"],
                                                 headers=dict(headers))
        if status == 404:
            missing[name] = target["path"]
            continue
        if status != 200:
            raise BenchError(f"{target['path']} answered {status} "
                             f"{response_headers.get('Location', '')} before the load:\n"
                             + server.log_tail())
        available[name] = {"url": server.base + target["path"], "headers": headers,
                           "bytes": len(body), "path": target["path"],
                           "user": info["users"][target["user"]]}
    ctx.state["targets"] = available
    params["targets"] = {name: t["path"] for name, t in available.items()}
    params["missing_pages"] = missing
    for target in ([] if ctx.smoke else available.values()):  # warm every worker
        _http(ctx, loadgen.Load(url=target["url"], connections=params["workers"], seconds=3,
                                headers=target["headers"]))
    return {"cases": cases, "reused_database": reused, "loaded_at": marker["loaded_at"],
            "load": marker["load"], "database_version": info["version"],
            "database_bytes": info["database_bytes"], "tables": info["tables"],
            "department": info["department"], "status_mix": info["status_mix"],
            "users": info["users"]}


def _http(ctx: Context, load: loadgen.Load) -> dict[str, Any]:
    params = ctx.state["parameters"]
    if params["load_tool"] == "wrk":
        return loadgen.run_wrk(load, threads=params["wrk_threads"])
    return loadgen.run_python(load)


def run(ctx: Context, index: int) -> list[dict[str, Any]]:
    params = ctx.state["parameters"]
    sandbox: Sandbox = ctx.state["sandbox"]
    rows: list[dict[str, Any]] = []
    before = load_average()
    probes = json.loads(sandbox.python("-m", __name__, "probe", str(params["repeat"])))
    for name, figures in probes.items():
        rows.append({"kind": "function", "target": name, **figures,
                     "load_average_before": before})
    server: Gunicorn = ctx.state["server"]
    for name, target in ctx.state["targets"].items():
        for connections in params["connections"]:
            load = loadgen.Load(url=target["url"], connections=connections,
                                seconds=params["seconds"], headers=target["headers"])
            before = load_average()
            server0 = process_tree_cpu(server.pid)
            result = _http(ctx, load)
            server_cpu = process_tree_cpu(server.pid) - server0
            requests = max(result["requests"], 1)
            if result["non_2xx"] or sum(result["socket_errors"].values()) or not \
                    result["requests"]:
                raise BenchError(f"{name} c={connections}: statuses {result['statuses']}, "
                                 f"socket errors {result['socket_errors']}; every response "
                                 "must be 2xx.\n" + server.log_tail())
            rows.append({
                "kind": "http", "target": name, "connections": connections,
                "requests": result["requests"], "seconds": result["seconds"],
                "requests_per_second": result["requests_per_second"],
                "latency_ms": result["latency_ms"], "statuses": result["statuses"],
                "server_cpu_ms_per_request": round(server_cpu / requests * 1000, 2),
                "load_average_before": before,
            })
    return rows


def summarize(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    params = ctx.state["parameters"]
    functions = []
    for name in dict.fromkeys(r["target"] for r in rows if r["kind"] == "function"):
        mine = [r for r in rows if r["kind"] == "function" and r["target"] == name]
        functions.append({
            "target": name, "runs": len(mine), "what": mine[0]["what"],
            "queries": mine[0]["queries"],
            "ms": {q: spread(r["ms"][q] for r in mine) for q in ("p50", "p90", "max")},
        })
    pages = []
    for name, path in params["targets"].items():
        for connections in params["connections"]:
            mine = [r for r in rows if r["kind"] == "http" and r["target"] == name
                    and r["connections"] == connections]
            latency = {q: spread(r["latency_ms"][q] for r in mine) for q in ("p50", "p90",
                                                                             "p99")}
            pages.append({
                "target": name, "path": path, "connections": connections, "runs": len(mine),
                "requests_per_second": spread((r["requests_per_second"] for r in mine), 1),
                "latency_ms": latency,
                "server_cpu_ms_per_request": spread(
                    r["server_cpu_ms_per_request"] for r in mine)["median"],
                "within_budget": latency["p90"]["median"] <= BUDGET_MS,
            })
    return {"runs": ctx.runs, "budget_ms": BUDGET_MS, "pages": pages,
            "functions": functions, "missing_pages": params["missing_pages"]}


def cleanup(ctx: Context) -> None:
    for server in ctx.state.get("servers", []):
        server.stop()
    throwaway = ctx.state.get("throwaway")
    if throwaway is not None:
        throwaway.close()


def markdown(result: dict[str, Any]) -> list[str]:
    p, s, data = result["parameters"], result["summary"], result["data"]
    load = data["load"]
    lines = [
        f"Data: **{data['cases']:,} cases** in {data['database_version']} "
        f"({data['database_bytes'] / 2**30:.1f} GiB), "
        + ", ".join(f"{v:,} {k}" for k, v in data["tables"].items())
        + f". Loaded {data['loaded_at']}"
        + (" (reused by this run)" if data["reused_database"] else " by this run")
        + f": `demo_setup` {load.get('demo_setup_seconds', '?')} s, then "
        f"{load['cases']:,} bulk cases, {load['rows_total']:,} rows in {load['seconds']} s "
        f"({load['rows_per_second']:,} rows/s, {load['cases_per_second']:,} cases/s).",
        "",
        "Status mix: " + ", ".join(f"{k} {v:,}" for k, v in data["status_mix"].items())
        + f". The inbox's department: {data['department']['name']} "
        f"({data['department']['cases']:,} cases, {data['department']['open']:,} open).",
        "",
        f"Server: gunicorn {p['workers']} {p['worker_class']} workers on 127.0.0.1, DEBUG "
        f"off, DB_CONN_MAX_AGE={p['db_conn_max_age']}. Load: {p['load_tool_version']}, "
        f"{p['seconds']:g} s per step, runs: {s['runs']}. Signed in through the login form "
        f"as `{data['users']['approver']}` (inbox) and `{data['users']['supervisor']}` "
        "(statistics).",
        "",
        f"Budget: **{s['budget_ms']:g} ms** per page (judged on the p90 latency at "
        "1 connection, median of the runs).",
        "",
        "| page | conns | p50 ms | p90 ms | p99 ms | req/s | server CPU ms/req | within |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in s["pages"]:
        lat = c["latency_ms"]
        lines.append(
            f"| `{c['path']}` | {c['connections']} | {lat['p50']['median']} "
            f"| {lat['p90']['median']} | {lat['p99']['median']} "
            f"| {c['requests_per_second']['median']} | {c['server_cpu_ms_per_request']} "
            f"| {'yes' if c['within_budget'] else '**no**'} |")
    if not s["pages"]:
        lines.append("| (no page resolved yet) | | | | | | | |")
    for name, path in s["missing_pages"].items():
        lines.append(f"| `{path}` ({name}) | — | not measured: 404, the page does not "
                     "exist yet | | | | | |")
    before = {r["run"]: (r.get("machine_busy_before_run"), r["load_average_before"])
              for r in result["runs"] if r["kind"] == "function"}
    lines += ["", "How busy the machine was before each run (other work shares these 2 "
              "CPUs; figures from a busy run are slower): " + "; ".join(
                  f"run {run}: load average {load}"
                  + (f", CPUs {busy:.0%} busy" if busy is not None else "")
                  for run, (busy, load) in sorted(before.items())) + "."]
    lines += [
        "",
        "In process (no HTTP; the functions behind the pages, median over the runs of "
        f"each run's p50/p90 of {p['repeat']} calls):",
        "",
        "| function | what | SQL queries | p50 ms | p90 ms | max ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for f in s["functions"]:
        ms = f["ms"]
        lines.append(f"| `{f['target']}` | {f['what']} | {f['queries']} "
                     f"| {ms['p50']['median']} | {ms['p90']['median']} "
                     f"| {ms['max']['median']} |")
    return lines


def describe(row: dict[str, Any]) -> str:
    if row["kind"] == "function":
        return (f"{row['target']:<28} p50 {row['ms']['p50']} ms  p90 {row['ms']['p90']} ms  "
                f"{row['queries']} queries")
    lat = row["latency_ms"]
    return (f"{row['target']:<20} c={row['connections']:<2} "
            f"{row['requests_per_second']:>6.1f} req/s  p50 {lat['p50']} ms  "
            f"p90 {lat['p90']} ms  p99 {lat['p99']} ms  "
            f"server {row['server_cpu_ms_per_request']} ms CPU/req")


BENCHMARK = register(Benchmark(
    name="services_cases",
    description="A department's inbox and the statistics page with 1,000,000 cases in "
                "PostgreSQL (issue 4: each within 300 ms): HTTP latency on gunicorn, and "
                "the functions behind them in process.",
    prepare=prepare, run=run, summarize=summarize, markdown=markdown, cleanup=cleanup,
    add_arguments=add_arguments, describe_run=describe,
    scale_help="cases (same as --cases)",
    default_runs=3,
))


# --- inside Django, in the sandbox: python -m bench.benchmarks.services_cases CMD -----------


def _django() -> None:
    import django

    if "YIWANG_VAR_DIR" not in os.environ:
        raise SystemExit("runs inside the benchmark's sandbox only (YIWANG_VAR_DIR unset)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    django.setup()


def _count() -> dict[str, int]:
    from yiwang.services.models import Case

    return {"cases": Case.objects.count()}


def _load_command(cases: int) -> dict[str, Any]:
    from yiwang.services.bulkload import bulk_load_cases
    from yiwang.services.models import Case

    missing = max(0, cases - Case.objects.count())
    return bulk_load_cases(count=missing,
                           progress=lambda text: print(f"  {text}", file=sys.stderr,
                                                       flush=True))


def _users() -> dict[str, str]:
    """The approver of the department with the most cases, and the district supervisor."""
    from django.db.models import Count

    from yiwang.accounts.models import User
    from yiwang.services.models import Case

    departments = (Case.objects.values("department_id").annotate(n=Count("id"))
                   .order_by("-n").values_list("department_id", flat=True))
    approver = None
    for department_id in departments[:10]:
        approver = (User.objects.filter(org_unit_id=department_id, groups__name="approver",
                                        is_active=True).order_by("username").first())
        if approver is not None:
            break
    if approver is None:
        raise SystemExit("no approver for any department with cases")
    return {"approver": approver.username, "supervisor": "supervisor"}


def _describe() -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from yiwang.accounts.models import User
    from yiwang.core.models import Clock
    from yiwang.services.models import (
        FINAL_STATUSES,
        Case,
        CaseEvent,
        Rating,
        Rectification,
    )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            version, size = cursor.fetchone()
            version = str(version).split(" on ")[0]
        else:
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
            version = cursor.fetchone()[0]
            size = Path(connection.settings_dict["NAME"]).stat().st_size
    users = _users()
    approver = User.objects.select_related("org_unit").get(username=users["approver"])
    mine = Case.objects.filter(department_id=approver.org_unit_id)
    return {
        "version": version, "database_bytes": size, "users": users,
        "tables": {"cases": Case.objects.count(), "case_events": CaseEvent.objects.count(),
                   "clocks": Clock.objects.count(), "ratings": Rating.objects.count(),
                   "rectifications": Rectification.objects.count()},
        "status_mix": dict(Case.objects.values_list("status").annotate(n=Count("id"))
                           .order_by("-n")),
        "department": {"name": approver.org_unit.name, "cases": mine.count(),
                       "open": mine.exclude(status__in=FINAL_STATUSES).count()},
    }


def _timed(fn: Any, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm: caches, the first connection
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
    """The functions behind the two pages, timed in process."""
    import datetime as dt

    from django.utils import timezone

    from yiwang.accounts.models import User
    from yiwang.services.statistics import case_statistics

    users = _users()
    supervisor = User.objects.get(username=users["supervisor"])
    approver = User.objects.get(username=users["approver"])
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year = int(FULL_YEAR)
    spans = {
        "quarter": (dt.datetime.combine(quarter, dt.time.min, tzinfo=tz),
                    dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)),
        "year": (dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)),
    }
    probes: dict[str, Any] = {}
    for span, (start, end) in spans.items():
        for by in ("department", "none"):
            probes[f"case_statistics[{span},{by}]"] = {
                "what": f"district, {span}, by {by}",
                **_timed(lambda start=start, end=end, by=by: case_statistics(
                    actor=supervisor, start=start, end=end, by=by), repeat)}
    try:
        from yiwang.services import selectors
    except ImportError:  # the staff pages' reads are not written yet
        return probes
    tabs = selectors.inbox_tabs(actor=approver)
    for tab in dict.fromkeys([tabs[0].code, "all"]):
        def page(tab: str = tab) -> None:
            paginator = selectors.CappedPaginator(
                selectors.case_inbox(actor=approver, tab=tab), 20)
            list(paginator.page(1).object_list)
            selectors.inbox_counts(actor=approver, tabs=tabs)
        probes[f"inbox[{tab}]"] = {"what": f"approver, tab {tab}: page 1, counts",
                                   **_timed(page, repeat)}
    return probes


def main(argv: list[str]) -> None:
    _django()
    command = argv[0] if argv else ""
    if command == "count":
        print(json.dumps(_count()))
    elif command == "load":
        print(json.dumps(_load_command(int(argv[1]))))
    elif command == "describe":
        print(json.dumps(_describe(), ensure_ascii=False))
    elif command == "probe":
        print(json.dumps(_probe(int(argv[1])), ensure_ascii=False))
    else:
        raise SystemExit("commands: count, load N, describe, probe REPEAT")


if __name__ == "__main__":
    main(sys.argv[1:])
