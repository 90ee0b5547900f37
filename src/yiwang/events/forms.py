"""Forms of the staff event pages: the hotline screen, the queue and inbox filters, and one
form per event transition.

A transition form parses what the person typed and hands it to the one service function
of ``events.services`` (which checks state, role, scope and the revision again, under a
row lock); ``perform`` returns the message shown after success.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.core.forms import StyledForm, TransitionForm
from yiwang.core.models import OrgUnit
from yiwang.core.validators import normalize_phone

from . import services
from .attachments import MAX_FILES, accept_attribute, discard_on_error, event_attach, upload_check
from .models import (
    AppealType,
    Callback,
    Category,
    Channel,
    Event,
    EventAttachment,
    EventStatus,
    ExtensionRequest,
    ResponsibleParty,
    Satisfaction,
    Summons,
    TimeState,
)

MAX_TEXT = 4000


def _textarea(rows: int = 3, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def published_item(code: str) -> Category | None:
    return (Category.objects.select_related("handler_unit")
            .filter(catalog__status="published", code=code, level=3, active=True).first())


# --- the hotline screen -------------------------------------------------------------------


# Keyboard shortcuts of the appeal types (Alt+1…5 on the hotline screen).
APPEAL_TYPE_ORDER = (AppealType.CONSULT, AppealType.HELP, AppealType.COMPLAINT,
                     AppealType.REPORT, AppealType.SUGGESTION)


class HotlineForm(StyledForm):
    """One call: who calls, what about, where, which kind of appeal."""

    call_id = forms.CharField(widget=forms.HiddenInput, max_length=40)
    phone = forms.CharField(
        label=_("Caller number"), max_length=30, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off",
                                      "autofocus": True}),
        help_text=_("Shows the caller's earlier appeals."))
    description = forms.CharField(
        label=_("What the caller says"), max_length=MAX_TEXT,
        widget=_textarea(5, autocomplete="off"),
        help_text=_("In the caller's words: what, where, since when."))
    category = forms.CharField(label=_("Category"), max_length=12, required=False,
                               widget=forms.HiddenInput)
    address = forms.CharField(label=_("Address"), max_length=300, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180,
                           max_value=180, widget=forms.NumberInput(attrs={"step": "any"}))
    appeal_type = forms.ChoiceField(label=_("Appeal type"), widget=forms.RadioSelect,
                                    choices=[(t.value, t.label) for t in APPEAL_TYPE_ORDER])
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    reporter_name = forms.CharField(label=_("Caller's name"), max_length=100, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))
    anonymous = forms.BooleanField(
        label=_("Anonymous: do not show the caller's identity to the handling unit"),
        required=False)
    answered = forms.BooleanField(
        label=_("Answered from the knowledge base — close now (直接办结)"), required=False)
    answer = forms.CharField(label=_("The answer given"), max_length=MAX_TEXT, required=False,
                             widget=_textarea(3))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"call_id": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
        self.category_item: Category | None = None

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        return normalize_phone(raw, personal=True) if raw else ""

    def clean_category(self) -> str:
        code = self.cleaned_data["category"].strip()
        if code:
            self.category_item = published_item(code)
            if self.category_item is None:
                raise ValidationError(_("Choose an item of the published dispatch catalog."))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None) and not (
                "lat" in self.errors or "lon" in self.errors):
            self.add_error("lon", gettext("Give both latitude and longitude, or neither."))
        if data.get("answered"):
            if data.get("appeal_type") != AppealType.CONSULT:
                self.add_error("answered", gettext(
                    "Only a consultation (咨询) can be answered and closed on the spot."))
            elif not (data.get("answer") or "").strip():
                self.add_error("answer", gettext("Write the answer the caller was given."))
        if not data.get("phone") and not data.get("anonymous"):
            self.add_error("phone", gettext(
                "Enter the caller's number, or tick “anonymous” if they withheld it."))
        return data

    def submit(self, *, actor: Any) -> Event:
        from .intake import intake_event

        data = self.cleaned_data
        return intake_event(
            actor=actor, channel=Channel.HOTLINE, description=data["description"],
            appeal_type=data["appeal_type"], category=self.category_item,
            lat=data.get("lat"), lon=data.get("lon"), address=data.get("address") or "",
            urgent=True if data.get("urgent") else None,
            reporter_name=data.get("reporter_name") or "",
            reporter_phone=data.get("phone") or "", anonymous=bool(data.get("anonymous")),
            source_ref=f"call:{data['call_id']}",
            resolved_on_spot=(data.get("answer") or "") if data.get("answered") else "")


class ListFilterForm(StyledForm):
    q = forms.CharField(label=_("Event number or title"), max_length=60, required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any")), *Channel.choices])
    time_state = forms.ChoiceField(label=_("Time state"), required=False,
                                   choices=[("", _("Any")), *TimeState.choices])
    urgent = forms.BooleanField(label=_("Urgent only"), required=False)


# --- one form per transition ------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_FILES`` photos or documents, each checked by its content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept_attribute()}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > MAX_FILES:
            raise ValidationError(gettext("Attach at most %(n)d files.") % {"n": MAX_FILES})
        checked = []
        for upload in files:
            try:
                checked.append((upload, upload_check(upload)))
            except ValidationError as exc:
                raise ValidationError(exc.message_dict.get("file", exc.messages)) from None
        return checked


class ActionForm(TransitionForm):
    """A transition of an event."""

    transitions = services.TRANSITIONS

    def __init__(self, *args: Any, event: Event, context: dict[str, Any], **kwargs: Any
                 ) -> None:
        super().__init__(*args, revision=event.revision, **kwargs)
        self.event = event
        self.context = context


def _unit_choices(units: list[OrgUnit]) -> list[tuple[int, str]]:
    return [(u.pk, f"{u.name} · {u.get_kind_display()}") for u in units]


class _UnitMixin(ActionForm):
    """A unit picked from the sensible targets of the event's dispatch centre."""

    unit_source: ClassVar[str] = "targets"

    def _targets(self) -> list[OrgUnit]:
        return list(self.context.get(self.unit_source) or [])

    def _set_unit_choices(self, *names: str) -> None:
        for name in names:
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            blank = [] if isinstance(field, forms.MultipleChoiceField) else [
                ("", _("Choose a unit"))]
            field.choices = [*blank, *_unit_choices(self._targets())]

    def _unit(self, pk: Any) -> OrgUnit:
        return next(u for u in self._targets() if u.pk == int(pk))


