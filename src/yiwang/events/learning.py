"""The trained classifier of a deployment, learned from its own dispatched history.

What it learns from (``training_examples``):

- the district's own history: events with a category that were dispatched and never
  reassigned or returned (the dispatcher's and the handler's agreement is the label),
  text = title + description, as ``classify`` sees it at intake;
- the catalog itself: each keyword and each item name as a short example, and all the
  keywords of an item together (weighted up: they are the district's own definition);
- the seed corpus ``events/corpus/appeals.jsonl`` (hand-written appeals, see
  ``docs/adr/0008-event-classification.md``): its *train* split only. Its *test* split
  (40 %, chosen by a hash of the text, stratified per item) is never trained on: every
  model is measured on it and the figures are stored with the model.

The model (chosen by cross-validation on the train split, see the ADR): TF-IDF of the
character 1–3-grams of the normalised text (``textseg.normalize``), a linear SVM
(scikit-learn ``LinearSVC``, one-vs-rest), decision values turned into probabilities by a
softmax whose temperature is fitted by 3-fold cross-validation on the training data,
optionally blended with the catalog's keyword scores (weight also chosen by that
cross-validation). Scores are probabilities: in [0, 1], ranked, summing to at most 1.

Storage without pickle: the vocabulary, the IDF weights, the weight matrix (float16)
and the parameters are numpy arrays written by ``np.savez_compressed`` and read back
with ``allow_pickle=False``; prediction is re-implemented over those arrays (no
scikit-learn at run time), so loading a blob can never execute code. Loaded models are
cached per process (keyed by the row's primary key); one prediction takes well under a
millisecond.

``events_train`` (management command) calls ``train_and_store``: train, evaluate on the
held-out split, store a ``ClassifierModel`` (version + 1) with its metrics, and activate
it unless it is worse than the active model measured on the same split.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import platform
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import textseg

if TYPE_CHECKING:
    from .classify import Suggestion
    from .models import ClassifierModel, DispatchCatalog

CORPUS = Path(__file__).resolve().parent / "corpus" / "appeals.jsonl"
# A second held-out set, written by hand after the first split was fixed and before any
# tuning against it; never trained on (see corpus/README.md).
HELDOUT2 = Path(__file__).resolve().parent / "corpus" / "heldout2.jsonl"
FORMAT = "yiwang-textclf-2"  # 2 adds the lexicon and the first clause; 1 still loads
FORMATS = ("yiwang-textclf-1", FORMAT)
TEST_SHARE = 0.4
KEYWORD_WEIGHT = 3.0  # sample weight of the catalog's own keyword examples (CV-chosen)
NGRAMS = (1, 3)
SVM_C = 1.0
BLENDS = (0.0, 0.2, 0.4)  # candidate weights of the keyword prior (chosen by CV)
TEMPERATURES = tuple(round(0.05 * 1.25 ** i, 4) for i in range(16))
# A style of the corpus is written as from one channel (for the per-channel figures).
STYLE_CHANNEL = {"grid": "grid", "online": "opinion"}


# --- data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """A dispatchable catalog item as the classifier sees it."""

    code: str
    name: str
    keywords: tuple[str, ...]
    category_id: int | None = None

    @property
    def phrases(self) -> tuple[str, ...]:
        return (*self.keywords, self.name.split("-")[-1])


@dataclass(frozen=True)
class Example:
    text: str
    code: str
    source: str = "corpus"  # corpus / catalog / history
    style: str = ""
    channel: str = ""
    weight: float = 1.0


def items_from_csv(path: Path | str | None = None) -> list[Item]:
    """The level-3 items of a catalog CSV (``shared/data/dispatch_catalog.csv`` layout)."""
    if path is None:
        from . import catalog as catalog_service

        path = catalog_service.shared_catalog_path()
    with open(path, encoding="utf-8", newline="") as handle:
        return [Item(r["code"], r["name"], tuple(k for k in r["keywords"].split("|") if k))
                for r in csv.DictReader(handle) if r["level"] == "3"]


def catalog_items(catalog: DispatchCatalog) -> list[Item]:
    """The active level-3 items of a catalog version."""
    from .models import Category

    return [Item(c.code, c.name, tuple(c.keywords), c.pk)
            for c in Category.objects.filter(catalog=catalog, level=3, active=True)
            .only("pk", "code", "name", "keywords").order_by("code")]


def load_corpus(path: Path | str = CORPUS) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_corpus(rows: Sequence[dict[str, str]], test_share: float = TEST_SHARE,
                 ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Deterministic train / held-out split, stratified per item: within each item the
    texts are ordered by the SHA-256 of their text and the last ``test_share`` is held
    out. Rows marked ``"split": "train"`` (texts added after the split was fixed) are
    always trained on and take no part in the cut, so adding them never moves a held-out
    text."""
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    marked: list[dict[str, str]] = []
    for row in rows:
        if row.get("split") == "train":  # written later to be trained on: never held out
            marked.append(row)
        else:
            by_code[row["code"]].append(row)
    train = sorted(marked, key=lambda r: (r["code"], _text_hash(r["text"])))
    test: list[dict[str, str]] = []
    for code in sorted(by_code):
        group = sorted(by_code[code], key=lambda r: _text_hash(r["text"]))
        cut = round(len(group) * (1 - test_share))
        train += group[:cut]
        test += group[cut:]
    return train, test


