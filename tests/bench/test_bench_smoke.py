"""Every registered benchmark runs in smoke mode: tiny data, one short run.

Benchmarks are never part of the suite's pass/fail on speed (the developers' guide:
performance is measured in bench/ with committed results), so nothing here looks at a
timing; these tests only keep the benchmarks from rotting.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bench import loadgen
from bench.runner import discover
from bench.sandbox import BenchError

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
BENCHMARKS = sorted(discover())


def _bench(*args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=timeout, check=False)


def _extra_args(name: str) -> list[str]:
    """On the PostgreSQL pass of the suite, smoke the PostgreSQL path of HTTP benchmarks."""
    url = os.environ.get("DATABASE_URL", "")
    if name == "workbench_http" and url.startswith("postgres"):
        server = url.rsplit("/", 1)[0]
        return ["--databases", "postgres", "--postgres-url", f"{server}/yiwang_bench"]
    return []


def _snapshot() -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in RESULTS.glob("*")} if RESULTS.is_dir() else {}


def test_bench__list__names_every_benchmark():
    assert {"generate_persons", "workbench_http", "events_center",
            "registry_standardise"} <= set(BENCHMARKS)
    proc = _bench("--list", timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in BENCHMARKS:
        assert name in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHMARKS)
def test_bench__smoke__runs_and_writes_a_complete_result(name, tmp_path):
    before = _snapshot()
    proc = _bench(name, "--smoke", "--results", str(tmp_path), *_extra_args(name))
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    assert result["benchmark"] == name
    assert result["smoke"] is True
    assert result["runs"] and result["summary"]
    assert result["data"]
    assert {"nproc", "cpu_model", "ram_gb", "os", "python", "packages"} <= set(
        result["machine"])
    assert "commit" in result and "measured_at" in result
    assert all("load_average_before" in row for row in result["runs"])
    markdown = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# {name}") and "Machine:" in markdown
    assert _snapshot() == before, "a smoke run must not touch bench/results/"
    if name == "workbench_http":
        _check_http(result)
    if name == "events_center":
        _check_events_center(result)


def _check_http(result):
    """The smoke load really reached the signed-in pages (a login redirect fails)."""
    rows = result["runs"]
    assert rows and all(row["requests"] > 0 and row["non_2xx"] == 0 for row in rows)
    assert {row["target"] for row in rows} == {"workbench", "home", "api_org_units"}
    for info in result["data"]["databases"].values():
        assert info["tables"]["staff_users"] > 0
        probes = {p["target"]: p for p in info["probe"]}
        assert all(p["status"] == 200 for p in probes.values())
        assert probes["workbench"]["queries"] > 0


def _check_events_center(result):
    """The import loaded every generated event; the intake created events through the
    API (201s) and the queue pages answered 200 for both dispatchers."""
    load = result["data"]["load"]
    assert result["data"]["tables"]["events"] >= result["data"]["events"]
    assert load["import_batches"] >= 1
    intake = [r for r in result["runs"] if r["kind"] == "intake"]
    assert intake and all(r["ok"] > 0 and r["statuses"].get("201") for r in intake)
    pages = [r for r in result["runs"] if r["kind"] == "page"]
    assert {r["target"] for r in pages} >= {"queue_district", "queue_street"}
    assert all(r["errors"] == 0 for r in pages)
    outcomes = next(r for r in result["runs"] if r["kind"] == "outcomes")
    assert outcomes["created"] > 0 and outcomes["classified"] > 0


def test_bench__smoke_without_results__writes_nothing():
    before = _snapshot()
    proc = _bench("generate_persons", "--smoke", "--scale", "500")
    assert proc.returncode == 0, proc.stderr
    assert "nothing written to bench/results/" in proc.stdout
    assert _snapshot() == before


# --- the pure-Python load loop, against a tiny local server ---------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/accounts/login/")
        else:
            self.send_response(200 if self.headers.get("X-Bench") == "yes" else 403)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_loadgen__python_loop__counts_statuses_and_headers(local_server):
    ok = loadgen.run_python(loadgen.Load(url=local_server + "/", connections=2, seconds=0.3,
                                         headers=(("X-Bench", "yes"),)), max_requests=40)
    assert 0 < ok["requests"] <= 40
    assert ok["non_2xx"] == 0 and ok["statuses"] == {"200": ok["requests"]}
    assert set(ok["latency_ms"]) >= {"p50", "p90", "p99"}


def test_loadgen__python_loop__a_redirect_counts_as_non_2xx(local_server):
    redirected = loadgen.run_python(loadgen.Load(url=local_server + "/redirect", connections=1,
                                                 seconds=0.2), max_requests=5)
    assert redirected["requests"] > 0
    assert redirected["non_2xx"] == redirected["requests"]


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://example.org/",
                                 "http://127.0.0.1.example.org/"])
def test_loadgen__refuses_targets_off_the_loopback(url):
    # The check comes before any connection is opened: nothing is sent.
    with pytest.raises(BenchError, match=r"only 127\.0\.0\.1"):
        loadgen.run_python(loadgen.Load(url=url, connections=1, seconds=0.1))
