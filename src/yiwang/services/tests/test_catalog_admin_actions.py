"""Catalog management writes: editing a draft, review, publication, retirement, Excel."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import CheckboxInput
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yiwang.core.models import AuditEntry
from yiwang.services import catalog, excel
from yiwang.services.models import Matter, MatterVersion, VersionStatus

from . import test_catalog_admin_pages as pages

admins = pages.admins  # the same people as on the pages' tests

pytestmark = pytest.mark.django_db


@pytest.fixture
def matter(district):
    return pages.clean_matter(district)


@pytest.fixture
def draft(matter, admins):
    return catalog.version_draft(actor=admins["author"], matter=matter, changes={},
                                 change_note="年度梳理")


def edit_url(version):
    return reverse("services:version_edit", args=[version.pk])


def detail_url(matter):
    return reverse("services:matter_admin_detail", args=[matter.implementation_code])


def form_data(context) -> dict:
    """What the browser would send back for the edit page as rendered."""
    data: dict = {}
    forms = [context["form"]]
    for name in ("steps", "locations", "faq", "materials"):
        formset = context[name]
        for bf in formset.management_form:
            data[bf.html_name] = bf.value()
        forms += list(formset.forms)
    for form in forms:
        for bf in form:
            value = bf.value()
            if isinstance(bf.field.widget, CheckboxInput):
                if value:
                    data[bf.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bf.html_name] = [str(v) for v in value]
            elif value is not None:
                data[bf.html_name] = value
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- editing a draft --------------------------------------------------------------------------

def test_edit__shows_existing_rows_and_one_blank_row_per_list(client_for, admins, draft):
    page = client_for(admins["author"]).get(edit_url(draft))
    assert page.status_code == 200
    assert len(page.context["steps"].forms) == 5 + 1
    assert len(page.context["materials"].forms) == 2 + 1
    assert len(page.context["faq"].forms) == 1
    text = page.content.decode()
    assert 'name="steps-5-name"' in text and 'name="materials-2-name"' in text
    assert 'id="steps-template"' in text  # for the "add a row" script


def test_edit__saves_fields_rows_and_materials_and_audits(client_for, admins, draft):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data.update({"promised_limit": "3", "steps-5-name": "归档", "steps-5-ORDER": "6",
                 "faq-0-q": "需要本人到场吗？", "faq-0-a": "不需要。",
                 "locations-0-name": "区行政服务大厅", "locations-0-address": "龙华大道1号",
                 "materials-1-DELETE": "on",
                 "materials-2-name": "营业执照", "materials-2-source": "license",
                 "materials-2-license_type": "营业执照", "materials-2-required": "on",
                 "materials-2-ORDER": "3"})
    response = client.post(edit_url(draft), data)
    assert response.status_code == 302 and response["Location"] == edit_url(draft)
    draft.refresh_from_db()
    assert draft.promised_limit == 3
    assert [s["name"] for s in draft.steps] == ["受理", "审查", "决定", "办结", "送达", "归档"]
    assert draft.faq == [{"q": "需要本人到场吗？", "a": "不需要。"}]
    assert draft.locations == [{"name": "区行政服务大厅", "address": "龙华大道1号"}]
    materials = list(draft.materials.values_list("name", "source", "license_type"))
    assert materials == [("申请表", "upload", ""), ("营业执照", "license", "营业执照")]
    edits = AuditEntry.objects.filter(action="services.matter.edit").order_by("id")
    assert edits.count() == 2  # the fields, then the materials
    assert edits[0].after["promised_limit"] == 3 and "materials" in edits[1].after
    assert edits[0].actor_id == admins["author"].pk


def test_edit__reorders_steps_by_their_numbers(client_for, admins, draft):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data.update({"steps-4-ORDER": "0"})  # 送达 first
    assert client.post(edit_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.steps[0]["name"] == "送达"


def test_edit__a_finding_is_shown_after_the_save_and_goes_away_when_fixed(client_for, admins,
                                                                           draft):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data["has_fee"] = "on"
    response = client.post(edit_url(draft), data, follow=True)
    assert [f.rule for f, _anchor in response.context["findings"]] == ["fee_basis"]
    assert response.context["blocking"] == 1
    assert any("1" in m for m in messages_of(response))
    assert 'href="#id_fee_basis"' in response.content.decode()

    data = form_data(response.context)
    data.update({"fee_basis": "《行政事业性收费标准》", "fee_standard": "每件50元"})
    fixed = client.post(edit_url(draft), data, follow=True)
    assert fixed.context["findings"] == [] and fixed.context["blocking"] == 0


@pytest.mark.parametrize("schema,error", [
    ('{"type": "object", "properties": {"a": {"type": "nosuchtype"}}}', "JSON Schema"),
    ('{"type": "object", "properties": ', "JSON"),
    ('["a list"]', "object"),
])
def test_edit__a_bad_application_form_schema_is_refused(client_for, admins, draft, schema,
                                                        error):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data.update({"form_schema": schema, "promised_limit": "2"})
    response = client.post(edit_url(draft), data)
    assert response.status_code == 400
    assert "form_schema" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.promised_limit == 5  # nothing saved


def test_edit__a_valid_application_form_schema_is_stored(client_for, admins, draft):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data["form_schema"] = ('{"type": "object", "required": ["phone"], "properties": '
                           '{"phone": {"type": "string", "title": "联系电话"}}}')
    assert client.post(edit_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.form_schema["required"] == ["phone"]


def test_edit__a_material_row_is_checked(client_for, admins, draft):
    client = client_for(admins["author"])
    data = form_data(client.get(edit_url(draft)).context)
    data.update({"materials-2-name": "营业执照", "materials-2-source": "license",
                 "materials-0-required": "", "materials-0-condition": ""})
    data.pop("materials-0-required")
    response = client.post(edit_url(draft), data)
    assert response.status_code == 400
    materials = response.context["materials"]
    assert "license_type" in materials.forms[2].errors
    assert "condition" in materials.forms[0].errors
    assert draft.materials.count() == 2


def test_edit__the_second_of_two_concurrent_saves_gets_a_conflict(client_for, admins, draft):
    first, second = client_for(admins["author"]), client_for(admins["reviewer"])
    mine = form_data(first.get(edit_url(draft)).context)
    theirs = form_data(second.get(edit_url(draft)).context)
    mine["promised_limit"] = "3"
    assert first.post(edit_url(draft), mine).status_code == 302
    theirs["promised_limit"] = "4"
    response = second.post(edit_url(draft), theirs)
    assert response.status_code == 409
    assert response.context["conflict"].by == admins["author"].username
    draft.refresh_from_db()
    assert draft.promised_limit == 3  # the first save stands
    # Reloading gives the latest revision, and then the save goes through.
    fresh = form_data(second.get(edit_url(draft)).context)
    fresh["promised_limit"] = "4"
    assert second.post(edit_url(draft), fresh).status_code == 302


def test_edit__a_published_version_is_read_only(client_for, admins, matter):
    client = client_for(admins["author"])
    version = matter.published
    page = client.get(edit_url(version))
    assert page.status_code == 200
    assert "services/catalog_admin/version_locked.html" in [t.name for t in page.templates]
    response = client.post(edit_url(version), {"name": "改名"})
    assert response.status_code == 302 and response["Location"] == detail_url(matter)
    assert messages_of(response)
    version.refresh_from_db()
    assert version.name == "建筑工程施工许可证核发"


def test_edit__clerk_is_refused_and_street_admin_does_not_find_it(client_for, admins, draft):
    assert client_for(admins["clerk"]).get(edit_url(draft)).status_code == 403
    assert client_for(admins["clerk"]).post(edit_url(draft), {}).status_code == 403
    assert client_for(admins["street"]).get(edit_url(draft)).status_code == 404
    assert client_for(admins["street"]).post(edit_url(draft), {}).status_code == 404


# --- transitions ------------------------------------------------------------------------------

def test_draft__starts_a_new_version_from_the_current_one(client_for, admins, matter):
    client = client_for(admins["author"])
    url = reverse("services:version_draft", args=[matter.implementation_code])
    assert client.post(url, {"change_note": ""}).status_code == 400
    assert matter.versions.count() == 1
    response = client.post(url, {"change_note": "材料精简"})
    version = matter.versions.get(number=2)
    assert response.status_code == 302 and response["Location"] == edit_url(version)
    assert version.change_note == "材料精简" and version.materials.count() == 2
    again = client.post(url, {"change_note": "再来一次"})
    assert again.status_code == 302 and messages_of(again)
    assert matter.versions.count() == 2


def test_review__the_author_is_told_a_colleague_must_review(client_for, admins, draft):
    url = reverse("services:version_review", args=[draft.pk])
    response = client_for(admins["author"]).post(url)
    assert response.status_code == 302
    assert any("colleague" in m or "同事" in m for m in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_review__quality_errors_block_it_with_the_reasons(client_for, admins, draft):
    catalog.version_update(actor=admins["author"], version=draft, changes={"has_fee": True})
    response = client_for(admins["reviewer"]).post(
        reverse("services:version_review", args=[draft.pk]))
    shown = messages_of(response)
    assert len(shown) == 2 and ("收费" in shown[1] or "fee" in shown[1])
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_review_then_publish__replaces_the_version_in_force(client_for, admins, matter,
                                                            draft):
    reviewer = client_for(admins["reviewer"])
    assert reviewer.post(reverse("services:version_review", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.REVIEWED and draft.reviewed_by == admins["reviewer"]
    publish = reverse("services:version_publish", args=[draft.pk])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    bad = reviewer.post(publish, {"effective_from": yesterday.isoformat()})
    assert bad.status_code == 400 and "effective_from" in bad.context["publish_form"].errors
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert reviewer.post(publish, {"effective_from": tomorrow.isoformat()}).status_code == 302
    matter.refresh_from_db()
    draft.refresh_from_db()
    assert matter.published == draft and draft.effective_from == tomorrow
    old = matter.versions.get(number=1)
    assert old.status == VersionStatus.RETIRED and old.effective_to == timezone.localdate()


def test_publish__only_a_reviewed_version(client_for, admins, draft):
    response = client_for(admins["reviewer"]).post(
        reverse("services:version_publish", args=[draft.pk]),
        {"effective_from": timezone.localdate().isoformat()})
    assert response.status_code == 302 and messages_of(response)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_retire__needs_a_reason(client_for, admins, matter):
    client = client_for(admins["author"])
    url = reverse("services:matter_retire", args=[matter.implementation_code])
    assert client.post(url, {"reason": "  "}).status_code == 400
    matter.refresh_from_db()
    assert matter.published is not None
    assert client.post(url, {"reason": "事项已取消"}).status_code == 302
    matter.refresh_from_db()
    assert matter.published is None
    entry = AuditEntry.objects.get(action="services.matter.retire")
    assert entry.reason == "事项已取消"


@pytest.mark.parametrize("route,arg", [
    ("services:version_draft", "code"), ("services:matter_retire", "code"),
    ("services:version_review", "draft"), ("services:version_publish", "draft"),
])
def test_transitions__clerk_403_street_admin_404_nothing_changes(client_for, admins, matter,
                                                                 draft, route, arg):
    url = reverse(route, args=[matter.implementation_code if arg == "code" else draft.pk])
    body = {"change_note": "x", "reason": "x",
            "effective_from": timezone.localdate().isoformat()}
    assert client_for(admins["clerk"]).post(url, body).status_code == 403
    assert client_for(admins["street"]).post(url, body).status_code == 404
    assert MatterVersion.objects.filter(matter=matter).count() == 2
    draft.refresh_from_db()
    matter.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and matter.published is not None


# --- Excel ------------------------------------------------------------------------------------

IMPORT = reverse("services:catalog_import")


def xlsx(data: bytes, name: str = "catalog.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=excel_type())


def excel_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _edited(data: bytes, column: str, value) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[excel.MATTER_SHEET]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index(column) + 1, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_export__downloads_the_scoped_catalog(client_for, admins, matter):
    response = client_for(admins["author"]).get(reverse("services:catalog_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="catalog-')
    sheet = load_workbook(io.BytesIO(response.content))[excel.MATTER_SHEET]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        matter.implementation_code]
    street = client_for(admins["street"]).get(reverse("services:catalog_export"))
    sheet = load_workbook(io.BytesIO(street.content))[excel.MATTER_SHEET]
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == []


def test_import__round_trip_changes_nothing_and_a_changed_row_makes_a_draft(
        client_for, admins, matter):
    client = client_for(admins["author"])
    exported = client.get(reverse("services:catalog_export")).content
    same = client.post(IMPORT, {"file": xlsx(exported)})
    assert same.status_code == 302
    assert matter.versions.count() == 1
    changed = client.post(IMPORT, {"file": xlsx(_edited(exported, "承诺办结时限", 2))})
    assert changed.status_code == 302
    assert any("1" in m for m in messages_of(changed))
    draft = matter.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT and draft.promised_limit == 2


def test_import__a_bad_cell_refuses_the_whole_file_with_row_and_column(client_for, admins,
                                                                        matter):
    client = client_for(admins["author"])
    exported = client.get(reverse("services:catalog_export")).content
    response = client.post(IMPORT, {"file": xlsx(_edited(exported, "事项类型", "许可吗"))})
    assert response.status_code == 400
    errors = response.context["import_errors"]
    assert len(errors) == 1 and "2" in errors[0] and "事项类型" in errors[0]
    assert "许可吗" in response.content.decode()
    assert matter.versions.count() == 1


@pytest.mark.parametrize("upload", [
    lambda: SimpleUploadedFile("catalog.csv", b"a,b\n1,2\n", content_type="text/csv"),
    lambda: xlsx(b"not really a workbook"),
    lambda: SimpleUploadedFile("catalog.xls", b"\xd0\xcf\x11\xe0",
                               content_type="application/vnd.ms-excel"),
])
def test_import__only_xlsx_files(client_for, admins, matter, upload):
    response = client_for(admins["author"]).post(IMPORT, {"file": upload()})
    assert response.status_code == 400 and "file" in response.context["form"].errors
    assert Matter.objects.count() == 1


def test_import__a_file_above_the_limit_is_refused(client_for, admins, matter, settings):
    settings.YIWANG_CATALOG_IMPORT_MAX_BYTES = 1024
    exported = client_for(admins["author"]).get(reverse("services:catalog_export")).content
    response = client_for(admins["author"]).post(IMPORT, {"file": xlsx(exported)})
    assert response.status_code == 400 and "file" in response.context["form"].errors


def test_import__rows_outside_the_scope_are_named_and_nothing_is_imported(
        client_for, admins, matter, district):
    exported = client_for(admins["author"]).get(reverse("services:catalog_export")).content
    changed = _edited(exported, "承诺办结时限", 2)
    response = client_for(admins["street"]).post(IMPORT, {"file": xlsx(changed)})
    assert response.status_code == 400
    assert "2" in response.context["import_errors"][0]
    assert matter.versions.count() == 1


def test_import__clerk_is_refused(client_for, admins, matter):
    assert client_for(admins["clerk"]).get(IMPORT).status_code == 403


def test_edit__saving_the_page_untouched_keeps_every_element(client_for, admins, draft):
    catalog.version_update(actor=admins["author"], version=draft, changes={
        "form_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
        "translations": {"en": {"name": "Construction permit"}}, "citywide": True})
    draft.themes.set([])
    before = catalog.content_of(MatterVersion.objects.get(pk=draft.pk))
    client = client_for(admins["author"])
    assert client.post(edit_url(draft), form_data(client.get(edit_url(draft)).context)
                       ).status_code == 302
    assert catalog.content_of(MatterVersion.objects.get(pk=draft.pk)) == before
