"""``yw generate``: the demo district and a population of any size, deterministically."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.generator import DEFAULT_SEED, build_district, generate
from yiwang.core.generator.accounts import DEMO_PASSWORD
from yiwang.core.generator.loader import load_org

DEFAULT_PERSONS = 10_000
DEFAULT_ENTERPRISES = 1_000


def _count(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Generate the demo district 示范区 and its buildings, houses, persons and enterprises "
        "as CSV or Parquet files, streamed in chunks. The same seed gives byte-identical "
        f"files. Without counts: {DEFAULT_PERSONS:,} persons and {DEFAULT_ENTERPRISES:,} "
        "enterprises (unless only --load-org is given)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help="seed of the population (default %(default)s)")
        parser.add_argument("--district-seed", type=int, default=DEFAULT_SEED,
                            help="seed of the district's streets, communities, grids and "
                                 "accounts (default %(default)s; keep it to match a loaded "
                                 "database)")
        parser.add_argument("--persons", type=_count, metavar="N", help="persons to generate")
        parser.add_argument("--enterprises", type=_count, metavar="N",
                            help="enterprises to generate")
        parser.add_argument("--buildings", type=_count, metavar="N",
                            help="buildings to generate, each with all its houses (rooms); "
                                 "default: enough for the persons and enterprises")
        parser.add_argument("--out", type=Path, default=None,
                            help="output folder (default var/generated/)")
        parser.add_argument("--format", choices=["csv", "parquet"], default="csv",
                            help="file format (default %(default)s)")
        parser.add_argument("--chunk-rows", type=_count, default=100_000, metavar="N",
                            help="rows per chunk (memory bound; part of the determinism "
                                 "contract: same chunk size, same files)")
        parser.add_argument("--load-org", action="store_true",
                            help="create or update the org tree and the demo accounts in the "
                                 "database (idempotent)")
        parser.add_argument("--quiet", action="store_true",
                            help="no progress bar and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["quiet"] or options["verbosity"] < 1
        counts = [options["persons"], options["enterprises"], options["buildings"]]
        if options["chunk_rows"] < 1:
            raise CommandError("--chunk-rows must be at least 1")
        spec = build_district(seed=options["district_seed"], code=settings.YIWANG_DISTRICT_CODE)
        if options["load_org"]:
            result = load_org(spec=spec)
            if not quiet:
                self.stdout.write(
                    f"org tree {spec.district.name}: {result.units_created} units created, "
                    f"{result.units_updated} updated, {result.units_deactivated} deactivated; "
                    f"accounts: {result.users_created} created, {result.users_updated} "
                    f"updated (password for new accounts: {DEMO_PASSWORD})")
            if all(c is None for c in counts):
                return
        persons, enterprises, buildings = counts
        if all(c is None for c in counts):
            persons, enterprises = DEFAULT_PERSONS, DEFAULT_ENTERPRISES
        out = options["out"] or Path(settings.VAR_DIR) / "generated"
        began = time.perf_counter()
        try:
            result_files = generate(
                out_dir=out, seed=options["seed"], district_seed=options["district_seed"],
                district_code=settings.YIWANG_DISTRICT_CODE, persons=persons or 0,
                enterprises=enterprises or 0, buildings=buildings, fmt=options["format"],
                chunk_rows=options["chunk_rows"], progress=not quiet,
                # The raw stream: Django's OutputWrapper would end every \r update with \n.
                progress_file=sys.stderr,
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - began
        if quiet:
            return
        total = sum(result_files.rows.values())
        for entity, rows in result_files.rows.items():
            self.stdout.write(f"  {entity:<12} {rows:>12,} rows  {result_files.files[entity]}")
        self.stdout.write(self.style.SUCCESS(
            f"generated {total:,} rows in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} "
            f"rows/s) into {out}"))
