"""Forms of the core pages: they parse input; services decide and change state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the matching fields of ``form``."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


CHECK_WIDGETS = (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields in error.

    Labels, help and errors are rendered by ``core/partials/_field.html``; Django links
    them to the input with ``aria-describedby`` and sets ``aria-invalid``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, CHECK_WIDGETS):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()



class TransitionForm(StyledForm):
    """The form of one state-machine transition (of a case, an event…): the revision the
    person saw, so a stale page cannot act on a newer state, plus the transition's input.

    Subclasses set ``action`` (the transition's name) and ``transitions`` (the state
    machine's table, whose entries carry a ``label``) and implement ``perform``.
    """

    action: ClassVar[str]
    transitions: ClassVar[Mapping[str, Any]]
    submit_label: ClassVar[Any] = None
    danger: ClassVar[bool] = False
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, revision: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.action)
        kwargs.setdefault("initial", {"revision": revision})
        super().__init__(*args, **kwargs)

    @property
    def label(self) -> Any:
        return self.transitions[self.action].label

    @property
    def button(self) -> Any:
        return self.submit_label or self.label

    @property
    def revision_seen(self) -> int:
        return int(self.cleaned_data["revision"])

    def perform(self, *, actor: Any) -> str:
        """Call the transition's service; return the message shown on success."""
        raise NotImplementedError

def date_input() -> forms.DateInput:
    # <input type="date"> only accepts ISO dates, whatever the page's language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PortalSearchForm(forms.Form):
    q = forms.CharField(label=_("Search services"), max_length=100, required=False)


class AuditFilterForm(StyledForm):
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.CharField(label=_("Object type"), max_length=80, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("All actions")), *((a, a) for a in actions)]


class CalendarOverrideForm(StyledForm):
    date = forms.DateField(label=_("Date"), widget=date_input())
    is_workday = forms.TypedChoiceField(
        label=_("The day is"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
        choices=[("0", _("a day off")), ("1", _("a working day"))], initial="0",
    )
    note = forms.CharField(label=_("Note"), max_length=200,
                           help_text=_("Why, e.g. “typhoon red warning: offices closed”."))


class DeadlineForm(StyledForm):
    start = forms.DateField(label=_("Start date"), widget=date_input(),
                            help_text=_("The start day itself is not counted."))
    days = forms.IntegerField(label=_("Working days"), min_value=0, max_value=3650,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    def clean_start(self) -> dt.date:
        start: dt.date = self.cleaned_data["start"]
        if not dt.date(1990, 1, 1) <= start <= dt.date(2100, 12, 31):
            raise ValidationError(_("Enter a date between 1990 and 2100."))
        return start
