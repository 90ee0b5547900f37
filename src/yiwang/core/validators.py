"""Validators and normalisers for Chinese identifiers.

- Resident identity card numbers per GB 11643-1999 (18 characters, ISO 7064 MOD 11-2
  check character), with 15-digit legacy numbers converted, full-width digits and a
  lower-case x accepted, and the 2023 foreigners' permanent-residence cards (leading 9).
- Unified social credit codes per GB 32100-2015 (18 characters, MOD 31 check).
- Mainland phone numbers (mobile and landline).

Every error message is translatable so a bad value is explained in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# First digit of the region code: 1–6 mainland provinces, 8 Hong Kong / Macao / Taiwan
# residence permits, 9 foreigners' permanent-residence cards (2023 edition).
ID_REGION_FIRST = set("1234568") | {"9"}

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# re.ASCII everywhere: \d would also match Arabic-Indic and other digits that NFKC keeps.
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)


def _halfwidth(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "")


def _ascii_digits(value: str) -> bool:
    # str.isdigit() alone accepts "١٢٣"; such a number would get its own blind index
    # and slip past the one-account-per-ID-number constraint.
    return value.isascii() and value.isdigit()


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    region: str
    converted_from_15: bool = False


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Normalise and check an identity card number; raise ValidationError if invalid."""
    value = _halfwidth(raw or "").upper()
    converted = False
    if len(value) == 15 and _ascii_digits(value):
        value = value[:6] + "19" + value[6:]
        value += id_check_char(value)
        converted = True
    if len(value) != 18 or not _ascii_digits(value[:17]) or value[17] not in "0123456789X":
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a check digit or X."),
            code="id_format",
        )
    if value[0] not in ID_REGION_FIRST:
        raise ValidationError(_("The ID number has an unknown region code."), code="id_region")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("The ID number contains an impossible birth date."), code="id_birth"
        ) from None
    today = today or dt.date.today()
    if birth.year < 1890 or birth > today:
        raise ValidationError(
            _("The ID number contains an impossible birth date."), code="id_birth"
        )
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong; please check it for a typing error."),
            code="id_checksum",
        )
    return IdNumber(
        value=value,
        birth_date=birth,
        sex="M" if int(value[16]) % 2 else "F",
        region=value[:6],
        converted_from_15=converted,
    )


def normalize_id_number(raw: str) -> str:
    return parse_id_number(raw).value


def validate_id_number(raw: str) -> None:
    parse_id_number(raw)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 organisation-code check character (positions 9–17 of a credit code).

    GB 11714 values letters over the whole alphabet (A=10 … Z=35), not by their place in
    the credit-code alphabet: 53640000MJX1736997 has organisation code MJX17369-9.
    """
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_credit_code(raw: str) -> str:
    value = _halfwidth(raw or "").upper()
    if not USCC_RE.match(value):
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters of digits and capital letters "
                "(without I, O, S, V, Z)."
            ),
            code="uscc_format",
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("The credit code's check character is wrong; please check it for a typing error."),
            code="uscc_checksum",
        )
    return value


def validate_credit_code(raw: str) -> None:
    normalize_credit_code(raw)


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Area codes: 010 and 02x have three digits, every other one four (0755, 0371 …).
LANDLINE_RE = re.compile(r"^(0[12]\d|0[3-9]\d{2})-?(\d{7,8})(?:-(\d{1,6}))?$", re.ASCII)
SERVICE_RE = re.compile(r"^(1\d{4}|[48]00\d{7})$", re.ASCII)  # 12345, 400/800 numbers
INTERNATIONAL_RE = re.compile(r"^(?:\+86|0086)-?")


def normalize_phone(raw: str, *, personal: bool = False) -> str:
    """One canonical form per number (``13800138000``, ``0755-88888888``), so that the
    blind index finds a number however it was typed. ``personal=True`` refuses service
    numbers (12345, 400/800), which are nobody's own phone."""
    value = _halfwidth(raw or "").replace("(", "").replace(")", "").replace("—", "-")
    international = INTERNATIONAL_RE.match(value)
    if international:
        value = value[international.end():]
        if not MOBILE_RE.match(value.replace("-", "")) and not value.startswith("0"):
            value = "0" + value  # +86 755 … is dialled 0755 … at home
    else:
        value = re.sub(r"^86(?=1[3-9]\d{9}$)", "", value, flags=re.ASCII)
    compact = value.replace("-", "")
    if MOBILE_RE.match(compact):
        return compact
    landline = LANDLINE_RE.match(value)
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    if SERVICE_RE.match(compact) and not personal:
        return compact
    raise ValidationError(
        _("Enter an 11-digit mobile number or a landline number with its area code."),
        code="phone_format",
    )


def validate_phone(raw: str) -> None:
    normalize_phone(raw)


# Masking for display: enough to recognise, not enough to misuse.

def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    return value[:-4].rstrip("0123456789") + "****" + value[-4:] if len(value) > 4 else "****"


def mask_name(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