class DispatchForm(_UnitMixin):
    action = "dispatch"
    unit = forms.TypedChoiceField(label=_("Lead handler"), coerce=int)
    co_units = forms.TypedMultipleChoiceField(
        label=_("Co-handlers (协办)"), coerce=int, required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}))
    note = forms.CharField(label=_("Note to the handler"), max_length=2000, required=False,
                           widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_unit_choices("unit", "co_units")
        suggested = self.context.get("suggested_unit")
        if suggested is not None and not self.is_bound:
            self.initial["unit"] = suggested.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unit") in (data.get("co_units") or []):
            self.add_error("co_units", gettext("The lead handler cannot also co-handle."))
        return data

    def perform(self, *, actor: Any) -> str:
        unit = self._unit(self.cleaned_data["unit"])
        co = [self._unit(pk) for pk in self.cleaned_data["co_units"]]
        services.event_dispatch(actor=actor, event=self.event, unit=unit, co_units=co,
                                note=self.cleaned_data["note"],
                                expected_revision=self.revision_seen)
        return gettext("Event %(number)s dispatched to %(unit)s.") % {
            "number": self.event.number, "unit": unit.name}


class AcceptForm(ActionForm):
    action = "accept"

    def perform(self, *, actor: Any) -> str:
        services.event_accept(actor=actor, event=self.event,
                              expected_revision=self.revision_seen)
        return gettext("You have signed for event %(number)s.") % {"number": self.event.number}


class StartForm(ActionForm):
    action = "start"

    def perform(self, *, actor: Any) -> str:
        services.event_start(actor=actor, event=self.event, expected_revision=self.revision_seen)
        return gettext("Handling started.")


class ContactForm(ActionForm):
    action = "contact"
    note = forms.CharField(label=_("How the citizen was reached and what was agreed"),
                           max_length=2000, widget=_textarea(2))

    def perform(self, *, actor: Any) -> str:
        services.event_contact(actor=actor, event=self.event, note=self.cleaned_data["note"],
                               expected_revision=self.revision_seen)
        return gettext("Contact recorded; the 24-hour response clock has stopped.")


class ResolveForm(ActionForm):
    action = "resolve"
    result = forms.CharField(label=_("What was done"), max_length=MAX_TEXT,
                             widget=_textarea(4),
                             help_text=_("The citizen sees this at the callback."))
    photos = PhotosField(label=_("Photos of the result"))

    def perform(self, *, actor: Any) -> str:
        with discard_on_error(), transaction.atomic():
            event = services.event_resolve(actor=actor, event=self.event,
                                           result=self.cleaned_data["result"],
                                           expected_revision=self.revision_seen)
            for upload, checked in self.cleaned_data["photos"]:
                event_attach(actor=actor, event=event, upload=upload, checked=checked,
                             stage=EventAttachment.Stage.RESULT)
        return gettext("Event resolved; it now waits for the callback.")


class CallbackForm(ActionForm):
    action = "callback"
    satisfaction = forms.TypedChoiceField(
        label=_("The citizen is"), coerce=int, widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in Satisfaction])
    method = forms.ChoiceField(label=_("How"), initial=Callback.Method.PHONE,
                               choices=[(m.value, m.label) for m in Callback.Method
                                        if m != Callback.Method.OPEN311])
    note = forms.CharField(label=_("What the citizen said"), max_length=2000, required=False,
                           widget=_textarea(2))

    def perform(self, *, actor: Any) -> str:
        event = services.event_callback(
            actor=actor, event=self.event, satisfaction=self.cleaned_data["satisfaction"],
            method=self.cleaned_data["method"], note=self.cleaned_data["note"],
            expected_revision=self.revision_seen)
        if event.status == EventStatus.CLOSED:
            return gettext("Callback recorded; the event is closed.")
        if event.status == EventStatus.IN_PROGRESS:
            return gettext("Dissatisfied: the event is reopened for the same unit (重办).")
        return gettext("Dissatisfied again: the event goes to district supervision.")


