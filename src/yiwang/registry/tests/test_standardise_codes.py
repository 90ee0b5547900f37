"""Credit codes (GB 32100) with the legacy organisation codes and registration numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core.validators import USCC_CHARS, org_code_check_char, uscc_check_char
from yiwang.registry import noise
from yiwang.registry.standardise.codes import (
    format_org_code,
    registration_check_digit,
    standardise_credit_code,
    standardise_credit_codes,
)

from .conftest import row_of


def uscc(first16: str) -> str:
    """A credit code whose embedded organisation code and check character are right."""
    body = first16[8:16]
    first17 = first16 + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


ENTERPRISE = uscc("91440300MA5FGH2K")
OLD_STYLE = uscc("9144030019237712")  # 1990s company: numeric organisation code
ORGAN = uscc("11440300MB2C9241")
ORG_CODE = ENTERPRISE[8:17]
REGISTRATION = "44030100012345" + registration_check_digit("44030100012345")

CASES = [
    # raw, value, kind, valid, reason, org_code
    (ENTERPRISE, ENTERPRISE, "uscc", True, "", ORG_CODE),
    (ENTERPRISE.lower(), ENTERPRISE, "uscc", True, "", ORG_CODE),
    (noise.full_width(ENTERPRISE), ENTERPRISE, "uscc", True, "", ORG_CODE),
    (f"{ENTERPRISE[:2]} {ENTERPRISE[2:8]} {ENTERPRISE[8:]}", ENTERPRISE, "uscc", True, "",
     ORG_CODE),
    (f"统一社会信用代码：{ENTERPRISE}", ENTERPRISE, "uscc", True, "text_removed", ORG_CODE),
    (OLD_STYLE.replace("0", "O"), OLD_STYLE, "uscc", True, "corrected_confusable",
     OLD_STYLE[8:17]),
    (ORGAN, ORGAN, "uscc", True, "", ORGAN[8:17]),
    (format_org_code(ORG_CODE), ORG_CODE, "org_code", True, "", ORG_CODE),
    (format_org_code(ORG_CODE).lower(), ORG_CODE, "org_code", True, "", ORG_CODE),
    (f"组织机构代码 {format_org_code(OLD_STYLE[8:17])}", OLD_STYLE[8:17], "org_code", True,
     "text_removed", OLD_STYLE[8:17]),
    (REGISTRATION, REGISTRATION, "registration_number", True, "", None),
    (f"注册号:{REGISTRATION}", REGISTRATION, "registration_number", True, "text_removed",
     None),
    # Refused.
    (None, None, "", False, "empty", None),
    ("", None, "", False, "empty", None),
    (ENTERPRISE[:17] + ("0" if ENTERPRISE[17] != "0" else "1"), None, "uscc", False,
     "uscc_checksum", None),
    (ENTERPRISE[:17], None, "", False, "uscc_format", None),
    ("91440300MA5FGH2KI" + "!", None, "", False, "uscc_format", None),
    (ORG_CODE[:8] + "-" + ("0" if ORG_CODE[8] != "0" else "1"), None, "org_code", False,
     "org_code_checksum", None),
    (REGISTRATION[:14] + str((int(REGISTRATION[14]) + 1) % 10), None, "registration_number",
     False, "registration_checksum", None),
    ("无", None, "", False, "uscc_format", None),
]


@pytest.mark.parametrize(("raw", "value", "kind", "valid", "reason", "org_code"), CASES)
def test_standardise_credit_code__messy_input(raw, value, kind, valid, reason, org_code):
    result = standardise_credit_code(raw)
    assert (result.value, result.kind, result.valid, result.reason, result.org_code) == (
        value, kind, valid, reason, org_code)


def test_standardise_credit_code__links_a_uscc_to_its_legacy_organisation_code():
    new, old = standardise_credit_code(ENTERPRISE), standardise_credit_code(
        format_org_code(ORG_CODE))
    assert new.org_code == old.org_code == old.value
    assert new.region == "440300" and new.registrant == "enterprise"
    assert standardise_credit_code(ORGAN).registrant == "organ"


def test_registration_check_digit__known_number():
    # ISO 7064 MOD 11,10 worked by hand for 11010800000000 + check 4? Recompute instead:
    # every single-digit change of a valid number changes the check digit.
    for position in range(14):
        changed = (REGISTRATION[:position] + str((int(REGISTRATION[position]) + 1) % 10)
                   + REGISTRATION[position + 1:14])
        assert registration_check_digit(changed) != REGISTRATION[14]


def test_standardise_credit_codes__batch_equals_one_by_one():
    raws = [raw for raw, *_ in CASES] * 2
    table = standardise_credit_codes(raws)
    for raw, row in zip(raws, table.to_pylist(), strict=True):
        assert row == row_of(standardise_credit_code(raw))


@settings(max_examples=200, deadline=None)
@given(body=st.text(alphabet=USCC_CHARS, min_size=8, max_size=8),
       prefix=st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "53"]),
       position=st.integers(0, 17), shift=st.integers(1, 30))
def test_standardise_credit_codes__fast_path_agrees_and_one_typo_is_caught(
        body, prefix, position, shift):
    good = uscc(f"{prefix}440300{body}")
    changed = USCC_CHARS[(USCC_CHARS.index(good[position]) + shift) % 31]
    typo = good[:position] + changed + good[position + 1:]
    rows = standardise_credit_codes([good, typo]).to_pylist()
    assert rows[0] == row_of(standardise_credit_code(good)) and rows[0]["valid"]
    assert rows[1] == row_of(standardise_credit_code(typo))
    assert not rows[1]["valid"] or rows[1]["reason"] == "corrected_confusable"


def test_standardise_credit_codes__generated_noise_is_recovered_or_refused(sample):
    clean = sample.enterprises.column("credit_code").to_pylist()
    noisy, expected = noise.credit_codes(clean, np.random.default_rng(3))
    assert standardise_credit_codes(noisy).column("value").to_pylist() == expected
