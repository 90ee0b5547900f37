"""Authorization-matrix fixtures of the applicant routes (see ``services/tests/matrix.py``)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.core.testing.matrix import Caller, Probe, World, make_id_number

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _window_filing(world: World, caller: Caller, probe: Probe | None) -> dict[str, Any]:
    """A complete filing at the clerk's window for the matrix citizen (ID serial 1)."""
    street_a = world.district.street_a
    version = world.extra["services"]["units"][street_a.code]["version"]
    return {"matter": version.implementation_code, "applicant_id": make_id_number(1),
            "f-project": "示范项目",
            "material-application": SimpleUploadedFile("申请表.pdf", PDF, "application/pdf")}


PAYLOADS: dict[str, Any] = {
    # A draft needs no materials; submitting from the form is covered by the area's tests.
    "POST services:case_apply": lambda w, c, p: {"f-project": "示范项目", "action": "draft"},
    "POST services:my_case_edit": lambda w, c, p: {"f-project": "示范项目", "action": "draft"},
    "POST services:my_case_withdraw": lambda w, c, p: {"reason": "不再需要"},
    "POST services:my_case_rate": lambda w, c, p: {"level": "5", "text": "很好"},
    "POST services:window_apply": _window_filing,
}
