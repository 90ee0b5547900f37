"""Run the generator: stream every table to CSV or Parquet and write a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from .district import DEFAULT_DISTRICT_CODE, DEFAULT_SEED, DistrictSpec, build_district
from .geometry import to_geojson
from .population import (
    CHUNK_ROWS,
    BuildingStock,
    Context,
    EnterpriseTables,
    RepresentativePool,
    Transforms,
    auto_building_count,
    buildings_table,
    enterprises_table,
    houses_table,
    make_context,
    persons_table,
    standalone_pool,
)

Format = Literal["csv", "parquet"]
GENERATOR_VERSION = 1


class TableSink:
    """Appends chunks to one file; the file appears under its name only when complete."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.fmt = fmt
        self.rows = 0
        self._writer: Any = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(str(self.part), table.schema)
            else:
                self._writer = pq.ParquetWriter(str(self.part), table.schema,
                                                compression="zstd")
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            os.replace(self.part, self.path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class GenerateResult:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _chunks(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    for chunk, start in enumerate(range(0, total, size)):
        yield chunk, start, min(start + size, total)


def write_org_files(spec: DistrictSpec, out_dir: Path) -> dict[str, Path]:
    """The org tree as CSV and the divisions as a GeoJSON FeatureCollection."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "name_en", "short_name", "kind", "parent_code",
                     "address", "phone"])
    for unit in spec.units:
        writer.writerow([unit.code, unit.name, unit.name_en, unit.short_name, unit.kind,
                         unit.parent_code or "", unit.address, unit.phone])
    org_path = out_dir / "org_units.csv"
    org_path.write_text(buffer.getvalue(), encoding="utf-8")
    features = [
        {"type": "Feature", "id": u.code,
         "properties": {"code": u.code, "name": u.name, "name_en": u.name_en, "kind": u.kind,
                        "parent_code": u.parent_code},
         "geometry": to_geojson(u.geometry)}
        for u in spec.units if u.geometry is not None
    ]
    geo_path = out_dir / "divisions.geojson"
    geo_path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                   ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {"org_units": org_path, "divisions": geo_path}


def generate(
    *,
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    district_seed: int = DEFAULT_SEED,
    district_code: str = DEFAULT_DISTRICT_CODE,
    persons: int = 0,
    enterprises: int = 0,
    buildings: int | None = None,
    fmt: Format = "csv",
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = True,
    progress_file: IO[str] | None = None,
    transforms: Transforms | None = None,
) -> GenerateResult:
    """Generate the population of the district built from ``district_seed``.

    ``buildings=None`` sizes the building stock to the persons and enterprises. The
    building, house, person and enterprise files are always consistent with each
    other, so buildings and houses are written whenever anything is generated.
    """
    began = time.perf_counter()
    transforms = transforms or {}
    spec = build_district(seed=district_seed, code=district_code)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = GenerateResult(out_dir=out_dir)
    result.files.update(write_org_files(spec, out_dir))
    n_buildings = buildings if buildings is not None else (
        auto_building_count(persons=persons, enterprises=enterprises)
        if persons or enterprises else 0)
    if n_buildings <= 0 and (persons or enterprises):
        raise ValueError("persons and enterprises need at least one building")
    ctx: Context | None = (make_context(spec=spec, seed=seed, buildings=n_buildings)
                           if n_buildings else None)
    stock: BuildingStock | None = ctx.stock if ctx else None
    total = n_buildings + (stock.room_count if stock else 0) + persons + enterprises
    ext = "csv" if fmt == "csv" else "parquet"
    bar = tqdm(total=total, unit="rows", unit_scale=True, disable=not progress,
               file=progress_file or sys.stderr, dynamic_ncols=True)

    def emit(entity: str, tables: Iterator[pa.Table], rng_tag: int) -> None:
        sink = TableSink(out_dir / f"{entity}.{ext}", fmt)
        transform = transforms.get(entity)
        bar.set_description(entity)
        for chunk, table in enumerate(tables):
            if transform is not None:
                table = transform(table, np.random.default_rng([seed, rng_tag, chunk, 99]))
            sink.write(table)
            bar.update(table.num_rows)
        sink.close()
        result.files[entity] = sink.path
        result.rows[entity] = sink.rows

    try:
        if ctx is not None and stock is not None:
            emit("buildings", (buildings_table(ctx, a, b)
                               for _, a, b in _chunks(len(stock), chunk_rows)), 1)
            emit("houses", _house_chunks(ctx, chunk_rows), 2)
            pool = RepresentativePool()
            share = min(1.0, 1.5 * enterprises / persons) if persons else 0.0
            emit("persons", (persons_table(ctx, a, b, c, pool=pool, pool_share=share)
                             for c, a, b in _chunks(persons, chunk_rows)), 3)
            if enterprises:
                if len(pool) < 10:
                    pool = standalone_pool(ctx, size=max(1000, enterprises))
                ent = EnterpriseTables.build(pool)
                emit("enterprises", (enterprises_table(ctx, ent, a, b, c)
                                     for c, a, b in _chunks(enterprises, chunk_rows)), 4)
    finally:
        bar.close()

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "district_seed": district_seed,
        "district_code": spec.district.code,
        "format": fmt,
        "chunk_rows": chunk_rows,
        "as_of": "2026-01-01",
        "transforms": sorted(transforms),
        "files": {
            entity: {"path": path.name, "rows": result.rows.get(entity),
                     "sha256": _sha256(path)}
            for entity, path in sorted(result.files.items())
        },
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    result.seconds = time.perf_counter() - began
    return result


def _house_chunks(ctx: Context, chunk_rows: int) -> Iterator[pa.Table]:
    """Houses of consecutive buildings, about ``chunk_rows`` rooms per chunk."""
    stock = ctx.stock
    rooms = stock.floors.astype("int64") * stock.units_per_floor
    start, acc, chunk = 0, 0, 0
    for i, count in enumerate(rooms.tolist()):
        acc += count
        if acc >= chunk_rows:
            yield houses_table(ctx, start, i + 1, chunk)
            start, acc, chunk = i + 1, 0, chunk + 1
    if start < len(stock):
        yield houses_table(ctx, start, len(stock), chunk)
