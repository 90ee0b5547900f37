"""The application form: JSON Schema rendered as an accessible form, parsed back into
typed JSON, validated with messages in the user's language."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from yiwang.services.schema_forms import SchemaForm, form_answers, schema_problems

SCHEMA = {
    "type": "object",
    "required": ["project", "contact_phone", "start", "kind", "area", "promise"],
    "properties": {
        "project": {"type": "string", "title": "项目名称", "maxLength": 20,
                    "description": "与规划许可一致"},
        "contact_phone": {"type": "string", "title": "联系电话", "pattern": r"^1\d{10}$",
                          "x-pattern-message": "请填写11位手机号码"},
        "email": {"type": "string", "title": "电子邮箱", "format": "email"},
        "start": {"type": "string", "title": "开工日期", "format": "date"},
        "kind": {"type": "string", "title": "工程类别", "enum": ["new", "extend"],
                 "x-enumNames": ["新建", "扩建"]},
        "district": {"type": "string", "title": "所在街道",
                     "enum": ["a", "b", "c", "d", "e", "f"]},
        "floors": {"type": "integer", "title": "层数", "minimum": 1, "maximum": 100},
        "area": {"type": "number", "title": "建筑面积（平方米）", "exclusiveMinimum": 0},
        "uses": {"type": "array", "title": "用途", "items": {"enum": ["home", "shop", "office"]},
                 "minItems": 1},
        "note": {"type": "string", "title": "申请事由", "x-widget": "textarea",
                 "maxLength": 500},
        "promise": {"type": "boolean", "title": "本人承诺所填信息真实", "const": True},
        "subsidy": {"type": "boolean", "title": "申请补贴"},
    },
}

GOOD = {"f-project": "示范小学扩建", "f-contact_phone": "13800138000",
        "f-email": "li@example.com", "f-start": "2026-05-01", "f-kind": "extend",
        "f-district": "c", "f-floors": "6", "f-area": "1200.5", "f-uses": ["shop", "home"],
        "f-note": "  扩建教学楼  ", "f-promise": "on"}


def post(values: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def bound(**changes) -> SchemaForm:
    values = {**GOOD, **changes}
    return SchemaForm(SCHEMA, data=post({k: v for k, v in values.items() if v is not None}))


# --- parsing ---------------------------------------------------------------------------------


def test_parse__typed_json_in_schema_order():
    form = bound()
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "project": "示范小学扩建", "contact_phone": "13800138000", "email": "li@example.com",
        "start": "2026-05-01", "kind": "extend", "district": "c", "floors": 6,
        "area": 1200.5, "uses": ["home", "shop"], "note": "扩建教学楼", "promise": True,
        "subsidy": False}
    assert not list(Draft202012Validator(SCHEMA).iter_errors(form.cleaned_data))


def test_parse__full_width_digits_and_spaces_are_normalised():
    form = bound(**{"f-floors": "１２", "f-contact_phone": " 13800138000 "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["floors"] == 12
    assert form.cleaned_data["contact_phone"] == "13800138000"


def test_parse__empty_optional_fields_are_left_out():
    form = bound(**{"f-email": "", "f-floors": "", "f-district": "", "f-note": "   "})
    assert form.is_valid(), form.errors
    assert not {"email", "floors", "district", "note"} & set(form.cleaned_data)


# --- validation: one table, messages in Chinese ----------------------------------------------


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"f-project": None}, "project", "Fill in “项目名称”."),
    ({"f-project": "长" * 21}, "project", "Use at most 20 characters."),
    ({"f-contact_phone": "12345"}, "contact_phone", "请填写11位手机号码"),
    ({"f-email": "not-an-email"}, "email", "Enter an email address like name@example.com."),
    ({"f-start": "2026-13-45"}, "start", "Enter a date like 2026-05-01."),
    ({"f-start": "下周一"}, "start", "Enter a date like 2026-05-01."),
    ({"f-kind": "demolish"}, "kind", "Choose from the options shown."),
    ({"f-kind": None}, "kind", "Choose an option for “工程类别”."),
    ({"f-floors": "六"}, "floors", "Enter a whole number, for example 12."),
    ({"f-floors": "6.5"}, "floors", "Enter a whole number, for example 12."),
    ({"f-floors": "0"}, "floors", "Enter 1 or more."),
    ({"f-floors": "101"}, "floors", "Enter 100 or less."),
    ({"f-area": "0"}, "area", "Enter more than 0."),
    ({"f-area": "NaN"}, "area", "Enter a number, for example 12.5."),
    ({"f-uses": []}, "uses", "Choose at least 1."),
    ({"f-uses": ["home", "castle"]}, "uses", "Choose from the options shown."),
    ({"f-promise": None}, "promise", "Tick this box to continue."),
])
def test_validate__one_message_of_ours_on_the_field(change, field, message):
    """Our own (translatable) sentences, never jsonschema's; checked in the source
    language so the test does not depend on the compiled catalogue."""
    with translation.override("en"):
        form = bound(**change)
        assert not form.is_valid()
        assert form.errors == {field: [message]}
    assert field not in form.cleaned_data


def test_validate__messages_go_through_gettext(monkeypatch):
    from yiwang.services import schema_forms

    monkeypatch.setattr(schema_forms, "_", lambda text: f"«{text}»")
    form = bound(**{"f-floors": "0", "f-project": None})
    form.is_valid()
    assert form.errors == {"project": ["«Fill in “%(label)s”.»".replace("%(label)s", "项目名称")],
                           "floors": ["«Enter %(n)s or more.»".replace("%(n)s", "1")]}


def test_validate__english_when_the_user_reads_english():
    with translation.override("en"):
        form = bound(**{"f-project": None})
        form.is_valid()
        assert form.errors["project"] == ["Fill in “项目名称”."]


def test_validate__a_draft_may_leave_required_fields_empty_but_not_wrong_ones():
    form = bound(**{"f-project": None, "f-promise": None, "f-floors": "x"})
    assert not form.is_valid(partial=True)
    assert list(form.errors) == ["floors"]
    form = bound(**{"f-project": None, "f-promise": None})
    assert form.is_valid(partial=True)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values=st.dictionaries(
    st.sampled_from([f"f-{name}" for name in SCHEMA["properties"]]),
    st.one_of(st.text(max_size=40), st.lists(st.text(max_size=8), max_size=4))))
def test_validate__any_input_is_either_valid_json_or_field_errors(values):
    form = SchemaForm(SCHEMA, data=post(values))
    if form.is_valid():
        assert not list(Draft202012Validator(
            SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
            .iter_errors(form.cleaned_data))
    else:
        assert form.errors and not form.non_field_errors
        assert set(form.errors) <= set(SCHEMA["properties"])


# --- rendering ---------------------------------------------------------------------------------


def render(form: SchemaForm) -> str:
    with translation.override("zh-hans"):
        return render_to_string("services/applicant/partials/_schema_form.html",
                                {"schema_form": form})


def test_render__labels_help_and_errors_are_linked():
    form = bound(**{"f-project": "长" * 21})
    form.is_valid()
    html = render(form)
    assert '<label class="form-label" for="id_f-project">项目名称</label>' in html
    assert 'aria-describedby="id_f-project_helptext id_f-project_error"' in html
    assert 'id="id_f-project_helptext">与规划许可一致' in html
    assert 'aria-invalid="true"' in html
    assert 'value="' + "长" * 21 + '"' in html  # what was typed comes back
    assert 'maxlength="20"' in html


def test_render__widgets_follow_the_schema():
    html = render(SchemaForm(SCHEMA))
    assert 'type="tel"' not in html  # inputs stay text; the keyboard comes from inputmode
    assert 'autocomplete="tel"' in html and 'inputmode="tel"' in html
    assert 'type="email"' in html and 'type="date"' in html
    assert 'type="radio" name="f-kind"' in html and ">扩建</label>" in html  # ≤ 5 options
    assert '<select class="form-select" name="f-district"' in html  # more: a select
    assert 'type="checkbox" name="f-uses"' in html
    assert "<textarea" in html and 'name="f-note"' in html
    assert 'inputmode="numeric"' in html and 'inputmode="decimal"' in html
    assert "<legend" in html  # groups are fieldsets with a legend
    assert "(选填)" in html  # optional fields say so (core's wording)


def test_render__saved_answers_are_shown_again():
    form = SchemaForm(SCHEMA, initial={"kind": "new", "uses": ["office"], "promise": True,
                                       "floors": 3})
    html = render(form)
    assert 'value="new" checked' in html
    assert 'value="office" checked' in html
    assert 'name="f-promise" id="id_f-promise" checked' in html
    assert 'value="3"' in html


def test_translations__labels_per_language():
    translations = {"project": {"title": "Project name", "description": "As on the permit"}}
    form = SchemaForm(SCHEMA, translations=translations)
    assert form.by_name["project"].label == "Project name"
    assert form.by_name["project"].help == "As on the permit"


def test_schema_problems__reports_what_cannot_be_shown():
    assert schema_problems(SCHEMA) == []
    assert schema_problems({}) == []
    problems = schema_problems({"type": "object", "properties": {
        "bad name": {"type": "string"}, "obj": {"type": "object"}}})
    assert len(problems) == 2
    assert schema_problems({"type": "object", "properties": {"x": {"type": "strin"}}})


def test_form_answers__labels_and_option_names():
    with translation.override("zh-hans"):
        answers = form_answers(SCHEMA, {"kind": "extend", "uses": ["home", "shop"],
                                        "promise": True, "floors": 6})
    assert ("工程类别", "扩建") in answers
    assert ("用途", "home、shop") in answers
    assert ("本人承诺所填信息真实", "是") in answers
    assert ("层数", "6") in answers


def test_order__x_order_then_required_first_as_jsonb_keeps_no_order():
    schema = {"type": "object", "required": ["b", "a"], "properties": {
        "a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}}
    assert [f.name for f in SchemaForm(schema).fields] == ["b", "a", "c"]
    schema["x-order"] = ["c", "a"]
    assert [f.name for f in SchemaForm(schema).fields] == ["c", "a", "b"]
