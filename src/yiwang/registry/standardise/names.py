"""Person names: one written form per name, plus surname and a pinyin key for blocking.

Clean-up: full-width letters folded (NFKC), spaces inside a Chinese name removed
(``张 三``), the many middle dots of transliterated minority and foreign names
(``买买提.艾力``, ``•``, ``・``, ``．``) unified to U+00B7 as on the ID card, traditional
characters converted to simplified with OpenCC ``t2s`` (except a few characters that are
also standard simplified name characters and that ``t2s`` would merge away: 乾, 於, 昇),
notes in brackets dropped (``张三（已故）``). Latin-script names are upper-cased with
single spaces.

The ``pinyin_key`` (``zhangsan``; tone-less, ``ü`` as ``v``) is for blocking in entity
resolution: 陈 and 程 never share a block, 张三 and 張三 always do. Polyphonic surnames
are read as surnames (单 shan, 曾 zeng, 解 xie, 区 ou, 仇 qiu …).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pypinyin import lazy_pinyin

from .base import EMPTY, Column, fold, run_batch

CHINESE, TRANSLITERATED, LATIN = "chinese", "transliterated", "latin"
DOT = "·"
# Notes on a valid name (joined with "+" when several apply).
SPACES_REMOVED, DOT_UNIFIED, TRADITIONAL, TEXT_REMOVED = (
    "spaces_removed", "dot_unified", "traditional", "text_removed")

_DOTS = re.compile(r"[.•・‧∙⋅ˑ·\-－]+")
_BRACKETS = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]")
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
_CHINESE_NAME = re.compile(f"^[{_HAN}]+(?:·[{_HAN}]+)*$")
_LATIN_NAME = re.compile(r"^[A-Z]+(?:['.\- ][A-Z]+)*$")
_PLACEHOLDERS = frozenset({
    "无", "不详", "未知", "测试", "某某", "某人", "匿名", "暂无", "待定", "本人", "先生", "女士",
    "TEST", "XXX", "NULL", "NONE", "N/A", "NA", "UNKNOWN", "-", "--", "/", "?", "？",
})
_KEEP = frozenset("乾於昇")  # standard simplified name characters that t2s would change
_SEPARATOR = "\ue000"  # a private-use character: no phrase of OpenCC's contains it
_KEEP_RE = re.compile(f"[{''.join(_KEEP)}]")
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司徒", "上官", "诸葛", "司马", "东方", "皇甫", "尉迟", "公孙", "慕容",
    "夏侯", "长孙", "宇文", "轩辕", "令狐", "钟离", "端木", "申屠", "万俟", "单于",
    "澹台", "濮阳", "南宫", "西门", "闻人", "赫连", "呼延", "太史", "独孤", "公羊",
    "百里", "东郭", "第五",
))
# Surname readings where the character's most common reading is another one.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "缪": "miao", "繁": "po", "覃": "qin", "员": "yun", "召": "shao",
    "秘": "bi", "翟": "zhai", "能": "nai", "句": "gou", "种": "chong", "重": "chong",
    "华": "hua", "宿": "su", "燕": "yan", "柏": "bai", "隗": "wei", "尉迟": "yuchi",
    "万俟": "moqi", "单于": "chanyu", "长孙": "zhangsun", "澹台": "tantai", "长": "chang",
    "沈": "shen", "薄": "bo", "纪": "ji", "车": "che", "都": "du", "过": "guo", "藏": "zang",
}


@dataclass(frozen=True, slots=True)
class NameResult:
    value: str | None
    kind: str
    valid: bool
    reason: str
    surname: str = ""
    given: str = ""
    pinyin_key: str = ""


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC ``t2s`` character by character, keeping the name characters it would
    wrongly merge."""
    # Character by character: names and places are not phrases, and the phrase table
    # would turn the surname in 沈思丹 into 沉 (沈思 is the traditional form of 沉思).
    converted: str = _t2s().convert(_SEPARATOR.join(text)).replace(_SEPARATOR, "")
    if converted == text or len(converted) != len(text) or not _KEEP_RE.search(text):
        return converted
    return "".join(o if o in _KEEP else c for o, c in zip(text, converted, strict=True))


@functools.cache
def _syllable(char: str) -> str:
    if not _HAN_RE.match(char):
        return char.lower() if char.isascii() and char.isalpha() else ""
    return lazy_pinyin(char)[0].replace("ü", "v")


def pinyin_key(name: str, *, surname: str = "") -> str:
    """``张三`` → ``zhangsan``, ``单田芳`` → ``shantianfang``."""
    head = SURNAME_READINGS.get(surname, "") if surname else ""
    rest = name[len(surname):] if head else name
    return head + "".join(_syllable(c) for c in rest)


def split_surname(name: str) -> tuple[str, str]:
    if DOT in name or len(name) < 2:
        return "", name  # transliterated names have no surname in the Chinese sense
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[0]
    return surname, name[len(surname):]


def _invalid(reason: str) -> NameResult:
    return NameResult(None, "", False, reason)


def standardise_name(raw: str | None) -> NameResult:
    """A person's name in one written form, with surname, given name and pinyin key."""
    if raw is None or not str(raw).strip():
        return _invalid(EMPTY)
    text = fold(str(raw))
    notes: list[str] = []
    without = _BRACKETS.sub("", text).strip()
    if without != text and without:
        text = without
        notes.append(TEXT_REMOVED)
    if text.upper() in _PLACEHOLDERS:
        return _invalid("name_placeholder")
    if any(c.isdigit() for c in text):
        return _invalid("name_digits")
    if _HAN_RE.search(text):
        if " " in text:
            text = text.replace(" ", "")
            notes.append(SPACES_REMOVED)
        dotted = _DOTS.sub(DOT, text).strip(DOT)
        if dotted != text:
            text = dotted
            notes.append(DOT_UNIFIED)
        simplified = to_simplified(text)
        if simplified != text:
            text = simplified
            notes.append(TRADITIONAL)
        if not _CHINESE_NAME.match(text):
            return _invalid("name_characters")
        if len(text) < 2:
            return _invalid("name_too_short")
        if len(text) > 30:
            return _invalid("name_too_long")
        surname, given = split_surname(text)
        kind = TRANSLITERATED if DOT in text else CHINESE
        return NameResult(text, kind, True, "+".join(notes), surname, given,
                          pinyin_key(text, surname=surname))
    latin = unicodedata.normalize("NFKD", text.upper())
    latin = "".join(c for c in latin if not unicodedata.combining(c)).replace(",", " ")
    latin = " ".join(latin.split())
    if not _LATIN_NAME.match(latin):
        return _invalid("name_characters")
    if len(latin) > 80:
        return _invalid("name_too_long")
    return NameResult(latin, LATIN, True, "+".join(notes), "", latin,
                      re.sub(r"[^a-z]", "", latin.lower()))


def standardise_names(values: Column) -> pa.Table:
    """:func:`standardise_name` over a column; each distinct name is worked out once."""
    return run_batch(values, rule=standardise_name, cls=NameResult,
                     types={"value": pa.string()})
