"""Identity document numbers: one canonical value, its kind, and why it is not valid.

Kinds (GB 11643 and the documents that borrowed its layout):

- ``resident``: 居民身份证, 18 characters; 15-digit numbers (GB 11643-1989, no century,
  no check digit) are converted to 18 (``reason="converted_15"``).
- ``hk_permit`` / ``macao_permit`` / ``taiwan_permit``: 港澳台居民居住证 (2018), region
  810000 / 820000 / 830000, same check digit.
- ``foreign_2023``: 外国人永久居留身份证 (2023 edition), 18 digits starting with 9, same
  check digit.
- ``foreign_2017``: the earlier permanent-residence card, 3 letters of nationality and
  12 digits (receiving office, YYMMDD birth date, sequence, check). Its check algorithm
  is not published, so only the shape and the birth date are checked.

The checks themselves are ``core.validators.parse_id_number`` (the same ones that guard
accounts), so a number valid here is valid everywhere in yiwang.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import ValidationError

from yiwang.core.validators import ID_CHECK, ID_WEIGHTS, parse_id_number

from .base import (
    EMPTY,
    Column,
    ascii_matrix,
    digits_value,
    matching,
    real_dates,
    run_batch,
    settled,
    squeeze,
)

RESIDENT, HK, MACAO, TAIWAN = "resident", "hk_permit", "macao_permit", "taiwan_permit"
FOREIGN_2023, FOREIGN_2017 = "foreign_2023", "foreign_2017"
PERMITS = {"810000": HK, "820000": MACAO, "830000": TAIWAN}
# GB/T 2260 province codes (the first two digits of a mainland region code).
PROVINCES = frozenset(str(p) for p in (
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65))

# Reasons (besides core.validators' id_format, id_region, id_birth, id_checksum).
EXCEL_MANGLED = "id_excel_mangled"  # 4.40301E+17: the last digits are gone for good
CONVERTED_15 = "converted_15"
TEXT_REMOVED = "text_removed"

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")
_TOKEN = re.compile(
    r"(?<![0-9A-Z])(?:[0-9]{17}[0-9X]|[A-Z]{3}[0-9]{12}|[0-9]{15})(?![0-9A-Z])")
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}(\d{2})(\d{6})(\d{4})$", re.ASCII)
_SEPARATORS = str.maketrans("", "", "-_.·/\\'\"`,，")


@dataclass(frozen=True, slots=True)
class IdentityResult:
    value: str | None  # canonical number; None when not valid
    kind: str
    valid: bool
    reason: str  # why not valid, or a note on a valid one ("converted_15")
    birth_date: str | None = None  # ISO date read from the number
    sex: str = ""  # "M" / "F" where the number says it


def _invalid(reason: str, kind: str = "") -> IdentityResult:
    return IdentityResult(None, kind, False, reason)


def _kind(value: str) -> str:
    if value[0] == "9":
        return FOREIGN_2023
    return PERMITS.get(value[:6], RESIDENT)


def _foreign_2017(value: str, today: dt.date) -> IdentityResult:
    match = _FOREIGN_2017.match(value)
    assert match is not None
    yymmdd = match.group(2)
    year = 2000 + int(yymmdd[:2])
    if year > today.year:
        year -= 100
    try:
        birth = dt.date(year, int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return _invalid("id_birth", FOREIGN_2017)
    return IdentityResult(value, FOREIGN_2017, True, "", birth.isoformat(), "")


def standardise_id_number(raw: str | None, *, today: dt.date | None = None) -> IdentityResult:
    """Clean, classify and check one identity document number."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    today = today or dt.date.today()
    text = squeeze(str(raw)).upper().replace("×", "X")  # × is typed for X, NFKC keeps it
    if _SCIENTIFIC.match(text):
        return _invalid(EXCEL_MANGLED)
    text = text.removesuffix(".0").translate(_SEPARATORS)
    note = ""
    if not (text.isascii() and text.isalnum()):
        # 身份证号：44030119900101123X（本人）: keep the one number-shaped token.
        tokens = _TOKEN.findall(text)
        if len(tokens) != 1:
            return _invalid("id_format")
        text, note = tokens[0], TEXT_REMOVED
    if _FOREIGN_2017.match(text):
        return _foreign_2017(text, today)
    if len(text) == 18 and text[:17].isdigit() and text[0] == "9":
        # 2023 permanent-residence card: accepting province at 2–3, nationality at 4–6.
        if text[1:3] not in PROVINCES:
            return _invalid("id_region", FOREIGN_2023)
    elif (len(text) in (15, 18) and text[:2] not in PROVINCES and text[:6] not in PERMITS
          and text[:17].isdigit()):
        return _invalid("id_region")
    try:
        parsed = parse_id_number(text, today=today)
    except ValidationError as error:
        return _invalid(error.code or "id_format", _kind(text) if len(text) == 18 else "")
    if parsed.converted_from_15:
        note = CONVERTED_15
    return IdentityResult(parsed.value, _kind(parsed.value), True, note,
                          parsed.birth_date.isoformat(), parsed.sex)


