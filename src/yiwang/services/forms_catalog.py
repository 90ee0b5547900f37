"""Forms of the catalog-management pages (事项目录动态管理): they parse and check input;
``services.catalog`` and ``services.excel`` decide and write.

A draft's repeatable parts (steps, locations, FAQ, materials) are formsets of plain rows,
so clerks never type JSON; the application form stays a JSON Schema, checked here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from yiwang.core.forms import StyledForm, date_input

from . import catalog
from .models import (
    CaseKind,
    HandlingForm,
    MaterialSource,
    MatterType,
    MatterVersion,
    ServiceObject,
    Theme,
)

# --- implementation codes ------------------------------------------------------------------

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,59}$")


def validate_implementation_code(value: str) -> None:
    """The default format: letters, digits and hyphens (codes are opaque strings; a
    province's own format is plugged in with ``YIWANG_MATTER_CODE_VALIDATORS``)."""
    if not CODE_RE.match(value):
        raise ValidationError(_("Use up to 60 letters, digits and hyphens, starting with a "
                                "letter or digit."), code="invalid_code")


DEFAULT_CODE_VALIDATORS = ["yiwang.services.forms_catalog.validate_implementation_code"]


def implementation_code_validators() -> list[Callable[[str], None]]:
    """The validators named in ``settings.YIWANG_MATTER_CODE_VALIDATORS`` (dotted paths)."""
    paths = getattr(settings, "YIWANG_MATTER_CODE_VALIDATORS", DEFAULT_CODE_VALIDATORS)
    return [import_string(path) for path in paths]


def version_revision(version: MatterVersion) -> str:
    """A fingerprint of a draft's content: a save based on an older one is a conflict."""
    content = catalog.content_of(version)
    content["change_note"] = version.change_note
    text = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- lists ------------------------------------------------------------------------------------

class MatterStatusFilter:
    IN_FORCE = "in_force"
    DRAFT = "draft"
    REVIEWED = "reviewed"
    NOT_IN_FORCE = "not_in_force"
    CHOICES = [
        ("", _("Any status")),
        (IN_FORCE, _("In force")),
        (DRAFT, _("Draft in progress")),
        (REVIEWED, _("Reviewed, awaiting publication")),
        (NOT_IN_FORCE, _("Not in force")),
    ]


class MatterFilterForm(StyledForm):
    q = forms.CharField(label=_("Name, code or pinyin initials"), max_length=100,
                        required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=MatterStatusFilter.CHOICES)
    findings = forms.ChoiceField(label=_("Quality"), required=False, choices=[
        ("", _("Any")), ("errors", _("With errors")), ("any", _("With errors or warnings")),
        ("none", _("No findings"))])

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("All departments in my scope")), *((u.code, u.name) for u in units)]


# --- a new matter -------------------------------------------------------------------------

class MatterCreateForm(StyledForm):
    implementation_code = forms.CharField(
        label=_("Implementation code"), max_length=60,
        help_text=_("The code of the implementation list (实施编码), as issued by the "
                    "provincial catalog."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false",
                                      "autocomplete": "off"}))
    department = forms.ChoiceField(label=_("Implementing department"))
    name = forms.CharField(label=_("Name of the matter"), max_length=200)
    basic_code = forms.CharField(label=_("Basic code"), max_length=60,
                                 widget=forms.TextInput(attrs={"spellcheck": "false"}))
    matter_type = forms.ChoiceField(label=_("Matter type"), choices=MatterType.choices)
    case_kind = forms.ChoiceField(label=_("Case kind"), choices=CaseKind.choices,
                                  initial=CaseKind.PROMISED)

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("Choose a department")), *((u.code, u.name) for u in units)]
        self.fields["implementation_code"].validators.extend(
            implementation_code_validators())

    def clean_implementation_code(self) -> str:
        return str(self.cleaned_data["implementation_code"]).strip()


# --- editing a draft -------------------------------------------------------------------------

TEXTAREA = {"rows": 3}


