"""``demo_setup``: load the demo district once; later runs only say it is there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from yiwang.core.generator import build_district, generate
from yiwang.core.generator.loader import is_loaded, load_org

# A slice big enough to click through, small enough to load in seconds.
DEMO_PERSONS, DEMO_ENTERPRISES, DEMO_BUILDINGS = 2_000, 300, 400
DEMO_SLICE = {"persons": DEMO_PERSONS, "enterprises": DEMO_ENTERPRISES,
              "buildings": DEMO_BUILDINGS}


def _slice_present(out: Path, seed: int) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    rows = {k: v.get("rows") for k, v in manifest.get("files", {}).items()}
    return manifest.get("district_seed") == seed and all(
        rows.get(entity) == count for entity, count in DEMO_SLICE.items())


class Command(BaseCommand):
    help = ("Load the demo district 示范区 (org tree, boundaries, demo accounts) and generate a "
            "small population into var/generated/demo/. Idempotent.")

    def add_arguments(self, parser: Any) -> None:
        from yiwang.events.demo import DEMO_EVENTS

        parser.add_argument("--events", type=int, default=DEMO_EVENTS,
                            help=f"how many events to load (default {DEMO_EVENTS})")

    def handle(self, *args: Any, **options: Any) -> None:
        spec = build_district(code=settings.YIWANG_DISTRICT_CODE)
        out = Path(settings.VAR_DIR) / "generated" / "demo"
        loaded = is_loaded(spec)
        present = _slice_present(out, spec.seed)
        from yiwang.events.models import Event
        from yiwang.services.models import Case

        if loaded and present and Case.objects.exists() and Event.objects.exists():
            self.stdout.write(f"demo district {spec.district.name} is already loaded; "
                              "nothing to do.")
            return
        if not loaded:
            result = load_org(spec=spec)
            self.stdout.write(
                f"demo district {spec.district.name}: {len(spec.streets)} streets, "
                f"{len(spec.communities)} communities, {len(spec.grids)} grids, "
                f"{result.units_created + result.units_updated} units and "
                f"{result.users_created + result.users_updated} accounts written.")
        if not present:
            files = generate(out_dir=out, seed=spec.seed, district_seed=spec.seed,
                             district_code=spec.district.code, progress=False,
                             persons=DEMO_PERSONS, enterprises=DEMO_ENTERPRISES,
                             buildings=DEMO_BUILDINGS)
            self.stdout.write("demo population: " + ", ".join(
                f"{rows:,} {entity}" for entity, rows in files.rows.items())
                + f" in {out}")
        self._services(spec, out)
        self._events(spec, out, options["events"])

    def _services(self, spec: Any, out: Path) -> None:
        """The 一网通办 demo: matters, applicant accounts and cases in every state."""
        from yiwang.accounts.models import User
        from yiwang.core.models import OrgUnit
        from yiwang.services.demo import setup_demo

        admin = User.objects.filter(username="admin").only("password").first()
        if admin is None:
            return
        result = setup_demo(district=OrgUnit.objects.get(code=spec.district.code),
                            persons_csv=out / "persons.csv",
                            enterprises_csv=out / "enterprises.csv",
                            password_hash=admin.password)
        if result:
            self.stdout.write(
                f"demo services: {result['matters']} matters, {result['applicants']} "
                f"applicant accounts, {result['cases']:,} cases in every state.")

    def _events(self, spec: Any, out: Path, count: int) -> None:
        """The 一网统管 demo: catalog, classifier, client systems and events in every state."""
        import time

        from yiwang.core.models import OrgUnit
        from yiwang.events.demo import setup_demo

        started = time.perf_counter()
        result = setup_demo(district=OrgUnit.objects.get(code=spec.district.code), spec=spec,
                            persons_csv=out / "persons.csv",
                            buildings_csv=out / "buildings.csv",
                            enterprises_csv=out / "enterprises.csv", count=count)
        if result:
            states = ", ".join(f"{n:,} {s}" for s, n in sorted(result["statuses"].items()))
            self.stdout.write(
                f"demo events: {result['events']:,} events ({states}), "
                f"{result['parties']} responsible parties, in "
                f"{time.perf_counter() - started:.0f} s.")
