"""Dates in the many ways Chinese systems write them, as ISO dates.

Understood: ``2024-03-05``, ``2024/3/5``, ``2024.03.05``, ``2024 3 5``, ``20240305``,
``2024年3月5日`` / ``5号``, ``二〇二四年三月五日`` / ``二零二四年三月二十五日``, two-digit
years (``24-3-5``, ``24年3月5日``, ``240305``), day- or month-first with the year last
(``05/03/2024``), Oracle's ``05-MAR-24`` and ``Mar 5, 2024``, Excel serial numbers
(``45356``), Unix seconds and milliseconds, and any of these with a time after it
(``2024-03-05 14:30:00``, ``2024/3/5 下午2:30``, ``2024-03-04T20:00:00Z``: an instant
with a zone is read in Beijing time, so that one is 2024-03-05).

``ambiguous`` is true when the date rests on a guess, with the guess in ``reason``:

- ``day_month_order``: ``05/03/2024`` could be 5 March or 3 May. Month-first is assumed
  (Excel's default export), ``day_first=True`` for sources known to write day-first
  (Hong Kong and Macao systems); a part above 12 settles it and is not ambiguous.
- ``two_digit_year``: ``24`` is 2024 unless that is after ``as_of``, then 1924.
- ``excel_serial`` / ``unix_time``: a bare number read as a date; right for a date
  column, wrong if the column held something else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from .base import (
    EMPTY,
    Column,
    ascii_matrix,
    chinese_digits,
    chinese_number,
    digits_value,
    fold,
    matching,
    real_dates,
    run_batch,
    settled,
)

BEIJING = ZoneInfo("Asia/Shanghai")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 after Excel's leap-year bug
DAY_MONTH, TWO_DIGIT_YEAR, EXCEL, UNIX = ("day_month_order", "two_digit_year",
                                          "excel_serial", "unix_time")
MIN_YEAR, MAX_YEAR = 1890, 2100
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}

_TIME = re.compile(
    r"(?:[T ]|(?<=[日号]))\s*(?:上午|下午|晚上|凌晨|中午|AM|PM)?\s*\d{1,2}(?::\d{2}|时|点)"
    r"(?::?\d{2}分?)?(?::?\d{2}(?:\.\d+)?秒?)?\s*(?:AM|PM)?\s*(?:Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE)
_CN_NUMERAL = re.compile(r"([〇零一二三四五六七八九十两○]+)(年|月|日|号)")
_YMD_CN = re.compile(r"^(\d{2}|\d{4})年(\d{1,2})月(\d{1,2})[日号]?$")
_YMD = re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})$")
_YMD_SHORT = re.compile(r"^(\d{2})([-.])(\d{1,2})\2(\d{1,2})$")
_XXY = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4}|\d{2})$")
_DMONY = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*\.?[- ,]+(\d{4}|\d{2})$")
_MONDY = re.compile(r"^([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$")
_ZONED = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


@dataclass(frozen=True, slots=True)
class DateResult:
    value: str | None  # ISO 8601 date
    kind: str  # the form it was written in: iso, chinese, compact, day_month_year …
    valid: bool
    reason: str
    ambiguous: bool = False


def _invalid(reason: str, kind: str = "") -> DateResult:
    return DateResult(None, kind, False, reason)


def _year(two: int, as_of: dt.date) -> int:
    year = 2000 + two
    return year if year <= as_of.year else year - 100


def _make(year: int, month: int, day: int, kind: str, *, reason: str = "",
          ambiguous: bool = False) -> DateResult:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return _invalid("date_out_of_range", kind)
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return _invalid("date_impossible", kind)
    return DateResult(value.isoformat(), kind, True, reason, ambiguous)


def _numeral(match: re.Match[str]) -> str:
    text, unit = match.groups()
    if unit == "年":
        return chinese_digits(text) + unit
    number = chinese_number(text)
    return (str(number) if number is not None else text) + unit


def _instant(text: str) -> dt.date | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return moment.astimezone(BEIJING).date() if moment.tzinfo else moment.date()


def standardise_date(raw: str | None, *, day_first: bool = False,
                     as_of: dt.date | None = None) -> DateResult:
    """One date, written any common way, as an ISO date (see the module for the rules)."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    text = fold(str(raw)).replace("／", "/")
    as_of = as_of or dt.date.today()
    if _ZONED.search(text) and (instant := _instant(text)):
        return _make(instant.year, instant.month, instant.day, "datetime")
    kind_prefix = ""
    stripped = _TIME.sub("", text).strip()
    if stripped != text and stripped:
        text, kind_prefix = stripped, "datetime"
    text = _CN_NUMERAL.sub(_numeral, text.replace(" ", "") if "年" in text else text)

    def made(kind: str, year: int, month: int, day: int, *, reason: str = "",
             ambiguous: bool = False) -> DateResult:
        return _make(year, month, day, kind_prefix or kind, reason=reason, ambiguous=ambiguous)

    if match := _YMD_CN.match(text):
        y, m, d = match.groups()
        if len(y) == 2:
            return made("chinese", _year(int(y), as_of), int(m), int(d), reason=TWO_DIGIT_YEAR,
                        ambiguous=True)
        return made("chinese", int(y), int(m), int(d))
    if match := _YMD.match(text):
        return made("iso" if text[4] == "-" else "year_month_day", *map(int, match.groups()))
    if text.isascii() and text.isdigit():
        return _number(text, as_of, kind_prefix)
    if re.fullmatch(r"\d{5}\.\d+", text):
        return _number(text.split(".")[0], as_of, kind_prefix)
    if match := _YMD_SHORT.match(text):
        y, _, m, d = match.groups()
        return made("year_month_day", _year(int(y), as_of), int(m), int(d),
                    reason=TWO_DIGIT_YEAR, ambiguous=True)
    if match := _XXY.match(text):
        a, b, y = (int(p) for p in match.groups())
        short = len(match.group(3)) == 2
        year = _year(y, as_of) if short else y
        if a > 12 or b > 12 or a == b:
            day, month = (a, b) if a > 12 or (a == b) else (b, a)
            return made("day_month_year" if a > 12 else "month_day_year", year, month, day,
                        reason=TWO_DIGIT_YEAR if short else "", ambiguous=short)
        day, month = (a, b) if day_first else (b, a)
        return made("day_month_year" if day_first else "month_day_year", year, month, day,
                    reason=DAY_MONTH, ambiguous=True)
    if match := _DMONY.match(text):
        d, mon, y = match.groups()
        if mon.lower() not in MONTHS:
            return _invalid("date_format")
        short = len(y) == 2
        return made("day_month_name", _year(int(y), as_of) if short else int(y),
                    MONTHS[mon.lower()], int(d), reason=TWO_DIGIT_YEAR if short else "",
                    ambiguous=short)
    if match := _MONDY.match(text):
        mon, d, y = match.groups()
        if mon.lower() not in MONTHS:
            return _invalid("date_format")
        return made("month_name_day", int(y), MONTHS[mon.lower()], int(d))
    if instant := _instant(text):
        return made("datetime", instant.year, instant.month, instant.day)
    return _invalid("date_format")


