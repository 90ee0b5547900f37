"""Charts as server-rendered inline SVG: no chart library, no script (CSP forbids inline
script and style attributes, so every look is a class in ``services/insight/insight.css``).

Geometry uses percentages across and ``em`` down, so a chart fills any width (390 px
phones included) and its text grows with the page's large-text mode (长辈模式) instead of
shrinking with a scaled ``viewBox``. Every chart is ``role="img"`` with a ``<title>`` and a
``<desc>``, and carries its data as rows for the table shown beneath it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

LABEL_CHARS = 22     # longer category labels are cut (the table beneath has them whole)
BAR_ROW_EM = 2.7     # one bar: its label line, then the bar
BAR_SPAN = 78.0      # % of the width the longest bar takes; the rest holds its value
PLOT_LEFT, PLOT_RIGHT = 13.0, 97.0  # % of the width: the line chart's plot area
PLOT_TOP, PLOT_HEIGHT = 1.2, 10.0   # em


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None   # None: no figure (nothing to divide by); drawn as a gap
    text: str             # the value as people read it: "72.3%", "1,204"
    note: str = ""        # e.g. "n=31", shown after the label and in the table


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]


@dataclass
class Chart:
    id: str
    title: str
    description: str
    svg: SafeString
    columns: list[str]
    rows: list[list[str]]
    legend: list[tuple[int, str]] = field(default_factory=list)  # (series index, name)


def _joined(parts: list[str]) -> SafeString:
    # Every part comes from format_html, which escaped each value put into it.
    return mark_safe("".join(parts))  # noqa: S308


def _cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (axis maxima)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _open(chart_id: str, title: str, description: str, kind: str, height_em: float) -> str:
    return format_html(
        '<svg class="yw-chart yw-chart--{}" role="img" aria-labelledby="{}-title {}-desc" '
        'width="100%" height="{}em" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        kind, chart_id, chart_id, _num(height_em), chart_id, title, chart_id, description)


def bar_chart(*, id: str, title: str, description: str, category: str, series: Series,
              max_value: float | None = None) -> Chart:
    """Horizontal bars, one per point, each under its label (readable on a phone)."""
    points = list(series.points)
    top = max_value or nice_ceiling(max((p.value or 0) for p in points) if points else 0)
    parts = [_open(id, title, description, "bar", max(1, len(points)) * BAR_ROW_EM + 0.4)]
    for i, point in enumerate(points):
        y = i * BAR_ROW_EM
        share = min(1.0, max(0.0, (point.value or 0) / top)) if top else 0.0
        width = share * BAR_SPAN
        parts.append(format_html(
            '<text class="yw-chart__label" x="0" y="{}em">{}{}</text>',
            _num(y + 1.0), _cut(point.label),
            format_html('<tspan class="yw-chart__note"> {}</tspan>', point.note)
            if point.note else ""))
        parts.append(format_html(
            '<rect class="yw-chart__track" x="0" y="{}em" width="{}%" height="1em"/>',
            _num(y + 1.35), _num(BAR_SPAN)))
        if point.value is not None and width > 0:
            parts.append(format_html(
                '<rect class="yw-chart__bar" x="0" y="{}em" width="{}%" height="1em"/>',
                _num(y + 1.35), _num(width)))
        parts.append(format_html(
            '<text class="yw-chart__value" x="{}%" y="{}em">{}</text>',
            _num(width + 1.2), _num(y + 2.15), point.text))
    parts.append("</svg>")
    noted = any(p.note for p in points)
    rows = [[p.label, p.text, *([p.note] if noted else [])] for p in points]
    columns = [category, series.name, *(["n"] if noted else [])]
    return Chart(id=id, title=title, description=description, svg=_joined(parts),
                 columns=columns, rows=rows)


def line_chart(*, id: str, title: str, description: str, category: str,
               series: Sequence[Series], max_value: float | None = None,
               tick_format: str = "{:g}") -> Chart:
    """One line per series over shared categories (months); gaps where a value is None.

    Series differ in colour, dash pattern and marker (filled / hollow), not colour alone.
    """
    labels = [p.label for p in series[0].points] if series else []
    values = [p.value for s in series for p in s.points if p.value is not None]
    top = max_value or nice_ceiling(max(values) if values else 0)
    count = len(labels)
    bottom = PLOT_TOP + PLOT_HEIGHT
    parts = [_open(id, title, description, "line", bottom + 2.4)]

    def x_at(index: int) -> float:
        if count <= 1:
            return (PLOT_LEFT + PLOT_RIGHT) / 2
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * index / (count - 1)

    def y_at(value: float) -> float:
        return bottom - PLOT_HEIGHT * min(1.0, max(0.0, value / top))

    for step in range(5):  # grid lines and y ticks at 0, ¼, ½, ¾, 1 of the axis
        tick = top * step / 4
        y = y_at(tick)
        parts.append(format_html(
            '<line class="yw-chart__grid" x1="{}%" x2="{}%" y1="{}em" y2="{}em"/>'
            '<text class="yw-chart__tick" x="{}%" y="{}em" text-anchor="end">{}</text>',
            _num(PLOT_LEFT), _num(PLOT_RIGHT), _num(y), _num(y), _num(PLOT_LEFT - 1.5),
            _num(y + 0.35), tick_format.format(tick)))
    for index, label in enumerate(labels):
        # The outermost labels lean inwards, so they stay inside the chart.
        anchor = "middle" if count == 1 or 0 < index < count - 1 else \
            "start" if index == 0 else "end"
        parts.append(format_html(
            '<text class="yw-chart__tick yw-chart__xtick{}" x="{}%" y="{}em" '
            'text-anchor="{}">{}</text>',
            " yw-chart__xtick--odd" if index % 2 and index < count - 1 else "",
            _num(x_at(index)), _num(bottom + 1.4), anchor, label))
    for number, one in enumerate(series, start=1):
        points = list(one.points)
        for index in range(1, len(points)):
            a, b = points[index - 1].value, points[index].value
            if a is None or b is None:
                continue
            parts.append(format_html(
                '<line class="yw-chart__line yw-chart__s{}" x1="{}%" y1="{}em" x2="{}%" '
                'y2="{}em"/>', number, _num(x_at(index - 1)), _num(y_at(a)),
                _num(x_at(index)), _num(y_at(b))))
        for index, point in enumerate(points):
            if point.value is None:
                continue
            parts.append(format_html(
                '<circle class="yw-chart__dot yw-chart__s{}" cx="{}%" cy="{}em" r=".32em">'
                '<title>{}: {} {}</title></circle>', number, _num(x_at(index)),
                _num(y_at(point.value)), one.name, point.label, point.text))
    parts.append("</svg>")
    rows = [[label, *[s.points[i].text for s in series]] for i, label in enumerate(labels)]
    return Chart(id=id, title=title, description=description, svg=_joined(parts),
                 columns=[category, *[s.name for s in series]], rows=rows,
                 legend=[(n, s.name) for n, s in enumerate(series, start=1)])

