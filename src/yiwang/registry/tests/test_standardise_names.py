"""Person names: spaces, full-width, traditional characters, middle dots, pinyin keys."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.registry import noise
from yiwang.registry.standardise.names import standardise_name, standardise_names

from .conftest import row_of

CASES = [
    # raw, value, kind, reason, surname, pinyin_key
    ("张三", "张三", "chinese", "", "张", "zhangsan"),
    (" 张 三 ", "张三", "chinese", "spaces_removed", "张", "zhangsan"),
    ("张　三", "张三", "chinese", "spaces_removed", "张", "zhangsan"),
    ("張三豐", "张三丰", "chinese", "traditional", "张", "zhangsanfeng"),
    ("陳 大 文", "陈大文", "chinese", "spaces_removed+traditional", "陈", "chendawen"),
    ("欧阳娜娜", "欧阳娜娜", "chinese", "", "欧阳", "ouyangnana"),
    ("歐陽娜娜", "欧阳娜娜", "chinese", "traditional", "欧阳", "ouyangnana"),
    ("司马光", "司马光", "chinese", "", "司马", "simaguang"),
    # Polyphonic surnames read as surnames.
    ("单田芳", "单田芳", "chinese", "", "单", "shantianfang"),
    ("曾志伟", "曾志伟", "chinese", "", "曾", "zengzhiwei"),
    ("区志成", "区志成", "chinese", "", "区", "ouzhicheng"),
    ("解缙", "解缙", "chinese", "", "解", "xiejin"),
    ("吕布", "吕布", "chinese", "", "吕", "lvbu"),
    # Characters t2s would merge that are names of their own.
    ("乾隆", "乾隆", "chinese", "", "乾", "qianlong"),
    ("於明", "於明", "chinese", "", "於", "yuming"),
    ("李昇", "李昇", "chinese", "", "李", "lisheng"),
    # A name is not a phrase: 沈思 is the traditional spelling of 沉思, 沈思丹 a name.
    ("沈思丹", "沈思丹", "chinese", "", "沈", "shensidan"),
    ("瀋思丹", "沈思丹", "chinese", "traditional", "沈", "shensidan"),
    # Middle dots of transliterated names.
    ("买买提·艾力", "买买提·艾力", "transliterated", "", "", "maimaitiaili"),
    ("买买提.艾力", "买买提·艾力", "transliterated", "dot_unified", "", "maimaitiaili"),
    ("买买提•艾力", "买买提·艾力", "transliterated", "dot_unified", "", "maimaitiaili"),
    ("买买提・艾力", "买买提·艾力", "transliterated", "dot_unified", "", "maimaitiaili"),
    ("买买提．艾力", "买买提·艾力", "transliterated", "dot_unified", "", "maimaitiaili"),
    ("买买提 · 艾力", "买买提·艾力", "transliterated", "spaces_removed", "", "maimaitiaili"),
    ("买买提 . 艾力", "买买提·艾力", "transliterated", "spaces_removed+dot_unified", "",
     "maimaitiaili"),
    ("阿依古丽··买买提", "阿依古丽·买买提", "transliterated", "dot_unified", "",
     "ayigulimaimaiti"),
    ("张三（户主）", "张三", "chinese", "text_removed", "张", "zhangsan"),
    # Latin-script names.
    ("ＺＨＡＮＧ　Ｓａｎ", "ZHANG SAN", "latin", "", "", "zhangsan"),
    ("Smith,  John", "SMITH JOHN", "latin", "", "", "smithjohn"),
    ("José García", "JOSE GARCIA", "latin", "", "", "josegarcia"),
    ("O'Brien", "O'BRIEN", "latin", "", "", "obrien"),
]

INVALID = [
    (None, "empty"), ("", "empty"), ("  ", "empty"), ("无", "name_placeholder"),
    ("不详", "name_placeholder"), ("测试", "name_placeholder"), ("NULL", "name_placeholder"),
    ("张三1", "name_digits"), ("13800138000", "name_digits"), ("张", "name_too_short"),
    ("李@四", "name_characters"), ("张三 Smith", "name_characters"),
]


@pytest.mark.parametrize(("raw", "value", "kind", "reason", "surname", "key"), CASES)
def test_standardise_name__messy_input(raw, value, kind, reason, surname, key):
    result = standardise_name(raw)
    assert (result.value, result.kind, result.valid, result.reason, result.surname,
            result.pinyin_key) == (value, kind, True, reason, surname, key)
    assert result.surname + result.given == result.value or not result.surname


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_standardise_name__refused(raw, reason):
    result = standardise_name(raw)
    assert (result.value, result.valid, result.reason) == (None, False, reason)


def test_standardise_name__homophones_share_a_blocking_key_but_not_a_value():
    a, b = standardise_name("陈晓明"), standardise_name("陈小明")
    assert a.pinyin_key == b.pinyin_key and a.value != b.value
    assert standardise_name("程晓明").pinyin_key != a.pinyin_key


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="张王李赵陈刘杨黄吴周徐孙马朱胡郭何林罗高伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超",
               min_size=2, max_size=4), st.sampled_from([" ", "　", "\t"]))
def test_standardise_name__spacing_never_changes_the_name(name, space):
    spaced = space.join(name)
    assert standardise_name(spaced).value == standardise_name(name).value == name


def test_standardise_names__batch_equals_one_by_one():
    raws = [c[0] for c in CASES] + [c[0] for c in INVALID]
    for raw, row in zip(raws, standardise_names(raws).to_pylist(), strict=True):
        assert row == row_of(standardise_name(raw))


def test_standardise_names__generated_noise_is_recovered_or_refused(sample):
    clean = sample.persons.column("name").to_pylist()
    noisy, expected = noise.names(clean, np.random.default_rng(11))
    assert standardise_names(noisy).column("value").to_pylist() == expected
