"""Server-rendered SVG charts: accessible, escaped, proportional, with their data."""

from __future__ import annotations

import re

from yiwang.services import charts


def _bars(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'class="yw-chart__bar"[^>]*width="([\d.]+)%"', svg)]


def test_bar_chart__accessible_and_proportional():
    chart = charts.bar_chart(
        id="c1", title="办件量", description="按部门", category="部门",
        series=charts.Series("办件量", [charts.Point("甲", 100, "100"),
                                        charts.Point("乙", 50, "50"),
                                        charts.Point("丙", None, "—", note="n=0")]))
    svg = str(chart.svg)
    assert svg.startswith('<svg class="yw-chart yw-chart--bar" role="img" '
                          'aria-labelledby="c1-title c1-desc"')
    assert '<title id="c1-title">办件量</title><desc id="c1-desc">按部门</desc>' in svg
    assert _bars(svg) == [charts.BAR_SPAN, charts.BAR_SPAN / 2]  # no bar for "no figure"
    assert "style=" not in svg  # CSP: no inline style attributes
    assert chart.columns == ["部门", "办件量", "n"]
    assert chart.rows[2] == ["丙", "—", "n=0"]


def test_bar_chart__labels_escaped_and_cut():
    chart = charts.bar_chart(
        id="c2", title="<b>t</b>", description="d", category="c",
        series=charts.Series("s", [charts.Point("<script>alert(1)</script>" * 3, 1, "1")]))
    svg = str(chart.svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;t" in svg
    assert "…" in svg
    assert chart.rows[0][0].startswith("<script>")  # the table gets the whole label


def test_line_chart__gaps_and_series_markers():
    points = [charts.Point("1月", 0.5, "50%"), charts.Point("2月", None, "—"),
              charts.Point("3月", 1.0, "100%")]
    chart = charts.line_chart(id="c3", title="t", description="d", category="月",
                              series=[charts.Series("网办率", points),
                                      charts.Series("满意率", points)], max_value=1.0,
                              tick_format="{:.0%}")
    svg = str(chart.svg)
    assert svg.count('class="yw-chart__line yw-chart__s1"') == 0  # no segment across a gap
    assert svg.count('class="yw-chart__dot yw-chart__s2"') == 2
    assert ">100%</text>" in svg and ">0%</text>" in svg
    assert chart.legend == [(1, "网办率"), (2, "满意率")]
    assert chart.rows[1] == ["2月", "—", "—"]


def test_nice_ceiling():
    assert [charts.nice_ceiling(v) for v in (0, 7, 12, 230, 0.37)] == [1, 10, 20, 250, 0.5]
