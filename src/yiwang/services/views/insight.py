"""Pages: insight — the service statistics (with charts and CSV/Excel exports) and the
rectification (整改) inbox where departments work bad ratings through to the callback.

Figures come from ``services.statistics.case_statistics`` and every step of a
rectification from ``services.ratings``; these views only parse, scope and present.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case as When_
from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from yiwang.core import exports, policies
from yiwang.core.forms import apply_service_errors
from yiwang.core.models import AuditEntry, OrgUnit
from yiwang.core.views import paginate, require_perm, staff_required
from yiwang.core.workdays import WorkCalendar, clock_remaining

from .. import charts, ratings
from ..forms_insight import (
    UNRESOLVED,
    UNRESOLVED_STATUSES,
    AppealForm,
    CallbackForm,
    ContactForm,
    DecideAppealForm,
    Period,
    RectificationFilterForm,
    RectifyForm,
    StatisticsFilterForm,
    StepForm,
    current_quarter,
    month_label,
)
from ..models import Channel, Matter, RatingLevel, Rectification
from ..models import RectificationStatus as R
from ..statistics import Dimension, Figures, case_statistics_with_total

STATISTICS_PERM = "services.view_case"
CHART_ROWS = 12  # bars per chart; the table beneath and the exports have every row


def case_url(number: str) -> str:
    """The staff page of a case (the staff area owns it; notifications link there too)."""
    return f"/services/cases/{number}/"


# --- statistics: what the page, the CSV and the workbook share -----------------------------

@dataclass(frozen=True)
class Measure:
    """One figure of a statistics row: how it is labelled, read, counted and defined."""

    key: str
    label: Any
    kind: str                 # count, rate or days
    definition: Any
    n_key: str = ""           # the figure's denominator, shown next to it
    n_label: Any = ""

    def value(self, figures: Figures) -> float | int | None:
        if self.key == "avg_handling_days":
            hours = figures.avg_handling_hours
            return round(hours / 24, 2) if hours is not None else None
        return figures.as_dict()[self.key]

    def n(self, figures: Figures) -> int | None:
        return figures.as_dict()[self.n_key] if self.n_key else None

    def text(self, figures: Figures) -> str:
        return format_value(self.kind, self.value(figures))


MEASURES = (
    Measure("cases", _lazy("Cases"), "count", _lazy(
        "Cases submitted in the period (by submission date) that belong to your unit or "
        "the units below it.")),
    Measure("online_rate", _lazy("Online rate"), "rate", _lazy(
        "Cases filed online (PC or mobile) ÷ cases.")),
    Measure("immediate_rate", _lazy("On-the-spot rate"), "rate", _lazy(
        "Cases of matters decided on the spot (即办件) ÷ cases.")),
    Measure("zero_visit_rate", _lazy("Zero-visit rate"), "rate", _lazy(
        "Cases of matters that need no visit to a hall ÷ cases.")),
    Measure("limit_reduction", _lazy("Promised-limit reduction"), "rate", _lazy(
        "Mean of (statutory − promised) ÷ statutory limit over the published matters whose "
        "limits are in working days. A catalog figure: the period does not change it, and "
        "it is not split by channel or month.")),
    Measure("avg_handling_days", _lazy("Average handling time (days)"), "days", _lazy(
        "From acceptance to decision, in calendar days, averaged over the decided cases."),
        "decided", _lazy("decided cases")),
    Measure("overdue", _lazy("Overdue cases"), "count", _lazy(
        "Cases still open past their deadline, or decided after it.")),
    Measure("satisfaction_rate", _lazy("Satisfaction rate"), "rate", _lazy(
        "Ratings of “basically satisfied” or better ÷ all ratings of these cases; ratings "
        "voided on appeal are left out."), "ratings", _lazy("ratings")),
    Measure("rectification_rate", _lazy("Rectification rate"), "rate", _lazy(
        "Bad ratings whose rectification was closed after the callback ÷ bad ratings "
        "(voided ones left out)."), "bad_ratings", _lazy("bad ratings")),
)


def format_value(kind: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    return f"{int(value):,}"


@dataclass
class Report:
    period: Period
    by: str
    rows: list[Figures]
    total: Figures
    filters: list[tuple[str, str]]   # (label, value) of the filters applied, for exports


def _zero(label: str) -> Figures:
    return Figures(key="all", label=label)


def statistics_report(*, actor: Any, period: Period, by: str, department: OrgUnit | None,
                      matter: Matter | None, channel: str | None,
                      filters: list[tuple[str, str]]) -> Report:
    """The rows of one grouping and their total, all from ``case_statistics``."""
    start, end = period.bounds()
    common = {"actor": actor, "department_id": department.pk if department else None,
              "matter_id": matter.pk if matter else None, "channel": channel or None}
    # Rows and total from the same queries: the page's main cost on a large district.
    rows, total = case_statistics_with_total(start=start, end=end, by=cast(Dimension, by),
                                             **common)
    if by == "month":
        # Every month of the period so far, an empty one too (a gap in the trend); the
        # reduction is a catalog figure, the same every month: only in the total.
        found = {row.key: row for row in rows}
        rows = [replace(found.get(first.replace(day=1)) or _zero(""), key=first.isoformat(),
                        label=month_label(first), limit_reduction=None)
                for first, _following in period.months(until=timezone.localdate())]
    total = replace(total, key="total", label=_("Total"))
    if by == "channel":
        for row in rows:
            row.limit_reduction = None
    return Report(period=period, by=by, rows=rows, total=total, filters=filters)


def _statistics_departments(actor: Any) -> list[OrgUnit]:
    """Units in the actor's scope that implement matters (the ones with figures)."""
    implementing = Exists(Matter.objects.filter(department=OuterRef("pk")))
    return list(policies.restrict(OrgUnit.objects.filter(implementing), actor)
                .only("code", "name", "path").order_by("path"))


