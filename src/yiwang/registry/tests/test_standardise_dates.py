"""Dates in the ways Chinese systems write them, with ambiguity flagged, not hidden."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.registry import noise
from yiwang.registry.standardise.dates import standardise_date, standardise_dates

from .conftest import AS_OF, row_of

CASES = [
    # raw, value, kind, reason, ambiguous
    ("2024-03-05", "2024-03-05", "iso", "", False),
    ("2024/3/5", "2024-03-05", "year_month_day", "", False),
    ("2024.03.05", "2024-03-05", "year_month_day", "", False),
    ("2024 3 5", "2024-03-05", "year_month_day", "", False),
    ("２０２４－０３－０５", "2024-03-05", "iso", "", False),
    ("20240305", "2024-03-05", "compact", "", False),
    ("2024年3月5日", "2024-03-05", "chinese", "", False),
    ("2024年03月05号", "2024-03-05", "chinese", "", False),
    ("2024 年 3 月 5 日", "2024-03-05", "chinese", "", False),
    ("二〇二四年三月五日", "2024-03-05", "chinese", "", False),
    ("二零二四年十二月二十五日", "2024-12-25", "chinese", "", False),
    ("一九九〇年十月三十一日", "1990-10-31", "chinese", "", False),
    ("2024-03-05 14:30:00", "2024-03-05", "datetime", "", False),
    ("2024/3/5 下午2:30", "2024-03-05", "datetime", "", False),
    ("2024年3月5日 14时30分", "2024-03-05", "datetime", "", False),
    ("2024-03-05T08:00:00+08:00", "2024-03-05", "datetime", "", False),
    # An instant in UTC is a Beijing date: 20:00Z on the 4th is 04:00 on the 5th.
    ("2024-03-04T20:00:00Z", "2024-03-05", "datetime", "", False),
    ("Mar 5, 2024", "2024-03-05", "month_name_day", "", False),
    # Settled by the numbers: a part above 12 is the day.
    ("13/03/2024", "2024-03-13", "day_month_year", "", False),
    ("03/13/2024", "2024-03-13", "month_day_year", "", False),
    ("5/5/2024", "2024-05-05", "month_day_year", "", False),
    # Guesses, flagged.
    ("05/03/2024", "2024-05-03", "month_day_year", "day_month_order", True),
    ("24-3-5", "2024-03-05", "year_month_day", "two_digit_year", True),
    ("90.1.2", "1990-01-02", "year_month_day", "two_digit_year", True),
    ("90年1月2日", "1990-01-02", "chinese", "two_digit_year", True),
    ("900102", "1990-01-02", "compact", "two_digit_year", True),
    ("05-MAR-24", "2024-03-05", "day_month_name", "two_digit_year", True),
    ("45356", "2024-03-05", "excel_serial", "excel_serial", True),
    ("45356.0", "2024-03-05", "excel_serial", "excel_serial", True),
    ("1709568000", "2024-03-05", "unix_time", "unix_time", True),
    ("1709568000000", "2024-03-05", "unix_time", "unix_time", True),
]

INVALID = [
    (None, "empty"), ("", "empty"), ("不详", "date_format"), ("2024-13-01", "date_impossible"),
    ("2023-02-29", "date_impossible"), ("2024年2月30日", "date_impossible"),
    ("1800-01-01", "date_out_of_range"), ("2024-03", "date_format"), ("3/5", "date_format"),
    ("05-XYZ-24", "date_format"), ("123", "date_format"),
]


@pytest.mark.parametrize(("raw", "value", "kind", "reason", "ambiguous"), CASES)
def test_standardise_date__messy_input(raw, value, kind, reason, ambiguous):
    result = standardise_date(raw, as_of=AS_OF)
    assert (result.value, result.kind, result.valid, result.reason, result.ambiguous) == (
        value, kind, True, reason, ambiguous)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_standardise_date__refused(raw, reason):
    result = standardise_date(raw, as_of=AS_OF)
    assert (result.value, result.valid, result.reason) == (None, False, reason)


def test_standardise_date__day_first_sources():
    result = standardise_date("05/03/2024", day_first=True, as_of=AS_OF)
    assert (result.value, result.ambiguous) == ("2024-03-05", True)
    assert standardise_date("13/03/2024", day_first=True, as_of=AS_OF).ambiguous is False


def test_standardise_date__two_digit_years_pivot_on_as_of():
    assert standardise_date("25-1-1", as_of=AS_OF).value == "2025-01-01"
    assert standardise_date("27-1-1", as_of=AS_OF).value == "1927-01-01"


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_standardise_date__every_unambiguous_spelling_gives_the_same_day(day):
    spellings = [day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day:%Y%m%d}",
                 f"{day.year}年{day.month}月{day.day}日", f"{day:%Y.%m.%d}",
                 f"{day.isoformat()} 23:59:59", noise._chinese_date(day)]
    for text in spellings:
        result = standardise_date(text, as_of=AS_OF)
        assert (result.value, result.ambiguous) == (day.isoformat(), False), text


def test_standardise_dates__batch_equals_one_by_one():
    raws = [c[0] for c in CASES] + [c[0] for c in INVALID] + ["2024-02-30", "2100-12-31"]
    table = standardise_dates(raws, as_of=AS_OF)
    for raw, row in zip(raws, table.to_pylist(), strict=True):
        assert row == row_of(standardise_date(raw, as_of=AS_OF)), raw


def test_standardise_dates__generated_noise_is_recovered_or_refused(sample):
    clean = sample.persons.column("birth_date").to_pylist()
    noisy, expected = noise.dates(clean, np.random.default_rng(13), as_of=AS_OF)
    assert standardise_dates(noisy, as_of=AS_OF).column("value").to_pylist() == expected
