"""Enterprise and organisation codes: the unified social credit code and its aliases.

- ``uscc``: 统一社会信用代码, GB 32100-2015, 18 characters with a MOD 31 check; its
  characters 9–17 are the organisation code (GB 11714) of the same body.
- ``org_code``: 组织机构代码, GB 11714, 8 characters and a MOD 11 check, written
  ``12345678-9`` on old certificates. Canonical form without the hyphen.
- ``registration_number``: 工商注册号, 15 digits (6-digit registering region, 8-digit
  sequence, ISO 7064 MOD 11,10 check), issued before 三证合一 (2015-10).

Every result carries ``org_code``, the alias key: a USCC and the legacy organisation
code of the same body share it, so old records link to the new code. A registration
number does not contain the organisation code and links only through the register.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import ValidationError

from yiwang.core.validators import (
    USCC_CHARS,
    USCC_WEIGHTS,
    normalize_credit_code,
    org_code_check_char,
)

from .base import EMPTY, Column, ascii_matrix, matching, run_batch, settled, squeeze

USCC, ORG_CODE, REGISTRATION = "uscc", "org_code", "registration_number"
CORRECTED = "corrected_confusable"  # O→0, I→1 … and then the check character agreed
TEXT_REMOVED = "text_removed"

# Registering authority and type: the first two characters of a credit code.
REGISTRANT_TYPES = {
    "11": "organ", "12": "public_institution", "13": "public_institution", "19": "organ",
    "21": "central_organ", "29": "central_organ", "31": "judicial", "39": "judicial",
    "41": "foreign_culture", "49": "foreign_culture", "51": "social_organisation",
    "52": "private_non_enterprise", "53": "foundation", "59": "social_organisation",
    "61": "tourism", "69": "tourism", "71": "religious", "79": "religious",
    "81": "trade_union", "89": "trade_union", "91": "enterprise", "92": "individual_business",
    "93": "farmers_cooperative", "A1": "military", "A9": "military", "N1": "other",
    "N2": "other", "N3": "other", "N9": "other", "Y1": "other",
}
# Letters that the credit-code alphabet leaves out and people type instead of a digit.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})
_TOKEN = re.compile(r"(?<![0-9A-Z])(?:[0-9A-Z]{18}|[0-9]{15}|[0-9A-Z]{8}-?[0-9X])(?![0-9A-Z])")
_ORG_RE = re.compile(r"^[0-9A-Z]{8}[0-9X]$", re.ASCII)
_SEPARATORS = str.maketrans("", "", " -_.·/\\'\"`")


@dataclass(frozen=True, slots=True)
class CodeResult:
    value: str | None  # canonical code; None when not valid
    kind: str
    valid: bool
    reason: str
    org_code: str | None = None  # the alias key shared by a USCC and its old org code
    region: str | None = None  # registering area (USCC, registration number)
    registrant: str = ""  # enterprise, organ, social_organisation … (USCC only)


def _invalid(reason: str, kind: str = "") -> CodeResult:
    return CodeResult(None, kind, False, reason)


def registration_check_digit(first14: str) -> str:
    """ISO 7064 MOD 11,10 check digit of a 15-digit enterprise registration number."""
    product = 10
    for char in first14:
        total = (product + int(char)) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def _uscc(value: str, note: str) -> CodeResult:
    try:
        normalize_credit_code(value)
    except ValidationError as error:
        fixed = value.translate(_CONFUSABLE)
        if fixed != value and len(fixed) == 18:
            retry = _uscc(fixed, CORRECTED)
            if retry.valid:
                return retry
        return _invalid(error.code or "uscc_format", USCC)
    return CodeResult(value, USCC, True, note, value[8:17], value[2:8],
                      REGISTRANT_TYPES.get(value[:2], "other"))


def standardise_credit_code(raw: str | None) -> CodeResult:
    """A credit code, organisation code or registration number, cleaned and checked."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    text = squeeze(str(raw)).upper()
    note = ""
    compact = text.translate(_SEPARATORS)
    if not (compact.isascii() and compact.isalnum()):
        # 统一社会信用代码：91440300MA5XXXXXXX: keep the one code-shaped token.
        tokens = _TOKEN.findall(text)
        if len(tokens) != 1:
            return _invalid("uscc_format")
        compact, note = tokens[0].replace("-", ""), TEXT_REMOVED
    if len(compact) == 18:
        return _uscc(compact, note)
    if len(compact) == 15 and compact.isdigit():
        if registration_check_digit(compact[:14]) != compact[14]:
            return _invalid("registration_checksum", REGISTRATION)
        return CodeResult(compact, REGISTRATION, True, note, None, compact[:6])
    if len(compact) == 9:
        candidate = compact if _ORG_RE.match(compact) else compact.translate(_CONFUSABLE)
        if not _ORG_RE.match(candidate):
            return _invalid("org_code_format", ORG_CODE)
        if org_code_check_char(candidate[:8]) != candidate[8]:
            return _invalid("org_code_checksum", ORG_CODE)
        return CodeResult(candidate, ORG_CODE, True, CORRECTED if candidate != compact else note,
                          candidate)
    return _invalid("uscc_format")


def format_org_code(code: str) -> str:
    """``MA5ABCDE4`` → ``MA5ABCDE-4``, as old certificates print it."""
    return f"{code[:8]}-{code[8:]}" if len(code) == 9 else code


# --- batch ------------------------------------------------------------------------------

_INDEX = np.full(256, 255, dtype=np.uint8)
_INDEX[np.frombuffer(USCC_CHARS.encode(), dtype=np.uint8)] = np.arange(len(USCC_CHARS))
_CHARS = np.frombuffer(USCC_CHARS.encode(), dtype=np.uint8)
_WEIGHTS = np.asarray(USCC_WEIGHTS, dtype=np.int64)
_ORG_WEIGHTS = np.asarray((3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)


_USCC_SHAPE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def _fast(column: pa.StringArray) -> tuple[np.ndarray, pa.Table] | None:
    if (found := matching(column, _USCC_SHAPE)) is None:
        return None
    rows, subset = found
    matrix = ascii_matrix(subset, 18)
    index = _INDEX[matrix].astype(np.int64)
    ok = _CHARS[(31 - (index[:, :17] @ _WEIGHTS) % 31) % 31] == matrix[:, 17]
    if not ok.any():
        return None
    subset = subset.filter(pa.array(ok))
    types = pa.array(list(REGISTRANT_TYPES), type=pa.string())
    names = pa.array(list(REGISTRANT_TYPES.values()), type=pa.string())
    position = pc.index_in(pc.utf8_slice_codeunits(subset, 0, 2), value_set=types)
    return rows[ok], settled(
        subset, USCC, org_code=pc.utf8_slice_codeunits(subset, 8, 17),
        region=pc.utf8_slice_codeunits(subset, 2, 8),
        registrant=pc.fill_null(names.take(position), "other"))


def standardise_credit_codes(values: Column) -> pa.Table:
    """:func:`standardise_credit_code` over a column (list or pyarrow array)."""
    return run_batch(values, rule=standardise_credit_code, cls=CodeResult,
                     types={"value": pa.string(), "org_code": pa.string(),
                            "region": pa.string()}, fast=_fast)
