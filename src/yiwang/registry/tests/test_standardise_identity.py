"""ID numbers (GB 11643 and the documents that share its layout) as departments type them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core.validators import id_check_char
from yiwang.registry import noise
from yiwang.registry.standardise.identity import (
    standardise_id_number,
    standardise_id_numbers,
)

from .conftest import AS_OF, row_of


def full(body: str) -> str:
    return body + id_check_char(body)


RESIDENT = full("44030519900307123")  # Nanshan, born 1990-03-07, male (3 is odd)
WOMAN = full("11010519491231002")
HK = full("81000019850615002")
MACAO = full("82000019920101003")
TAIWAN = full("83000019770909004")
FOREIGN_2023 = full("94484019880412005")  # 9, Guangdong (44), USA (840), born 1988-04-12

CASES = [
    # raw, value, kind, valid, reason
    (RESIDENT, RESIDENT, "resident", True, ""),
    (WOMAN.lower(), WOMAN, "resident", True, ""),
    (noise.full_width(WOMAN).replace("X", "ｘ"), WOMAN, "resident", True, ""),
    (WOMAN.replace("X", "×"), WOMAN, "resident", True, ""),
    (" 4403 0519 9003 0712 3" + RESIDENT[-1] + " ", RESIDENT, "resident", True, ""),
    (RESIDENT[:6] + "-" + RESIDENT[6:14] + "-" + RESIDENT[14:], RESIDENT, "resident", True, ""),
    (f"'{RESIDENT}", RESIDENT, "resident", True, ""),
    (f"身份证号：{RESIDENT}（本人）", RESIDENT, "resident", True, "text_removed"),
    (RESIDENT[:6] + RESIDENT[8:17], RESIDENT, "resident", True, "converted_15"),
    (HK, HK, "hk_permit", True, ""),
    (MACAO, MACAO, "macao_permit", True, ""),
    (TAIWAN, TAIWAN, "taiwan_permit", True, ""),
    (FOREIGN_2023, FOREIGN_2023, "foreign_2023", True, ""),
    ("usa318804120012", "USA318804120012", "foreign_2017", True, ""),
    # Refused, each with its reason.
    (None, None, "", False, "empty"),
    ("   ", None, "", False, "empty"),
    ("4.40305E+17", None, "", False, "id_excel_mangled"),
    (RESIDENT[:17] + ("0" if RESIDENT[-1] != "0" else "1"), None, "resident", False,
     "id_checksum"),
    (RESIDENT[:17], None, "", False, "id_format"),
    ("44030519900307123Y", None, "resident", False, "id_format"),
    (full("09030519900307123")[:18], None, "", False, "id_region"),
    (full("74030519900307123"), None, "", False, "id_region"),
    (full("97784019880412005"), None, "foreign_2023", False, "id_region"),
    (full("44030519900230123"), None, "resident", False, "id_birth"),
    (full("44030520990101123"), None, "resident", False, "id_birth"),
    ("身份证 " + RESIDENT + " 或 " + WOMAN, None, "", False, "id_format"),
    ("USA319913412001", None, "foreign_2017", False, "id_birth"),
    ("不详", None, "", False, "id_format"),
    (f"身份证号{RESIDENT}9", None, "", False, "id_format"),
]


@pytest.mark.parametrize(("raw", "value", "kind", "valid", "reason"), CASES)
def test_standardise_id_number__messy_input(raw, value, kind, valid, reason):
    result = standardise_id_number(raw, today=AS_OF)
    assert (result.value, result.kind, result.valid, result.reason) == (value, kind, valid,
                                                                        reason)


def test_standardise_id_number__reads_birth_date_and_sex():
    assert standardise_id_number(RESIDENT, today=AS_OF).birth_date == "1990-03-07"
    assert standardise_id_number(RESIDENT, today=AS_OF).sex == "M"
    assert standardise_id_number(WOMAN, today=AS_OF).sex == "F"
    assert standardise_id_number("USA318804120012", today=AS_OF).birth_date == "1988-04-12"


def test_standardise_id_numbers__batch_equals_one_by_one():
    raws = [raw for raw, *_ in CASES] * 3
    table = standardise_id_numbers(raws, today=AS_OF)
    assert table.num_rows == len(raws)
    for raw, row in zip(raws, table.to_pylist(), strict=True):
        assert row == row_of(standardise_id_number(raw, today=AS_OF))


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(["440305", "110105", "810000", "652801", "944840", "830000"]),
       day=st.dates(min_value=AS_OF.replace(year=1900), max_value=AS_OF),
       sequence=st.integers(0, 999), position=st.integers(0, 16), delta=st.integers(1, 9))
def test_standardise_id_numbers__fast_path_agrees_and_one_typo_is_caught(
        region, day, sequence, position, delta):
    good = full(f"{region}{day:%Y%m%d}{sequence:03d}")
    digit = str((int(good[position]) + delta) % 10)
    typo = good[:position] + digit + good[position + 1:]
    table = standardise_id_numbers([good, typo], today=AS_OF).to_pylist()
    assert table[0] == row_of(standardise_id_number(good, today=AS_OF))
    assert table[0]["valid"] and table[0]["birth_date"] == day.isoformat()
    # MOD 11-2 catches every single-digit substitution.
    assert not table[1]["valid"]
    assert table[1] == row_of(standardise_id_number(typo, today=AS_OF))


def test_standardise_id_numbers__generated_noise_is_recovered_or_refused(sample):
    clean = sample.persons.column("id_number").to_pylist()
    noisy, expected = noise.id_numbers(clean, np.random.default_rng(7))
    got = standardise_id_numbers(noisy, today=AS_OF).column("value").to_pylist()
    assert got == expected
    assert sum(e is None for e in expected) > 0 and sum(e is not None for e in expected) > 3000


def test_standardise_id_numbers__accepts_pyarrow_columns(sample):
    column = sample.persons.column("id_number")
    table = standardise_id_numbers(column, today=AS_OF)
    assert table.column("value").to_pylist() == column.to_pylist()
    assert all(table.column("valid").to_pylist())
