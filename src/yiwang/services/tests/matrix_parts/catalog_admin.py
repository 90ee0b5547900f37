"""Authorization-matrix fixtures of the catalog_admin routes (see ``services/tests/matrix.py``).

The probed version is each unit's published v1, so the writes meant for drafts (edit,
review, publish) meet a version in the wrong state: an allowed caller is sent back to the
matter with an error (a redirect), which the matrix counts as allowed; their success
paths are tested in ``test_catalog_admin_*.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.core.testing.matrix import Caller, Probe, World
from yiwang.services import excel
from yiwang.services.models import Matter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import_payload(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    """The caller's home unit's catalog as exported: importing it changes nothing."""
    unit = world.home_unit(caller)
    data = excel.export_catalog(Matter.objects.filter(department=unit))
    return {"file": SimpleUploadedFile("catalog.xlsx", data, content_type=XLSX)}


def _create_payload(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    return {"implementation_code": "11440300MATRIX0000000000000001",
            "department": world.home_unit(caller).code, "name": "矩阵测试事项",
            "basic_code": "000127099000", "matter_type": "20", "case_kind": "promised"}


PAYLOADS: dict[str, Any] = {
    "POST services:matter_admin_create": _create_payload,
    "POST services:version_edit": lambda w, c, p: {"name": "改名"},
    "POST services:version_draft": lambda w, c, p: {"change_note": "压缩承诺时限"},
    "POST services:version_review": lambda w, c, p: {},
    "POST services:version_publish": lambda w, c, p: {
        "effective_from": dt.date.today().isoformat()},
    "POST services:matter_retire": lambda w, c, p: {"reason": "事项已取消"},
    "POST services:catalog_import": _import_payload,
}