class _ReasonForm(ActionForm):
    reason_label: ClassVar[Any] = _("Reason")
    reason = forms.CharField(max_length=2000, widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = self.reason_label


class CloseForm(_ReasonForm):
    action = "close"
    reason_label = _("Why it is closed without a callback")

    def perform(self, *, actor: Any) -> str:
        services.event_close(actor=actor, event=self.event, reason=self.cleaned_data["reason"],
                             expected_revision=self.revision_seen)
        return gettext("Event closed.")


class ReopenForm(_ReasonForm):
    action = "reopen"
    danger = True

    def perform(self, *, actor: Any) -> str:
        services.event_reopen(actor=actor, event=self.event,
                              reason=self.cleaned_data["reason"],
                              expected_revision=self.revision_seen)
        return gettext("Event reopened for the same unit.")


class ReturnForm(_ReasonForm):
    action = "return"
    danger = True
    reason_label = _("Why it is not for your unit")

    def perform(self, *, actor: Any) -> str:
        services.event_return(actor=actor, event=self.event, reason=self.cleaned_data["reason"],
                              expected_revision=self.revision_seen)
        return gettext("Event returned to the dispatch centre.")


class DisputeReturnForm(_ReasonForm):
    action = "dispute_return"
    reason_label = _("Why the return is wrong")

    def perform(self, *, actor: Any) -> str:
        services.event_dispute_return(actor=actor, event=self.event,
                                      reason=self.cleaned_data["reason"],
                                      expected_revision=self.revision_seen)
        return gettext("Return disputed; a supervisor decides.")


class DecideDisputeForm(_ReasonForm):
    action = "decide_dispute"
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        ("uphold", _("The return stands: the centre dispatches again")),
        ("reject", _("The return was wrong: back to the unit that returned it"))])

    def perform(self, *, actor: Any) -> str:
        uphold = self.cleaned_data["decision"] == "uphold"
        services.event_decide_dispute(actor=actor, event=self.event, uphold_return=uphold,
                                      reason=self.cleaned_data["reason"],
                                      expected_revision=self.revision_seen)
        return gettext("Decision recorded.")


