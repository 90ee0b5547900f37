"""Catalog management pages: the list, a new matter, a matter's page, the diff, the report."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_staff
from yiwang.services import catalog
from yiwang.services.models import Matter, VersionStatus
from yiwang.services.tests.factories import make_matter

pytestmark = pytest.mark.django_db

LIST = reverse("services:matter_admin_list")


@pytest.fixture
def admins(district):
    return {"author": district.users["district_admin"],
            "reviewer": make_staff("d_admin2", district.district, Role.DISTRICT_ADMIN),
            "street": district.users["street_a_admin"],
            "clerk": district.users["clerk_a"]}


CLEAN = {"legal_basis": "《中华人民共和国建筑法》第七条", "consult_phone": "0755-12345"}


def clean_matter(district, **extra):
    """A published matter that passes every quality check."""
    matter = make_matter(district, **{**CLEAN, **extra}).matter
    Matter.objects.filter(pk=matter.pk).update(name_pinyin=catalog.pinyin_key(matter.name))
    return matter


@pytest.fixture
def matter(district):
    return clean_matter(district)


def _draft(matter, actor, note="压缩承诺时限", **changes):
    return catalog.version_draft(actor=actor, matter=matter, changes=changes, change_note=note)


# --- list -------------------------------------------------------------------------------------

def test_list__shows_matters_in_scope_with_version_draft_and_findings(client_for, admins,
                                                                        matter):
    _draft(matter, admins["author"], has_fee=True)  # a fee without basis: an error
    page = client_for(admins["author"]).get(LIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "建筑工程施工许可证核发" in text and matter.implementation_code in text
    row = page.context["page_obj"].object_list[0]
    assert row.open_version.number == 2 and row.errors == 1
    assert reverse("services:version_edit", args=[row.open_version.pk]) in text


def test_list__street_admin_sees_nothing_of_a_department_outside_the_street(
        client_for, admins, matter):
    page = client_for(admins["street"]).get(LIST)
    assert page.status_code == 200
    assert matter.implementation_code not in page.content.decode()
    assert list(page.context["page_obj"]) == []


@pytest.mark.parametrize("who", ["clerk"])
def test_list__staff_without_catalog_permissions_are_refused(client_for, admins, matter, who):
    assert client_for(admins[who]).get(LIST).status_code == 403


def test_list__filters_by_keyword_pinyin_status_department_and_findings(
        client_for, admins, district):
    good = clean_matter(district, code="GOOD-1", name="户外广告设置许可")
    bad = clean_matter(district, code="BAD-1", name="燃气经营许可")
    _draft(bad, admins["author"], has_fee=True)
    client = client_for(admins["author"])

    def codes(**query):
        page = client.get(LIST, query)
        assert page.status_code == 200
        return {row.matter.implementation_code for row in page.context["page_obj"]}

    assert codes(q="广告") == {"GOOD-1"}
    assert codes(q="hwgg") == {"GOOD-1"}  # pinyin initials of 户外广告
    assert codes(status="draft") == {"BAD-1"}
    assert codes(findings="errors") == {"BAD-1"}
    assert codes(findings="none") == {"GOOD-1"}
    assert codes(department=district.department.code) == {"GOOD-1", "BAD-1"}
    assert codes(department=district.street_b.code) == set()
    assert good.pk and bad.pk


def test_list__pages_of_25(client_for, admins, district):
    for n in range(30):
        make_matter(district, code=f"P-{n:03d}", name=f"事项{n}", deficiency_allowed=False)
    client = client_for(admins["author"])
    first = client.get(LIST)
    assert len(first.context["page_obj"].object_list) == 25
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page_obj"].object_list) == 5


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_list__query_count_does_not_grow_with_matters(client_for, admins, district):
    client = client_for(admins["author"])
    client.get(LIST)  # the shell caches the district's name on the first page
    for n in range(3):
        version = make_matter(district, code=f"Q-{n}", deficiency_allowed=False)
        _draft(version.matter, admins["author"])
    few = _list_queries(client)
    for n in range(3, 12):
        version = make_matter(district, code=f"Q-{n}", deficiency_allowed=False)
        _draft(version.matter, admins["author"])
    assert _list_queries(client) == few


def test_list__query_count_does_not_grow_with_deficiency_matters(client_for, admins, district):
    client = client_for(admins["author"])
    client.get(LIST)
    make_matter(district, code="D-0")
    few = _list_queries(client)
    for n in range(1, 6):
        make_matter(district, code=f"D-{n}")
    assert _list_queries(client) == few


# --- a new matter ----------------------------------------------------------------------------

CREATE = reverse("services:matter_admin_create")


def _new(district, **extra):
    return {"implementation_code": "11440300MB2C92416M4440300099000",
            "department": district.department.code, "name": "临时占用道路许可",
            "basic_code": "000127099000", "matter_type": "01", "case_kind": "promised",
            **extra}


def test_create__makes_the_matter_with_a_first_draft_and_opens_it(client_for, admins,
                                                                   district):
    response = client_for(admins["author"]).post(CREATE, _new(district))
    matter = Matter.objects.get(implementation_code="11440300MB2C92416M4440300099000")
    version = matter.versions.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("services:version_edit", args=[version.pk])
    assert version.status == VersionStatus.DRAFT and version.created_by == admins["author"]
    assert matter.published is None and matter.department == district.department


@pytest.mark.parametrize("code,message", [
    ("bad code!", "Use up to 60 letters"),
    ("", "This field is required"),
])
def test_create__a_bad_code_is_refused_and_nothing_is_made(client_for, admins, district,
                                                            settings, code, message):
    settings.LANGUAGE_CODE = "en"
    response = client_for(admins["author"]).post(CREATE, _new(district, implementation_code=code),
                                                 HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert not Matter.objects.exists()


def test_create__the_code_validator_is_pluggable(client_for, admins, district, settings):
    settings.YIWANG_MATTER_CODE_VALIDATORS = [
        "yiwang.services.tests.test_catalog_admin_pages.only_guangdong"]
    response = client_for(admins["author"]).post(CREATE, _new(district))
    assert response.status_code == 400
    assert "only 44" in response.content.decode()
    ok = client_for(admins["author"]).post(CREATE, _new(
        district, implementation_code="44-0001"))
    assert ok.status_code == 302


def only_guangdong(value: str) -> None:
    from django.core.exceptions import ValidationError

    if not value.startswith("44"):
        raise ValidationError("only 44…")


def test_create__a_taken_code_is_refused(client_for, admins, district, matter):
    response = client_for(admins["author"]).post(CREATE, _new(
        district, implementation_code=matter.implementation_code))
    assert response.status_code == 400
    assert Matter.objects.count() == 1


def test_create__street_admin_cannot_choose_a_department_outside_the_street(
        client_for, admins, district):
    response = client_for(admins["street"]).post(CREATE, _new(district))
    assert response.status_code == 400
    assert "department" in response.context["form"].errors
    assert not Matter.objects.exists()
    assert client_for(admins["street"]).post(CREATE, _new(
        district, department=district.street_a.code)).status_code == 302


def test_create__clerk_is_refused(client_for, admins, district):
    assert client_for(admins["clerk"]).post(CREATE, _new(district)).status_code == 403
    assert not Matter.objects.exists()


# --- a matter's page -------------------------------------------------------------------------

def test_detail__lists_versions_with_people_and_the_history(client_for, admins, matter):
    draft = _draft(matter, admins["author"], promised_limit=3)
    catalog.version_review(actor=admins["reviewer"], version=draft)
    page = client_for(admins["author"]).get(
        reverse("services:matter_admin_detail", args=[matter.implementation_code]))
    assert page.status_code == 200
    versions = page.context["versions"]
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].reviewed_by == admins["reviewer"]
    text = page.content.decode()
    assert "压缩承诺时限" in text
    history = page.context["history"]
    assert [h.entry.action for h in history] == ["services.matter.review",
                                                 "services.matter.draft"]
    assert "承诺时限" in history[1].fields
    assert history[1].entry.actor_label == admins["author"].username


def test_detail__outside_the_subtree_is_not_found(client_for, admins, matter):
    url = reverse("services:matter_admin_detail", args=[matter.implementation_code])
    assert client_for(admins["street"]).get(url).status_code == 404
    assert client_for(admins["clerk"]).get(url).status_code == 403


def test_detail__the_author_is_told_a_colleague_reviews(client_for, admins, matter):
    _draft(matter, admins["author"])
    url = reverse("services:matter_admin_detail", args=[matter.implementation_code])
    mine = client_for(admins["author"]).get(url)
    assert mine.context["is_author"] and b'id="review-note"' in mine.content
    theirs = client_for(admins["reviewer"]).get(url)
    assert not theirs.context["is_author"] and b'id="review-note"' not in theirs.content


# --- diff -------------------------------------------------------------------------------------

def test_diff__shows_changed_elements_with_labels_and_material_changes(client_for, admins,
                                                                        matter):
    draft = _draft(matter, admins["author"], promised_limit=3, handling_forms=["window"],
                   has_fee=True)
    draft.materials.filter(code="site_plan").delete()
    draft.materials.filter(code="application").update(copies=2, source="license",
                                                      license_type="营业执照")
    draft.materials.create(code="id_card", name="身份证", required=True, originals=1)
    page = client_for(admins["reviewer"]).get(
        reverse("services:version_diff", args=[draft.pk]))
    assert page.status_code == 200
    rows = {r["label"]: (r["old"], r["new"]) for r in page.context["rows"]}
    assert rows["承诺时限"] == ("5", "3")
    assert rows["是否收费"] == ("否", "是")
    old_forms, new_forms = rows["办理形式"]
    assert old_forms.count("、") == 2 and "、" not in new_forms
    materials = page.context["materials"]
    assert [m["name"] for m in materials["added"]] == ["身份证"]
    assert [m["name"] for m in materials["removed"]] == ["建设工程规划许可证"]
    changed = materials["changed"][0]
    assert changed["code"] == "application"
    fields = {label: (old, new) for label, old, new in changed["fields"]}
    assert fields["复印件份数"] == ("0", "2")
    assert fields["电子证照类型"] == ("—", "营业执照")


def test_diff__against_a_chosen_version_and_a_bad_choice(client_for, admins, district, matter):
    v1 = matter.published
    v2 = _draft(matter, admins["author"], promised_limit=3)
    client = client_for(admins["reviewer"])
    url = reverse("services:version_diff", args=[v1.pk])
    first = client.get(url)
    assert first.context["against"] is None  # the first version: everything is new
    reverse_diff = client.get(url, {"against": v2.pk})
    assert reverse_diff.context["against"] == v2
    assert {r["field"] for r in reverse_diff.context["rows"]} == {"promised_limit"}
    other = clean_matter(district, code="OTHER-1").published
    bad = client.get(url, {"against": other.pk})
    assert bad.status_code == 400 and bad.context["against"] is None


# --- report -----------------------------------------------------------------------------------

def test_report__lists_each_violation_per_department_with_a_link_to_fix(client_for, admins,
                                                                         matter):
    draft = _draft(matter, admins["author"], has_fee=True)
    page = client_for(admins["author"]).get(reverse("services:catalog_report"))
    assert page.status_code == 200
    department = page.context["departments"][0]
    assert department["name"] == "示范区住房和建设局" and department["errors"] == 1
    assert reverse("services:version_edit", args=[draft.pk]) in page.content.decode()


def test_report__as_excel(client_for, admins, matter):
    _draft(matter, admins["author"], has_fee=True)
    response = client_for(admins["author"]).get(reverse("services:catalog_report"),
                                                {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert any(r[1] == matter.implementation_code and r[3] == 2 for r in rows[1:])


def test_report__street_admin_sees_only_the_street(client_for, admins, matter):
    _draft(matter, admins["author"], has_fee=True)
    page = client_for(admins["street"]).get(reverse("services:catalog_report"))
    assert page.status_code == 200 and page.context["departments"] == []


# --- the workbench's to-do ---------------------------------------------------------------------

def test_todos__drafts_to_review_for_others_and_versions_to_publish(admins, matter):
    from yiwang.services.views.catalog_admin import catalog_todos

    draft = _draft(matter, admins["author"])
    assert catalog_todos(admins["author"]) == []  # one's own draft is not one's to review
    (review,) = catalog_todos(admins["reviewer"])
    assert review.count == 1 and review.url.endswith("?status=draft")
    catalog.version_review(actor=admins["reviewer"], version=draft)
    (publish,) = catalog_todos(admins["author"])
    assert publish.url.endswith("?status=reviewed")
    assert catalog_todos(admins["street"]) == [] and catalog_todos(admins["clerk"]) == []
