"""Forms of the statistics and rectification pages: they parse input, services decide."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from yiwang.core.forms import StyledForm, date_input

from .models import Channel, RatingLevel, RectificationStatus

# --- statistics ---------------------------------------------------------------------------

CUSTOM = "custom"
MAX_CUSTOM_DAYS = 3 * 366
MAX_MONTH_ROWS = 36
GROUPINGS = [
    ("department", _lazy("By department")),
    ("matter", _lazy("By matter")),
    ("channel", _lazy("By channel")),
    ("month", _lazy("By month")),
]
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


@dataclass(frozen=True)
class Period:
    """[start, end) in local days, with the label people know it by."""

    value: str
    start: dt.date
    end: dt.date  # exclusive
    label: str

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_default_timezone()
        return (dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
                dt.datetime.combine(self.end, dt.time.min, tzinfo=tz))

    def months(self, *, until: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
        """The calendar months the period touches, each clipped to the period; none
        that starts after ``until`` (a month still to come has no figures yet)."""
        spans = []
        first = self.start.replace(day=1)
        while first < self.end and (until is None or first <= until):
            following = _add_months(first, 1)
            spans.append((max(first, self.start), min(following, self.end)))
            first = following
        return spans


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_label(day: dt.date) -> str:
    return _("%(year)d-%(month)02d") % {"year": day.year, "month": day.month}


def period_of(value: str) -> Period | None:
    """``2026`` (a year), ``2026-Q4`` (a quarter) or ``2026-11`` (a month); None if not."""
    match = _PERIOD.match(value or "")
    if match is None:
        return None
    year = int(match["year"])
    if not 2000 <= year <= 2100:
        return None
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            return None
        start = dt.date(year, month, 1)
        return Period(value, start, _add_months(start, 1), month_label(start))
    if match["quarter"]:
        quarter = int(match["quarter"])
        start = dt.date(year, 3 * quarter - 2, 1)
        return Period(value, start, _add_months(start, 3),
                      _("Q%(quarter)d %(year)d") % {"quarter": quarter, "year": year})
    return Period(value, dt.date(year, 1, 1), dt.date(year + 1, 1, 1),
                  _("Year %(year)d") % {"year": year})


def current_quarter(today: dt.date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def period_choices(today: dt.date) -> list[tuple[str, Any]]:
    """Grouped choices: the last 24 months, 12 quarters, 5 years, and a custom range."""
    this_month = today.replace(day=1)
    months = [_add_months(this_month, -i) for i in range(24)]
    quarter = (today.month - 1) // 3
    quarters = []
    for i in range(12):
        index = today.year * 4 + quarter - i
        quarters.append(f"{index // 4}-Q{index % 4 + 1}")
    years = [str(today.year - i) for i in range(5)]

    def labelled(values: list[str]) -> list[tuple[str, str]]:
        return [(v, period.label) for v in values if (period := period_of(v))]

    return [
        (_("Quarter"), labelled(quarters)),
        (_("Month"), labelled([f"{m.year}-{m.month:02d}" for m in months])),
        (_("Year"), labelled(years)),
        (_("Other"), [(CUSTOM, _("Custom range (dates below)"))]),
    ]


class StatisticsFilterForm(StyledForm):
    period = forms.ChoiceField(label=_lazy("Period"))
    start = forms.DateField(label=_lazy("Custom range: from"), required=False,
                            widget=date_input())
    end = forms.DateField(label=_lazy("Custom range: to (inclusive)"), required=False,
                          widget=date_input())
    department = forms.ChoiceField(label=_lazy("Department"), required=False)
    matter = forms.ChoiceField(label=_lazy("Matter"), required=False)
    channel = forms.ChoiceField(label=_lazy("Channel"), required=False)
    by = forms.ChoiceField(label=_lazy("Group by"), choices=GROUPINGS)

    def __init__(self, *args: Any, today: dt.date, departments: list[tuple[str, str]],
                 matters: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = period_choices(today)
        chosen = str(self.data.get("period", "")) if self.is_bound else ""
        known = {value for _group, options in choices for value, _label in options}
        extra = period_of(chosen)
        if extra is not None and chosen not in known:  # a bookmarked older period
            choices.insert(0, (_("Chosen"), [(chosen, extra.label)]))
        cast(forms.ChoiceField, self.fields["period"]).choices = choices
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("All departments")), *departments]
        cast(forms.ChoiceField, self.fields["matter"]).choices = [
            ("", _("All matters")), *matters]
        cast(forms.ChoiceField, self.fields["channel"]).choices = [
            ("", _("All channels")), *Channel.choices]

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
            data["range"] = period
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            for name, given in (("start", start), ("end", end)):
                if not given and name not in self.errors:
                    self.add_error(name, _("Enter both dates of a custom range."))
            return data
        if end < start:
            self.add_error("end", _("The end date is before the start date."))
        elif (end - start).days >= MAX_CUSTOM_DAYS:
            self.add_error("end", _("A custom range may span at most three years."))
        elif not (dt.date(2000, 1, 1) <= start and end <= dt.date(2100, 12, 31)):
            self.add_error("start", _("Enter dates between 2000 and 2100."))
        else:
            data["range"] = Period(CUSTOM, start, end + dt.timedelta(days=1),
                                   _("%(start)s to %(end)s") % {"start": start.isoformat(),
                                                                "end": end.isoformat()})
        return data


# --- rectifications -----------------------------------------------------------------------

UNRESOLVED = "unresolved"
UNRESOLVED_STATUSES = [RectificationStatus.OPEN, RectificationStatus.CONTACTED,
                       RectificationStatus.RECTIFIED, RectificationStatus.APPEALED]


class RectificationFilterForm(StyledForm):
    q = forms.CharField(label=_lazy("Case number"), max_length=32, required=False)
    status = forms.ChoiceField(label=_lazy("Status"), required=False)
    level = forms.TypedChoiceField(label=_lazy("Rating"), required=False, coerce=int,
                                   empty_value=None)
    department = forms.ChoiceField(label=_lazy("Department"), required=False)
    overdue = forms.BooleanField(label=_lazy("Overdue only"), required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (UNRESOLVED, _("Not finished")), ("", _("All statuses")),
            *RectificationStatus.choices]
        cast(forms.ChoiceField, self.fields["level"]).choices = [
            ("", _("Both bad levels")),
            (RatingLevel.DISSATISFIED.value, RatingLevel.DISSATISFIED.label),
            (RatingLevel.VERY_DISSATISFIED.value, RatingLevel.VERY_DISSATISFIED.label)]
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("All departments")), *departments]


def _text(label: Any, *, help_text: Any = "", required: bool = True) -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=required,
                           max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class StepForm(StyledForm):
    """One step of a rectification; ``revision`` is the version the user saw."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ContactForm(StepForm):
    verification = _text(_lazy("What was verified"),
                         help_text=_lazy("Check the case file and the rating against what "
                                         "happened."))
    contact_note = _text(_lazy("Contact with the applicant"),
                         help_text=_lazy("When and how the applicant was reached, and what "
                                         "they said."))


class RectifyForm(StepForm):
    result = _text(_lazy("What was rectified"),
                   help_text=_lazy("The change made, so it does not happen again."))


class CallbackForm(StepForm):
    level = forms.TypedChoiceField(
        label=_lazy("The applicant's view of the rectification"), coerce=int,
        widget=forms.RadioSelect,
        choices=sorted(RatingLevel.choices, key=lambda c: -int(c[0])))
    note = _text(_lazy("Callback note"), required=False)


class AppealForm(StepForm):
    reason = _text(_lazy("Why the rating is mistaken or malicious"),
                   help_text=_lazy("A supervisor reviews the appeal; the rectification waits "
                                   "until then."))


class DecideAppealForm(StepForm):
    outcome = forms.ChoiceField(
        label=_lazy("Decision"), widget=forms.RadioSelect,
        choices=[("uphold", _lazy("Uphold the appeal: void the rating")),
                 ("dismiss", _lazy("Dismiss the appeal: the rectification goes on"))])
    decision = _text(_lazy("Reasons for the decision"))
