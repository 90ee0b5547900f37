"""Classification of appeal text into the dispatch catalog.

``classify(text)`` ranks level-3 items with scores in [0, 1]. The active trained model
of this deployment (``ClassifierModel``, see ``events/learning.py``) is used when one
exists; otherwise the catalog's keywords, longest match first (the catalog notes that
欠薪 ⊂ 工地欠薪: the longer, more specific phrase must win).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from .models import Category, DispatchCatalog


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float
    category_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "score": round(self.score, 4)}


def _index_key(catalog: DispatchCatalog) -> tuple[Any, ...]:
    """What identifies a catalog's content: its id alone could be reused (a test
    database, a catalog deleted and loaded again), so the version number, the source's
    hash and the publication time are part of the key; a re-published catalog gets a
    new index."""
    return (catalog.pk, catalog.number, catalog.source_sha256, catalog.published_at)


@functools.lru_cache(maxsize=4)
def _keyword_index(key: tuple[Any, ...]) -> tuple[tuple[str, int, str, str], ...]:
    """(keyword, category id, code, name), longest keywords first; ``key`` from
    ``_index_key``."""
    catalog_id = key[0]
    rows = []
    for category in Category.objects.filter(catalog_id=catalog_id, level=3, active=True):
        for keyword in category.keywords:
            rows.append((keyword, category.pk, category.code, category.name))
        rows.append((category.name.split("-")[-1], category.pk, category.code, category.name))
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def keyword_scores(text: str, catalog: DispatchCatalog) -> list[Suggestion]:
    """Score items by their keywords found in the text; a character span counts once,
    for the longest keyword covering it."""
    taken = [False] * len(text)
    weight: dict[int, float] = {}
    names: dict[int, tuple[str, str]] = {}
    for keyword, category_id, code, name in _keyword_index(_index_key(catalog)):
        start = text.find(keyword)
        while start != -1:
            span = range(start, start + len(keyword))
            if not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                weight[category_id] = weight.get(category_id, 0.0) + len(keyword)
                names[category_id] = (code, name)
            start = text.find(keyword, start + 1)
    total = sum(weight.values())
    ranked = sorted(weight.items(), key=lambda kv: -kv[1])
    return [Suggestion(names[cid][0], names[cid][1], w / total if total else 0.0, cid)
            for cid, w in ranked]


def classify(text: str, *, catalog: DispatchCatalog | None = None,
             limit: int = 5) -> list[Suggestion]:
    from . import catalog as catalog_service
    from .learning import active_model

    catalog = catalog or catalog_service.published_catalog()
    if catalog is None or not text.strip():
        return []
    model = active_model(catalog)
    if model is not None:
        return model.predict(text, limit=limit)
    return keyword_scores(text, catalog)[:limit]


def reset_caches() -> None:
    _keyword_index.cache_clear()
