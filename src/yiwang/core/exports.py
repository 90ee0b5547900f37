"""Figures as an Excel workbook, the same for every figures page (services statistics,
event figures): one sheet of rows with a bold, frozen header and number formats per
column kind, totals in bold, and a second sheet with the filters and the definitions."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Number formats by column kind; kinds without one keep Excel's general format.
XLSX_FORMATS = {"count": "#,##0", "rate": "0.0%", "days": "0.0", "hours": "0.0"}


def figures_xlsx(*, title: str, sheet_title: str, header: Sequence[Any], kinds: Sequence[str],
                 rows: Iterable[tuple[bool, Sequence[Any]]],
                 filters: Iterable[tuple[Any, Any]], definitions: Iterable[tuple[Any, Any]],
                 filename: str) -> HttpResponse:
    """``title`` heads the definitions sheet, ``sheet_title`` names the figures sheet;
    ``rows`` are ``(is_total, cells)``; ``definitions`` are ``(label, definition)``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title[:31]
    sheet.append(list(header))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE6F3")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for is_total, cells in rows:
        sheet.append(list(cells))
        for column, kind in enumerate(kinds, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if kind in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[kind]
            if is_total:
                cell.font = bold
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 28
    for column in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 14
    notes = book.create_sheet(_("Definitions")[:31])
    notes.append([title, ""])
    notes["A1"].font = bold
    for label, value in filters:
        notes.append([label, value])
    notes.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.append([])
    for label, definition in definitions:
        notes.append([str(label), str(definition)])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 90
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
