"""Enterprise names: canonical typography, legal form, branch, and a comparison key."""

from __future__ import annotations

import numpy as np
import pytest

from yiwang.registry import noise
from yiwang.registry.standardise.enterprise import (
    standardise_enterprise_name,
    standardise_enterprise_names,
)

from .conftest import row_of

CASES = [
    # raw, value, kind, key, branch
    ("深圳市华创科技有限公司", "深圳市华创科技有限公司", "limited", "华创科技", ""),
    ("深圳市华创科技有限责任公司", "深圳市华创科技有限责任公司", "limited", "华创科技", ""),
    ("华创科技（深圳）有限公司", "华创科技（深圳）有限公司", "limited", "华创科技", ""),
    ("华创科技(深圳)有限公司", "华创科技（深圳）有限公司", "limited", "华创科技", ""),
    ("华创科技【深圳】有限公司", "华创科技（深圳）有限公司", "limited", "华创科技", ""),
    ("深圳 华创科技 有限公司", "深圳华创科技有限公司", "limited", "华创科技", ""),
    ("深圳华创科技有限公司", "深圳华创科技有限公司", "limited", "华创科技", ""),
    ("广东省深圳市华创科技有限公司", "广东省深圳市华创科技有限公司", "limited", "华创科技", ""),
    ("深圳市南山区华创科技有限公司", "深圳市南山区华创科技有限公司", "limited", "华创科技", ""),
    ("深圳市華創科技有限公司", "深圳市华创科技有限公司", "limited", "华创科技", ""),
    ("ＡＢＣ科技（深圳）有限公司", "ABC科技（深圳）有限公司", "limited", "ABC科技", ""),
    ("“深圳市华创科技有限公司”", "深圳市华创科技有限公司", "limited", "华创科技", ""),
    ("深圳市华创科技股份有限公司", "深圳市华创科技股份有限公司", "joint_stock", "华创科技", ""),
    ("华创科技股份公司", "华创科技股份公司", "joint_stock", "华创科技", ""),
    # Branches: compared with the head office by key.
    ("深圳市华创科技有限公司南山分公司", "深圳市华创科技有限公司南山分公司", "limited",
     "华创科技", "南山分公司"),
    ("深圳市华创科技有限公司(南山分公司)", "深圳市华创科技有限公司（南山分公司）", "limited",
     "华创科技", "南山分公司"),
    ("平安证券股份有限公司深圳深南大道营业部", "平安证券股份有限公司深圳深南大道营业部",
     "joint_stock", "平安证券", "深圳深南大道营业部"),
    ("深圳市华创餐饮管理有限公司福海分店", "深圳市华创餐饮管理有限公司福海分店", "limited",
     "华创餐饮管理", "福海分店"),
    ("深圳华创投资合伙企业（有限合伙）", "深圳华创投资合伙企业（有限合伙）", "partnership",
     "华创投资", ""),
    ("深圳市示范区张三便利店", "深圳市示范区张三便利店", "other", "张三便利店", ""),
    ("Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES CO LTD", "limited",
     "HUAWEITECHNOLOGIES", ""),
]

INVALID = [(None, "empty"), ("", "empty"), ("无", "enterprise_placeholder"),
           ("个人", "enterprise_placeholder"), ("12345", "enterprise_digits"),
           ("深", "enterprise_too_short"), ("……", "enterprise_characters")]


@pytest.mark.parametrize(("raw", "value", "kind", "key", "branch"), CASES)
def test_standardise_enterprise_name__messy_input(raw, value, kind, key, branch):
    result = standardise_enterprise_name(raw)
    assert (result.value, result.kind, result.valid, result.key, result.branch) == (
        value, kind, True, key, branch)
    assert result.value.startswith(result.head)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_standardise_enterprise_name__refused(raw, reason):
    result = standardise_enterprise_name(raw)
    assert (result.value, result.valid, result.reason) == (None, False, reason)


def test_standardise_enterprise_name__different_companies_keep_different_keys():
    keys = {standardise_enterprise_name(n).key for n in (
        "深圳市华创科技有限公司", "深圳市华创电子有限公司", "深圳市华创科技发展有限公司")}
    assert len(keys) == 3


def test_standardise_enterprise_names__batch_equals_one_by_one():
    raws = [c[0] for c in CASES] + [c[0] for c in INVALID]
    for raw, row in zip(raws, standardise_enterprise_names(raws).to_pylist(), strict=True):
        assert row == row_of(standardise_enterprise_name(raw))


def test_standardise_enterprise_names__noisy_variants_keep_the_key(sample):
    clean = sample.enterprises.column("name").to_pylist()
    noisy, expected = noise.enterprise_names(clean, np.random.default_rng(17))
    got = standardise_enterprise_names(noisy).column("key").to_pylist()
    want = standardise_enterprise_names(expected).column("key").to_pylist()
    assert got == want
    assert len(set(want)) == len(set(clean))  # the key never merges two generated companies
