"""Pages: insight — the event figures (考核指标) with charts and CSV/Excel exports.

Figures come from ``events.figures.event_figures``; this view only parses, scopes and
presents them. Every figure stands next to the others, rows in code order: the page never
ranks units by satisfaction (the national guidance on 12345 assessment warns against it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from yiwang.core import exports, policies
from yiwang.core.forms import StyledForm, date_input
from yiwang.core.models import OrgUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.views import require_perm, staff_required
from yiwang.services import charts
from yiwang.services.forms_insight import (
    CUSTOM,
    MAX_CUSTOM_DAYS,
    Period,
    period_choices,
    period_of,
)

from ..figures import DIMENSIONS, PERIODS, EventFigures, Filters, event_figures
from ..models import CatalogStatus, Category, Channel

FIGURES_PERM = "events.view_event"
MAX_DAY_ROWS = 92  # "by day" over a longer range would be a table nobody reads
CHART_ROWS = 15

GROUPINGS = [
    ("unit", gettext_lazy("By handling unit")),
    ("street", gettext_lazy("By street")),
    ("category1", gettext_lazy("By category (level 1)")),
    ("category3", gettext_lazy("By category (level 3)")),
    ("channel", gettext_lazy("By channel")),
    ("day", gettext_lazy("By day")),
    ("week", gettext_lazy("By week")),
    ("month", gettext_lazy("By month")),
    ("quarter", gettext_lazy("By quarter")),
    ("year", gettext_lazy("By year")),
]
assert [key for key, _label in GROUPINGS] == list(DIMENSIONS)
COLUMN = {
    "unit": gettext_lazy("Handling unit"), "street": gettext_lazy("Street"),
    "category1": gettext_lazy("Category (level 1)"),
    "category3": gettext_lazy("Category (level 3)"), "channel": gettext_lazy("Channel"),
    "day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"), "year": gettext_lazy("Year")}


@dataclass(frozen=True)
class Measure:
    """One figure: its label, how it reads (count, rate, hours), its definition."""

    key: str
    label: Any
    kind: str
    definition: Any
    n_key: str = ""   # the denominator, shown next to a rate
    n_label: Any = ""

    def value(self, figures: EventFigures) -> float | int | None:
        return cast(float | int | None, figures.as_dict()[self.key])

    def n(self, figures: EventFigures) -> int | None:
        return figures.counts[self.n_key] if self.n_key else None

    def text(self, figures: EventFigures) -> str:
        return format_value(self.kind, self.value(figures))


MEASURES = (
    Measure("received", gettext_lazy("Events received"), "count", gettext_lazy(
        "Events received in the period (by day of receipt) and counted for units in your "
        "scope; merged duplicates (并单) are left out.")),
    Measure("on_spot", gettext_lazy("Resolved at intake"), "count", gettext_lazy(
        "直接办结: answered or fixed at intake (a consultation answered from the knowledge "
        "base, a grid worker fixing it at once). No unit handled them, so the figures "
        "below leave them out.")),
    Measure("response_rate", gettext_lazy("Response rate"), "rate", gettext_lazy(
        "Events whose first contact with the citizen (or, without one, the resolution) "
        "came within the 24-hour response deadline ÷ events due for response (contacted "
        "already, or past that deadline)."), "response_due", gettext_lazy("due for response")),
    Measure("resolution_rate", gettext_lazy("Resolution rate"), "rate", gettext_lazy(
        "Events resolved or closed ÷ events handled (received − resolved at intake). A "
        "reopened event (重办) counts again once it is resolved again."), "handled",
        gettext_lazy("events handled")),
    Measure("on_time_rate", gettext_lazy("On-time rate"), "rate", gettext_lazy(
        "Resolved by the resolution deadline (working days by appeal type, hours when "
        "urgent; extended by granted extensions, renewed on 重办) ÷ resolved."),
        "resolved", gettext_lazy("events resolved")),
    Measure("avg_handling_hours", gettext_lazy("Average handling time (hours)"), "hours",
            gettext_lazy("Natural hours from receipt to resolution, averaged over the "
                         "resolved events.")),
    Measure("satisfaction_rate", gettext_lazy("Satisfaction rate"), "rate", gettext_lazy(
        "Callbacks answered 满意 or 基本满意 ÷ callbacks answered; every callback round "
        "counts."), "callbacks", gettext_lazy("callbacks")),
    Measure("returns", gettext_lazy("Returns"), "count", gettext_lazy(
        "Return requests (退单), counted for the unit that returned the event.")),
    Measure("reassigns", gettext_lazy("Reassignments"), "count", gettext_lazy(
        "Times the lead was taken from a unit and given to another (改派), counted for the "
        "unit it was taken from.")),
    Measure("extensions", gettext_lazy("Extensions"), "count", gettext_lazy(
        "Extensions (延期) granted to the lead unit.")),
    Measure("reopened", gettext_lazy("Reopened"), "count", gettext_lazy(
        "Times an event went back to its unit after a 不满意 callback or a supervisor's "
        "review (重办).")),
    Measure("overdue_open", gettext_lazy("Open and overdue"), "count", gettext_lazy(
        "Events still open past their resolution deadline now.")),
    Measure("merged", gettext_lazy("Merged"), "count", gettext_lazy(
        "Duplicates merged into another event (并单), counted apart.")),
)
TILES = ("received", "response_rate", "resolution_rate", "on_time_rate",
         "satisfaction_rate", "avg_handling_hours")


def format_value(kind: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    return f"{int(value):,}"


# --- the filter form ------------------------------------------------------------------------

class FiguresFilterForm(StyledForm):
    period = forms.ChoiceField(label=gettext_lazy("Period"))
    start = forms.DateField(label=gettext_lazy("Custom range: from"), required=False,
                            widget=date_input())
    end = forms.DateField(label=gettext_lazy("Custom range: to (inclusive)"), required=False,
                          widget=date_input())
    by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=GROUPINGS)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    street = forms.ChoiceField(label=gettext_lazy("Street"), required=False)

    def __init__(self, *args: Any, today: dt.date, streets: list[OrgUnit],
                 categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = period_choices(today)
        chosen = str(self.data.get("period", "")) if self.is_bound else ""
        known = {value for _group, options in choices for value, _label in options}
        extra = period_of(chosen)
        if extra is not None and chosen not in known:  # a bookmarked older period
            choices.insert(0, (_("Chosen"), [(chosen, extra.label)]))
        cast(forms.ChoiceField, self.fields["period"]).choices = choices
        cast(forms.ChoiceField, self.fields["channel"]).choices = [
            ("", _("All channels")), *Channel.choices]
        level1 = [(c.code, f"{c.code} {c.name}") for c in categories if c.level == 1]
        level3 = [(c.code, f"{c.code} {c.name}") for c in categories if c.level == 3]
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All categories")), (_("Level 1"), level1), (_("Level 3"), level3)]
        cast(forms.ChoiceField, self.fields["street"]).choices = [
            ("", _("All streets")), *[(s.code, s.name) for s in streets]]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        value = data.get("period")
        if not value:
            return data
        if value != CUSTOM:
            period = period_of(value)
            if period is None:
                self.add_error("period", _("Choose a period from the list."))
                return data
        else:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                for name, given in (("start", start), ("end", end)):
                    if not given and name not in self.errors:
                        self.add_error(name, _("Enter both dates of a custom range."))
                return data
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
                return data
            if (end - start).days >= MAX_CUSTOM_DAYS:
                self.add_error("end", _("A custom range may span at most three years."))
                return data
            if not (dt.date(2000, 1, 1) <= start and end <= dt.date(2100, 12, 31)):
                self.add_error("start", _("Enter dates between 2000 and 2100."))
                return data
            period = Period(CUSTOM, start, end + dt.timedelta(days=1),
                            _("%(start)s to %(end)s") % {"start": start.isoformat(),
                                                         "end": end.isoformat()})
        if data.get("by") == "day" and (period.end - period.start).days > MAX_DAY_ROWS:
            self.add_error("by", _("Group by day over at most %(days)d days; choose weeks "
                                   "or months for a longer period.") % {"days": MAX_DAY_ROWS})
            return data
        data["range"] = period
        return data


def figures_streets(actor: Any) -> list[OrgUnit]:
    """The streets the actor may filter on: those in their scope, or their own street."""
    return list(policies.restrict(OrgUnit.objects.filter(kind=OrgKind.STREET), actor)
                .only("code", "name", "path").order_by("code"))


def figures_categories() -> list[Category]:
    return list(Category.objects.filter(catalog__status=CatalogStatus.PUBLISHED,
                                        level__in=[1, 3]).only("code", "name", "level")
                .order_by("code"))


# --- the report -------------------------------------------------------------------------------

@dataclass
class Report:
    period: Period
    by: str
    rows: list[EventFigures]
    total: EventFigures
    filters: list[tuple[str, str]]

    @property
    def column(self) -> str:
        return str(COLUMN[self.by])


def figures_report(*, actor: Any, period: Period, by: str, filters: Filters,
                   described: list[tuple[str, str]]) -> Report:
    start, end = period.bounds()
    rows, total = event_figures(actor=actor, start=start, end=end, by=by, filters=filters)
    total.label = _("Total")
    return Report(period=period, by=by, rows=rows, total=total, filters=described)


@require_GET
@staff_required
@require_perm(FIGURES_PERM)
def figures_page(request: HttpRequest) -> HttpResponse:
    actor = request.user
    today = timezone.localdate()
    streets = figures_streets(actor)
    categories = figures_categories()
    data = request.GET.copy()
    data.setdefault("period", f"{today.year}-{today.month:02d}")
    data.setdefault("by", "unit")
    form = FiguresFilterForm(data, today=today, streets=streets, categories=categories)
    export = request.GET.get("format", "")
    if export not in ("", "csv", "xlsx"):
        form.add_error(None, _("Unknown export format; choose CSV or Excel."))
    report = None
    if form.is_valid():
        clean = form.cleaned_data
        street = next((s for s in streets if s.code == clean["street"]), None)
        category = next((c for c in categories if c.code == clean["category"]), None)
        channel = clean["channel"] or None
        filters = Filters(channel=channel, street_id=street.pk if street else None,
                          category=category)
        described = [
            (_("Period"), clean["range"].label),
            (_("Group by"), str(dict(GROUPINGS)[clean["by"]])),
            (_("Channel"), str(Channel(channel).label) if channel else _("All channels")),
            (_("Category"), f"{category.code} {category.name}" if category
             else _("All categories")),
            (_("Street"), street.name if street else _("All streets")),
        ]
        report = figures_report(actor=actor, period=clean["range"], by=clean["by"],
                                filters=filters, described=described)
        if export == "csv":
            return figures_csv(report)
        if export == "xlsx":
            return figures_xlsx(report)
    query = data.copy()
    query.pop("format", None)
    return render(request, "events/insight/figures.html", {
        "form": form, "report": report, "measures": MEASURES,
        "table": _table(report) if report else None,
        "charts": _charts(report) if report and report.rows else [],
        "export_query": query.urlencode(),
    }, status=200 if report else 400)


def _table(report: Report) -> dict[str, Any]:
    def cells(figures: EventFigures) -> list[dict[str, Any]]:
        return [{"text": m.text(figures), "n": m.n(figures), "empty": m.value(figures) is None}
                for m in MEASURES]

    total = cells(report.total)
    tiles = [{"label": m.label, **cell} for m, cell in zip(MEASURES, total, strict=True)
             if m.key in TILES]
    return {"rows": [(f.label, f.code if report.by in ("unit", "street", "category1",
                                                        "category3") else "", cells(f))
                     for f in report.rows],
            "total": total, "tiles": tiles}


def _charts(report: Report) -> list[charts.Chart]:
    by_key = {m.key: m for m in MEASURES}
    rates = [by_key[k] for k in ("response_rate", "resolution_rate", "on_time_rate",
                                 "satisfaction_rate")]
    period = report.period.label
    if report.by in PERIODS:
        def series(measure: Measure) -> charts.Series:
            return charts.Series(str(measure.label), [
                charts.Point(f.label, cast(float | None, measure.value(f)), measure.text(f))
                for f in report.rows])

        return [
            charts.line_chart(
                id="chart-received", category=report.column,
                title=_("Events received, %(period)s") % {"period": period},
                description=_("Line chart of the number of events received per period."),
                series=[series(by_key["received"])], tick_format="{:,.0f}"),
            charts.line_chart(
                id="chart-rates", category=report.column, max_value=1.0,
                title=_("Rates, %(period)s") % {"period": period},
                description=_("Line chart of the response, resolution, on-time and "
                              "satisfaction rates per period, from 0 to 100%; a gap means "
                              "no figure."),
                series=[series(m) for m in rates], tick_format="{:.0%}"),
        ]
    top = report.rows[:CHART_ROWS]
    shown = _("the first %(count)d in code order") % {"count": len(top)} \
        if len(report.rows) > CHART_ROWS else _("all %(count)d") % {"count": len(top)}
    found = [charts.bar_chart(
        id="chart-received", category=report.column,
        title=_("Events received, %(period)s") % {"period": period},
        description=_("Bar chart of the number of events received, %(shown)s.")
        % {"shown": shown},
        series=charts.Series(str(by_key["received"].label), [
            charts.Point(f.label, f.received, format_value("count", f.received))
            for f in top]))]
    for measure in rates:
        found.append(charts.bar_chart(
            id=f"chart-{measure.key}", category=report.column, max_value=1.0,
            title=_("%(figure)s, %(period)s") % {"figure": measure.label, "period": period},
            description=_("Bar chart of %(figure)s from 0 to 100%%, %(shown)s, in the same "
                          "order as the table; n is what it is counted over.")
            % {"figure": measure.label, "shown": shown},
            series=charts.Series(str(measure.label), [
                charts.Point(f.label, cast(float | None, measure.value(f)), measure.text(f),
                             note=f"n={measure.n(f)}") for f in top])))
    return found


# --- exports ----------------------------------------------------------------------------------

def _export_header(report: Report) -> list[str]:
    header = [report.column]
    if report.by in ("unit", "street", "category1", "category3"):
        header.append(_("Code"))
    for m in MEASURES:
        header.append(f"{m.label} (%)" if m.kind == "rate" else str(m.label))
        if m.n_key:
            header.append(f"n ({m.n_label})")
    return header


def _kinds(report: Report) -> list[str]:
    kinds = ["label"]
    if report.by in ("unit", "street", "category1", "category3"):
        kinds.append("label")
    for m in MEASURES:
        kinds.append(m.kind)
        if m.n_key:
            kinds.append("count")
    return kinds


def _export_rows(report: Report) -> list[tuple[bool, list[Any]]]:
    rows = []
    coded = report.by in ("unit", "street", "category1", "category3")
    for is_total, figures in [*((False, f) for f in report.rows), (True, report.total)]:
        cells: list[Any] = [figures.label]
        if coded:
            cells.append("" if is_total else figures.code)
        for m in MEASURES:
            cells.append(m.value(figures))
            if m.n_key:
                cells.append(m.n(figures))
        rows.append((is_total, cells))
    return rows


def _filename(report: Report, extension: str) -> str:
    return f"yiwang-event-figures-{report.period.start:%Y%m%d}-{report.by}.{extension}"


def figures_csv(report: Report) -> HttpResponse:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_export_header(report))
    kinds = _kinds(report)
    for _is_total, cells in _export_rows(report):
        writer.writerow([
            "" if value is None else f"{value * 100:.2f}" if kind == "rate" else value
            for value, kind in zip(cells, kinds, strict=True)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


def figures_xlsx(report: Report) -> HttpResponse:
    return exports.figures_xlsx(
        title=_("Event figures"), sheet_title=_("Event figures"),
        header=_export_header(report), kinds=_kinds(report),
        rows=_export_rows(report), filters=report.filters,
        definitions=[(m.label, m.definition) for m in MEASURES],
        filename=_filename(report, "xlsx"))


urlpatterns: list[URLPattern] = [
    path("events/figures/", figures_page, name="figures"),
]
