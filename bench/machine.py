"""Facts about the machine and the code a result was measured on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Packages whose version moves the figures; absent ones are left out.
KEY_PACKAGES = ("Django", "django-ninja", "numpy", "pyarrow", "shapely", "gunicorn", "psycopg",
                "whitenoise", "argon2-cffi")


def _first(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        pass
    return ""


def _os_name() -> str:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.MULTILINE)
    return match.group(1) if match else ""


def package_versions() -> dict[str, str]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def tool_version(*cmd: str) -> str:
    """First line of ``cmd`` (e.g. ``wrk --version``), or "" when the tool is missing."""
    if shutil.which(cmd[0]) is None:
        return ""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0].split(" Copyright")[0] if text else ""


def machine() -> dict[str, Any]:
    mem_kb = _first("/proc/meminfo", "MemTotal:").split()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _first("/proc/cpuinfo", "model name"),
        "ram_gb": round(int(mem_kb[0]) / 1024 / 1024, 1) if mem_kb else None,
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": package_versions(),
    }


def git_commit() -> dict[str, Any]:
    """The commit measured and whether the working tree differed from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,  # noqa: S603,S607
                              text=True, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "", "dirty": None}
    return {"commit": commit, "dirty": dirty}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# --- CPU accounting ---------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in _first("/proc/stat", "cpu ").split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / CLK_TCK, total / CLK_TCK


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
        todo.extend(children.get(pid, []))
    return total


def busy_fraction(seconds: float = 2.0) -> float:
    """How busy all CPUs of the machine were over the next ``seconds`` (0–1)."""
    busy0, total0 = machine_cpu()
    time.sleep(seconds)
    busy1, total1 = machine_cpu()
    return round((busy1 - busy0) / max(total1 - total0, 1e-9), 3)


def wait_for_idle(max_seconds: float, *, threshold: float = 0.25) -> float:
    """Wait up to ``max_seconds`` until the machine is less than ``threshold`` busy.

    Benchmarks share the machine with whatever else runs; a run started while the CPUs
    are busy measures the other work too. Returns the last busy fraction seen.
    """
    deadline = time.monotonic() + max_seconds
    busy = busy_fraction()
    while busy >= threshold and time.monotonic() < deadline:
        busy = busy_fraction(5.0)
    return busy