class ReassignForm(_UnitMixin):
    action = "reassign"
    unit = forms.TypedChoiceField(label=_("New lead handler"), coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_unit_choices("unit")

    def perform(self, *, actor: Any) -> str:
        unit = self._unit(self.cleaned_data["unit"])
        services.event_reassign(actor=actor, event=self.event, unit=unit,
                                reason=self.cleaned_data["reason"],
                                expected_revision=self.revision_seen)
        return gettext("Event reassigned to %(unit)s.") % {"unit": unit.name}


class AddCoHandlerForm(_UnitMixin):
    action = "add_co_handler"
    unit = forms.TypedChoiceField(label=_("Co-handler"), coerce=int)
    note = forms.CharField(label=_("What they should do"), max_length=2000, required=False,
                           widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_unit_choices("unit")

    def perform(self, *, actor: Any) -> str:
        unit = self._unit(self.cleaned_data["unit"])
        services.event_add_co_handler(actor=actor, event=self.event, unit=unit,
                                      note=self.cleaned_data["note"],
                                      expected_revision=self.revision_seen)
        return gettext("%(unit)s added as co-handler.") % {"unit": unit.name}


class CoDoneForm(ActionForm):
    action = "co_done"
    note = forms.CharField(label=_("What your unit did"), max_length=2000, widget=_textarea(2))

    def perform(self, *, actor: Any) -> str:
        services.event_co_done(actor=actor, event=self.event, note=self.cleaned_data["note"],
                               expected_revision=self.revision_seen)
        return gettext("Your part is reported done.")


class RequestExtensionForm(ActionForm):
    action = "request_extension"
    days = forms.IntegerField(label=_("Extra working days"), min_value=1,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].validators.append(_max_days)
        self.fields["days"].widget.attrs["max"] = settings.YIWANG_EVENT_MAX_EXTENSION_DAYS

    def perform(self, *, actor: Any) -> str:
        services.event_request_extension(actor=actor, event=self.event,
                                         days=self.cleaned_data["days"],
                                         reason=self.cleaned_data["reason"],
                                         expected_revision=self.revision_seen)
        return gettext("Extension requested; the dispatch centre decides.")


def _max_days(value: int) -> None:
    limit = settings.YIWANG_EVENT_MAX_EXTENSION_DAYS
    if value > limit:
        raise ValidationError(gettext("Ask for 1 to %(max)d working days.") % {"max": limit})


class DecideExtensionForm(ActionForm):
    action = "decide_extension"
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=_textarea(2))

    @property
    def extension(self) -> ExtensionRequest | None:
        return self.context.get("pending_extension")

    def perform(self, *, actor: Any) -> str:
        approve = self.cleaned_data["decision"] == "approve"
        services.event_decide_extension(actor=actor, event=self.event, approve=approve,
                                        note=self.cleaned_data["note"],
                                        expected_revision=self.revision_seen)
        return gettext("Extension approved.") if approve else gettext("Extension refused.")


class MergeForm(_ReasonForm):
    action = "merge"
    danger = True
    into = forms.CharField(label=_("Merge into event number"), max_length=32,
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    reason_label = _("Why they are the same")

    def clean_into(self) -> Event:
        number = self.cleaned_data["into"].strip()
        found = self.context["find_event"](number) if number else None
        if found is None:
            raise ValidationError(gettext("No event with this number in your scope."))
        if found.pk == self.event.pk:
            raise ValidationError(gettext("Merge into another event."))
        return found

    def perform(self, *, actor: Any) -> str:
        into = self.cleaned_data["into"]
        services.event_merge(actor=actor, event=self.event, into=into,
                             reason=self.cleaned_data["reason"],
                             expected_revision=self.revision_seen)
        return gettext("Merged into %(number)s.") % {"number": into.number}


class SummonForm(_UnitMixin):
    action = "summon"
    unit_source = "summons_targets"
    kind = forms.ChoiceField(label=_("Kind"), widget=forms.RadioSelect,
                             choices=Summons.Kind.choices, initial=Summons.Kind.SUMMONS)
    units = forms.TypedMultipleChoiceField(label=_("Units to call"), coerce=int,
                                           widget=forms.SelectMultiple(attrs={"size": 5}))
    subject = forms.CharField(label=_("What they must answer"), max_length=2000,
                              widget=_textarea(2))
    hours = forms.IntegerField(label=_("Respond within (hours)"), min_value=1,
                               max_value=24 * 15, initial=24,
                               widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_unit_choices("units")

    def perform(self, *, actor: Any) -> str:
        units = [self._unit(pk) for pk in self.cleaned_data["units"]]
        services.event_summon(actor=actor, event=self.event, kind=self.cleaned_data["kind"],
                              units=units, subject=self.cleaned_data["subject"],
                              hours=self.cleaned_data["hours"],
                              expected_revision=self.revision_seen)
        return gettext("%(n)d units called; each must respond in time.") % {"n": len(units)}


class EscalateForm(_ReasonForm):
    action = "escalate"
    danger = True

    def perform(self, *, actor: Any) -> str:
        services.event_escalate(actor=actor, event=self.event,
                                reason=self.cleaned_data["reason"],
                                expected_revision=self.revision_seen)
        return gettext("Escalated to the dispatch centre above.")


class UrgeForm(_ReasonForm):
    action = "urge"
    reason_label = _("Urging notice")

    def perform(self, *, actor: Any) -> str:
        services.event_urge(actor=actor, event=self.event, reason=self.cleaned_data["reason"])
        return gettext("Urging notice sent.")


class SendExternalForm(ActionForm):
    action = "send_external"
    party = forms.TypedChoiceField(label=_("Responsible party"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["party"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a party")), *(
            (p.pk, f"{p.name} · {p.get_kind_display()} · {p.unit.name}")
            for p in self._parties())]

    def _parties(self) -> list[ResponsibleParty]:
        return list(self.context.get("parties") or [])

    def perform(self, *, actor: Any) -> str:
        party = next(p for p in self._parties() if p.pk == self.cleaned_data["party"])
        services.event_send_external(actor=actor, event=self.event, party=party,
                                     expected_revision=self.revision_seen)
        return gettext("Sent to %(party)s by SMS with a deadline.") % {"party": party.name}


_FORMS: list[type[ActionForm]] = [
    DispatchForm, AcceptForm, StartForm, ContactForm, ResolveForm, CallbackForm, CloseForm,
    ReopenForm, ReturnForm, DisputeReturnForm, DecideDisputeForm, ReassignForm,
    AddCoHandlerForm, CoDoneForm, RequestExtensionForm, DecideExtensionForm, MergeForm,
    SummonForm, EscalateForm, UrgeForm, SendExternalForm,
]
ACTION_FORMS: dict[str, type[ActionForm]] = {form.action: form for form in _FORMS}
STAFF_ACTIONS = tuple(ACTION_FORMS)
assert set(STAFF_ACTIONS) == set(services.TRANSITIONS), "one form per transition"


class SummonsResponseForm(StyledForm):
    response = forms.CharField(label=_("Your unit's response"), max_length=MAX_TEXT,
                               widget=_textarea(3))