def _statistics_matters(actor: Any) -> list[Matter]:
    return list(policies.restrict(Matter.objects.all(), actor)
                .only("implementation_code", "name", "department_id")
                .order_by("department_id", "name"))


def _charts(report: Report) -> list[charts.Chart]:
    group = dict(_groupings())[report.by]
    period = report.period.label
    if report.by == "month":
        months = report.rows

        def series(measure: Measure) -> charts.Series:
            return charts.Series(str(measure.label), [
                charts.Point(f.label, measure.value(f), measure.text(f)) for f in months])

        by_key = {m.key: m for m in MEASURES}
        return [
            charts.line_chart(
                id="chart-cases", category=group,
                title=_("Cases per month, %(period)s") % {"period": period},
                description=_("Line chart of the number of cases submitted each month."),
                series=[series(by_key["cases"])], tick_format="{:,.0f}"),
            charts.line_chart(
                id="chart-rates", category=group, max_value=1.0,
                title=_("Rates per month, %(period)s") % {"period": period},
                description=_("Line chart of the online rate, the zero-visit rate and the "
                              "satisfaction rate per month, from 0 to 100%; a gap means no "
                              "figure that month."),
                series=[series(by_key[k]) for k in
                        ("online_rate", "zero_visit_rate", "satisfaction_rate")],
                tick_format="{:.0%}"),
        ]
    top = report.rows[:CHART_ROWS]
    shown = _("the %(count)d with the most cases") % {"count": len(top)} \
        if len(report.rows) > CHART_ROWS else _("all %(count)d") % {"count": len(top)}
    return [
        charts.bar_chart(
            id="chart-cases", category=group,
            title=_("Cases %(grouping)s, %(period)s") % {"grouping": group.lower(),
                                                        "period": period},
            description=_("Bar chart of the number of cases, %(shown)s.") % {"shown": shown},
            series=charts.Series(_("Cases"), [
                charts.Point(f.label, f.cases, format_value("count", f.cases)) for f in top])),
        charts.bar_chart(
            id="chart-satisfaction", category=group, max_value=1.0,
            title=_("Satisfaction rate %(grouping)s, %(period)s") % {
                "grouping": group.lower(), "period": period},
            description=_("Bar chart of the satisfaction rate from 0 to 100%%, %(shown)s; "
                          "n is the number of ratings.") % {"shown": shown},
            series=charts.Series(_("Satisfaction rate"), [
                charts.Point(f.label, f.satisfaction_rate,
                             format_value("rate", f.satisfaction_rate),
                             note=f"n={f.ratings}") for f in top])),
    ]


def _groupings() -> list[tuple[str, str]]:
    from ..forms_insight import GROUPINGS

    return [(key, str(label)) for key, label in GROUPINGS]


