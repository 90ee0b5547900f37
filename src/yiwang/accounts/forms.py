"""Account forms: they parse and check input; services decide and write."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.forms import StyledForm, date_input
from yiwang.core.validators import MOBILE_RE, normalize_phone

from .roles import Role

username_validator = RegexValidator(
    r"^[\w.@+-]{3,150}$",
    _("Use 3 to 150 letters, digits or the characters . @ + - _ (no spaces)."),
)


PERMISSION_ACTIONS = {
    "view": _("View %(model)s"),
    "add": _("Add %(model)s"),
    "change": _("Change %(model)s"),
    "delete": _("Delete %(model)s"),
}


def permission_label(perm: str) -> str:
    """``app.codename`` → "View org units", from the models' translated names."""
    app_label, codename = perm.split(".", 1)
    action, _sep, model_name = codename.partition("_")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        model = None
    if model is not None and action in PERMISSION_ACTIONS:
        return str(PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name_plural})
    for candidate in apps.get_app_config(app_label).get_models():
        for code, label in candidate._meta.permissions:
            if code == codename:
                return str(label)
    return perm


class LoginForm(StyledForm, AuthenticationForm):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username",
                                                             "autofocus": True,
                                                             "autocapitalize": "none",
                                                             "spellcheck": "false"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))


class CitizenRegisterForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("As printed on your ID card."),
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(
        label=_("ID card number"), max_length=24,
        help_text=_("18 characters; a 15-digit number from an old ID card is accepted."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false"}))
    phone = forms.CharField(label=_("Mobile phone number"), max_length=30,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}))
    username = forms.CharField(label=_("User name"), max_length=150,
                               validators=[username_validator],
                               help_text=_("You sign in with it."),
                               widget=forms.TextInput(attrs={"autocomplete": "username",
                                                             "autocapitalize": "none",
                                                             "spellcheck": "false"}))
    password = forms.CharField(
        label=_("Password"), strip=False, max_length=128,
        help_text=_("At least 10 characters; not only digits, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        label=_("Password again"), strip=False, max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_phone(self) -> str:
        # normalize_phone also accepts landlines and service numbers (12345); a citizen's
        # account needs a mobile number that can receive SMS.
        phone = normalize_phone(self.cleaned_data["phone"])
        if not MOBILE_RE.match(phone):
            raise ValidationError(_("Enter an 11-digit mobile number."), code="mobile")
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and \
                data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


def _choices(form: forms.Form, name: str, choices: Any) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _unit_choices(units: Any) -> list[tuple[str, str]]:
    # Indent by depth so the select reads like the tree.
    base = min((u.depth for u in units), default=0)
    return [(u.code, "\u3000" * (u.depth - base) + u.name) for u in units]


class StaffFilterForm(StyledForm):
    q = forms.CharField(label=_("Name or user name"), max_length=50, required=False,
                        widget=forms.TextInput(attrs={"type": "search"}))
    role = forms.ChoiceField(label=_("Role"), required=False)
    unit = forms.ChoiceField(label=_("Org unit"), required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "role", [("", _("All roles")), *Role.choices])
        _choices(self, "unit", [("", _("All units")), *_unit_choices(units)])


class StaffCreateForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(label=_("User name"), max_length=150,
                               validators=[username_validator],
                               widget=forms.TextInput(attrs={"autocapitalize": "none",
                                                             "spellcheck": "false"}))
    org_unit = forms.ChoiceField(label=_("Org unit"))
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices,
                                      widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(
        label=_("Initial password"), strip=False, max_length=128,
        help_text=_("Hand it over in person; at least 10 characters."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "org_unit", [("", _("Choose a unit")), *_unit_choices(units)])

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class DeactivateForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("Recorded in the audit log and sent to the person."),
                             widget=forms.Textarea(attrs={"rows": 3}))


class TokenCreateForm(StyledForm):
    name = forms.CharField(label=_("Token name"), max_length=100,
                           help_text=_("The system that will use the token, e.g. “12345 "
                                       "hotline gateway”."))
    org_unit = forms.ChoiceField(label=_("Org unit"),
                                 help_text=_("The token sees only this unit and the units "
                                             "below it."))
    permissions = forms.MultipleChoiceField(label=_("Permissions"),
                                            widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(label=_("Expires on"), required=False,
                                 widget=date_input(),
                                 help_text=_("Leave empty for no expiry."))

    def __init__(self, *args: Any, units: Any, permissions: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "org_unit", _unit_choices(units))
        _choices(self, "permissions", permissions)

    def clean_expires_on(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise ValidationError(_("Choose a date in the future."))
        return day
