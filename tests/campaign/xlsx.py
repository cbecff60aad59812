"""Build small spreadsheets in memory for the import tests."""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterable

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_xlsx(rows: list[list], *, merges: Iterable[str] = (), title: str = "Sheet") -> bytes:
    """An .xlsx whose first sheet holds `rows` from A1 on; `merges` are ranges such as "A1:H1"."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    """What a browser would send for a file called `name` holding `data`."""
    if name.endswith(".xlsx"):
        content_type = XLSX_CONTENT_TYPE
    else:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return SimpleUploadedFile(name, data, content_type=content_type)
