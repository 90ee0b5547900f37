"""The catalog workbook: export → import → export round-trips; bad files change nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import load_workbook

from yiwang.accounts.roles import Role
from yiwang.core.models import OrgUnit
from yiwang.core.tests.factories import make_staff
from yiwang.services import demo, excel
from yiwang.services.models import Matter, MatterVersion, VersionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(district):
    OrgUnit.objects.filter(pk=district.department.pk).update(short_name="住建局")
    demo.load_demo_catalog(district=district.district)
    district.admin = make_staff("cat_admin", district.district, Role.DISTRICT_ADMIN)
    return district


def cells(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {name: [tuple(r) for r in book[name].iter_rows(values_only=True)]
            for name in book.sheetnames}


def test_export__one_row_per_matter_in_staff_layout(loaded):
    sheets = cells(excel.export_catalog(Matter.objects.all()))
    headers = sheets["事项"][0]
    assert headers[:3] == ("实施编码", "事项名称", "基本编码")
    rows = sheets["事项"][1:]
    assert len(rows) == Matter.objects.count() == 5
    row = dict(zip(headers, rows[0], strict=True))
    assert row["事项类型"] == "行政许可" and row["办理流程"].startswith("受理→审查")


def test_round_trip__export_import_export_identical_and_nothing_new(loaded):
    first = excel.export_catalog(Matter.objects.all())
    versions = MatterVersion.objects.count()
    result = excel.import_catalog(actor=loaded.admin, data=first)
    assert (result.created, result.drafted, result.unchanged) == (0, 0, 5)
    assert MatterVersion.objects.count() == versions
    assert cells(excel.export_catalog(Matter.objects.all())) == cells(first)


def test_import__into_empty_catalog__recreates_everything(loaded):
    data = excel.export_catalog(Matter.objects.all())
    before = cells(data)
    for matter in Matter.objects.all():
        matter.published = None
        matter.save()
    MatterVersion.objects.all().delete()
    Matter.objects.all().delete()
    result = excel.import_catalog(actor=loaded.admin, data=data)
    assert result.created == 5
    assert all(v.status == VersionStatus.DRAFT for v in MatterVersion.objects.all())
    assert cells(excel.export_catalog(Matter.objects.all())) == before


def test_import__changed_cell__new_draft_version(loaded):
    book = load_workbook(io.BytesIO(excel.export_catalog(Matter.objects.all())))
    sheet = book["事项"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("承诺办结时限") + 1, value=2)
    buffer = io.BytesIO()
    book.save(buffer)
    result = excel.import_catalog(actor=loaded.admin, data=buffer.getvalue())
    assert (result.drafted, result.unchanged) == (1, 4)
    draft = MatterVersion.objects.get(status=VersionStatus.DRAFT)
    assert draft.promised_limit == 2 and draft.number == 2


def test_import__bad_cells__whole_file_refused_with_row_and_column(loaded):
    book = load_workbook(io.BytesIO(excel.export_catalog(Matter.objects.all())))
    sheet = book["事项"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=headers.index("事项类型") + 1, value="行政许可证")
    sheet.cell(row=2, column=headers.index("承诺办结时限") + 1, value="两天")
    buffer = io.BytesIO()
    book.save(buffer)
    versions = MatterVersion.objects.count()
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        excel.import_catalog(actor=loaded.admin, data=buffer.getvalue())
    text = " ".join(exc.value.messages)
    assert "row 3" in text and "事项类型" in text and "row 2" in text
    assert MatterVersion.objects.count() == versions


def test_import__not_a_workbook__clear_error(loaded):
    with pytest.raises(ValidationError):
        excel.import_catalog(actor=loaded.admin, data=b"%PDF-1.4 not excel")
