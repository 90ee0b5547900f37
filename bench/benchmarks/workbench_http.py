"""``workbench_http``: page latency and throughput under load, signed in as staff.

The demo district (``migrate`` + ``demo_setup``: org tree, demo accounts, demo
population files) is loaded into a throwaway SQLite file and, when a PostgreSQL server
answers on 127.0.0.1:5432, into a fresh ``yiwang_bench`` database. Each is served by
gunicorn sync workers on 127.0.0.1 (DEBUG off). The benchmark signs in through the
real login form, then wrk (or, without wrk, a small Python loop) holds a fixed number
of connections on each target for a fixed time:

- ``workbench``: ``/workbench/`` with the session cookie of the district admin;
- ``home``: the public portal ``/``, anonymous;
- ``api_org_units``: ``/api/org-units`` with a bearer token of the same user.

Any response other than 2xx (a redirect to the login page means the cookie failed)
or any socket error makes the run invalid. Besides requests/s and latency, each step
records the server's CPU seconds per request and how busy the machine was, and a
probe measures queries per request and the in-process cost of one request.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from bench import loadgen
from bench.machine import load_average, machine_cpu, process_tree_cpu, tool_version
from bench.runner import Benchmark, Context, register, spread
from bench.sandbox import DEFAULT_POSTGRES_URL, BenchError, Sandbox, postgres_reachable
from bench.server import Gunicorn, login, request

DEMO_PASSWORD = "Yiwang-demo-2026"  # noqa: S105 - yiwang.core.generator.accounts
TARGETS: dict[str, dict[str, Any]] = {
    "workbench": {"path": "/workbench/", "auth": "session"},
    "home": {"path": "/", "auth": None},
    "api_org_units": {"path": "/api/org-units", "auth": "token"},
}


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--databases", default="auto",
                        help="sqlite,postgres (default: SQLite, plus PostgreSQL when one "
                             "answers on 127.0.0.1:5432; SQLite only with --smoke)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="server and database to create and drop (default %(default)s)")
    parser.add_argument("--connections", default=None,
                        help="concurrent connections per step (default 8,32; 2 with --smoke)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per step (default 20; 1 with --smoke)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn sync workers (default 2 × CPUs + 1; 2 with --smoke)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="which of " + ", ".join(TARGETS) + " (default: all)")
    parser.add_argument("--user", default="admin", help="demo staff account (default admin)")
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto",
                        help="auto: wrk when installed; a full run without wrk stops unless "
                             "python is chosen explicitly")
    parser.add_argument("--conn-max-age", default=None,
                        help="DB_CONN_MAX_AGE for the server (default: the settings' default, "
                             "0 = one database connection per request)")


def _parameters(ctx: Context) -> dict[str, Any]:
    a = ctx.args
    if a.scale is not None:
        raise BenchError("workbench_http serves the demo district, whose size is fixed; "
                         "--scale does not apply")
    if a.databases == "auto":
        databases = ["sqlite"] + ([] if ctx.smoke or not postgres_reachable(a.postgres_url)
                                  else ["postgres"])
    else:
        databases = _csv(a.databases)
    unknown = set(databases) - {"sqlite", "postgres"}
    targets = _csv(a.targets)
    if unknown or not databases:
        raise BenchError(f"--databases: sqlite and/or postgres, not {a.databases!r}")
    if set(targets) - set(TARGETS) or not targets:
        raise BenchError(f"--targets: some of {', '.join(TARGETS)}, not {a.targets!r}")
    tool = a.load_tool
    if tool == "auto":
        if loadgen.wrk_available():
            tool = "wrk"
        elif ctx.smoke:
            tool = "python"
        else:
            raise BenchError("wrk is not installed (apt-get install -y wrk); use "
                             "--load-tool python for rough figures")
    elif tool == "wrk" and not loadgen.wrk_available():
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    postgres_url = a.postgres_url
    if ctx.smoke and "postgres" in databases:
        # Never collide with a full run's database.
        postgres_url = f"{postgres_url.rsplit('/', 1)[0]}/yiwang_bench_smoke_{os.getpid()}"
    return {
        "databases": databases,
        "postgres_url": postgres_url,
        "targets": {name: TARGETS[name]["path"] for name in targets},
        "connections": [int(c) for c in _csv(a.connections or ("2" if ctx.smoke else "8,32"))],
        "seconds": a.duration or (1.0 if ctx.smoke else 20.0),
        "workers": a.workers or (2 if ctx.smoke else 2 * len(os.sched_getaffinity(0)) + 1),
        "worker_class": "sync",
        "user": a.user,
        "load_tool": tool,
        "load_tool_version": tool_version("wrk", "--version") if tool == "wrk" else "python",
        "wrk_threads": min(2, len(os.sched_getaffinity(0))),
        "db_conn_max_age": a.conn_max_age if a.conn_max_age is not None
        else os.environ.get("DB_CONN_MAX_AGE", "0"),
        "debug": False,
    }


def _headers(auth: str | None, *, cookie: str, token: str) -> tuple[tuple[str, str], ...]:
    if auth == "session":
        return (("Cookie", cookie),)
    if auth == "token":
        return (("Authorization", f"Bearer {token}"),)
    return ()


def _serve(ctx: Context, database: str, params: dict[str, Any]) -> dict[str, Any]:
    """Load the demo district into a fresh database and serve it; returns the data size."""
    sandbox = Sandbox(database=database, postgres_url=params["postgres_url"]).__enter__()
    ctx.state["sandboxes"].append(sandbox)
    sandbox.manage("migrate", "--no-input", "-v", "0")
    sandbox.manage("demo_setup", "--events", "0", capture=True)
    manifest = json.loads((sandbox.var_dir / "generated" / "demo" / "manifest.json")
                          .read_text(encoding="utf-8"))
    population = {k: v["rows"] for k, v in manifest["files"].items() if v["rows"] is not None}
    prepared = json.loads(sandbox.python("-m", "bench.djhelper", "prepare", json.dumps({
        "user": params["user"], "repeat": 3 if ctx.smoke else 20,
        "targets": [{"name": name, "path": path, "auth": TARGETS[name]["auth"],
                     "user": params["user"] if TARGETS[name]["auth"] == "session" else None}
                    for name, path in params["targets"].items()]})))
    token = prepared["token"]

    env = {} if ctx.args.conn_max_age is None else {"DB_CONN_MAX_AGE": ctx.args.conn_max_age}
    server = Gunicorn(sandbox, workers=params["workers"], env=env).start()
    ctx.state["servers"].append(server)
    cookie = login(server.base, username=params["user"], password=DEMO_PASSWORD)
    targets = {}
    for name, path in params["targets"].items():
        headers = _headers(TARGETS[name]["auth"], cookie=cookie, token=token)
        status, response_headers, body = request(server.base + path, headers=dict(headers))
        if status != 200:
            raise BenchError(f"{database}: {path} answered {status} "
                             f"{response_headers.get('Location', '')} before the load: "
                             "the session cookie or token failed")
        targets[name] = {"url": server.base + path, "headers": headers, "bytes": len(body)}
    ctx.state["servers_by_db"][database] = {"server": server, "targets": targets}
    # Warm every worker (templates, translations, connections) before measuring.
    # (Not in smoke mode: it proves the path, it measures nothing.)
    for target in ([] if ctx.smoke else targets.values()):
        _load(ctx, loadgen.Load(url=target["url"], connections=max(2, params["workers"]),
                                seconds=3, headers=target["headers"]))
    return {"version": prepared["version"], "tables": prepared["tables"],
            "demo_population_files": population, "probe": prepared["probe"]}


def _load(ctx: Context, load: loadgen.Load) -> dict[str, Any]:
    params = ctx.state["parameters"]
    if params["load_tool"] == "wrk":
        return loadgen.run_wrk(load, threads=params["wrk_threads"])
    return loadgen.run_python(load)


def prepare(ctx: Context) -> dict[str, Any]:
    params = _parameters(ctx)
    ctx.state.update(parameters=params, sandboxes=[], servers=[], servers_by_db={})
    data: dict[str, Any] = {"dataset": "demo district 示范区 (manage.py migrate + demo_setup)",
            "databases": {}}
    for database in params["databases"]:
        print(f"  {database}: migrate, demo_setup, gunicorn × {params['workers']}…",
              flush=True)
        data["databases"][database] = _serve(ctx, database, params)
    return data


def run(ctx: Context, index: int) -> list[dict[str, Any]]:
    params = ctx.state["parameters"]
    rows = []
    for database in params["databases"]:
        served = ctx.state["servers_by_db"][database]
        server: Gunicorn = served["server"]
        for name, target in served["targets"].items():
            for connections in params["connections"]:
                load = loadgen.Load(url=target["url"], connections=connections,
                                    seconds=params["seconds"], headers=target["headers"])
                before_load = load_average()
                busy0, total0 = machine_cpu()
                server0 = process_tree_cpu(server.pid)
                result = _load(ctx, load)
                server_cpu = process_tree_cpu(server.pid) - server0
                busy1, total1 = machine_cpu()
                requests = max(result["requests"], 1)
                row = {
                    "database": database, "target": name, "connections": connections,
                    "requests": result["requests"], "seconds": result["seconds"],
                    "requests_per_second": result["requests_per_second"],
                    "latency_ms": result["latency_ms"],
                    "statuses": result["statuses"], "non_2xx": result["non_2xx"],
                    "socket_errors": result["socket_errors"],
                    "server_cpu_ms_per_request": round(server_cpu / requests * 1000, 2),
                    "server_cpu_share": round(server_cpu / result["seconds"]
                                              / len(os.sched_getaffinity(0)), 3),
                    "machine_busy": round((busy1 - busy0) / max(total1 - total0, 1e-9), 3),
                    "client_cpu_seconds": result["client_cpu_seconds"],
                    "load_average_before": before_load,
                }
                failed = row["non_2xx"] or sum(row["socket_errors"].values())
                if failed or result["requests"] == 0:
                    raise BenchError(
                        f"{database} {name} c={connections}: {result['requests']} requests, "
                        f"statuses {result['statuses']}, socket errors "
                        f"{result['socket_errors']}; every response must be 2xx.\n"
                        + server.log_tail())
                rows.append(row)
    return rows


def summarize(ctx: Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    params = ctx.state["parameters"]
    cells = []
    for database in params["databases"]:
        for name in params["targets"]:
            for connections in params["connections"]:
                mine = [r for r in rows if (r["database"], r["target"], r["connections"])
                        == (database, name, connections)]
                cells.append({
                    "database": database, "target": name, "connections": connections,
                    "runs": len(mine),
                    "requests_per_second": spread((r["requests_per_second"] for r in mine), 1),
                    "latency_ms": {q: spread(r["latency_ms"][q] for r in mine)
                                   for q in ("p50", "p90", "p99")},
                    "non_2xx": sum(r["non_2xx"] for r in mine),
                    "socket_errors": sum(sum(r["socket_errors"].values()) for r in mine),
                    "server_cpu_ms_per_request": spread(
                        r["server_cpu_ms_per_request"] for r in mine)["median"],
                    # What the server could do with every CPU to itself (an estimate;
                    # the load tool needs some CPU too).
                    "cpu_bound_ceiling_rps": round(
                        1000 * len(os.sched_getaffinity(0)) / max(spread(
                            r["server_cpu_ms_per_request"] for r in mine)["median"], 0.01)),
                    "server_cpu_share": spread(
                        (r["server_cpu_share"] for r in mine), 3)["median"],
                    "machine_busy": spread((r["machine_busy"] for r in mine), 3)["median"],
                    "load_average_before": spread(
                        r["load_average_before"] for r in mine)["median"],
                })
    return {"runs": ctx.runs, "cells": cells}


def cleanup(ctx: Context) -> None:
    for server in ctx.state.get("servers", []):
        server.stop()
    for sandbox in ctx.state.get("sandboxes", []):
        sandbox.close()


def markdown(result: dict[str, Any]) -> list[str]:
    p, s, data = result["parameters"], result["summary"], result["data"]
    lines = [
        f"Server: gunicorn {p['workers']} {p['worker_class']} workers on 127.0.0.1, "
        f"DEBUG off, DB_CONN_MAX_AGE={p['db_conn_max_age']}. Load: {p['load_tool_version']}"
        + (f" ({p['wrk_threads']} threads)" if p["load_tool"] == "wrk" else "")
        + f", {p['seconds']:g} s per step, runs: {s['runs']}; "
        f"signed in as `{p['user']}` (district admin) through the login form.",
        "",
        "| database | target | conns | req/s median (min–max) | p50 ms | p90 ms | p99 ms "
        "| non-2xx | server CPU ms/req | CPU-bound ceiling req/s | server CPU share "
        "| machine busy | load before |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in s["cells"]:
        rps, lat = c["requests_per_second"], c["latency_ms"]
        lines.append(
            f"| {c['database']} | `{p['targets'][c['target']]}` | {c['connections']} "
            f"| {rps['median']:,} ({rps['min']:,}–{rps['max']:,}) | {lat['p50']['median']} "
            f"| {lat['p90']['median']} | {lat['p99']['median']} "
            f"| {c['non_2xx'] + c['socket_errors']} | {c['server_cpu_ms_per_request']} "
            f"| {c.get('cpu_bound_ceiling_rps', '—')} "
            f"| {c['server_cpu_share']:.0%} | {c['machine_busy']:.0%} "
            f"| {c['load_average_before']} |")
    lines += ["", "One request in process (Django test client, no HTTP, no concurrency; "
              "median of 20):", "",
              "| database | target | SQL queries | ms | bytes |", "|---|---|---:|---:|---:|"]
    for database, info in data["databases"].items():
        lines += [f"| {database} | `{p['targets'][probe['target']]}` | {probe['queries']} "
                  f"| {probe['in_process_ms']} | {probe['bytes']:,} |"
                  for probe in info["probe"]]
    first = next(iter(data["databases"].values()))
    lines += [
        "",
        "Databases: " + "; ".join(f"{name}: {info['version']}"
                                  for name, info in data["databases"].items()) + ".",
        "",
        "Data: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in first["tables"].items())
        + " in the database; demo population files: " + ", ".join(
            f"{v:,} {k}" for k, v in first["demo_population_files"].items()) + ".",
        "",
        "Latency percentiles are the medians over the runs; req/s shows median and range. "
        "Server CPU is user + system time of gunicorn's master and workers; its share is "
        "of all CPUs of the machine. Machine busy counts every process (the load tool, the "
        "database server and anything else running), so busy near 100 % with a server "
        "share well below it means the server was competing for the CPUs; the CPU-bound "
        "ceiling (CPUs × 1000 / server CPU ms per request) is then the steadier figure: "
        "what the server would reach with every CPU to itself.",
    ]
    return lines


def describe(row: dict[str, Any]) -> str:
    lat = row["latency_ms"]
    return (f"{row['database']:<8} {row['target']:<14} c={row['connections']:<3} "
            f"{row['requests_per_second']:>7.1f} req/s  p50 {lat['p50']} ms  "
            f"p99 {lat['p99']} ms  server {row['server_cpu_ms_per_request']} ms CPU/req  "
            f"machine busy {row['machine_busy']:.0%}")


BENCHMARK = register(Benchmark(
    name="workbench_http",
    description="HTTP latency and throughput of the staff workbench (and the portal home "
                "and /api/org-units) under wrk at fixed concurrency, gunicorn on SQLite "
                "and PostgreSQL.",
    prepare=prepare, run=run, summarize=summarize, markdown=markdown, cleanup=cleanup,
    add_arguments=add_arguments, describe_run=describe,
    scale_help="not used: the demo district has a fixed size",
    default_runs=3,
))
