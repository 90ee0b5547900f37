"""Phone numbers as departments write them: labels, spaces, +86, brackets around the area
code, extensions (转 / 分机 / ext / #), and several numbers in one field.

The canonical form of each number is ``core.validators.normalize_phone``'s, the one the
blind index of personal data is keyed on (``13800138000``, ``0755-88888888``,
``0755-88888888-123``), so a standardised number finds the person it belongs to.
``value`` is the first valid number (a mobile one first when there are several: it is
the one that identifies a person); ``numbers`` lists every valid one in field order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from django.core.exceptions import ValidationError

from yiwang.core.validators import normalize_phone

from .base import EMPTY, Column, fold, matching, run_batch, settled

MOBILE, LANDLINE, SERVICE = "mobile", "landline", "service"
ASSUMED_AREA = "assumed_area_code"  # 88888888 → 0755-88888888
SEVERAL = "several_numbers"
SOME_INVALID = "some_invalid"
DEFAULT_AREA = "0755"  # Shenzhen

_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\b", re.IGNORECASE)
_BETWEEN = re.compile(r"[,，;；/、|]+|或|和|及")
_NON_PHONE = re.compile(r"[^\d+()\-\s#]+")
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class PhoneResult:
    value: str | None
    kind: str
    valid: bool
    reason: str
    numbers: tuple[str, ...] = ()


def _kind(value: str) -> str:
    if len(value) == 11 and value[0] == "1":
        return MOBILE
    return LANDLINE if value[0] == "0" else SERVICE


def _complete(digits: str) -> bool:
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 4:
            digits = digits[len(prefix):]
    if digits in ("", "86", "0086"):
        return False
    return len(digits) >= (11 if digits[0] in "01" else 8)


def _groups(part: str) -> list[str]:
    """Split a run of digit groups into numbers: ``138 0013 8000`` is one, ``13800138000
    13900139000`` two: a group joins the number before it until that one is complete."""
    numbers: list[str] = []
    for group in part.split():
        if numbers and "#" not in numbers[-1] and (
                not _complete(_DIGITS.sub("", numbers[-1])) or group.startswith("#")):
            numbers[-1] += group
        else:
            numbers.append(group)
    return numbers


def _one(text: str, extension: str, default_area: str) -> tuple[str, str]:
    """(canonical number, note) or raise ValidationError."""
    international = text.lstrip().startswith(("+", "00"))
    digits = _DIGITS.sub("", text)
    note = ""
    if international:
        digits = digits.removeprefix("00").removeprefix("86")
        if not (len(digits) == 11 and digits[0] == "1") and not digits.startswith("0"):
            digits = "0" + digits
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if len(digits) == 8 and digits[0] in "2345678" and default_area:
        digits, note = default_area + digits, ASSUMED_AREA
    value = normalize_phone(digits + (f"-{extension}" if extension else ""))
    return value, note


def standardise_phone(raw: str | None, *, default_area: str = DEFAULT_AREA) -> PhoneResult:
    """Every number in a phone field, each in the blind index's canonical form."""
    if raw is None or not str(raw).strip():
        return PhoneResult(None, "", False, EMPTY)
    text = fold(str(raw))
    numbers: list[str] = []
    notes: list[str] = []
    failures = 0
    for part in _BETWEEN.split(text):
        for piece in _groups(_NON_PHONE.sub(" ", _EXTENSION.sub(r"#\1", part))):
            # An extension (转123, 分机 123, ext. 123, -123 after a full number) stays
            # with its number.
            body, _, extension = piece.partition("#")
            match = re.match(r"^(.*\d{7,8})-(\d{1,6})$", body.strip())
            if match and not extension and _complete(_DIGITS.sub("", match.group(1))):
                body, extension = match.group(1), match.group(2)
            if len(_DIGITS.sub("", body)) < 5:
                continue
            try:
                value, note = _one(body, extension, default_area)
            except ValidationError:
                failures += 1
                continue
            if value not in numbers:
                numbers.append(value)
                notes.append(note)
    if not numbers:
        return PhoneResult(None, "", False, "phone_format")
    primary = next((n for n in numbers if _kind(n) == MOBILE), numbers[0])
    reason = (SOME_INVALID if failures else SEVERAL if len(numbers) > 1
              else notes[numbers.index(primary)])
    return PhoneResult(primary, _kind(primary), True, reason, tuple(numbers))


# --- batch ------------------------------------------------------------------------------

def _fast(column: pa.StringArray) -> tuple[np.ndarray, pa.Table] | None:
    """Bare mobile numbers are already canonical."""
    if (found := matching(column, r"^1[3-9][0-9]{9}$")) is None:
        return None
    rows, values = found
    offsets = pa.array(np.arange(len(rows) + 1, dtype=np.int32))
    return rows, settled(values, MOBILE, numbers=pa.ListArray.from_arrays(offsets, values))


def standardise_phones(values: Column, *, default_area: str = DEFAULT_AREA) -> pa.Table:
    """:func:`standardise_phone` over a column (list or pyarrow array)."""
    return run_batch(values, rule=lambda v: standardise_phone(v, default_area=default_area),
                     cls=PhoneResult, types={"value": pa.string(),
                                             "numbers": pa.list_(pa.string())}, fast=_fast)
