"""Messy variants of the generator's clean columns, the way department records spell them.

Each function takes clean values (as the demo generator writes them) and a random
generator and returns ``(noisy, expected)``: the values to standardise and, row by row,
what standardisation must give back (``None`` where the noise destroyed the value, which
must then come back invalid). Tests use them as a property ("every recoverable row is
recovered, every broken row is refused"), the benchmark as its data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from yiwang.core.generator.population import _chinese_number

from .standardise.names import to_simplified

Noisy = tuple[list[str | None], list[str | None]]
_FULL = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def full_width(text: str) -> str:
    return text.translate(_FULL)


def _pick(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


T = TypeVar("T")


def _apply(values: Sequence[T], rng: np.random.Generator,
           variants: Sequence[tuple[float, Callable[[T], tuple[str | None, str | None]]]]
           ) -> Noisy:
    choice = _pick(rng, len(values), [share for share, _ in variants])
    noisy: list[str | None] = []
    expected: list[str | None] = []
    for value, k in zip(values, choice.tolist(), strict=True):
        out, want = variants[k][1](value)
        noisy.append(out)
        expected.append(want)
    return noisy, expected


def id_numbers(values: Sequence[str], rng: np.random.Generator) -> Noisy:
    def legacy(v: str) -> tuple[str, str]:
        # A 15-digit number exists only for people born in the 1900s.
        return (v[:6] + v[8:17], v) if v[6:8] == "19" else (v, v)

    def wrong_check(v: str) -> tuple[str, None]:
        check = "0123456789X"[("0123456789X".index(v[17]) + 1) % 11]
        return v[:17] + check, None

    return _apply(values, rng, [
        (0.45, lambda v: (v, v)),
        (0.08, lambda v: (v.lower(), v)),
        (0.08, lambda v: (full_width(v), v)),
        (0.08, lambda v: (" ".join([v[:6], v[6:14], v[14:]]), v)),
        (0.06, legacy),
        (0.05, lambda v: (f"身份证号：{v}", v)),
        (0.05, lambda v: (f"'{v}", v)),
        (0.05, lambda v: (v[:6] + "-" + v[6:], v)),
        (0.05, wrong_check),
        (0.03, lambda v: (f"{int(v[:15]) / 1e14:.5f}E+17", None)),
        (0.02, lambda v: (v[:17], None)),
    ])


def credit_codes(values: Sequence[str], rng: np.random.Generator) -> Noisy:
    def confusable(v: str) -> tuple[str, str]:
        return (v.replace("0", "O", 1), v) if "0" in v[2:] else (v, v)

    def wrong_check(v: str) -> tuple[str, None]:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return v[:17] + alphabet[(alphabet.index(v[17]) + 1) % 31], None

    return _apply(values, rng, [
        (0.55, lambda v: (v, v)),
        (0.1, lambda v: (v.lower(), v)),
        (0.08, lambda v: (f"{v[:2]} {v[2:8]} {v[8:17]} {v[17]}", v)),
        (0.07, lambda v: (f"统一社会信用代码：{v}", v)),
        (0.05, lambda v: (full_width(v), v)),
        (0.08, confusable),
        (0.07, wrong_check),
    ])


def phones(mobiles: Sequence[str], landlines: Sequence[str],
           rng: np.random.Generator) -> Noisy:
    """Mobile numbers with +86, spaces, labels; a landline beside some of them."""
    other = iter(landlines)

    def two(v: str) -> tuple[str, str]:
        return f"{v}/{next(other)}", v

    def landline(v: str) -> tuple[str, str]:
        number = next(other)
        area, local = number.split("-")
        return f"({area}){local[:4]} {local[4:]}转{len(v) % 90 + 10}", \
            f"{number}-{len(v) % 90 + 10}"

    return _apply(mobiles, rng, [
        (0.5, lambda v: (v, v)),
        (0.1, lambda v: (f"+86 {v}", v)),
        (0.08, lambda v: (f"{v[:3]} {v[3:7]} {v[7:]}", v)),
        (0.07, lambda v: (f"{v[:3]}-{v[3:7]}-{v[7:]}", v)),
        (0.05, lambda v: (f"手机：{full_width(v)}", v)),
        (0.08, two),
        (0.07, landline),
        (0.05, lambda v: (v[:10], None)),
    ])


def names(values: Sequence[str], rng: np.random.Generator) -> Noisy:
    import opencc

    s2t = opencc.OpenCC("s2t")

    def traditional(v: str) -> tuple[str, str]:
        t = s2t.convert(v)
        # 于 → 於 is also a surname of its own; such names stay as written.
        return (t, v) if to_simplified(t) == v else (v, v)

    return _apply(values, rng, [
        (0.6, lambda v: (v, v)),
        (0.12, lambda v: (" ".join(v), v)),
        (0.1, traditional),
        (0.06, lambda v: (f" {v}　", v)),
        (0.05, lambda v: (f"{v}（户主）", v)),
        (0.04, lambda v: ("不详", None)),
        (0.03, lambda v: (f"{v}1", None)),
    ])


_CN_DIGITS = "〇一二三四五六七八九"


def _chinese_date(day: dt.date) -> str:
    year = "".join(_CN_DIGITS[int(c)] for c in str(day.year))
    return f"{year}年{_chinese_number(day.month)}月{_chinese_number(day.day)}日"


def dates(values: Sequence[dt.date], rng: np.random.Generator, *,
          as_of: dt.date) -> Noisy:
    def two_digit(day: dt.date) -> tuple[str, str]:
        if day.year <= as_of.year - 100:  # would read as this century
            return day.isoformat(), day.isoformat()
        return f"{day.year % 100:02d}-{day.month}-{day.day}", day.isoformat()

    def day_first(day: dt.date) -> tuple[str, str]:
        if day.day <= 12:  # only unambiguous day-first dates
            return day.isoformat(), day.isoformat()
        return f"{day.day:02d}/{day.month:02d}/{day.year}", day.isoformat()

    def excel(day: dt.date) -> tuple[str, str]:
        serial = (day - dt.date(1899, 12, 30)).days
        return (str(serial), day.isoformat()) if 10_000 <= serial <= 80_000 else \
            (day.isoformat(), day.isoformat())

    variants: list[tuple[float, Callable[[dt.date], tuple[str | None, str | None]]]] = [
        (0.3, lambda d: (d.isoformat(), d.isoformat())),
        (0.1, lambda d: (f"{d.year}/{d.month}/{d.day}", d.isoformat())),
        (0.1, lambda d: (d.strftime("%Y%m%d"), d.isoformat())),
        (0.1, lambda d: (f"{d.year}年{d.month}月{d.day}日", d.isoformat())),
        (0.06, lambda d: (d.strftime("%Y.%m.%d"), d.isoformat())),
        (0.05, lambda d: (_chinese_date(d), d.isoformat())),
        (0.06, lambda d: (f"{d.month}/{d.day}/{d.year}", d.isoformat())),
        (0.05, day_first),
        (0.05, two_digit),
        (0.04, excel),
        (0.05, lambda d: (f"{d.isoformat()} 00:00:00", d.isoformat())),
        (0.02, lambda d: (f"{d.year}-{d.month:02d}-32", None)),
        (0.02, lambda d: ("不详", None)),
    ]
    return _apply(values, rng, variants)


def enterprise_names(values: Sequence[str], rng: np.random.Generator) -> Noisy:
    """Expected is the name itself: every variant must give the clean name's key."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    return _apply(values, rng, [
        (0.5, lambda v: (v, v)),
        (0.1, lambda v: (v.replace("（", "(").replace("）", ")"), v)),
        (0.1, lambda v: (v.replace("有限公司", "有限责任公司"), v)),
        (0.08, lambda v: (v.removeprefix("深圳市"), v)),
        (0.05, lambda v: (v.replace("深圳市", "广东省深圳市", 1), v)),
        (0.07, lambda v: (f"{v}示范分公司", v)),
        (0.05, lambda v: (" ".join([v[:3], v[3:]]), v)),
        (0.05, lambda v: (s2t.convert(v), v)),
    ])