def corpus_examples(rows: Iterable[dict[str, str]], codes: set[str]) -> list[Example]:
    return [Example(r["text"], r["code"], "corpus", r.get("style", ""),
                    STYLE_CHANNEL.get(r.get("style", ""), "hotline"))
            for r in rows if r["code"] in codes]


def keyword_examples(items: Sequence[Item],
                     lexicon: textseg.Lexicon | None = None) -> list[Example]:
    """The catalog's own examples: each keyword and item name, all of an item's phrases
    together, and each lexicon variant whose standard term is a phrase of exactly one
    item (工头 → 包工头 → 欠薪-工程建设领域)."""
    out = []
    owners: dict[str, set[str]] = defaultdict(set)
    for item in items:
        for phrase in item.phrases:
            out.append(Example(phrase, item.code, "catalog", weight=KEYWORD_WEIGHT))
            owners[textseg.normalize(phrase)].add(item.code)
        out.append(Example(" ".join(item.phrases), item.code, "catalog",
                           weight=KEYWORD_WEIGHT))
    for variant, terms in (lexicon.entries if lexicon is not None else ()):
        codes = {code for term in terms for code in owners.get(term, ())}
        if len(codes) == 1:
            out.append(Example(variant, codes.pop(), "catalog", weight=KEYWORD_WEIGHT))
    return out


def history_examples(catalog: DispatchCatalog, items: Sequence[Item],
                     exclude: frozenset[str] | set[str] = frozenset()) -> list[Example]:
    """Dispatched, never reassigned nor returned events with a category; labels are
    mapped by code onto this catalog version (items that no longer exist are left out).
    Events whose title or description is one of the ``exclude`` texts (the held-out
    corpus, e.g. copied into demo events) are left out."""
    from .models import Event, EventStatus

    codes = {item.code for item in items}
    rows = (Event.objects.filter(category__isnull=False, dispatched_at__isnull=False,
                                 reassign_count=0, return_count=0)
            .exclude(status=EventStatus.MERGED)
            .values_list("title", "description", "category__code", "channel")
            .iterator(chunk_size=2000))
    return [Example(f"{title} {description}".strip(), code, "history", channel=channel)
            for title, description, code, channel in rows
            if code in codes and title.strip() not in exclude
            and description.strip() not in exclude
            and f"{title} {description}".strip() not in exclude]


# --- the model -------------------------------------------------------------------------------

SEP = "\x1f"  # between the text and the standard terms the lexicon adds


_CLAUSE = re.compile(r"[,.;:!?，。；：！？、\n]")


def first_clause(normalized: str) -> str:
    """The first clause of four characters or more, when the text has another one: an
    appeal names its main problem first (来电人反映…, the first of two problems)."""
    clauses = [c.strip() for c in _CLAUSE.split(normalized) if len(c.strip()) >= 4]
    return clauses[0] if len(clauses) > 1 else ""


def augment(normalized: str, lexicon: textseg.Lexicon, *, lead: bool = True) -> str:
    """The normalised text, then the standard terms its wording implies (``lexicon``),
    then (``lead``) its first clause again, so the main problem weighs more."""
    parts = [normalized, *lexicon.expand(normalized)]
    if lead and (clause := first_clause(normalized)):
        parts.append(clause)
    return SEP.join(parts)


