"""Enterprise names: the registered name in one typography, and a key to compare names.

``value`` keeps what the name legally is (有限责任公司 stays 有限责任公司) and changes
only the typography: full-width brackets as the registration authority prints them,
no spaces, simplified characters. ``key`` is what two spellings of one enterprise have
in common: the trade name and industry without the place prefix (广东省 / 深圳市 /
深圳 / （深圳）), without the legal form (``legal_form`` keeps it: 有限公司 and
有限责任公司 are both ``limited``; 股份有限公司 and 股份公司 ``joint_stock``) and without
brackets. A branch (分公司, 分店, 营业部 …) is split off into ``branch`` and ``head``
names the head office, so a branch is compared with its head office by ``key``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from .base import EMPTY, Column, fold, run_batch
from .names import to_simplified

LIMITED, JOINT_STOCK, PARTNERSHIP, SOLE, COOPERATIVE, COMPANY, OTHER = (
    "limited", "joint_stock", "partnership", "sole_proprietorship", "cooperative",
    "company", "other")
# Longest first: the first that ends the name wins.
LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("合伙企业（有限合伙）", PARTNERSHIP), ("合伙企业（普通合伙）", PARTNERSHIP),
    ("股份有限责任公司", JOINT_STOCK), ("股份有限公司", JOINT_STOCK), ("股份公司", JOINT_STOCK),
    ("有限责任公司", LIMITED),
    ("有限公司", LIMITED), ("（有限合伙）", PARTNERSHIP), ("（普通合伙）", PARTNERSHIP),
    ("（特殊普通合伙）", PARTNERSHIP), ("合伙企业", PARTNERSHIP), ("个人独资企业", SOLE),
    ("农民专业合作社", COOPERATIVE), ("专业合作社", COOPERATIVE), ("合作社", COOPERATIVE),
    ("公司", COMPANY),
)
BRANCH_WORDS = ("分公司", "分店", "营业部", "办事处", "分厂", "门市部", "经营部", "分部",
                "分所", "支行", "分行", "服务部", "分中心")
PLACE_PREFIXES = ("广东省深圳市", "广东深圳市", "广东深圳", "深圳市", "深圳", "广东省", "广东")
BRACKET_PLACES = ("（深圳）", "（广东）", "（中国）", "（香港）", "（澳门）")

_BRACKETS = str.maketrans({"(": "（", ")": "）", "[": "（", "]": "）", "【": "（", "】": "）",
                           "〔": "（", "〕": "）"})
_DROP = re.compile(r"[\s\"'“”‘’《》<>·.,，、]")
# 公司 inside 分公司 is not a legal form.
_LEGAL = re.compile("(?<!分)(" + "|".join(re.escape(f) for f, _ in LEGAL_FORMS) + ")")
_FORM_KIND = dict(LEGAL_FORMS)
# A legal form ending the name (and not all of it), a place prefix, a place in brackets.
_LEGAL_END = re.compile("(?<=.)(?:" + "|".join(re.escape(f) for f, _ in LEGAL_FORMS) + ")$")
_PLACE_HEAD = re.compile("^(?:" + "|".join(map(re.escape, PLACE_PREFIXES)) + ")")
_BRACKET_PLACE = re.compile("|".join(map(re.escape, BRACKET_PLACES)))
_LETTER = re.compile(r"[^\W\d_]")
_DISTRICT = re.compile(r"^[\u4e00-\u9fff]{2,3}区(?=[\u4e00-\u9fff]{2})")
_LATIN_FORMS = re.compile(r"\b(CO|COMPANY|LTD|LIMITED|INC|CORP|CORPORATION|LLC|GROUP)\b")
_BRANCH = re.compile(r"^（?(.{0,20}?(?:" + "|".join(BRANCH_WORDS) + r"))）?$")
_PLACEHOLDERS = frozenset({"无", "个人", "测试", "不详", "未知", "暂无", "NULL", "NONE", "TEST",
                           "-", "/"})
SPACES_REMOVED, TRADITIONAL = "spaces_removed", "traditional"


@dataclass(frozen=True, slots=True)
class EnterpriseNameResult:
    value: str | None
    kind: str  # the legal form: limited, joint_stock, partnership …
    valid: bool
    reason: str
    key: str = ""  # comparison key of the head office name
    head: str = ""  # the head office's name (the whole name when not a branch)
    branch: str = ""  # 南山分公司, 深南大道营业部 … ("" when not a branch)


def _invalid(reason: str) -> EnterpriseNameResult:
    return EnterpriseNameResult(None, "", False, reason)


def _split(name: str) -> tuple[str, str, str]:
    """(head office name, legal form, branch part)."""
    for match in reversed(list(_LEGAL.finditer(name))):
        tail = name[match.end():]
        if not tail:
            return name, _FORM_KIND[match.group(1)], ""
        branch = _BRANCH.match(tail)
        if branch:
            return name[:match.end()], _FORM_KIND[match.group(1)], branch.group(1)
    return name, OTHER, ""


def comparison_key(head: str) -> str:
    """``深圳市华创科技有限公司`` and ``华创科技（深圳）有限责任公司`` → ``华创科技``."""
    key = _LEGAL_END.sub("", head)
    match = _PLACE_HEAD.match(key)
    if match and len(key) > match.end() + 1:
        key = _DISTRICT.sub("", key[match.end():])  # 深圳市南山区华创 → 华创
    return _BRACKET_PLACE.sub("", key).replace("（", "").replace("）", "")


def standardise_enterprise_name(raw: str | None) -> EnterpriseNameResult:
    """The registered name in canonical typography, its legal form, key and branch."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    text = fold(str(raw))
    if text.isascii():
        return _latin(text)
    notes = []
    if " " in text.strip():
        notes.append(SPACES_REMOVED)
    text = _DROP.sub("", text).translate(_BRACKETS)
    simplified = to_simplified(text)
    if simplified != text:
        text = simplified
        notes.append(TRADITIONAL)
    text = text.replace("（）", "")
    if text.upper() in _PLACEHOLDERS:
        return _invalid("enterprise_placeholder")
    if text.isdigit():
        return _invalid("enterprise_digits")
    if len(text) < 2:
        return _invalid("enterprise_too_short")
    if len(text) > 100:
        return _invalid("enterprise_too_long")
    if not _LETTER.search(text):
        return _invalid("enterprise_characters")
    head, form, branch = _split(text)
    return EnterpriseNameResult(text, form, True, "+".join(notes), comparison_key(head),
                                head, branch)


def _latin(text: str) -> EnterpriseNameResult:
    """``Huawei Technologies Co., Ltd.`` → ``HUAWEI TECHNOLOGIES CO LTD``; key without the
    legal form and spaces (``HUAWEITECHNOLOGIES``)."""
    value = " ".join(re.sub(r"[^A-Z0-9&()\- ]", " ", text.upper()).split())
    if not any(c.isalpha() for c in value):
        return _invalid("enterprise_digits" if value.replace(" ", "").isdigit()
                        else "enterprise_characters")
    if value in _PLACEHOLDERS:
        return _invalid("enterprise_placeholder")
    key = _LATIN_FORMS.sub("", value).replace(" ", "")
    form = LIMITED if re.search(r"\b(LTD|LIMITED|LLC)\b", value) else OTHER
    return EnterpriseNameResult(value, form, True, "", key or value.replace(" ", ""), value, "")


def standardise_enterprise_names(values: Column) -> pa.Table:
    """:func:`standardise_enterprise_name` over a column (list or pyarrow array)."""
    return run_batch(values, rule=standardise_enterprise_name,
                     cls=EnterpriseNameResult, types={"value": pa.string()})
