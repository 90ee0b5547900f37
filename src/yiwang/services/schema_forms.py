"""A matter version's application form: JSON Schema in, accessible HTML form out.

The catalog keeps each matter's form as a JSON Schema (draft 2020-12). This module
renders the subset the catalog uses as labelled HTML fields, parses the POST back into
typed JSON and validates it with ``jsonschema``, turning every error into a message in
the user's language next to its field (never jsonschema's English).

Supported: an ``object`` whose ``properties`` are

- ``string`` with ``maxLength``/``minLength``, ``pattern``, ``format`` ``date``/``email``,
  ``enum`` (radios up to five options, else a select; ``x-widget`` overrides),
  ``x-widget: textarea``;
- ``integer`` / ``number`` with ``minimum``/``maximum`` (and exclusive ones);
- ``boolean`` (a checkbox; ``const: true`` makes it a box that must be ticked);
- ``array`` of ``enum`` items (checkboxes) with ``minItems``/``maxItems``;

``title`` and ``description`` become the label and its help; ``required`` lists what
must be filled in; a root ``x-order`` list gives the order of the fields (jsonb keeps
none). ``x-enumNames`` labels enum options, ``x-autocomplete`` and ``x-pattern-message``
refine the input's autocomplete and the pattern's error message.
Per language, ``MatterVersion.translations[<lang>]["form"][<name>]`` may override
``title``, ``description``, ``x-enumNames`` and ``x-pattern-message``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RADIO_MAX = 5
TEXTAREA_MIN_LENGTH = 300  # a long free text gets a textarea without being told
DEFAULT_PREFIX = "f"

# Autocomplete tokens by property name, so phones and browsers can fill in what they know.
AUTOCOMPLETE = {
    "name": "name", "applicant_name": "name", "contact_name": "name", "contact": "name",
    "phone": "tel", "mobile": "tel", "contact_phone": "tel", "telephone": "tel",
    "email": "email", "contact_email": "email",
    "address": "street-address", "contact_address": "street-address",
    "postal_code": "postal-code", "postcode": "postal-code", "zip": "postal-code",
    "organization": "organization", "company": "organization", "enterprise_name": "organization",
}
INPUTMODE = {"tel": "tel", "email": "email", "postal-code": "numeric"}


@dataclass
class SchemaField:
    """One rendered field: what the template needs, nothing more."""

    name: str
    html_name: str
    id: str
    # text, textarea, date, email, integer, number, select, radios, checkbox, checkboxes
    widget: str
    label: str
    help: str = ""
    required: bool = False
    value: Any = ""          # the text to show again, or a list of chosen option values
    choices: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def help_id(self) -> str:
        return f"{self.id}_helptext"

    @property
    def error_id(self) -> str:
        return f"{self.id}_error"

    @property
    def describedby(self) -> str:
        ids = [self.help_id] if self.help else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def is_group(self) -> bool:
        """Rendered as a fieldset with a legend (radios and checkboxes)."""
        return self.widget in ("radios", "checkboxes")

    @property
    def options(self) -> list[tuple[str, str, bool]]:
        """(value, label, chosen) of each option of a select, radios or checkboxes."""
        chosen = set(self.value) if isinstance(self.value, list) else {self.value}
        return [(value, label, value in chosen) for value, label in self.choices]


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """What in ``schema`` this renderer cannot show (for the catalog's quality checks)."""
    if not schema:
        return []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [_("The form is not valid JSON Schema: %(error)s") % {"error": exc.message}]
    problems = []
    if schema.get("type") != "object":
        problems.append(_("The form must be an object with properties."))
    for name, spec in (schema.get("properties") or {}).items():
        if not NAME_RE.match(name):
            problems.append(_("Field name “%(name)s”: use letters, digits and _ only.")
                            % {"name": name})
        elif _widget_of(spec) is None:
            problems.append(_("Field “%(name)s”: this kind of field cannot be shown.")
                            % {"name": name})
    return problems


def _widget_of(spec: Mapping[str, Any]) -> str | None:
    kind = spec.get("type")
    wanted = spec.get("x-widget")
    if kind == "string":
        if "enum" in spec:
            if wanted in ("select", "radios"):
                return str(wanted)
            return "radios" if len(spec["enum"]) <= RADIO_MAX else "select"
        if spec.get("format") in ("date", "email"):
            return str(spec["format"])
        if wanted == "textarea" or (spec.get("maxLength") or 0) >= TEXTAREA_MIN_LENGTH:
            return "textarea"
        return "text"
    if kind in ("integer", "number"):
        if "enum" in spec:
            return "select"
        return str(kind)
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        items = spec.get("items") or {}
        if "enum" in items and items.get("type", "string") in ("string", "integer", "number"):
            return "checkboxes"
    return None


class SchemaForm:
    """The form of one matter version, bound to POST data or to saved JSON.

    ``SchemaForm(schema)`` shows an empty form, ``SchemaForm(schema, initial=case.form_data)``
    a saved one, ``SchemaForm(schema, data=request.POST)`` parses a submission: call
    ``is_valid(partial=...)`` and read ``cleaned_data`` (typed JSON) or the field errors.
    """

    def __init__(self, schema: Mapping[str, Any] | None, *, data: Any = None,
                 initial: Mapping[str, Any] | None = None, prefix: str = DEFAULT_PREFIX,
                 translations: Mapping[str, Any] | None = None) -> None:
        self.schema = dict(schema or {})
        self.data = data
        self.is_bound = data is not None
        self.prefix = prefix
        self.cleaned_data: dict[str, Any] = {}
        self.non_field_errors: list[str] = []
        self._validated = False
        translations = translations or {}
        required = set(self.schema.get("required") or [])
        self.specs: dict[str, dict[str, Any]] = {}
        self.fields: list[SchemaField] = []
        for name, spec in ordered_properties(self.schema):
            widget = _widget_of(spec)
            if widget is None or not NAME_RE.match(name):
                continue
            spec = {**spec, **{k: v for k, v in (translations.get(name) or {}).items()
                               if k in ("title", "description", "x-enumNames",
                                        "x-pattern-message")}}
            self.specs[name] = spec
            html_name = f"{prefix}-{name}"
            one = SchemaField(name=name, html_name=html_name, id=f"id_{html_name}",
                              widget=widget, label=str(spec.get("title") or name),
                              help=str(spec.get("description") or ""),
                              required=name in required or (widget == "checkbox"
                                                            and spec.get("const") is True))
            one.choices = _choices(spec)
            one.attrs = _attrs(name, spec, widget)
            if self.is_bound:
                one.value = self._raw(one)
            elif initial and name in initial:
                one.value = _display(initial[name], widget)
            elif "default" in spec:
                one.value = _display(spec["default"], widget)
            else:
                one.value = [] if widget == "checkboxes" else ""
            self.fields.append(one)
        self.by_name = {f.name: f for f in self.fields}

    # --- parsing --------------------------------------------------------------------

    def _raw(self, one: SchemaField) -> Any:
        if one.widget == "checkboxes":
            return [str(v) for v in self.data.getlist(one.html_name)] if hasattr(
                self.data, "getlist") else list(self.data.get(one.html_name) or [])
        if one.widget == "checkbox":
            return "on" if self.data.get(one.html_name) else ""
        value = self.data.get(one.html_name, "")
        return value if isinstance(value, str) else str(value)

    def _parse(self, one: SchemaField) -> tuple[bool, Any]:
        """(present, typed value) of one field, or a field error (then not present)."""
        spec = self.specs[one.name]
        raw = one.value
        if one.widget == "checkbox":
            return True, raw == "on"
        if one.widget == "checkboxes":
            options = {str(v): v for v in (spec.get("items") or {}).get("enum", [])}
            unknown = [v for v in raw if v not in options]
            if unknown:
                one.errors.append(_("Choose from the options shown."))
                return False, None
            # Keep the schema's order and drop repeats, whatever the browser sent.
            chosen = [options[k] for k in options if k in raw]
            return True, chosen
        text = unicodedata.normalize("NFKC", raw).strip() if one.widget != "textarea" \
            else raw.strip()
        if text == "":
            return False, None
        if one.widget in ("select", "radios"):
            options = {str(v): v for v in spec.get("enum", [])}
            if text not in options:
                one.errors.append(_("Choose from the options shown."))
                return False, None
            return True, options[text]
        if one.widget == "integer":
            try:
                return True, int(text.replace(",", ""))
            except ValueError:
                one.errors.append(_("Enter a whole number, for example 12."))
                return False, None
        if one.widget == "number":
            try:
                number = decimal.Decimal(text.replace(",", ""))
            except decimal.InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                one.errors.append(_("Enter a number, for example 12.5."))
                return False, None
            return True, int(number) if number == number.to_integral_value() else float(number)
        return True, text

    def is_valid(self, *, partial: bool = False) -> bool:
        """Parse and validate. ``partial``: a draft, where missing answers are allowed."""
        if not self.is_bound:
            return False
        if self._validated:
            return not self.has_errors
        self._validated = True
        data: dict[str, Any] = {}
        for one in self.fields:
            present, value = self._parse(one)
            if present:
                data[one.name] = value
        validator = Draft202012Validator(self.schema,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        for error in validator.iter_errors(data):
            if error.validator == "required":
                if partial:
                    continue
                for name in error.validator_value:
                    missing = self.by_name.get(name)
                    if name not in data and missing is not None and not missing.errors:
                        self._add(name, self._message(self.specs[name], "required", None))
                continue
            path = list(error.absolute_path)
            name = str(path[0]) if path else ""
            if partial and error.validator == "const" and data.get(name) is False:
                continue
            if name in self.by_name:
                self._add(name, self._message(self.specs[name], str(error.validator),
                                              error.validator_value))
            else:
                self.non_field_errors.append(_("The answers do not fit this form."))
        for one in self.fields:  # one message per field is enough
            one.errors = list(dict.fromkeys(one.errors))
            if one.errors:
                data.pop(one.name, None)
        self.cleaned_data = data
        return not self.has_errors

    def _add(self, name: str, message: str) -> None:
        self.by_name[name].errors.append(message)

    def _message(self, spec: Mapping[str, Any], rule: str, limit: Any) -> str:
        label = str(spec.get("title") or "")
        if rule == "required":
            if _widget_of(spec) in ("radios", "select", "checkboxes"):
                return _("Choose an option for “%(label)s”.") % {"label": label}
            return _("Fill in “%(label)s”.") % {"label": label}
        if rule == "const":
            return _("Tick this box to continue.")
        if rule == "maxLength":
            return _("Use at most %(n)s characters.") % {"n": limit}
        if rule == "minLength":
            return _("Use at least %(n)s characters.") % {"n": limit}
        if rule == "pattern":
            custom = spec.get("x-pattern-message")
            return str(custom) if custom else _("The format is not right; check the hint.")
        if rule == "format":
            if limit == "date":
                return _("Enter a date like 2026-05-01.")
            if limit == "email":
                return _("Enter an email address like name@example.com.")
            return _("The format is not right; check the hint.")
        if rule == "minimum":
            return _("Enter %(n)s or more.") % {"n": limit}
        if rule == "maximum":
            return _("Enter %(n)s or less.") % {"n": limit}
        if rule == "exclusiveMinimum":
            return _("Enter more than %(n)s.") % {"n": limit}
        if rule == "exclusiveMaximum":
            return _("Enter less than %(n)s.") % {"n": limit}
        if rule == "multipleOf":
            return _("Enter a multiple of %(n)s.") % {"n": limit}
        if rule == "minItems":
            return _("Choose at least %(n)s.") % {"n": limit}
        if rule == "maxItems":
            return _("Choose at most %(n)s.") % {"n": limit}
        if rule in ("enum", "uniqueItems"):
            return _("Choose from the options shown.")
        if rule == "type":
            return _("This answer has the wrong form.")
        return _("This answer is not valid.")

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(f.errors for f in self.fields)

    @property
    def errors(self) -> dict[str, list[str]]:
        return {f.name: f.errors for f in self.fields if f.errors}

    def add_error(self, name: str | None, message: str) -> None:
        """Show a service's message next to the field it names (or above the form)."""
        if name in self.by_name:
            self._add(str(name), message)
        else:
            self.non_field_errors.append(message)


def ordered_properties(schema: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The properties in the order to show them.

    PostgreSQL's jsonb does not keep the order of keys, so a schema says it with a root
    ``x-order`` list; without one, required fields come first (in ``required`` order),
    then the others as stored.
    """
    properties = dict(schema.get("properties") or {})
    order = [n for n in schema.get("x-order") or schema.get("required") or []
             if n in properties]
    rest = [n for n in properties if n not in order]
    return [(name, properties[name]) for name in dict.fromkeys([*order, *rest])]


def _choices(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    values = spec.get("enum")
    if values is None:
        values = (spec.get("items") or {}).get("enum")
    if values is None:
        return []
    names = spec.get("x-enumNames") or (spec.get("items") or {}).get("x-enumNames") or []
    return [(str(v), str(names[i]) if i < len(names) else str(v))
            for i, v in enumerate(values)]


def _attrs(name: str, spec: Mapping[str, Any], widget: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if widget in ("text", "textarea", "email"):
        if spec.get("maxLength"):
            attrs["maxlength"] = spec["maxLength"]
        if spec.get("minLength"):
            attrs["minlength"] = spec["minLength"]
    if widget == "text" and spec.get("pattern"):
        attrs["pattern"] = spec["pattern"]
    if widget in ("integer", "number"):
        # A text input with a numeric keyboard: type=number silently drops what it cannot
        # parse (and its spinner is hard to use), so the server explains instead.
        attrs["inputmode"] = "numeric" if widget == "integer" else "decimal"
    token = spec.get("x-autocomplete") or AUTOCOMPLETE.get(name.lower())
    if widget in ("text", "email", "textarea", "integer", "number") and token:
        attrs["autocomplete"] = token
        if widget == "text" and token in INPUTMODE:
            attrs["inputmode"] = INPUTMODE[token]
    elif widget in ("text", "textarea"):
        attrs["autocomplete"] = "off"
    return attrs


def _display(value: Any, widget: str) -> Any:
    if widget == "checkboxes":
        return [str(v) for v in value] if isinstance(value, list) else []
    if widget == "checkbox":
        return "on" if value is True else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def form_answers(schema: Mapping[str, Any] | None, data: Mapping[str, Any] | None,
                 *, translations: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(label, answer) pairs of a saved form, for case pages; option values shown as
    their labels, booleans as yes/no."""
    form = SchemaForm(schema, initial=data or {}, translations=translations)
    answers = []
    for one in form.fields:
        if not data or one.name not in data:
            continue
        value = data[one.name]
        labels = dict(one.choices)
        if one.widget == "checkbox":
            text = _("Yes") if value is True else _("No")
        elif one.widget == "checkboxes":
            text = "、".join(labels.get(str(v), str(v)) for v in value or [])
        elif one.choices:
            text = labels.get(str(value), str(value))
        else:
            text = str(value)
        answers.append((one.label, text))
    return answers