def _analyzer(augmented: str) -> list[str]:
    # n-grams within each part: none spans the text and an added term
    out: list[str] = []
    for part in augmented.split(SEP):
        out.extend(textseg.char_ngrams(part, *NGRAMS, normalized=True))
    return out


class KeywordMatcher:
    """The keyword prior of ``classify.keyword_scores`` over ``Item``s (no database):
    longest keyword first, a character span counts once."""

    def __init__(self, codes: Sequence[str], phrases: Sequence[Sequence[str]]) -> None:
        index = {code: i for i, code in enumerate(codes)}
        rows = []
        for code, item_phrases in zip(codes, phrases, strict=True):
            for phrase in item_phrases:
                norm = textseg.normalize(phrase)
                if norm:
                    rows.append((norm, index[code]))
        self.rows = sorted(set(rows), key=lambda r: (-len(r[0]), r[0], r[1]))
        self.size = len(codes)

    def scores(self, normalized: str) -> np.ndarray:
        weight = np.zeros(self.size, dtype=np.float64)
        taken = bytearray(len(normalized))
        for phrase, column in self.rows:
            start = normalized.find(phrase)
            while start != -1:
                end = start + len(phrase)
                if not any(taken[start:end]):
                    taken[start:end] = b"\x01" * (end - start)
                    weight[column] += len(phrase)
                start = normalized.find(phrase, start + 1)
        total = weight.sum()
        return weight / total if total else weight


