"""Phone numbers, in the blind index's canonical form, however a department typed them."""

from __future__ import annotations

import numpy as np
import pytest

from yiwang.core.validators import normalize_phone
from yiwang.registry import noise
from yiwang.registry.standardise.phone import standardise_phone, standardise_phones

from .conftest import row_of

CASES = [
    # raw, value, kind, reason, numbers
    ("13800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("138 0013 8000", "13800138000", "mobile", "", ("13800138000",)),
    ("138-0013-8000", "13800138000", "mobile", "", ("13800138000",)),
    ("+86 138 0013 8000", "13800138000", "mobile", "", ("13800138000",)),
    ("+86-13800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("008613800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("8613800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("１３８００１３８０００", "13800138000", "mobile", "", ("13800138000",)),
    ("手机：13800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("0755-26543210", "0755-26543210", "landline", "", ("0755-26543210",)),
    ("(0755)26543210", "0755-26543210", "landline", "", ("0755-26543210",)),
    ("0755 2654 3210", "0755-26543210", "landline", "", ("0755-26543210",)),
    ("+86 755 2654 3210", "0755-26543210", "landline", "", ("0755-26543210",)),
    ("010-12345678", "010-12345678", "landline", "", ("010-12345678",)),
    ("0755-26543210转8012", "0755-26543210-8012", "landline", "", ("0755-26543210-8012",)),
    ("0755-26543210 分机 12", "0755-26543210-12", "landline", "", ("0755-26543210-12",)),
    ("0755-26543210 ext. 12", "0755-26543210-12", "landline", "", ("0755-26543210-12",)),
    ("0755-26543210-12", "0755-26543210-12", "landline", "", ("0755-26543210-12",)),
    ("26543210", "0755-26543210", "landline", "assumed_area_code", ("0755-26543210",)),
    ("12345", "12345", "service", "", ("12345",)),
    ("400-123-4567", "4001234567", "service", "", ("4001234567",)),
    # Several numbers in one field: a mobile number is the one that names a person.
    ("0755-26543210/13800138000", "13800138000", "mobile", "several_numbers",
     ("0755-26543210", "13800138000")),
    ("13800138000，13900139000", "13800138000", "mobile", "several_numbers",
     ("13800138000", "13900139000")),
    ("13800138000 13900139000", "13800138000", "mobile", "several_numbers",
     ("13800138000", "13900139000")),
    ("手机13800138000或座机0755-26543210", "13800138000", "mobile", "several_numbers",
     ("13800138000", "0755-26543210")),
    ("13800138000；13800138000", "13800138000", "mobile", "", ("13800138000",)),
    ("13800138000/1390013900", "13800138000", "mobile", "some_invalid", ("13800138000",)),
]

INVALID = [
    (None, "empty"), ("", "empty"), ("  ", "empty"), ("1380013800", "phone_format"),
    ("23800138000", "phone_format"), ("电话不详", "phone_format"), ("无", "phone_format"),
    ("0755-123", "phone_format"), ("11111111111", "phone_format"),
]


@pytest.mark.parametrize(("raw", "value", "kind", "reason", "numbers"), CASES)
def test_standardise_phone__messy_input(raw, value, kind, reason, numbers):
    result = standardise_phone(raw)
    assert (result.value, result.kind, result.valid, result.reason, result.numbers) == (
        value, kind, True, reason, numbers)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_standardise_phone__refused(raw, reason):
    result = standardise_phone(raw)
    assert (result.value, result.valid, result.reason, result.numbers) == (None, False,
                                                                           reason, ())


def test_standardise_phone__every_number_is_in_the_blind_index_form():
    for raw, _, _, _, numbers in CASES:
        for number in numbers:
            assert normalize_phone(number) == number, raw


def test_standardise_phone__area_code_is_configurable():
    assert standardise_phone("26543210", default_area="020").value == "020-26543210"
    assert not standardise_phone("26543210", default_area="").valid


def test_standardise_phones__batch_equals_one_by_one():
    raws = [c[0] for c in CASES] + [c[0] for c in INVALID]
    for raw, row in zip(raws, standardise_phones(raws).to_pylist(), strict=True):
        expected = row_of(standardise_phone(raw))
        expected["numbers"] = list(expected["numbers"])
        assert row == expected


def test_standardise_phones__generated_noise_is_recovered_or_refused(sample):
    mobiles = sample.persons.column("phone").to_pylist()
    landlines = sample.enterprises.column("phone").to_pylist() * 4
    noisy, expected = noise.phones(mobiles, landlines, np.random.default_rng(5))
    got = standardise_phones(noisy)
    for raw, want, value, numbers in zip(noisy, expected, got.column("value").to_pylist(),
                                         got.column("numbers").to_pylist(), strict=True):
        if want is None:
            assert value is None, raw
        else:
            assert want in numbers, raw
            assert value == want or value.startswith("1"), raw