class VersionForm(StyledForm, forms.ModelForm):
    """The scalar elements of a draft; lists of rows are the formsets below."""

    service_objects = forms.MultipleChoiceField(
        label=_("Service objects"), choices=ServiceObject.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    handling_forms = forms.MultipleChoiceField(
        label=_("Handling forms"), choices=HandlingForm.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes (life events, enterprise lifecycle)"), queryset=Theme.objects.none(),
        required=False, widget=forms.CheckboxSelectMultiple)
    form_schema = forms.CharField(
        label=_("Application form (JSON Schema)"), required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false",
                                     "class": "yw-mono"}),
        help_text=_("The fields the applicant fills in, as a JSON Schema object; leave "
                    "empty for none."))
    translations = forms.CharField(
        label=_("Translations (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "yw-mono"}),
        help_text=_("Per language (en, zh-hant), the translated text fields, e.g. "
                    "{\"en\": {\"name\": \"…\"}}. Missing Traditional Chinese is converted "
                    "from Simplified Chinese."))
    revision = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = MatterVersion
        fields = [
            # basic
            "name", "basic_code", "handling_item_code", "matter_type", "legal_basis",
            "exercise_level",
            # limits
            "statutory_limit", "statutory_unit", "promised_limit", "promised_unit",
            "limit_note", "case_kind", "warning_days",
            # handling
            "online_depth", "visits", "visits_reason", "acceptance_conditions",
            # fees
            "has_fee", "fee_basis", "fee_standard",
            # result, place and phones
            "result_name", "result_type", "hours", "consult_phone", "complaint_phone",
            # flags
            "deficiency_allowed", "supplement_days", "deficiency_expiry_action",
            "commitment_allowed", "cross_region", "citywide", "appointment",
            "postal_delivery",
            "change_note",
        ]
        widgets = {
            "legal_basis": forms.Textarea(attrs=TEXTAREA),
            "limit_note": forms.Textarea(attrs=TEXTAREA),
            "acceptance_conditions": forms.Textarea(attrs=TEXTAREA),
            "fee_basis": forms.Textarea(attrs=TEXTAREA),
            "fee_standard": forms.Textarea(attrs=TEXTAREA),
            "change_note": forms.Textarea(attrs=TEXTAREA),
        }

    # The list fields are JSON on the model; the form gives them as lists of codes.
    JSON_TEXT = ("form_schema", "translations")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance: MatterVersion = kwargs["instance"]
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("revision", version_revision(instance))
        for name in self.JSON_TEXT:
            value = getattr(instance, name)
            initial.setdefault(name, json.dumps(value, ensure_ascii=False, indent=2)
                               if value else "")
        initial.setdefault("themes", list(instance.themes.all()))
        for name in ("service_objects", "handling_forms"):  # JSON lists, not in Meta.fields
            initial.setdefault(name, list(getattr(instance, name) or []))
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["themes"]).queryset = \
            Theme.objects.all()
        self.fields["change_note"].help_text = _(
            "What this version changes and why; shown in the version history.")

    def _json(self, name: str) -> Any:
        text = str(self.cleaned_data.get(name) or "").strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("This is not valid JSON (line %(line)d, column %(col)d: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None

    def clean_form_schema(self) -> dict[str, Any]:
        schema = self._json("form_schema")
        if not schema:
            return {}
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise ValidationError(_("The application form is a JSON Schema whose type is "
                                    "“object”."))
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "—"
            raise ValidationError(_("This is not a valid JSON Schema: %(msg)s (at %(where)s).")
                                  % {"msg": exc.message, "where": where}) from None
        return cast(dict[str, Any], schema)

    def clean_translations(self) -> dict[str, Any]:
        data = self._json("translations")
        if not isinstance(data, dict):
            raise ValidationError(_("Give an object keyed by language."))
        for language, fields in data.items():
            if language not in ("en", "zh-hant"):
                raise ValidationError(_("Unknown language “%(lang)s”: use en or zh-hant.")
                                      % {"lang": language})
            if not isinstance(fields, dict):
                raise ValidationError(_("The translations of “%(lang)s” are an object of "
                                        "field names and texts.") % {"lang": language})
        return cast(dict[str, Any], data)

    def changes(self) -> dict[str, Any]:
        """The new values of the version's own fields (themes are set apart)."""
        data = dict(self.cleaned_data)
        data.pop("revision", None)
        data.pop("themes", None)
        return data


class RowForm(StyledForm):
    """One row of a repeatable list; an untouched blank row is ignored."""

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(v for k, v in data.items() if k not in ("ORDER", "DELETE", "id"))


class StepForm(RowForm):
    name = forms.CharField(label=_("Step"), max_length=50, required=False)
    description = forms.CharField(label=_("What happens"), max_length=500, required=False)


class LocationForm(RowForm):
    name = forms.CharField(label=_("Place"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)


class FaqForm(RowForm):
    q = forms.CharField(label=_("Question"), max_length=300, required=False)
    a = forms.CharField(label=_("Answer"), max_length=1000, required=False,
                        widget=forms.Textarea(attrs={"rows": 2}))


class MaterialForm(RowForm):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name of the material"), max_length=200, required=False)
    code = forms.SlugField(label=_("Code"), max_length=40, required=False)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    condition = forms.CharField(label=_("Required when"), max_length=300, required=False)
    originals = forms.IntegerField(label=_("Originals"), min_value=0, max_value=99,
                                   initial=0, required=False)
    copies = forms.IntegerField(label=_("Copies"), min_value=0, max_value=99, initial=0,
                                required=False)
    issuer = forms.CharField(label=_("Issuing body"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=MaterialSource.choices,
                               initial=MaterialSource.UPLOAD)
    license_type = forms.CharField(label=_("Electronic license type"), max_length=80,
                                   required=False)
    registry_field = forms.CharField(label=_("Registry field"), max_length=120,
                                     required=False)
    may_be_deficient = forms.BooleanField(label=_("May be supplied later (容缺)"),
                                          required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("id") and not str(data.get("name") or "").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank():
            return data
        if not str(data.get("name") or "").strip():
            self.add_error("name", _("Name the material."))
        if not data.get("required") and not str(data.get("condition") or "").strip():
            self.add_error("condition", _("Say when a conditional material is required."))
        if data.get("source") == MaterialSource.LICENSE and not data.get("license_type"):
            self.add_error("license_type", _("Name the electronic license type."))
        if data.get("source") == MaterialSource.REGISTRY and not data.get("registry_field"):
            self.add_error("registry_field", _("Name the registry field."))
        return data


class BaseRowFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].widget.attrs.update({"class": "form-control yw-order",
                                                      "inputmode": "numeric"})
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def rows(self) -> list[dict[str, Any]]:
        """The kept rows in their order, without blanks and deleted ones."""
        kept = [f for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
                and not cast(RowForm, f).is_blank()]
        if self.can_order:
            kept.sort(key=lambda f: (f.cleaned_data.get("ORDER") is None,
                                     f.cleaned_data.get("ORDER") or 0))
        return [{k: v for k, v in f.cleaned_data.items() if k not in ("ORDER", "DELETE")}
                for f in kept]


class MaterialFormSet(BaseRowFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            code = (form.cleaned_data or {}).get("code")
            if code and not form.cleaned_data.get("DELETE"):
                if code in seen:
                    form.add_error("code", _("Two materials have the code “%(code)s”.")
                                   % {"code": code})
                seen.add(code)


def row_formset(form: type[forms.Form], *, order: bool = False,
                base: type[BaseRowFormSet] = BaseRowFormSet) -> type[forms.BaseFormSet]:
    return forms.formset_factory(form, formset=base, extra=1, can_delete=True,
                                 can_order=order, max_num=200, validate_max=True)


StepFormSet = row_formset(StepForm, order=True)
LocationFormSet = row_formset(LocationForm)
FaqFormSet = row_formset(FaqForm)
MaterialsFormSet = row_formset(MaterialForm, order=True, base=MaterialFormSet)


def steps_of(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Steps as stored: a description only when there is one (as the Excel file has)."""
    return [{"name": r["name"], **({"description": r["description"]}
                                   if r.get("description") else {})} for r in rows]


def material_values(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Material rows as the model takes them, with made-up codes where none was given."""
    taken = {r["code"] for r in rows if r.get("code")}
    values = []
    serial = 1
    for row in rows:
        value = {**row, "originals": row.get("originals") or 0,
                 "copies": row.get("copies") or 0}
        if not value.get("code"):
            while f"m{serial}" in taken:
                serial += 1
            value["code"] = f"m{serial}"
            taken.add(value["code"])
        values.append(value)
    return values


# --- actions ------------------------------------------------------------------------------

class DraftForm(StyledForm):
    change_note = forms.CharField(
        label=_("What will change"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: “承诺时限由5个工作日压缩至3个工作日”."))


class PublishForm(StyledForm):
    effective_from = forms.DateField(label=_("Effective from"), widget=date_input())

    def __init__(self, *args: Any, earliest: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.earliest = earliest

    def clean_effective_from(self) -> dt.date:
        day: dt.date = self.cleaned_data["effective_from"]
        today = timezone.localdate()
        if day < today:
            raise ValidationError(_("A version cannot take effect in the past."))
        if day > today + dt.timedelta(days=366):
            raise ValidationError(_("Choose a date within a year."))
        if self.earliest and day <= self.earliest:
            raise ValidationError(_("The version in force took effect on %(date)s; choose a "
                                    "later date.") % {"date": self.earliest.isoformat()})
        return day


class RetireForm(StyledForm):
    reason = forms.CharField(label=_("Why the matter is retired"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("For example: “事项已取消（市政府令第X号）”."))


class DiffForm(forms.Form):
    against = forms.TypedChoiceField(label=_("Compare with"), coerce=int, required=False,
                                     empty_value=None)

    def __init__(self, *args: Any, versions: list[MatterVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["against"])
        field.choices = [("", _("The previous version")),
                         *((str(v.pk), _("Version %(n)d") % {"n": v.number})
                           for v in versions)]
        field.widget.attrs["class"] = "form-select"


# --- Excel import ---------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"
DEFAULT_IMPORT_MAX_BYTES = 5 * 1024 * 1024


def import_max_bytes() -> int:
    return int(getattr(settings, "YIWANG_CATALOG_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES))


class ImportForm(StyledForm):
    file = forms.FileField(
        label=_("Catalog workbook (.xlsx)"),
        help_text=_("The sheets 事项 and 申请材料 as exported here. Any error refuses the "
                    "whole file; nothing is changed."),
        widget=forms.ClearableFileInput(attrs={
            "accept": ".xlsx,application/vnd.openxmlformats-officedocument."
                      "spreadsheetml.sheet"}))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        limit = import_max_bytes()
        if upload.size > limit:
            raise ValidationError(_("The file is larger than %(mb)d MB.")
                                  % {"mb": limit // (1024 * 1024)})
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Upload an Excel workbook (.xlsx); other formats are "
                                    "not accepted."))
        data = upload.read()
        if not data.startswith(XLSX_MAGIC):
            raise ValidationError(_("This file is not an Excel workbook (.xlsx)."))
        return bytes(data)