@require_GET
@staff_required
@require_perm(STATISTICS_PERM)
def statistics(request: HttpRequest) -> HttpResponse:
    actor = request.user
    today = timezone.localdate()
    departments = _statistics_departments(actor)
    matters = _statistics_matters(actor)
    data = request.GET.copy()
    data.setdefault("period", current_quarter(today))
    data.setdefault("by", "department")
    form = StatisticsFilterForm(
        data, today=today, departments=[(u.code, u.name) for u in departments],
        matters=[(m.implementation_code, m.name) for m in matters])
    export = request.GET.get("format", "")
    if export not in ("", "csv", "xlsx"):
        form.add_error(None, _("Unknown export format; choose CSV or Excel."))
    report = None
    if form.is_valid():
        clean = form.cleaned_data
        department = next((u for u in departments if u.code == clean["department"]), None)
        matter = next((m for m in matters if m.implementation_code == clean["matter"]), None)
        channel = clean["channel"] or None
        filters = [(_("Period"), clean["range"].label),
                   (_("Group by"), dict(_groupings())[clean["by"]]),
                   (_("Department"), department.name if department else _("All departments")),
                   (_("Matter"), matter.name if matter else _("All matters")),
                   (_("Channel"), str(Channel(channel).label) if channel else _("All channels"))]
        report = statistics_report(actor=actor, period=clean["range"], by=clean["by"],
                                   department=department, matter=matter, channel=channel,
                                   filters=filters)
        if export == "csv":
            return statistics_csv(report)
        if export == "xlsx":
            return statistics_xlsx(report)
    query = data.copy()
    query.pop("format", None)
    return render(request, "services/insight/statistics.html", {
        "form": form, "report": report, "measures": MEASURES,
        "table": _table(report) if report else None,
        "charts": _charts(report) if report and report.rows else [],
        "export_query": query.urlencode(),
    }, status=200 if report else 400)


def _table(report: Report) -> dict[str, Any]:
    def cells(figures: Figures) -> list[dict[str, Any]]:
        return [{"text": m.text(figures), "n": m.n(figures), "n_label": m.n_label,
                 "empty": m.value(figures) is None} for m in MEASURES]

    total = cells(report.total)
    tiles = [{"label": m.label, **cell} for m, cell in zip(MEASURES, total, strict=True)
             if m.key in TILES]
    return {"rows": [(f.label, cells(f)) for f in report.rows], "total": total,
            "tiles": tiles}


TILES = ("cases", "online_rate", "immediate_rate", "zero_visit_rate", "satisfaction_rate",
         "overdue")


# --- exports ------------------------------------------------------------------------------

def _export_header(report: Report) -> list[str]:
    header = [dict(_groupings())[report.by]]
    for m in MEASURES:
        header.append(f"{m.label} (%)" if m.kind == "rate" else str(m.label))
        if m.n_key:
            header.append(f"n ({m.n_label})")
    return header


def _export_rows(report: Report) -> list[tuple[bool, list[Any]]]:
    """(is the total, cells) with rates as fractions and counts as integers."""
    rows = []
    for is_total, figures in [*((False, f) for f in report.rows), (True, report.total)]:
        cells: list[Any] = [figures.label]
        for m in MEASURES:
            cells.append(m.value(figures))
            if m.n_key:
                cells.append(m.n(figures))
        rows.append((is_total, cells))
    return rows


def _filename(report: Report, extension: str) -> str:
    return f"yiwang-statistics-{report.period.start:%Y%m%d}-{report.by}.{extension}"


def _kinds() -> list[str]:
    kinds = ["label"]
    for m in MEASURES:
        kinds.append(m.kind)
        if m.n_key:
            kinds.append("count")
    return kinds


