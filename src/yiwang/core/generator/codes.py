"""Vectorised identifiers: ID numbers, credit codes, phone numbers, ASCII columns.

Codes are built as ``(n, width)`` matrices of ASCII bytes and handed to Arrow as one
buffer, which is two orders of magnitude faster than formatting Python strings.
Check characters are computed with the same tables as ``core.validators`` so that
every generated code passes the validators by construction (the tests prove it).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from yiwang.core.validators import (
    ID_CHECK,
    ID_WEIGHTS,
    ORG_CODE_WEIGHTS,
    USCC_CHARS,
    USCC_WEIGHTS,
    org_code_check_char,
)

ZERO = ord("0")
USCC_BYTES = np.frombuffer(USCC_CHARS.encode(), dtype=np.uint8)
ID_CHECK_BYTES = np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)
_POWERS = 10 ** np.arange(18, dtype=np.int64)[::-1]


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an ``(n, width)`` byte matrix."""
    values = np.asarray(values, dtype=np.int64)
    powers = _POWERS[-width:]
    return ((values[:, None] // powers) % 10 + ZERO).astype(np.uint8)


def ascii_column(matrix: np.ndarray) -> pa.StringArray:
    """An Arrow string column from a fixed-width ASCII byte matrix (no Python strings)."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def literal(text: str, n: int) -> np.ndarray:
    """``text`` repeated as an ``(n, len)`` byte matrix, for concatenation with codes."""
    row = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.broadcast_to(row, (n, len(row)))


def id_check_bytes(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (ISO 7064 MOD 11-2) for an ``(n, 17)`` digit matrix."""
    total = (first17.astype(np.int64) - ZERO) @ np.asarray(ID_WEIGHTS, dtype=np.int64)
    return ID_CHECK_BYTES[total % 11]


def uscc_check_bytes(first17: np.ndarray) -> np.ndarray:
    """GB 32100 check characters for an ``(n, 17)`` matrix of code-character indices."""
    total = first17.astype(np.int64) @ np.asarray(USCC_WEIGHTS, dtype=np.int64)
    return USCC_BYTES[(31 - total % 31) % 31]


@functools.cache
def _org_value_mod11() -> np.ndarray:
    # The organisation-code check is linear: 11 − Σ v(cᵢ)·wᵢ mod 11. Reading each
    # character's value off ``validators.org_code_check_char`` (weight 3 at position 0,
    # 3⁻¹ ≡ 4 mod 11) keeps the vectorised check identical to the validator.
    table = np.zeros(len(USCC_CHARS), dtype=np.int64)
    for index, char in enumerate(USCC_CHARS):
        check = org_code_check_char(char + "0" * 7)
        k = {"X": 10, "0": 11}.get(check) or int(check)
        table[index] = (4 * (11 - k)) % 11
    return table


def org_check_index(body: np.ndarray) -> np.ndarray:
    """Organisation-code check characters (as USCC character indices) for ``(n, 8)`` bodies."""
    total = _org_value_mod11()[body] @ np.asarray(ORG_CODE_WEIGHTS, dtype=np.int64)
    check = 11 - total % 11
    # 10 → "X", 11 → "0"; X sits at index 29 of the credit-code character set.
    return np.where(check == 10, USCC_CHARS.index("X"), np.where(check == 11, 0, check))


def credit_codes(*, prefix: str, region: str, body: np.ndarray) -> np.ndarray:
    """Unified social credit codes ``prefix + region + body + org check + check``.

    ``prefix`` is the registering authority and type (``91`` enterprise, ``11`` organ of
    state), ``region`` the six-digit registration area, ``body`` an ``(n, 8)`` matrix of
    USCC character indices. Returns an ``(n, 18)`` ASCII matrix.
    """
    n = len(body)
    head = np.array([USCC_CHARS.index(c) for c in prefix + region], dtype=np.int64)
    first17 = np.empty((n, 17), dtype=np.int64)
    first17[:, :8] = head
    first17[:, 8:16] = body
    first17[:, 16] = org_check_index(body)
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, :17] = USCC_BYTES[first17]
    out[:, 17] = uscc_check_bytes(first17)
    return out


def mix(values: np.ndarray, key: int) -> np.ndarray:
    # splitmix64 finaliser: a cheap, well-spread hash of uint64 values.
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def scramble(index: np.ndarray, *, high: int, low: int, key: int) -> tuple[np.ndarray, np.ndarray]:
    """A keyed bijection of ``[0, high·low)`` returned as ``(hi, lo)`` digits.

    Distinct indices always give distinct results, so phone numbers and credit codes
    numbered by row are unique without any lookup table, yet look random. (Four rounds
    of a mixed-radix Feistel network.)
    """
    index = np.asarray(index, dtype=np.int64)
    if index.size and int(index.max()) >= high * low:
        raise ValueError("index outside the permutation domain")
    hi, lo = index // low, index % low
    for round_ in range(4):
        lo = (lo + (mix(hi, key * 8 + round_ * 2) % np.uint64(low)).astype(np.int64)) % low
        hi = (hi + (mix(lo, key * 8 + round_ * 2 + 1) % np.uint64(high)).astype(np.int64)) % high
    return hi, lo
