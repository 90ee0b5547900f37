"""What every standardisation rule shares: the result shape, text clean-up and the batch
runner that applies a rule to a column of millions of values.

A rule is a plain function ``str | None -> <Result>``; its batch form returns a
``pyarrow.Table`` with one column per result field, in input order. The batch runner
evaluates each *distinct* value once (real columns repeat a lot: names, dates,
enterprise names) and lets a rule add a vectorised fast path for the rows already in
canonical shape (ID numbers, credit codes, phone numbers), so only the messy rest goes
through Python.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Reason codes. A rule's ``reason`` is empty for a clean valid value; for a valid value
# it may carry a note (what was repaired or guessed); for an invalid one it says why.
EMPTY = "empty"

_SPACES = re.compile(r"\s+")
# Unicode digits that NFKC does not fold (Arabic-Indic and friends) must never pass as
# ASCII digits: see core.validators._ascii_digits.
_CHINESE_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_CHINESE_DIGITS.update({"零": "0", "○": "0", "Ｏ": "0", "两": "2"})


def fold(text: str) -> str:
    """NFKC (full-width letters, digits and brackets to ASCII) with whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def squeeze(text: str) -> str:
    """:func:`fold` and every space removed (codes, CJK names, addresses)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def chinese_digits(text: str) -> str:
    """``二〇二四`` → ``2024`` (digit by digit, no place values)."""
    return "".join(_CHINESE_DIGITS.get(c, c) for c in text)


def chinese_number(text: str) -> int | None:
    """A small Chinese numeral with place values: ``十五`` 15, ``二十一`` 21, ``三百零二``
    302, ``一二零三`` 1203 (digit by digit); None if ``text`` is not one."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if all(c in _CHINESE_DIGITS for c in text):
        return int(chinese_digits(text))
    total, current = 0, 0
    for char in text:
        if char in _CHINESE_DIGITS:
            current = int(_CHINESE_DIGITS[char])
        elif char in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


R = TypeVar("R")


def result_schema(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def to_table(results: Sequence[Any], cls: type,
             types: dict[str, pa.DataType] | None = None) -> pa.Table:
    """A table with one column per field of the result dataclass ``cls``."""
    types = types or {}
    names = result_schema(cls)
    rows = list(map(operator.attrgetter(*names), results))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pa.table({name: pa.array(list(column), type=types.get(name))
                     for name, column in zip(names, columns, strict=True)})


def as_strings(values: Column) -> pa.StringArray:
    """Any column of text (a list, a pyarrow array or chunked array, numbers too) as one
    ``pa.string()`` array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), type=pa.string())
    if pa.types.is_large_string(values.type) or not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return values


Column: TypeAlias = Iterable[str | None] | pa.Array | pa.ChunkedArray
@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of result objects, none in a reference cycle: the cyclic garbage collector
    would only rescan them again and again (it made batches 1.7× slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


FastPath = Callable[[pa.StringArray], tuple[np.ndarray, pa.Table] | None]


def run_batch(values: Column, *,
              rule: Callable[[str | None], R], cls: type,
              types: dict[str, pa.DataType] | None = None,
              fast: FastPath | None = None) -> pa.Table:
    """Apply ``rule`` to a column; one output row per input row, in order.

    ``fast`` (optional) takes the whole column and returns the row indices it settled and
    their results as a table of the same schema; the other rows go through ``rule``,
    once per distinct value.
    """
    column = as_strings(values)
    n = len(column)
    parts: list[pa.Table] = []
    order: list[np.ndarray] = []
    rest = np.arange(n)
    if fast is not None and n:
        settled = fast(column)
        if settled is not None:
            done, table = settled
            parts.append(table)
            order.append(done)
            keep = np.ones(n, dtype=bool)
            keep[done] = False
            rest = np.flatnonzero(keep)
    if len(rest):
        subset = column if len(rest) == n else column.take(pa.array(rest))
        encoded = subset.dictionary_encode()
        with _collector_paused():
            distinct = encoded.dictionary.to_pylist()
            results = [rule(v) for v in distinct]
            if encoded.null_count:
                results.append(rule(None))
            table = to_table(results, cls, types)
            del results, distinct
        indices = (pc.fill_null(encoded.indices, len(encoded.dictionary))
                   if encoded.null_count else encoded.indices)
        parts.append(table.take(indices))
        order.append(rest)
    if not parts:
        return to_table([], cls, types)
    table = pa.concat_tables([p.cast(parts[0].schema) for p in parts])
    if len(order) == 1 and len(order[0]) == n and bool((order[0] == np.arange(n)).all()):
        return table
    return table.take(pa.array(np.argsort(np.concatenate(order), kind="stable")))


def settled(values: pa.Array, kind: str | pa.Array, **extra: pa.Array) -> pa.Table:
    """A fast path's rows: canonical ``values``, all valid, no reason, then ``extra``
    columns in the result's field order."""
    n = len(values)
    if isinstance(kind, str):
        kind = pa.array([kind] * n, type=pa.string())
    return pa.table({"value": values, "kind": kind, "valid": pa.array(np.ones(n, dtype=bool)),
                     "reason": pa.array([""] * n, type=pa.string()), **extra})


def ascii_matrix(column: pa.StringArray, width: int) -> np.ndarray:
    """The bytes of a column whose values are all ``width`` ASCII characters, as an
    ``(n, width)`` matrix (no Python strings)."""
    if column.offset or column.null_count:
        column = pa.concat_arrays([column])
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[: len(column) + 1]
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)
    return data[offsets[0]: offsets[-1]].reshape(len(column), width)


def matching(column: pa.StringArray, pattern: str) -> tuple[np.ndarray, pa.StringArray] | None:
    """The row indices whose value matches ``pattern`` and those values; None if none do
    (nulls never match)."""
    mask = pc.fill_null(pc.match_substring_regex(column, pattern), False)
    rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    return (rows, column.take(pa.array(rows))) if len(rows) else None


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def digits_value(matrix: np.ndarray) -> np.ndarray:
    """The integers written by an ``(n, width)`` matrix of ASCII digits."""
    out = np.zeros(len(matrix), dtype=np.int64)
    for col in range(matrix.shape[1]):
        out = out * 10 + (matrix[:, col].astype(np.int64) - 48)
    return out


def real_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Which (year, month, day) triples are days of the Gregorian calendar."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.clip(month, 0, 12)] + (leap & (month == 2))
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
