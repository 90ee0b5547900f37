"""Normalisation and segmentation of appeal text (Chinese first).

``normalize(text)``: NFKC (full-width letters, digits and punctuation → half-width),
lower case, traditional → simplified (OpenCC ``t2s``), masking of what identifies a
case rather than its kind: phone numbers → ``☎``, other digit runs → ``#``, the
placeholders 某某 / XX / ×× of redacted addresses → ``某``, runs of white space → one.

``words(text, user_words)``: jieba 0.42.1 (precise mode, HMM on) over the normalised
text with the catalog's keywords as user words, so 走鬼, 牛皮癣 and 水浸街 stay one
token. One jieba ``Tokenizer`` per distinct user-word set, built lazily under a lock
(jieba's dictionary ships inside its wheel: nothing is downloaded); jieba's own cache
file goes to the var dir when there is one.

``char_ngrams(text, 1, 3)``: the character n-grams of the normalised text (no
segmentation at all), what the classifier's features are made of.

``Lexicon``: the colloquial, Cantonese and typo wording of appeals mapped to the
catalog's standard terms (地盘 → 工地, 老细 → 老板, 冇水 → 停水, 拉圾 → 垃圾), read from
the reviewed data file ``events/corpus/lexicon.tsv``. ``Lexicon.expand(normalized)``
returns the standard terms the text implies (longest variant first, a character span
counts once); the classifier *adds* them to what it sees, the original words stay.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LEXICON = Path(__file__).resolve().parent / "corpus" / "lexicon.tsv"

PHONE_MASK = "☎"
NUMBER_MASK = "#"
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?"
                    r"(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_REDACTED = re.compile(r"(?:某某|xx+|××+|\*\*+|○○+)")
_SPACE = re.compile(r"\s+")
# Tokens that carry no meaning for the kind of problem.
_PUNCT = set("，。、；：？！…—～·“”‘’（）《》【】,.;:?!~\"'()[]<>{}/\\|-_=+*&^%$@`")


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Half-width, lower-case, simplified Chinese, identifying numbers masked."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _t2s().convert(text)
    text = _PHONE.sub(PHONE_MASK, text)
    text = _NUMBER.sub(NUMBER_MASK, text)
    text = _REDACTED.sub("某", text)
    return _SPACE.sub(" ", text).strip()


# --- jieba ---------------------------------------------------------------------------------

_lock = threading.Lock()
_tokenizers: dict[str, Any] = {}


def _cache_file() -> str:
    base = os.environ.get("YIWANG_VAR_DIR") or tempfile.gettempdir()
    folder = os.path.join(base, "cache")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        folder = tempfile.gettempdir()
    return os.path.join(folder, "jieba.cache")


def words_key(user_words: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(user_words))).encode()).hexdigest()[:16]


def tokenizer(user_words: Sequence[str] = ()) -> Any:
    """The jieba tokenizer with these user words (built once per word set, thread-safe)."""
    key = words_key(user_words)
    found = _tokenizers.get(key)
    if found is not None:
        return found
    with _lock:
        found = _tokenizers.get(key)
        if found is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            found = jieba.Tokenizer()
            found.cache_file = _cache_file()
            found.initialize()
            for word in sorted(set(user_words)):
                word = normalize(word)
                if len(word) > 1:
                    # A high frequency makes the whole phrase win over its parts.
                    found.add_word(word, freq=max(found.suggest_freq(word), 2000))
            if len(_tokenizers) >= 4:  # a model per catalog version: a handful at most
                _tokenizers.pop(next(iter(_tokenizers)))
            _tokenizers[key] = found
    return found


def words(text: str, user_words: Sequence[str] = (), *, normalized: bool = False) -> list[str]:
    """jieba words of the (normalised) text, punctuation and blanks dropped."""
    if not normalized:
        text = normalize(text)
    return [w for w in tokenizer(user_words).lcut(text, HMM=True)
            if w.strip() and w not in _PUNCT]


def char_ngrams(text: str, low: int = 1, high: int = 3, *,
                normalized: bool = False) -> list[str]:
    """Character n-grams (low..high) of the normalised text, across blanks removed."""
    if not normalized:
        text = normalize(text)
    chars = "".join(c for c in text if not c.isspace() and c not in _PUNCT)
    out: list[str] = []
    for n in range(low, high + 1):
        out.extend(chars[i:i + n] for i in range(len(chars) - n + 1))
    return out


# --- the colloquial lexicon ----------------------------------------------------------------

@dataclass(frozen=True)
class Lexicon:
    """Variant → standard terms, both normalised; longest variant first."""

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> Lexicon:
        """``rows``: (variant, standard terms joined by "|")."""
        merged: dict[str, list[str]] = {}
        for variant, standards in rows:
            key = normalize(variant)
            if not key:
                continue
            terms = merged.setdefault(key, [])
            for term in (normalize(t) for t in standards.split("|")):
                if term and term != key and term not in terms:
                    terms.append(term)
        return cls(tuple(sorted(((k, tuple(v)) for k, v in merged.items() if v),
                                key=lambda e: (-len(e[0]), e[0]))))

    @classmethod
    def read(cls, path: Path | str = LEXICON) -> Lexicon:
        """Read a lexicon file: ``variant<TAB>standard[|standard…]<TAB>kind`` a line,
        ``#`` comments; a malformed line is an error naming its number."""
        rows = []
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
                    raise ValueError(f"{path}:{number}: expected variant<TAB>standard")
                rows.append((fields[0].strip(), fields[1].strip()))
        return cls.from_rows(rows)

    def rows(self) -> list[tuple[str, str]]:
        return [(variant, "|".join(terms)) for variant, terms in self.entries]

    def expand(self, normalized: str) -> list[str]:
        """The standard terms implied by the (normalised) text, in text order."""
        if not self.entries:
            return []
        taken = bytearray(len(normalized))
        found: list[tuple[int, tuple[str, ...]]] = []
        for variant, terms in self.entries:
            start = normalized.find(variant)
            while start != -1:
                end = start + len(variant)
                if not any(taken[start:end]):
                    taken[start:end] = b"\x01" * (end - start)
                    found.append((start, terms))
                start = normalized.find(variant, start + 1)
        return [term for _start, terms in sorted(found) for term in terms]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon (``events/corpus/lexicon.tsv``)."""
    return Lexicon.read(LEXICON)
