"""Authorization-matrix fixtures of the field routes (see ``events/tests/matrix.py``).

The report is a grid worker's 上报 with one photo and a point in grid A (a superuser,
who has no grid, reports the same point)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.events.tests.photos import png_bytes

PAYLOADS: dict[str, Any] = {
    "POST events:field_report": lambda w, c, p: {
        "key": "matrix-field-key-0001", "outcome": "report", "appeal_type": "",
        "description": "甲一社区和平路井盖破损，有行人绊倒的危险", "lat": "22.51",
        "lon": "114.01", "address": "和平路1号",
        "photos": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")},
}
QUERIES: dict[str, dict[str, Any]] = {"events:field_suggest": {"description": "井盖破损"}}
