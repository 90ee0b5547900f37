"""``manage.py events_train``: retrain the classifier of this deployment.

Trains on the district's dispatched history, the catalog's keywords and the seed corpus'
train split, measures the model on the corpus' held-out split, stores it as the next
``ClassifierModel`` version with its metrics and activates it unless the active model
does better on the same split (``--force`` activates it anyway). The second held-out
set's figures are stored and printed too (never trained on, never used to choose).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yiwang.events import catalog as catalog_service
from yiwang.events import learning


class Command(BaseCommand):
    help = ("Train the appeal classifier on this deployment's dispatched history, the "
            "catalog keywords and the seed corpus; evaluate it on the held-out split; store "
            "it as the next version and activate it unless it is worse than the active one.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true",
                            help="activate the new model even if it is worse")
        parser.add_argument("--no-history", dest="history", action="store_false",
                            help="leave the dispatched events out (catalog + corpus only)")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="print the stored metrics as JSON")

    def handle(self, *args: Any, force: bool = False, history: bool = True,
               as_json: bool = False, **options: Any) -> None:
        catalog = catalog_service.published_catalog()
        if catalog is None:
            raise CommandError("No published dispatch catalog: load and publish one first.")
        try:
            result = learning.train_and_store(catalog, force=force, history=history)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if as_json:
            self.stdout.write(_dumps({"version": result.row.version,
                                      "activated": result.activated,
                                      "metrics": result.metrics}))
            return
        m = result.metrics
        h2 = m["heldout2"]
        sources = ", ".join(f"{k} {v}" for k, v in sorted(m["training_sources"].items()))
        self.stdout.write(
            f"classifier v{result.row.version}: trained on {result.row.training_size} "
            f"examples ({sources}) in {m['train_seconds']} s; held-out split "
            f"n={m['n_test']}: top-1 {_pct(m['top1'])}, top-3 {_pct(m['top3'])}; second "
            f"held-out set n={h2['n_test']}: top-1 {_pct(h2['top1'])}, "
            f"top-3 {_pct(h2['top3'])}")
        style = self.style.SUCCESS if result.activated else self.style.WARNING
        self.stdout.write(style(("activated: " if result.activated else "not activated: ")
                                + result.reason))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
