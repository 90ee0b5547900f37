"""Forms of the staff case pages: the inbox filters and one form per case transition.

A transition form parses what the person typed and hands it to the one service function
of ``services.cases`` (which checks state, role, scope and the revision again, under a
row lock); ``perform`` returns the message shown after success.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.core.forms import StyledForm, TransitionForm

from . import cases
from .models import Case, Channel, Extension, Material, TimeState
from .selectors import SORT_LABELS

MAX_ITEMS = 30


class InboxFilterForm(StyledForm):
    q = forms.CharField(label=_("Case number or applicant"), max_length=60, required=False)
    matter = forms.TypedChoiceField(label=_("Matter"), required=False, coerce=int,
                                    empty_value=None)
    time_state = forms.ChoiceField(label=_("Time state"), required=False,
                                   choices=[("", _("Any")), *TimeState.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any")), *Channel.choices])
    sort = forms.ChoiceField(label=_("Sort by"), required=False,
                             choices=[("", _("Default for this tab")),
                                      *SORT_LABELS.items()])

    def __init__(self, *args: Any, matters: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["matter"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any matter")), *matters]


class OverdueFilterForm(StyledForm):
    time_state = forms.ChoiceField(
        label=_("Show"), required=False,
        choices=[("", _("Overdue and warning")), (TimeState.OVERDUE, _("Overdue only")),
                 (TimeState.WARNING, _("Warning only"))])
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int,
                                        empty_value=None)

    def __init__(self, *args: Any, departments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All departments in my scope")), *departments]


# --- one form per transition ------------------------------------------------------------


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ActionForm(TransitionForm):
    """A transition of a case."""

    transitions = cases.TRANSITIONS

    def __init__(self, *args: Any, case: Case, materials: list[Material],
                 reviewers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, revision=case.revision, **kwargs)
        self.case = case
        self.version_materials = materials
        self.reviewers = reviewers


def _items(form: ActionForm, picked: list[str], other: str) -> list[tuple[Material | None, str]]:
    by_pk = {str(m.pk): m for m in form.version_materials}
    items: list[tuple[Material | None, str]] = [(by_pk[pk], by_pk[pk].name) for pk in picked]
    items += [(None, line.strip()) for line in other.splitlines() if line.strip()]
    return items


class _ItemsMixin(ActionForm):
    """Pick materials of the matter and/or list other items, one per line."""

    materials_field: ClassVar[str] = "materials"

    def _material_choices(self) -> list[tuple[str, str]]:
        return [(str(m.pk), m.name) for m in self.version_materials]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        items = _items(self, data.get("materials") or [], data.get("other_items") or "")
        if not items:
            self.add_error("other_items", gettext("Pick at least one material or list an item."))
        elif len(items) > MAX_ITEMS:
            self.add_error("other_items", gettext("List at most %(n)d items.") % {"n": MAX_ITEMS})
        data["items"] = items
        return data


class AcceptForm(ActionForm):
    action = "accept"

    def perform(self, *, actor: Any) -> str:
        cases.case_accept(actor=actor, case=self.case, expected_revision=self.revision_seen)
        return gettext("Case accepted; the clock has started.")


class AcceptWithDeficiencyForm(_ItemsMixin):
    action = "accept_with_deficiency"
    materials = forms.MultipleChoiceField(
        label=_("Materials that may be supplied later"), required=False,
        widget=forms.CheckboxSelectMultiple)
    other_items = forms.CharField(label=_("Other missing items, one per line"), required=False,
                                  max_length=2000, widget=_textarea())

    def __init__(self, *args: Any, due_at: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["materials"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(m.pk), m.name) for m in self.version_materials if m.may_be_deficient]
        self.due_at = due_at

    def clean_materials(self) -> list[str]:
        allowed = {str(m.pk) for m in self.version_materials if m.may_be_deficient}
        return [pk for pk in self.cleaned_data["materials"] if pk in allowed]

    def perform(self, *, actor: Any) -> str:
        cases.case_accept_with_deficiency(actor=actor, case=self.case,
                                          items=self.cleaned_data["items"],
                                          expected_revision=self.revision_seen)
        return gettext("Case accepted with deficiencies; the applicant has been told what to "
                       "supply and by when.")


class RefuseForm(ActionForm):
    action = "refuse"
    danger = True
    reason = forms.CharField(label=_("Reasons for not accepting"), max_length=2000,
                             widget=_textarea(4),
                             help_text=_("The applicant sees this, with the legal basis."))

    def perform(self, *, actor: Any) -> str:
        cases.case_refuse(actor=actor, case=self.case, reason=self.cleaned_data["reason"],
                          expected_revision=self.revision_seen)
        return gettext("Case not accepted; the applicant has been told why.")


class RequestSupplementForm(_ItemsMixin):
    action = "request_supplement"
    materials = forms.MultipleChoiceField(label=_("Materials to supplement or correct"),
                                          required=False, widget=forms.CheckboxSelectMultiple)
    other_items = forms.CharField(label=_("Other items, one per line"), required=False,
                                  max_length=2000, widget=_textarea())
    reason = forms.CharField(label=_("Note to the applicant"), max_length=2000,
                             widget=_textarea(),
                             help_text=_("Ask for everything at once: the list is final "
                                         "(一次性告知)."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["materials"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = self._material_choices()

    def perform(self, *, actor: Any) -> str:
        cases.case_request_supplement(actor=actor, case=self.case,
                                      items=self.cleaned_data["items"],
                                      reason=self.cleaned_data["reason"],
                                      expected_revision=self.revision_seen)
        return gettext("The supplement list was sent to the applicant; the clock is paused.")


class StartReviewForm(ActionForm):
    action = "start_review"

    def perform(self, *, actor: Any) -> str:
        cases.case_start_review(actor=actor, case=self.case,
                                expected_revision=self.revision_seen)
        return gettext("Review started.")


class SuspendForm(ActionForm):
    action = "suspend"
    procedure = forms.ChoiceField(label=_("Special procedure"),
                                  choices=list(cases.SPECIAL_PROCEDURES.items()))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea())

    def perform(self, *, actor: Any) -> str:
        cases.case_suspend(actor=actor, case=self.case,
                           procedure=self.cleaned_data["procedure"],
                           reason=self.cleaned_data["reason"],
                           expected_revision=self.revision_seen)
        return gettext("Case suspended; the clock is paused.")


class ResumeForm(ActionForm):
    action = "resume"

    def perform(self, *, actor: Any) -> str:
        cases.case_resume(actor=actor, case=self.case, expected_revision=self.revision_seen)
        return gettext("Review resumed; the clock runs again.")


class RequestExtensionForm(ActionForm):
    action = "request_extension"
    days = forms.IntegerField(label=_("Extend by (working days)"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea())

    def perform(self, *, actor: Any) -> str:
        cases.case_request_extension(actor=actor, case=self.case,
                                     days=self.cleaned_data["days"],
                                     reason=self.cleaned_data["reason"],
                                     expected_revision=self.revision_seen)
        return gettext("Extension requested; an approver decides.")


class DecideExtensionForm(ActionForm):
    action = "decide_extension"
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("approve", _("Approve the extension")),
                                          ("deny", _("Deny the extension"))])
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False,
                             widget=_textarea(),
                             help_text=_("Required when you deny."))

    def __init__(self, *args: Any, extension: Extension | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extension = extension

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "deny" and not (data.get("reason") or "").strip():
            self.add_error("reason", gettext("Give a reason for denying the extension."))
        if self.extension is None:
            raise forms.ValidationError(gettext("No extension request is waiting."))
        return data

    def perform(self, *, actor: Any) -> str:
        assert self.extension is not None
        approve = self.cleaned_data["decision"] == "approve"
        cases.case_decide_extension(actor=actor, extension=self.extension, approve=approve,
                                    reason=self.cleaned_data["reason"])
        return (gettext("Extension approved; the deadline has moved.") if approve
                else gettext("Extension denied."))


class ApproveForm(ActionForm):
    action = "approve"
    opinion = forms.CharField(label=_("Approval opinion"), max_length=2000, required=False,
                              widget=_textarea())

    def perform(self, *, actor: Any) -> str:
        cases.case_approve(actor=actor, case=self.case, opinion=self.cleaned_data["opinion"],
                           expected_revision=self.revision_seen)
        return gettext("Case approved.")


class RejectForm(ActionForm):
    action = "reject"
    danger = True
    reason = forms.CharField(label=_("Reasons for not approving"), max_length=2000,
                             widget=_textarea(4),
                             help_text=_("The applicant sees this, with the legal basis and "
                                         "how to appeal."))

    def perform(self, *, actor: Any) -> str:
        cases.case_reject(actor=actor, case=self.case, reason=self.cleaned_data["reason"],
                          expected_revision=self.revision_seen)
        return gettext("Case not approved; the applicant has been told why.")


DELIVERY_CHOICES = [("download", _("Download (electronic result)")),
                    ("post", _("Post (EMS)")), ("window", _("Pickup at the window"))]


class DeliverForm(ActionForm):
    action = "deliver"
    method = forms.ChoiceField(label=_("Delivery"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["method"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, label) for code, label in DELIVERY_CHOICES
                         if code != "post" or self.case.version.postal_delivery]

    def perform(self, *, actor: Any) -> str:
        cases.case_deliver(actor=actor, case=self.case, method=self.cleaned_data["method"],
                           expected_revision=self.revision_seen)
        return gettext("Result delivered.")


class CloseForm(ActionForm):
    action = "close"

    def perform(self, *, actor: Any) -> str:
        cases.case_close(actor=actor, case=self.case, expected_revision=self.revision_seen)
        return gettext("Case closed (办结).")


class TerminateForm(ActionForm):
    action = "terminate"
    danger = True
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea())

    def perform(self, *, actor: Any) -> str:
        cases.case_terminate(actor=actor, case=self.case, reason=self.cleaned_data["reason"])
        return gettext("Case terminated.")


class ClaimForm(ActionForm):
    action = "claim"

    def perform(self, *, actor: Any) -> str:
        cases.case_claim(actor=actor, case=self.case, expected_revision=self.revision_seen)
        return gettext("You have claimed case %(number)s.") % {"number": self.case.number}


class AssignForm(ActionForm):
    action = "assign"
    assignee = forms.TypedChoiceField(label=_("Assign to"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a colleague")),
                         *((u.pk, f"{u} · {u.org_unit}") for u in self.reviewers)]

    def perform(self, *, actor: Any) -> str:
        assignee = next(u for u in self.reviewers if u.pk == self.cleaned_data["assignee"])
        cases.case_assign(actor=actor, case=self.case, assignee=assignee,
                          expected_revision=self.revision_seen)
        return gettext("Case %(number)s assigned to %(name)s.") % {
            "number": self.case.number, "name": assignee}


_FORMS: list[type[ActionForm]] = [
    AcceptForm, AcceptWithDeficiencyForm, RefuseForm, RequestSupplementForm, StartReviewForm,
    SuspendForm, ResumeForm, RequestExtensionForm, DecideExtensionForm, ApproveForm,
    RejectForm, DeliverForm, CloseForm, TerminateForm, ClaimForm, AssignForm,
]
ACTION_FORMS: dict[str, type[ActionForm]] = {form.action: form for form in _FORMS}
# The transitions staff perform on this page; the applicant's own (submit, supplement,
# withdraw) are on the applicant's pages.
STAFF_ACTIONS = tuple(ACTION_FORMS)