@dataclass
class TextClassifier:
    """A trained scorer over plain numpy arrays (see the module docstring)."""

    codes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,) float32
    weights: np.ndarray  # (n_features, n_classes) float16/32
    bias: np.ndarray  # (n_classes,) float32
    temperature: float
    blend: float
    phrases: list[list[str]]  # keyword phrases per class (the prior)
    params: dict[str, Any] = field(default_factory=dict)
    lexicon: textseg.Lexicon = field(default_factory=textseg.Lexicon)
    lead: bool = True  # repeat the first clause (format 2; format 1 models did not)

    def __post_init__(self) -> None:
        self._keywords = KeywordMatcher(self.codes, self.phrases)
        self._weights32 = self.weights.astype(np.float32)

    # scoring
    def augment(self, normalized: str) -> str:
        return augment(normalized, self.lexicon, lead=self.lead)

    def vector(self, augmented: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values (sublinear tf, l2-normalised) of the
        augmented text (``augment``)."""
        counts = Counter(t for t in _analyzer(augmented) if t in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        columns = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64,
                              count=len(counts))
        values = np.fromiter((1.0 + math.log(n) for n in counts.values()),
                             dtype=np.float64, count=len(counts)) * self.idf[columns]
        values /= np.linalg.norm(values)
        return columns, values.astype(np.float32)

    def _scores(self, norm: str, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        scores = self.bias.astype(np.float64)
        if len(columns):
            scores = scores + values @ self._weights32[columns]
        if self.blend:
            scores = scores + self.blend * self._keywords.scores(norm)
        return scores

    def decision(self, text: str, *, normalized: bool = False) -> np.ndarray:
        norm = self.augment(text if normalized else textseg.normalize(text))
        return self._scores(norm, *self.vector(norm))

    def proba(self, text: str, *, normalized: bool = False) -> np.ndarray:
        return softmax(self.decision(text, normalized=normalized), self.temperature)

    def rank(self, text: str, limit: int = 5) -> list[tuple[str, float]]:
        """The best ``limit`` codes with their probabilities, best first."""
        norm = self.augment(textseg.normalize(text))
        columns, values = self.vector(norm)
        if not columns.size:
            # Nothing the model knows: the keyword prior alone (often nothing either).
            prior = self._keywords.scores(norm)
            order = [i for i in np.argsort(-prior, kind="stable") if prior[i] > 0]
            return [(self.codes[i], float(prior[i])) for i in order[:limit]]
        probs = softmax(self._scores(norm, columns, values), self.temperature)
        best = np.argsort(-probs, kind="stable")[:limit]
        return [(self.codes[i], float(probs[i])) for i in best]

    # storage
    def to_bytes(self) -> bytes:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {"format": FORMAT, "temperature": self.temperature, "blend": self.blend,
                "params": self.params}
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, codes=np.array(self.codes), terms=np.array(terms, dtype=str),
            idf=self.idf.astype(np.float32), weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            phrases=np.array(["|".join(p) for p in self.phrases]),
            lexicon=np.array([f"{v}\t{t}" for v, t in self.lexicon.rows()], dtype=str),
            meta=np.array(json.dumps(meta, ensure_ascii=False)))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TextClassifier:
        with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") not in FORMATS:
                raise ValueError(f"unknown classifier format {meta.get('format')!r}")
            terms = [str(t) for t in data["terms"]]
            return cls(
                codes=[str(c) for c in data["codes"]],
                vocabulary={t: i for i, t in enumerate(terms)},
                idf=data["idf"].astype(np.float64), weights=data["weights"],
                bias=data["bias"], temperature=float(meta["temperature"]),
                blend=float(meta["blend"]),
                phrases=[str(p).split("|") if str(p) else [] for p in data["phrases"]],
                params=meta.get("params", {}),
                lexicon=textseg.Lexicon.from_rows(
                    tuple(str(r).split("\t", 1)) for r in data["lexicon"])  # type: ignore[misc]
                if "lexicon" in data.files else textseg.Lexicon(),
                lead=meta["format"] != "yiwang-textclf-1")


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _fit_linear(examples: Sequence[Example], normalized: dict[str, str],
                codes: list[str]) -> tuple[Any, Any]:
    """scikit-learn fit: the TF-IDF vectorizer and the linear SVM."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, dtype=np.float32)
    matrix = vectorizer.fit_transform([normalized[e.text] for e in examples])
    index = {code: i for i, code in enumerate(codes)}
    labels = np.array([index[e.code] for e in examples])
    svm = LinearSVC(C=SVM_C, random_state=0)
    svm.fit(matrix, labels, sample_weight=np.array([e.weight for e in examples]))
    return vectorizer, svm


def _decisions(vectorizer: Any, svm: Any, texts: Sequence[str], n_classes: int) -> np.ndarray:
    """Decision values over all classes (classes absent from the fit get -inf-ish)."""
    raw = svm.decision_function(vectorizer.transform(texts))
    if raw.ndim == 1:  # two classes
        raw = np.column_stack([-raw, raw])
    full = np.full((len(texts), n_classes), -10.0)
    full[:, svm.classes_] = raw
    return full


def _calibrate(examples: Sequence[Example], normalized: dict[str, str], codes: list[str],
               matcher: KeywordMatcher, folds: int = 3) -> tuple[float, float, dict[str, Any]]:
    """Keyword blend and softmax temperature by k-fold cross-validation on the training
    examples (the catalog's own examples always stay in training)."""
    index = {code: i for i, code in enumerate(codes)}
    texts = [e for e in examples if e.source != "catalog"]
    fixed = [e for e in examples if e.source == "catalog"]
    per_class = Counter(e.code for e in texts)
    if len(texts) < 2 * folds or min(per_class.values(), default=0) < 2:
        return 0.0, 0.5, {"folds": 0}
    fold_of = {}
    seen: Counter[str] = Counter()
    for e in sorted(texts, key=lambda e: _text_hash(e.text)):
        fold_of[id(e)] = seen[e.code] % folds  # stratified round-robin
        seen[e.code] += 1
    decisions, priors, labels = [], [], []
    for fold in range(folds):
        fit = fixed + [e for e in texts if fold_of[id(e)] != fold]
        held = [e for e in texts if fold_of[id(e)] == fold]
        if not held:
            continue
        vectorizer, svm = _fit_linear(fit, normalized, codes)
        decisions.append(_decisions(vectorizer, svm, [normalized[e.text] for e in held],
                                    len(codes)))
        priors.append(np.array([matcher.scores(normalized[e.text]) for e in held]))
        labels.append(np.array([index[e.code] for e in held]))
    D, K, y = np.vstack(decisions), np.vstack(priors), np.concatenate(labels)
    best: tuple[float, float, float] | None = None
    for blend in BLENDS:
        S = D + blend * K
        top1 = float((S.argmax(axis=1) == y).mean())
        if best is None or top1 > best[0] + 1e-9:
            best = (top1, blend, 0.0)
    assert best is not None
    cv_top1, blend = best[0], best[1]
    S = D + blend * K
    rank = (S[np.arange(len(y)), y][:, None] < S).sum(axis=1)
    nll = {t: float(-np.log(softmax(S, t)[np.arange(len(y)), y] + 1e-12).mean())
           for t in TEMPERATURES}
    temperature = min(nll, key=nll.__getitem__)
    return blend, temperature, {"folds": folds, "cv_top1": round(cv_top1, 4),
                                "cv_top3": round(float((rank < 3).mean()), 4),
                                "cv_n": len(y), "nll": round(nll[temperature], 4)}


def train(examples: Sequence[Example], items: Sequence[Item], *,
          calibrate: bool = True, lexicon: textseg.Lexicon | None = None) -> TextClassifier:
    """Fit a ``TextClassifier`` on the examples (plus nothing else: pass
    ``keyword_examples(items)`` in ``examples`` to include the catalog). ``lexicon``:
    the colloquial lexicon the model reads text with (default: the shipped one); it is
    stored with the model, so a stored model reads text as it was trained to."""
    if lexicon is None:
        lexicon = textseg.lexicon()
    codes = [item.code for item in items]
    known = set(codes)
    examples = [e for e in examples if e.code in known and e.text.strip()]
    if not examples:
        raise ValueError("nothing to train on")
    started = time.perf_counter()
    normalized = {e.text: augment(textseg.normalize(e.text), lexicon) for e in examples}
    matcher = KeywordMatcher(codes, [item.phrases for item in items])
    if calibrate:
        blend, temperature, cv = _calibrate(examples, normalized, codes, matcher)
    else:
        blend, temperature, cv = 0.0, 0.5, {"folds": 0}
    vectorizer, svm = _fit_linear(examples, normalized, codes)
    weights = np.zeros((len(vectorizer.vocabulary_), len(codes)), dtype=np.float32)
    bias = np.full(len(codes), -10.0, dtype=np.float32)
    coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_[0], svm.coef_[0]])
    icpt = svm.intercept_ if len(svm.classes_) > 2 else np.array(
        [-svm.intercept_[0], svm.intercept_[0]])
    weights[:, svm.classes_] = coef.T
    bias[svm.classes_] = icpt
    sources = Counter(e.source for e in examples)
    return TextClassifier(
        codes=codes, vocabulary={t: int(i) for t, i in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.astype(np.float64), weights=weights.astype(np.float16),
        bias=bias, temperature=temperature, blend=blend,
        phrases=[list(item.phrases) for item in items], lexicon=lexicon,
        params={"features": f"char {NGRAMS[0]}-{NGRAMS[1]}-grams of the text, of the "
                            "standard terms its wording implies (lexicon) and of its first "
                            "clause again, TF-IDF (sublinear)",
                "lexicon_entries": len(lexicon.entries),
                "classifier": "LinearSVC one-vs-rest", "C": SVM_C,
                "keyword_example_weight": KEYWORD_WEIGHT, "cross_validation": cv,
                "training_examples": dict(sources), "classes": len(codes),
                "classes_seen": len(svm.classes_), "features_n": int(weights.shape[0]),
                "train_seconds": round(time.perf_counter() - started, 2)})


def evaluate(model: TextClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    """top-1 / top-3 accuracy overall and per style and per channel."""
    groups: dict[str, dict[str, list[int]]] = {"style": defaultdict(list),
                                               "channel": defaultdict(list)}
    hits1, hits3 = [], []
    for e in examples:
        ranked = [code for code, _score in model.rank(e.text, limit=3)]
        h1, h3 = int(bool(ranked) and ranked[0] == e.code), int(e.code in ranked)
        hits1.append(h1)
        hits3.append(h3)
        for kind, key in (("style", e.style), ("channel", e.channel)):
            if key:
                groups[kind][key].append(h1 * 2 + h3)

    def share(values: list[int], top: int) -> float:
        return round(sum((v >> 1) if top == 1 else (v & 1) for v in values) / len(values), 4)

    n = len(examples)
    return {
        "n_test": n,
        "top1": round(sum(hits1) / n, 4) if n else None,
        "top3": round(sum(hits3) / n, 4) if n else None,
        **{f"by_{kind}": {key: {"n": len(v), "top1": share(v, 1), "top3": share(v, 3)}
                          for key, v in sorted(group.items())}
           for kind, group in groups.items()},
    }


def library_versions() -> dict[str, str]:
    import jieba
    import scipy
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "scipy": scipy.__version__,
            "jieba": jieba.__version__}


# --- the deployment's models -----------------------------------------------------------------

class ActiveModel:
    """A stored model bound to its catalog version: ``predict`` → ``Suggestion``s."""

    def __init__(self, row_id: int, version: int, classifier: TextClassifier,
                 names: dict[str, tuple[int, str]]) -> None:
        self.row_id = row_id
        self.version = version
        self.classifier = classifier
        self.names = names  # code → (category id, name)

    def predict(self, text: str, limit: int = 5) -> list[Suggestion]:
        from .classify import Suggestion

        out = []
        for code, score in self.classifier.rank(text, limit=limit + 5):
            found = self.names.get(code)
            if found is not None and score > 0:
                out.append(Suggestion(code, found[1], min(1.0, max(0.0, score)), found[0]))
            if len(out) == limit:
                break
        return out


_loaded: dict[tuple[int, int, int], ActiveModel] = {}
_load_lock = threading.Lock()


def active_model(catalog: DispatchCatalog) -> ActiveModel | None:
    """The active model for this catalog version, or None (then keywords are used)."""
    from .models import ClassifierModel

    row = ClassifierModel.objects.filter(active=True, catalog=catalog).values_list(
        "pk", "version").first()
    if row is None:
        return None
    return _load(row[0], row[1], catalog)


def _load(pk: int, version: int, catalog: DispatchCatalog) -> ActiveModel:
    # Keyed by version and catalog too: a reused primary key never serves a stale model.
    key = (pk, version, catalog.pk)
    found = _loaded.get(key)
    if found is not None:
        return found
    with _load_lock:
        found = _loaded.get(key)
        if found is None:
            found = load_row(pk, catalog)
            _loaded.clear()  # one active model per process is all classify needs
            _loaded[key] = found
    return found


def load_row(pk: int, catalog: DispatchCatalog | None = None) -> ActiveModel:
    from .models import Category, ClassifierModel

    row = ClassifierModel.objects.only("pk", "version", "catalog_id", "blob").get(pk=pk)
    classifier = TextClassifier.from_bytes(bytes(row.blob))
    names = {code: (pk_, name) for pk_, code, name in Category.objects.filter(
        catalog_id=row.catalog_id, level=3, active=True).values_list("pk", "code", "name")}
    return ActiveModel(row.pk, row.version, classifier, names)


def reset_cache() -> None:
    _loaded.clear()


@dataclass
class TrainResult:
    row: ClassifierModel
    activated: bool
    metrics: dict[str, Any]
    previous: dict[str, Any] | None  # the active model's figures on the same split
    reason: str


def training_examples(catalog: DispatchCatalog | None, items: Sequence[Item], *,
                      corpus_rows: Sequence[dict[str, str]] | None = None,
                      history: bool = True, lexicon: textseg.Lexicon | None = None,
                      ) -> tuple[list[Example], list[Example]]:
    """(training examples, held-out test examples) for this catalog. The second held-out
    set (``HELDOUT2``) is never among the training examples; see ``heldout2_examples``."""
    if lexicon is None:
        lexicon = textseg.lexicon()
    codes = {item.code for item in items}
    rows = load_corpus() if corpus_rows is None else list(corpus_rows)
    corpus_train, corpus_test = split_corpus(rows)
    held_out = ({r["text"] for r in corpus_test}
                | {r["text"] for r in load_corpus(HELDOUT2)})
    examples = keyword_examples(items, lexicon) + corpus_examples(corpus_train, codes)
    if history and catalog is not None:
        # A held-out corpus text copied into an event must not leak into training.
        examples += history_examples(catalog, items, exclude=held_out)
    return examples, corpus_examples(corpus_test, codes)


def heldout2_examples(items: Sequence[Item]) -> list[Example]:
    codes = {item.code for item in items}
    return corpus_examples(load_corpus(HELDOUT2), codes)


def _worse(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return (new["top1"] or 0) < (old["top1"] or 0) or (new["top3"] or 0) < (old["top3"] or 0)


def train_and_store(catalog: DispatchCatalog, *, force: bool = False, history: bool = True,
                    corpus_rows: Sequence[dict[str, str]] | None = None) -> TrainResult:
    """Train on this deployment's data, evaluate on the held-out split, store the model as
    the next version; activate it unless the active model does better on the same split
    (``force`` activates anyway)."""
    from django.db import transaction
    from django.db.models import Max

    from .models import ClassifierModel

    items = catalog_items(catalog)
    if not items:
        raise ValueError("the catalog has no dispatchable items")
    started = time.perf_counter()
    examples, test = training_examples(catalog, items, corpus_rows=corpus_rows,
                                       history=history)
    model = train(examples, items)
    train_seconds = time.perf_counter() - started
    metrics = evaluate(model, test)
    metrics.update({
        "heldout2": evaluate(model, heldout2_examples(items)),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "train_seconds": round(train_seconds, 2),
        "training_sources": model.params["training_examples"],
        "cross_validation": model.params["cross_validation"],
        "split": {"test_share": TEST_SHARE, "by": "sha256(text) within each item"},
        "model": {k: v for k, v in model.params.items()
                  if k not in ("training_examples", "cross_validation")},
        "libraries": library_versions(),
    })
    current = ClassifierModel.objects.filter(active=True, catalog=catalog).first()
    previous = None
    if current is not None:
        try:
            previous = evaluate(load_row(current.pk).classifier, test)
            previous["version"] = current.version
        except (ValueError, KeyError, OSError) as exc:  # unreadable: cannot be better
            previous = {"version": current.version, "error": str(exc), "top1": 0, "top3": 0}
    activate = force or previous is None or not _worse(metrics, previous)
    if previous is None:
        reason = "no active model"
    elif force:
        reason = "forced"
    elif activate:
        reason = (f"not worse than v{previous['version']} on the same held-out split "
                  f"(top-1 {previous['top1']}, top-3 {previous['top3']})")
    else:
        reason = (f"worse than the active v{previous['version']} on the same held-out "
                  f"split (top-1 {previous['top1']}, top-3 {previous['top3']}): kept "
                  "inactive; --force activates it")
    metrics["activation"] = {"activated": activate, "reason": reason,
                             "previous": previous}
    blob = model.to_bytes()
    with transaction.atomic():
        version = (ClassifierModel.objects.select_for_update().aggregate(v=Max("version"))
                   ["v"] or 0) + 1
        if activate:
            ClassifierModel.objects.filter(active=True, catalog=catalog).update(active=False)
        row = ClassifierModel.objects.create(
            version=version, catalog=catalog, training_size=len(examples), metrics=metrics,
            blob=blob, active=activate)
    reset_cache()
    return TrainResult(row, activate, metrics, previous, reason)


# --- benchmark entry (no database: the catalog CSV and the corpus) ---------------------------

def measure(*, runs_latency: int = 2000, corpus_rows: Sequence[dict[str, str]] | None = None,
            items: Sequence[Item] | None = None) -> dict[str, Any]:
    """Train on the catalog + the corpus train split, evaluate on the held-out split and
    time predictions: what ``bench/benchmarks/events_classifier.py`` records."""
    items = list(items) if items is not None else items_from_csv()
    started = time.perf_counter()
    textseg.normalize("预热")
    examples, test = training_examples(None, items, corpus_rows=corpus_rows, history=False)
    model = train(examples, items)
    train_seconds = time.perf_counter() - started
    metrics = evaluate(model, test)
    heldout2 = evaluate(model, heldout2_examples(items))
    blob = model.to_bytes()
    began = time.perf_counter()
    loaded = TextClassifier.from_bytes(blob)
    load_ms = (time.perf_counter() - began) * 1000
    texts = [e.text for e in test] or ["楼下有人占道经营"]
    timings, cpu = [], []
    for i in range(runs_latency):
        text = texts[i % len(texts)]
        began, began_cpu = time.perf_counter(), time.thread_time()
        loaded.rank(text, limit=5)
        cpu.append((time.thread_time() - began_cpu) * 1000)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    cpu.sort()
    return {
        "metrics": metrics, "heldout2": heldout2, "train_seconds": round(train_seconds, 2),
        "training_examples": model.params["training_examples"],
        "cross_validation": model.params["cross_validation"],
        "features": model.params["features_n"], "blob_bytes": len(blob),
        "load_ms": round(load_ms, 1),
        "latency_ms": {"n": len(timings), "median": round(timings[len(timings) // 2], 3),
                       "p99": round(timings[int(len(timings) * 0.99) - 1], 3),
                       "max": round(timings[-1], 3)},
        # CPU time of the same predictions: what the code costs, without the waits of a
        # busy machine (wall-clock p99 includes being preempted by other processes).
        "latency_cpu_ms": {"median": round(cpu[len(cpu) // 2], 3),
                           "p99": round(cpu[int(len(cpu) * 0.99) - 1], 3)},
        "temperature": model.temperature, "blend": model.blend,
        "libraries": library_versions(),
    }
