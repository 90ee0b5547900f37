"""A file of realistic closed historical events, at any scale, for ``events_import_history``.

Categories come from the published dispatch catalog (weighted: a few items make most of
a hotline's load), texts from the *train* split of the seed corpus for that item (never
the held-out split the classifier is measured on), points inside the grids of this
deployment's district, handlers as the catalog implies (the street of the point for
territorial items, the mapped department otherwise), and times over the last two years:
more recent years busier, office hours busier, dispatch within hours, resolution within
the item's working-day limit mostly, closing a day or three later, satisfaction
mostly 满意. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.utils import timezone

from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind

from .catalog import published_catalog
from .learning import load_corpus, split_corpus
from .models import APPEAL_TYPE_BY_CHINESE, Category, HandlerType

COLUMNS = ["source_ref", "channel", "received_at", "title", "text", "appeal_type",
           "category_code", "lat", "lon", "address", "handler_unit_code", "status",
           "dispatched_at", "responded_at", "resolved_at", "closed_at", "result",
           "satisfaction", "urgent"]
CHANNELS = (("hotline", 0.62), ("grid", 0.2), ("portal", 0.08), ("opinion", 0.05),
            ("video_ai", 0.03), ("open311", 0.02))
RESULTS = ("已现场处理完毕，并电话回复市民", "已责令整改，复查合格", "已协调相关单位处理",
           "经核实已解决，市民表示认可", "已答复市民相关政策", "已安排人员清理完毕")
CHUNK = 100_000


def _pool_points(boundary: dict[str, Any], rng: np.random.Generator, n: int
                 ) -> np.ndarray:
    """``n`` random points inside a polygon (rejection sampling in its bounding box)."""
    from shapely import contains_xy
    from shapely.geometry import shape

    geom = shape(boundary)
    minx, miny, maxx, maxy = geom.bounds
    out: list[np.ndarray] = []
    got = 0
    for _ in range(50):
        xs = rng.uniform(minx, maxx, n * 3)
        ys = rng.uniform(miny, maxy, n * 3)
        inside = contains_xy(geom, xs, ys)
        out.append(np.column_stack([xs[inside], ys[inside]]))
        got += int(inside.sum())
        if got >= n:
            break
    pts = np.concatenate(out) if out else np.empty((0, 2))
    return pts[:n]


def _world(rng: np.random.Generator) -> dict[str, Any]:
    catalog = published_catalog()
    if catalog is None:
        raise ValueError("No published dispatch catalog: load and publish one first.")
    categories = list(Category.objects.filter(catalog=catalog, level=3, active=True)
                      .select_related("handler_unit").order_by("code"))
    grids = list(OrgUnit.objects.filter(kind=OrgKind.GRID, is_active=True,
                                        boundary__isnull=False).order_by("code"))
    if not grids:  # a district without grids: communities will do
        grids = list(OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True,
                                            boundary__isnull=False).order_by("code"))
    if not grids:
        raise ValueError("The district has no grid or community boundaries.")
    units = {u.pk: u for u in OrgUnit.objects.only("id", "code", "kind", "parent_id", "name")}

    def street(unit: OrgUnit) -> OrgUnit | None:
        current: OrgUnit | None = unit
        while current is not None and current.kind != OrgKind.STREET:
            current = units.get(current.parent_id) if current.parent_id else None
        return current

    train, _held_out = split_corpus(load_corpus())
    texts: dict[str, list[str]] = {}
    for row in train:
        texts.setdefault(row["code"], []).append(row["text"])
    pools = [_pool_points(g.boundary or {}, rng, 64) for g in grids]
    keep = [i for i, p in enumerate(pools) if len(p)]
    grid_streets = [street(grids[i]) for i in keep]
    return {
        "categories": categories,
        "weights": rng.pareto(1.2, len(categories)) + 0.2,
        "texts": [texts.get(c.code) or [c.name.split("-")[-1]] for c in categories],
        "pools": [pools[i] for i in keep],
        "grid_addresses": [f"{(s.name if s else '')}{grids[i].name}" for s, i in
                           zip(grid_streets, keep, strict=True)],
        "grid_streets": [s.code if s else "" for s in grid_streets],
    }


def generate_history(*, out: Path | str, events: int, fmt: str = "csv", seed: int = 2026,
                     end: dt.datetime | None = None, years: float = 2.0) -> dict[str, Any]:
    """Write ``events`` historical events to ``out``; returns what was written."""
    import pyarrow as pa

    if events < 0:
        raise ValueError("events must not be negative")
    if fmt not in ("csv", "jsonl", "parquet"):
        raise ValueError("format: csv, jsonl or parquet")
    rng = np.random.default_rng(seed)
    world = _world(rng)
    tz = timezone.get_default_timezone()
    end = end or timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    span = years * 365.25 * 86400
    out = Path(out)
    writer: Any = None
    handle: Any = None
    try:
        for start in range(0, events, CHUNK):
            n = min(CHUNK, events - start)
            table = _chunk(world, rng, start=start, n=n, end=end, span=span, tz=tz, seed=seed)
            if fmt == "csv":
                import pyarrow.csv as pacsv

                if writer is None:
                    writer = pacsv.CSVWriter(str(out), table.schema)
                writer.write_table(table)
            elif fmt == "parquet":
                import pyarrow.parquet as pq

                if writer is None:
                    writer = pq.ParquetWriter(str(out), table.schema)
                writer.write_table(table)
            else:
                if handle is None:
                    handle = open(out, "w", encoding="utf-8")  # noqa: SIM115
                names = table.column_names
                for values in zip(*(table.column(c).to_pylist() for c in names),
                                  strict=True):
                    record = {k: v for k, v in zip(names, values, strict=True)
                              if v is not None and v != ""}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        if events == 0 and fmt == "csv":
            out.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    finally:
        if writer is not None:
            writer.close()
        if handle is not None:
            handle.close()
    del pa
    return {"events": events, "format": fmt, "path": str(out), "bytes": out.stat().st_size}


def _iso(seconds: np.ndarray, tz: Any) -> list[str]:
    offset = dt.datetime(2026, 1, 1, tzinfo=tz).strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    stamps = seconds.astype("datetime64[s]").astype(str)
    return [f"{s}{offset}" for s in stamps]


def _chunk(world: dict[str, Any], rng: np.random.Generator, *, start: int, n: int,
           end: dt.datetime, span: float, tz: Any, seed: int) -> Any:
    import pyarrow as pa

    categories = world["categories"]
    weights = world["weights"] / world["weights"].sum()
    cat = rng.choice(len(categories), size=n, p=weights)
    # received: more recent busier (a rising load), office hours busier.
    age = span * (1 - np.sqrt(rng.uniform(0, 1, n)))  # denser near ``end``
    local_end = end.replace(tzinfo=None)
    end_s = (np.datetime64(local_end, "s") - np.datetime64("1970-01-01T00:00:00", "s")
             ).astype(np.int64)
    day_start = (end_s - age) // 86400 * 86400
    hour = np.clip(rng.normal(13.5, 3.5, n), 0, 23.99)
    received = day_start + (hour * 3600).astype(np.int64)
    received = np.minimum(received, end_s - 6 * 3600)  # finished by ``end``
    dispatched = received + rng.exponential(3 * 3600, n).astype(np.int64) + 300
    responded = dispatched + rng.exponential(6 * 3600, n).astype(np.int64) + 600
    resolved = responded + rng.exponential(4 * 86400, n).astype(np.int64) + 3600
    recent = resolved > end_s - 3 * 86400
    # Every time stays in order: received ≤ dispatched ≤ responded ≤ resolved ≤ closed.
    resolved = np.maximum(np.minimum(resolved, end_s - 120), received + 240)
    responded = np.maximum(np.minimum(responded, resolved), received + 120)
    dispatched = np.maximum(np.minimum(dispatched, responded), received + 60)
    closed = np.maximum(np.minimum(
        resolved + rng.exponential(1.5 * 86400, n).astype(np.int64) + 600, end_s - 60),
        resolved)
    status = np.where(recent & (rng.uniform(0, 1, n) < 0.6), "resolved", "closed")
    grid = rng.integers(0, len(world["pools"]), n)
    slot = rng.integers(0, 1 << 30, n)
    lons = np.empty(n)
    lats = np.empty(n)
    for i in range(n):
        pool = world["pools"][grid[i]]
        lons[i], lats[i] = pool[slot[i] % len(pool)]
    has_point = rng.uniform(0, 1, n) < 0.85
    channel_names = [c for c, _ in CHANNELS]
    channel = rng.choice(len(CHANNELS), size=n, p=[w for _, w in CHANNELS])
    sat = rng.choice([3, 2, 1], size=n, p=[0.78, 0.16, 0.06])
    rated = rng.uniform(0, 1, n) < 0.7
    pick = rng.integers(0, 1 << 30, n)
    chinese = {v: k for k, v in APPEAL_TYPE_BY_CHINESE.items()}
    rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    received_s, dispatched_s = _iso(received, tz), _iso(dispatched, tz)
    responded_s, resolved_s, closed_s = _iso(responded, tz), _iso(resolved, tz), _iso(
        closed, tz)
    for i in range(n):
        category = categories[cat[i]]
        texts = world["texts"][cat[i]]
        text = texts[pick[i] % len(texts)]
        if category.handler_type == HandlerType.TERRITORIAL or category.handler_unit is None:
            handler = world["grid_streets"][grid[i]]
        else:
            handler = category.handler_unit.code
        types = category.appeal_types
        closed_row = status[i] == "closed"
        rows["source_ref"].append(f"H{seed}-{start + i + 1:09d}")
        rows["channel"].append(channel_names[channel[i]])
        rows["received_at"].append(received_s[i])
        rows["title"].append("")
        rows["text"].append(text)
        rows["appeal_type"].append(chinese.get(types[pick[i] % len(types)], "求助")
                                   if types else "求助")
        rows["category_code"].append(category.code)
        rows["lat"].append(round(float(lats[i]), 6) if has_point[i] else None)
        rows["lon"].append(round(float(lons[i]), 6) if has_point[i] else None)
        rows["address"].append("" if has_point[i] else world["grid_addresses"][grid[i]])
        rows["handler_unit_code"].append(handler)
        rows["status"].append(str(status[i]))
        rows["dispatched_at"].append(dispatched_s[i])
        rows["responded_at"].append(responded_s[i])
        rows["resolved_at"].append(resolved_s[i])
        rows["closed_at"].append(closed_s[i] if closed_row else "")
        rows["result"].append(RESULTS[pick[i] % len(RESULTS)])
        rows["satisfaction"].append(int(sat[i]) if closed_row and rated[i] else None)
        rows["urgent"].append(1 if category.urgency == "urgent" else 0)
    schema = pa.schema([(c, pa.float64() if c in ("lat", "lon") else
                         pa.int64() if c in ("satisfaction", "urgent") else pa.string())
                        for c in COLUMNS])
    return pa.table(rows, schema=schema)
