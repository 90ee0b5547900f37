"""GB 11643 ID numbers, GB 32100 credit codes, phone numbers and display masks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core.validators import (
    id_check_char,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_credit_code,
    normalize_id_number,
    normalize_phone,
    org_code_check_char,
    parse_id_number,
    validate_credit_code,
    validate_id_number,
)

# Independent reference implementations, written from the standards' formulas rather than
# the module's tables: GB 11643 (ISO 7064 MOD 11-2) weights are 2^(17-i) mod 11 and the
# check value is (12 - sum mod 11) mod 11; GB 32100 weights are 3^i mod 31.


def reference_id_check(body17: str) -> str:
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def reference_uscc_check(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * (3**i % 31) for i, c in enumerate(body17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def with_check(body17: str) -> str:
    return body17 + reference_id_check(body17)


needs_catalog = pytest.mark.skipif(
    not (Path(django_settings.LOCALE_PATHS[0]) / "zh_Hans/LC_MESSAGES/django.mo").exists(),
    reason="message catalogs not compiled (./yw i18n)")


def message(func, value: str, language: str) -> str:
    with pytest.raises(ValidationError) as info:
        func(value)
    with translation.override(language):
        return info.value.messages[0]


def error_code(func, value: str, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        func(value, **kwargs)
    return info.value.code


# --- GB 11643 identity card numbers -------------------------------------------------


def test_parse_id_number__valid_with_x_check_digit__returns_birth_sex_region():
    parsed = parse_id_number("11010519491231002X")
    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"  # 17th digit 2 is even
    assert parsed.region == "110105"
    assert parsed.converted_from_15 is False


def test_parse_id_number__odd_sequence_digit__is_male():
    value = with_check("44030419900307123")
    assert parse_id_number(value).sex == "M"


@pytest.mark.parametrize("typed", [
    "11010519491231002x",                      # lower-case x
    "１１０１０５１９４９１２３１００２Ｘ",      # full-width digits and X
    "１１０１０５１９４９１２３１００２ｘ",      # full-width lower-case x
    " 110105 19491231 002X ",                  # spaces from copying a formatted number
    "110105\u300019491231\u3000002X",          # ideographic (full-width) spaces
])
def test_normalize_id_number__typed_forms__all_give_the_canonical_number(typed):
    assert normalize_id_number(typed) == "11010519491231002X"


def test_parse_id_number__15_digit_legacy_number__converted_to_18_digits():
    legacy = "110105491231002"
    expected_body = legacy[:6] + "19" + legacy[6:]
    parsed = parse_id_number(legacy)
    assert parsed.value == expected_body + reference_id_check(expected_body)
    assert parsed.value == "11010519491231002X"
    assert parsed.converted_from_15 is True
    assert parsed.birth_date == dt.date(1949, 12, 31)


def test_parse_id_number__15_digit_with_impossible_date__refused():
    assert error_code(parse_id_number, "110105490230002") == "id_birth"


def test_validate_id_number__wrong_check_digit__says_check_digit():
    assert error_code(validate_id_number, "110105194912310021") == "id_checksum"


def test_validate_id_number__one_digit_mistyped__refused():
    assert error_code(validate_id_number, "11010519491231003X") == "id_checksum"


@pytest.mark.parametrize("body", [
    "11010519900230123",   # 30 February
    "11010519900431123",   # 31 April
    "11010519891329123",   # month 13
    "11010518800101123",   # before 1890
])
def test_validate_id_number__impossible_birth_date__refused(body):
    assert error_code(validate_id_number, with_check(body)) == "id_birth"


def test_validate_id_number__leap_day_in_leap_year__accepted():
    assert parse_id_number(with_check("11010520000229123")).birth_date == dt.date(2000, 2, 29)


def test_parse_id_number__birth_date_in_the_future__refused():
    value = with_check("11010520200102123")
    assert error_code(parse_id_number, value, today=dt.date(2020, 1, 1)) == "id_birth"
    assert parse_id_number(value, today=dt.date(2020, 1, 2)).birth_date == dt.date(2020, 1, 2)
    assert error_code(validate_id_number, with_check("11010520990101123")) == "id_birth"


@pytest.mark.parametrize("first_digit", ["0", "7"])
def test_validate_id_number__unknown_region__refused(first_digit):
    value = with_check(first_digit + "1010519491231002")
    assert error_code(validate_id_number, value) == "id_region"


@pytest.mark.parametrize("value", [
    "", "1101051949123100", "11010519491231002XX", "1101051949123100AX", "11010519491231002Y",
])
def test_validate_id_number__wrong_shape__refused_with_format_message(value):
    assert error_code(validate_id_number, value) == "id_format"


def test_validate_id_number__non_ascii_digits__refused_not_stored_as_another_number():
    # NFKC keeps Arabic-Indic digits; accepted, the same person would get a second
    # blind index and a second account.
    arabic = "1" + "1010519491231002X".translate(ARABIC_INDIC)
    assert error_code(validate_id_number, arabic) == "id_format"
    assert error_code(validate_id_number, "110105491231002".translate(ARABIC_INDIC)) == (
        "id_format")


def test_parse_id_number__2023_foreign_permanent_residence_card__accepted():
    # 9 + acceptance province (11, Beijing) + nationality (840) + birth date + sequence.
    card = with_check("91184019850312001")
    parsed = parse_id_number(card)
    assert parsed.value == card
    assert parsed.birth_date == dt.date(1985, 3, 12)
    assert parsed.sex == "M"
    assert error_code(validate_id_number, card[:17] + ("1" if card[17] != "1" else "2")) == (
        "id_checksum")


def test_parse_id_number__hong_kong_residence_permit__accepted():
    assert parse_id_number(with_check("81000019900101002")).region == "810000"


def test_id_error__message_explains_the_check_digit():
    assert "check digit" in message(validate_id_number, "110105194912310021", "en")


@needs_catalog
def test_errors__zh_hans_user__reads_them_in_chinese():
    assert "校验位" in message(validate_id_number, "110105194912310021", "zh-hans")
    assert "校验位" in message(validate_credit_code, "91350100M000100Y44", "zh-hans")
    assert "手机号码" in message(normalize_phone, "12", "zh-hans")


date_strategy = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31))
region_strategy = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("12345689"),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
)
sequence_strategy = st.text(alphabet="0123456789", min_size=3, max_size=3)


@settings(max_examples=100, deadline=None)
@given(region=region_strategy, birth=date_strategy, sequence=sequence_strategy)
def test_id_check_char__property__completes_any_body_and_catches_any_single_change(
        region, birth, sequence):
    body = f"{region}{birth:%Y%m%d}{sequence}"
    number = body + id_check_char(body)
    assert id_check_char(body) == reference_id_check(body)
    assert normalize_id_number(number) == number
    for position in range(18):
        alphabet = "0123456789X" if position == 17 else "0123456789"
        for replacement in alphabet:
            if replacement == number[position]:
                continue
            altered = number[:position] + replacement + number[position + 1:]
            with pytest.raises(ValidationError):
                validate_id_number(altered)


# --- GB 32100 unified social credit codes --------------------------------------------


def uscc(body17: str) -> str:
    return body17 + reference_uscc_check(body17)


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",
    "11440300MB2C92416M",
    uscc("91440300MA5DPRQ2X"),
    uscc("52110000500000000"),
])
def test_normalize_credit_code__valid_codes__accepted_unchanged(code):
    assert normalize_credit_code(code) == code


def test_normalize_credit_code__lower_case_and_full_width__normalised_to_capitals():
    assert normalize_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert normalize_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def test_validate_credit_code__wrong_check_character__says_check_character():
    assert error_code(validate_credit_code, "91350100M000100Y44") == "uscc_checksum"
    assert "check character" in message(validate_credit_code, "91350100M000100Y44", "en")


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_validate_credit_code__forbidden_letter__refused_as_format(letter):
    # The letter sits in the organisation-code part; the shape alone refuses it.
    code = "91350100M" + letter + "00100Y4" + "3"
    assert error_code(validate_credit_code, code) == "uscc_format"


@pytest.mark.parametrize("code", [
    "", "91350100M000100Y4", "91350100M000100Y431", "91ABCDEFM000100Y43", "9135010-M000100Y43",
])
def test_validate_credit_code__wrong_shape__refused(code):
    assert error_code(validate_credit_code, code) == "uscc_format"


def test_validate_credit_code__non_ascii_digits__validation_error_not_crash():
    code = "91" + "350100".translate(ARABIC_INDIC) + "M000100Y43"
    assert error_code(validate_credit_code, code) == "uscc_format"


def reference_org_check(body8: str) -> str:
    """GB 11714: letters are worth A=10 … Z=35; C9 = 11 − Σ vᵢ·wᵢ mod 11, 10 → X, 11 → 0."""
    values = [ord(c) - ord("A") + 10 if c.isalpha() else int(c) for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def test_org_code_check_char__real_code_with_letters_past_h():
    # 53640000MJX1736997 is a real credit code; its organisation code is MJX17369-9.
    assert normalize_credit_code("53640000MJX1736997") == "53640000MJX1736997"
    assert org_code_check_char("MJX17369") == "9"


@pytest.mark.parametrize("body", ["70846113", "MA5DPRQ2", "4JURQ283", "XHXL35LP", "WY123456"])
def test_org_code_check_char__matches_gb_11714_including_x_and_0(body):
    assert org_code_check_char(body) == reference_org_check(body)


# --- phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "canonical"), [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("0086-13800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("19912345678", "19912345678"),
])
def test_normalize_phone__mobile_forms__give_11_digits(typed, canonical):
    assert normalize_phone(typed) == canonical


@pytest.mark.parametrize(("typed", "canonical"), [
    ("0755-88888888", "0755-88888888"),
    ("075588888888", "0755-88888888"),
    ("0755 8888 8888", "0755-88888888"),
    ("(0755)88888888", "0755-88888888"),
    ("（0755）88888888", "0755-88888888"),
    ("+86 755 8888 8888", "0755-88888888"),
    ("010-65123456", "010-65123456"),
    ("01065123456", "010-65123456"),
    ("+86 10 6512 3456", "010-65123456"),
    ("021-6888888", "021-6888888"),
    ("0755-88888888-123", "0755-88888888-123"),
])
def test_normalize_phone__landline_forms__give_one_canonical_form(typed, canonical):
    assert normalize_phone(typed) == canonical


@pytest.mark.parametrize(("typed", "canonical"), [
    ("12345", "12345"),
    ("400-123-4567", "4001234567"),
    ("8008101234", "8008101234"),
])
def test_normalize_phone__service_numbers__accepted(typed, canonical):
    assert normalize_phone(typed) == canonical


@pytest.mark.parametrize("typed", [
    "", "1380013800", "138001380001", "23800138000", "12800138000", "0755-888",
    "abc", "+1 415 555 0100", "123456", "13" + "800138000".translate(ARABIC_INDIC),
])
def test_normalize_phone__invalid__refused_with_clear_message(typed):
    assert error_code(normalize_phone, typed) == "phone_format"
    assert "area code" in message(normalize_phone, typed, "en")


# --- masks -----------------------------------------------------------------------------


def test_mask_id_number__shows_only_first_and_last_four():
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("12345678") == "********"


def test_mask_phone__hides_the_middle():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("0755-88888888") == "0755-****8888"
    assert mask_phone("") == ""
    assert mask_phone("1234") == "****"


def test_mask_name__keeps_first_and_last_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("李") == "李"
    assert mask_name("") == ""