def _number(text: str, as_of: dt.date, kind_prefix: str) -> DateResult:
    if len(text) == 8:
        return _make(int(text[:4]), int(text[4:6]), int(text[6:]), kind_prefix or "compact")
    if len(text) == 6:
        return _make(_year(int(text[:2]), as_of), int(text[2:4]), int(text[4:]), "compact",
                     reason=TWO_DIGIT_YEAR, ambiguous=True)
    if len(text) == 5 and 10_000 <= int(text) <= 80_000:  # 1927-05-18 … 2119-01-10
        day = EXCEL_EPOCH + dt.timedelta(days=int(text))
        return _make(day.year, day.month, day.day, EXCEL, reason=EXCEL, ambiguous=True)
    if len(text) in (10, 13):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        day = dt.datetime.fromtimestamp(seconds, BEIJING).date()
        return _make(day.year, day.month, day.day, UNIX, reason=UNIX, ambiguous=True)
    return _invalid("date_format")


# --- batch ------------------------------------------------------------------------------

def _fast(column: pa.StringArray) -> tuple[np.ndarray, pa.Table] | None:
    """Values already ISO (``2024-03-05``) and real dates in range."""
    if (found := matching(column, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")) is None:
        return None
    rows, subset = found
    matrix = ascii_matrix(subset, 10)
    year = digits_value(matrix[:, :4])
    ok = real_dates(year, digits_value(matrix[:, 5:7]), digits_value(matrix[:, 8:10]))
    ok &= (year >= MIN_YEAR) & (year <= MAX_YEAR)
    if not ok.any():
        return None
    values = subset.filter(pa.array(ok))
    return rows[ok], settled(values, "iso", ambiguous=pa.array(np.zeros(len(values), bool)))


def standardise_dates(values: Column, *, day_first: bool = False,
                      as_of: dt.date | None = None) -> pa.Table:
    """:func:`standardise_date` over a column; each distinct spelling is parsed once."""
    as_of = as_of or dt.date.today()
    return run_batch(
        values, rule=lambda v: standardise_date(v, day_first=day_first, as_of=as_of),
        cls=DateResult, types={"value": pa.string()}, fast=_fast)