# --- batch ------------------------------------------------------------------------------

_CHECK = np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)
_WEIGHTS = np.asarray(ID_WEIGHTS, dtype=np.int64)
_PROVINCE_OK = np.zeros(100, dtype=bool)
_PROVINCE_OK[[int(p) for p in PROVINCES]] = True
_PROVINCE_OK[[81, 82, 83]] = True  # only with 0000 after them, checked below


def _fast(column: pa.StringArray, today: dt.date) -> tuple[np.ndarray, pa.Table] | None:
    """Rows that are already 18 ASCII characters and pass every check, settled with numpy."""
    if (found := matching(column, r"^[1-9][0-9]{16}[0-9Xx]$")) is None:
        return None
    rows, subset = found
    matrix = ascii_matrix(subset, 18).copy()
    matrix[matrix[:, 17] == ord("x"), 17] = ord("X")
    digits = matrix[:, :17].astype(np.int64) - 48
    check_ok = _CHECK[(digits @ _WEIGHTS) % 11] == matrix[:, 17]
    province = digits[:, 0] * 10 + digits[:, 1]
    region = digits_value(matrix[:, :6])
    permit = np.isin(region, [810000, 820000, 830000])
    foreign = digits[:, 0] == 9
    region_ok = np.where(foreign, _PROVINCE_OK[digits[:, 1] * 10 + digits[:, 2]] & (
        digits[:, 1] < 8), _PROVINCE_OK[province] & ((province < 81) | permit))
    year = digits_value(matrix[:, 6:10])
    month, day = digits_value(matrix[:, 10:12]), digits_value(matrix[:, 12:14])
    date_ok = real_dates(year, month, day) & (year >= 1890)
    date_ok &= year * 10000 + month * 100 + day <= int(today.strftime("%Y%m%d"))
    ok = check_ok & region_ok & date_ok
    if not ok.any():
        return None
    good = matrix[ok]
    n = len(good)
    values = pa.StringArray.from_buffers(
        n, pa.py_buffer(np.arange(0, 18 * n + 1, 18, dtype=np.int32)),
        pa.py_buffer(np.ascontiguousarray(good)))
    kind = np.where(digits[ok, 0] == 9, FOREIGN_2023, np.select(
        [region[ok] == 810000, region[ok] == 820000, region[ok] == 830000],
        [HK, MACAO, TAIWAN], RESIDENT))
    birth = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(values, 6, 10), pc.utf8_slice_codeunits(values, 10, 12),
        pc.utf8_slice_codeunits(values, 12, 14), "-")
    sex = np.where(digits[ok, 16] % 2 == 1, "M", "F")
    return rows[ok], settled(values, pa.array(kind.tolist(), type=pa.string()),
                             birth_date=birth, sex=pa.array(sex.tolist(), type=pa.string()))


def standardise_id_numbers(values: Column, *, today: dt.date | None = None) -> pa.Table:
    """:func:`standardise_id_number` over a column (list or pyarrow array)."""
    day = today or dt.date.today()
    return run_batch(values, rule=lambda v: standardise_id_number(v, today=day),
                     cls=IdentityResult, types={"value": pa.string(), "birth_date": pa.string()},
                     fast=lambda column: _fast(column, day))