def addresses(values: Sequence[str], rng: np.random.Generator, *,
              district: str, streets: Sequence[str]) -> Noisy:
    """Person or enterprise addresses of the generator; expected is the clean address."""
    head = "广东省深圳市" + district

    def drop_street(v: str) -> str:
        for street in streets:
            if street in v:
                return v.replace(street, "", 1)
        return v

    def numerals(v: str) -> str:
        i = v.rfind("栋")
        j = i
        while j > 0 and v[j - 1].isdigit():
            j -= 1
        return v[:j] + _chinese_number(int(v[j:i])) + v[i:] if 0 < j < i else v

    return _apply(values, rng, [
        (0.35, lambda v: (v, v)),
        (0.12, lambda v: (v.removeprefix("广东省"), v)),
        (0.12, lambda v: (v.removeprefix(head), v)),
        (0.08, lambda v: (drop_street(v.removeprefix(head)), v)),
        (0.07, lambda v: (full_width(v), v)),
        (0.07, lambda v: (numerals(v), v)),
        (0.05, lambda v: (v.replace("栋", "号楼"), v)),
        (0.05, lambda v: (v.removesuffix("室") + "房", v)),
        (0.04, lambda v: (v.replace("社区", "社区居委会") + "附近", v)),
        (0.03, lambda v: (v.replace("街道", "街道办"), v)),
        (0.02, lambda v: ("深圳市南山区科技园" + v[-6:], None)),
    ])