def statistics_csv(report: Report) -> HttpResponse:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_export_header(report))
    kinds = _kinds()
    for _is_total, cells in _export_rows(report):
        writer.writerow([
            "" if value is None else
            f"{value * 100:.2f}" if kind == "rate" else value
            for value, kind in zip(cells, kinds, strict=True)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


def statistics_xlsx(report: Report) -> HttpResponse:
    return exports.figures_xlsx(
        title=_("Service statistics"), sheet_title=_("Statistics"),
        header=_export_header(report), kinds=_kinds(),
        rows=_export_rows(report), filters=report.filters,
        definitions=[(m.label, m.definition) for m in MEASURES],
        filename=_filename(report, "xlsx"))


# --- rectifications -------------------------------------------------------------------------

RECTIFICATION_PERM = "services.view_rectification"
WARNING_DAYS = 3  # working days left when a rectification shows as 预警
DONE = [R.CLOSED, R.VOIDED]


def _rectifications() -> QuerySet[Rectification]:
    return Rectification.objects.select_related(
        "rating", "rating__case", "rating__matter", "department", "clock")


@dataclass(frozen=True)
class Due:
    state: str     # normal, warning, overdue, on_time, late, voided
    label: str
    detail: str = ""


def due_of(rectification: Rectification, *, at: dt.datetime, calendar: WorkCalendar) -> Due:
    """The time state of a rectification from its clock (正常 / 预警 / 逾期)."""
    clock = rectification.clock
    if rectification.status == R.VOIDED:
        return Due("voided", _("Rating voided"))
    if rectification.status == R.CLOSED:
        if clock.is_overdue(at):
            return Due("late", _("Closed late"))
        return Due("on_time", _("Closed in time"))
    left = clock_remaining(clock, at=at, calendar=calendar)
    if clock.is_overdue(at):
        return Due("overdue", _("Overdue"),
                   _("%(days)d working days over") % {"days": abs(left)})
    detail = _("%(days)d working days left") % {"days": left}
    if left <= WARNING_DAYS:
        return Due("warning", _("Due soon"), detail)
    return Due("normal", _("Normal"), detail)


def _rectification_departments(actor: Any) -> list[OrgUnit]:
    responsible = Exists(Rectification.objects.filter(department=OuterRef("pk")))
    return list(policies.restrict(OrgUnit.objects.filter(responsible), actor)
                .only("code", "name", "path").order_by("path"))


@require_GET
@staff_required
@require_perm(RECTIFICATION_PERM)
def rectification_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    departments = _rectification_departments(actor)
    data = request.GET.copy()
    data.setdefault("status", UNRESOLVED)
    form = RectificationFilterForm(data, departments=[(u.code, u.name) for u in departments])
    items = policies.restrict(_rectifications(), actor)
    now = timezone.now()
    if form.is_valid():
        clean = form.cleaned_data
        if clean["status"] == UNRESOLVED:
            items = items.filter(status__in=UNRESOLVED_STATUSES)
        elif clean["status"]:
            items = items.filter(status=clean["status"])
        if clean["level"]:
            items = items.filter(rating__level=clean["level"])
        if clean["department"]:
            items = items.filter(department__code=clean["department"])
        if clean["overdue"]:
            items = items.filter(status__in=UNRESOLVED_STATUSES, clock__due_at__lt=now)
        if clean["q"]:
            items = items.filter(rating__case__number__icontains=clean["q"].strip())
    else:
        items = items.none()
    items = items.annotate(done=When_(When(status__in=DONE, then=Value(1)), default=Value(0),
                                      output_field=IntegerField())
                           ).order_by("done", "clock__due_at", "pk")
    page = paginate(request, items, 25)
    calendar = WorkCalendar.load()
    rows = [(item, due_of(item, at=now, calendar=calendar)) for item in page]
    return render(request, "services/insight/rectification_list.html", {
        "form": form, "page_obj": page, "rows": rows,
    }, status=200 if form.is_valid() else 400)


# --- one rectification and its steps ----------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One step a person takes on a rectification (``services.ratings``)."""

    name: str
    label: Any
    form: type[StepForm]
    perm: str
    sources: tuple[str, ...]    # the statuses it starts from (as in services.ratings)
    run: Callable[[Any, Rectification, dict[str, Any]], Rectification]
    done: Any
    danger: bool = False


def _contact(actor: Any, item: Rectification, data: dict[str, Any]) -> Rectification:
    return ratings.rectification_contact(
        actor=actor, rectification=item, verification=data["verification"],
        contact_note=data["contact_note"], expected_revision=data["revision"])


def _rectify(actor: Any, item: Rectification, data: dict[str, Any]) -> Rectification:
    return ratings.rectification_rectify(actor=actor, rectification=item, result=data["result"],
                                         expected_revision=data["revision"])


def _callback(actor: Any, item: Rectification, data: dict[str, Any]) -> Rectification:
    return ratings.rectification_callback(actor=actor, rectification=item, level=data["level"],
                                          note=data["note"], expected_revision=data["revision"])


def _appeal(actor: Any, item: Rectification, data: dict[str, Any]) -> Rectification:
    return ratings.rectification_appeal(actor=actor, rectification=item, reason=data["reason"],
                                        expected_revision=data["revision"])


def _decide(actor: Any, item: Rectification, data: dict[str, Any]) -> Rectification:
    return ratings.rectification_decide_appeal(
        actor=actor, rectification=item, uphold=data["outcome"] == "uphold",
        decision=data["decision"], expected_revision=data["revision"])


HANDLE, DECIDE = "services.handle_rectification", "services.decide_appeal"
STEPS: dict[str, Step] = {step.name: step for step in (
    Step("contact", _lazy("Verify and contact the applicant"), ContactForm, HANDLE,
         (R.OPEN,), _contact, _lazy("Verification and contact recorded.")),
    Step("rectify", _lazy("Record the rectification"), RectifyForm, HANDLE,
         (R.CONTACTED,), _rectify, _lazy("Rectification recorded; call the applicant back.")),
    Step("callback", _lazy("Record the callback"), CallbackForm, HANDLE,
         (R.RECTIFIED,), _callback, _lazy("Callback recorded; the rectification is closed.")),
    Step("appeal", _lazy("Appeal against the rating"), AppealForm, HANDLE,
         (R.OPEN, R.CONTACTED), _appeal, _lazy("Appeal filed; a supervisor will decide."),
         danger=True),
    Step("decide_appeal", _lazy("Decide the appeal"), DecideAppealForm, DECIDE,
         (R.APPEALED,), _decide, _lazy("Appeal decided.")),
)}

STEP_LABELS = {
    "open": _lazy("Opened after the bad rating"),
    "contact": _lazy("Verified and applicant contacted"),
    "rectify": _lazy("Rectified"),
    "callback": _lazy("Called back, closed"),
    "appeal": _lazy("Appeal filed"),
    "decide_appeal": _lazy("Appeal decided"),
}


def allowed_steps(actor: Any, item: Rectification) -> list[Step]:
    return [step for step in STEPS.values()
            if item.status in step.sources and policies.has_perm(actor, step.perm)]


def _history(item: Rectification) -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(object_type="services.rectification",
                                        object_id=str(item.pk)).order_by("id")
    history = []
    for entry in entries.only("created_at", "action", "actor_label", "after", "reason"):
        name = entry.action.rsplit(".", 1)[-1]
        label = STEP_LABELS.get(name, name)
        if name == "decide_appeal":
            voided = (entry.after or {}).get("status") == R.VOIDED
            label = _("Appeal upheld: rating voided") if voided else \
                _("Appeal dismissed: rectification goes on")
        history.append({"at": entry.created_at, "label": label,
                        "actor": entry.actor_label, "reason": entry.reason})
    return history


def _detail(request: HttpRequest, item: Rectification,
            bound: tuple[str, forms.Form] | None = None, status: int = 200) -> HttpResponse:
    steps = allowed_steps(request.user, item)
    step_forms = []
    for step in steps:
        form = bound[1] if bound and bound[0] == step.name else step.form(
            prefix=step.name, initial={"revision": item.revision})
        step_forms.append({"step": step, "form": form,
                           "url": reverse(f"services:rectification_action_{step.name}",
                                          kwargs={"rectification_id": item.pk})})
    rating = item.rating
    case = rating.case
    return render(request, "services/insight/rectification_detail.html", {
        "item": item, "rating": rating, "case": case,
        "case_url": case_url(case.number) if case else "",
        "due": due_of(item, at=timezone.now(), calendar=WorkCalendar.load()),
        "history": _history(item), "step_forms": step_forms,
        "callback_label": RatingLevel(item.callback_level).label if item.callback_level else "",
    }, status=status)


def _get(request: HttpRequest, rectification_id: int) -> Rectification:
    return policies.get_for_action(_rectifications().select_related("rating__rater"),
                                   request.user, pk=rectification_id)


@require_GET
@staff_required
@require_perm(RECTIFICATION_PERM)
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    return _detail(request, _get(request, rectification_id))


@require_POST
@staff_required
@require_perm(RECTIFICATION_PERM)
def rectification_action(request: HttpRequest, rectification_id: int, action: str
                         ) -> HttpResponse:
    step = STEPS[action]
    item = _get(request, rectification_id)
    if not policies.has_perm(request.user, step.perm):
        raise PermissionDenied
    form = step.form(request.POST, prefix=step.name)
    detail_url = reverse("services:rectification_detail",
                         kwargs={"rectification_id": item.pk})
    if form.is_valid():
        try:
            step.run(request.user, item, form.cleaned_data)
        except ValidationError as exc:
            if getattr(exc, "code", None) in ("stale", "bad_state"):
                # The page was out of date: show the current state and say why.
                messages.error(request, " ".join(exc.messages))
                return redirect(detail_url)
            apply_service_errors(form, exc)
        else:
            messages.success(request, str(step.done))
            return redirect(detail_url)
    return _detail(request, item, bound=(step.name, form), status=400)


urlpatterns: list[URLPattern] = [
    path("services/statistics/", statistics, name="statistics"),
    path("services/rectifications/", rectification_list, name="rectification_list"),
    path("services/rectifications/<int:rectification_id>/", rectification_detail,
         name="rectification_detail"),
    # One route per step (its own name, so the authorization matrix states who may take it).
    *[path(f"services/rectifications/<int:rectification_id>/actions/{name}/",
           rectification_action, {"action": name}, name=f"rectification_action_{name}")
      for name in STEPS],
]
