"""Loading the dispatch catalog: checks, handler mapping, versions, round-trip."""

from __future__ import annotations

import csv
import io

import pytest

from yiwang.events import catalog
from yiwang.events.models import CatalogStatus, Category, DispatchCatalog

pytestmark = pytest.mark.django_db
SHIPPED = catalog.shared_catalog_path().read_bytes()


def test_shipped_catalog__loads_with_its_shape(district):
    result = catalog.catalog_load(actor=None, system=True, data=SHIPPED, publish=True)
    assert result.errors == []
    c = result.catalog
    assert c.status == CatalogStatus.PUBLISHED
    assert c.categories.filter(level=1).count() == 18
    assert c.categories.filter(level=2).count() == 60
    items = c.categories.filter(level=3)
    assert items.count() == 179
    assert items.filter(urgency="urgent").count() == 19
    housing = items.filter(default_handler="区住房和建设局").first()
    assert housing.handler_unit == district.department  # 区 → 示范区
    lift = items.get(name="电梯困人")
    assert lift.urgency == "urgent" and lift.keywords and lift.appeal_types


def test_same_file_twice__nothing_new(district):
    first = catalog.catalog_load(actor=None, system=True, data=SHIPPED).catalog
    again = catalog.catalog_load(actor=None, system=True, data=SHIPPED).catalog
    assert first.pk == again.pk and DispatchCatalog.objects.count() == 1


def test_gbk_file__read_like_utf8(district):
    result = catalog.catalog_load(actor=None, system=True,
                                  data=SHIPPED.decode("utf-8").encode("gb18030"))
    assert result.errors == [] and result.catalog.categories.count() == 257


def _edit(rows_edit) -> bytes:
    rows = list(csv.DictReader(io.StringIO(SHIPPED.decode("utf-8"))))
    rows_edit(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=catalog.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_broken_file__every_problem_named_and_nothing_loaded(district):
    def damage(rows):
        rows[2]["parent_code"] = "9999"
        rows[3]["default_handler_type"] = "somebody"
        rows[4]["typical_appeal_types"] = "吐槽"
        rows.append(dict(rows[5]))  # duplicated code
    result = catalog.catalog_load(actor=None, system=True, data=_edit(damage))
    assert result.catalog is None and len(result.errors) >= 4
    assert any("编码重复" in e or "appears twice" in e for e in result.errors)
    assert not Category.objects.exists()


def test_missing_column__named(district):
    data = SHIPPED.decode().replace("urgency,", "urgent,", 1).encode()
    result = catalog.catalog_load(actor=None, system=True, data=data)
    assert result.catalog is None and "urgency" in result.errors[0]  # the column is named


def test_export__round_trips_the_file(district):
    loaded = catalog.catalog_load(actor=None, system=True, data=SHIPPED).catalog
    exported = list(csv.DictReader(io.StringIO(catalog.export_csv(loaded).decode())))
    original = list(csv.DictReader(io.StringIO(SHIPPED.decode())))
    assert exported == original


def test_new_version_publishes_and_retires_the_old(district):
    v1 = catalog.catalog_load(actor=None, system=True, data=SHIPPED, publish=True).catalog
    v2 = catalog.catalog_load(actor=None, system=True, publish=True, data=_edit(
        lambda rows: rows[2].update(name_en="Street occupation"))).catalog
    v1.refresh_from_db()
    assert v2.number == 2 and v2.status == "published" and v1.status == "retired"
