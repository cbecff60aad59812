"""Reading offices' spreadsheets: the shared part of every import (units, indicators, points …).

An import is always two steps: a preview (dry run) that lists every row error in Chinese with the
row number as the spreadsheet shows it, then an all-or-nothing write. This module reads the file
into numbered rows keyed by canonical column names; each app's importer validates and writes.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from django.conf import settings

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .et


@dataclass
class RowError:
    """One problem in a file: the row as the spreadsheet numbers it (None for the whole file)."""

    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class RowChange:
    """What the import does to one row: create, update (with the changed fields) or nothing."""

    row: int
    action: str  # "create" | "update" | "unchanged"
    label: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    ACTION_LABELS = {"create": "新增", "update": "更新", "unchanged": "不变"}

    @property
    def action_label(self) -> str:
        return self.ACTION_LABELS[self.action]

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "action": self.action,
            "label": self.label,
            "changes": {key: {"old": old, "new": new} for key, (old, new) in self.changes.items()},
        }


@dataclass
class ImportResult:
    """The outcome of a preview or an import. With any error nothing is written."""

    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for r in self.rows if r.action == "update")

    @property
    def unchanged(self) -> int:
        return sum(1 for r in self.rows if r.action == "unchanged")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        if self.errors:
            return f"文件有 {len(self.errors)} 处错误，未写入任何数据。请修改后重新上传。"
        verb = "预览：将" if self.dry_run else "已"
        return f"{verb}新增 {self.created} 条，更新 {self.updated} 条，{self.unchanged} 条不变。"

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "rows": [r.as_dict() for r in self.rows],
        }


class ImportFileError(Exception):
    """The file as a whole cannot be read: empty, not a spreadsheet, too large, headers missing."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_result(self, *, dry_run: bool) -> ImportResult:
        return ImportResult(dry_run=dry_run, errors=[RowError(row=None, column="", value="", message=self.message)])


@dataclass
class Column:
    """A column an importer understands: its canonical header and the other headers offices write."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class SheetRow:
    number: int  # as the spreadsheet shows it (the header row is usually 1)
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


# Chinese punctuation that belongs in titles as written ("健全，年度（含台账）"); NFKC would make it ASCII.
CHINESE_PUNCTUATION = set("，（）：；！？")


def _normalize_char(char: str) -> str:
    """Full-width letters, digits and symbols to ASCII ("Ⅲ－57" → "Ⅲ-57", "ＡＢ１" → "AB1"), the
    ideographic space to a space; Chinese punctuation, Roman numerals (Ⅲ) and circled numbers (①)
    stay as written, since they are part of titles and codes."""
    if char in CHINESE_PUNCTUATION or "\u2160" <= char <= "\u217f" or "\u2460" <= char <= "\u24ff":
        return char
    if "\uff01" <= char <= "\uff5e" or char == "\u3000":
        return unicodedata.normalize("NFKC", char)
    return char


def normalize_text(value) -> str:
    """What offices meant to type: full-width ASCII made half-width, no stray spaces at line edges
    or doubled inside. Chinese punctuation and numeral codes keep their characters."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "".join(_normalize_char(c) for c in str(value))
    text = text.replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _normalize_header(value) -> str:
    text = normalize_text(value)
    text = re.sub(r"[\s*＊]", "", text)
    text = re.sub(r"[(（][^)）]*[)）]$", "", text)  # 名称（必填） → 名称
    return text


def read_table(
    uploaded, *, columns: list[Column], fill_merged: bool = True, header_scan_rows: int = 10
) -> list[SheetRow]:
    """Read an uploaded .xlsx or .csv into rows keyed by column key.

    Raises ImportFileError with a Chinese message for a file that cannot be used at all.
    """
    data = _read_bytes(uploaded)
    if data.startswith(XLSX_MAGIC):
        grid = _xlsx_grid(data, fill_merged=fill_merged)
    elif data.startswith(OLE_MAGIC):
        raise ImportFileError("不支持旧版 .xls 格式，请在 Excel 或 WPS 中另存为 .xlsx 后再上传。")
    else:
        grid = _csv_grid(data)
    return _rows_from_grid(grid, columns=columns, header_scan_rows=header_scan_rows)


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:前|之前)?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"  # a real Excel date reads as "2026-10-01 00:00:00"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20261001
EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_sheet_date(text: str) -> datetime.date | None:
    """A date cell as people type it: 2026-10-01, 2026/10/1, 2026.10.1, 2026年10月1日(前), 20261001,
    an Excel date cell, or an Excel date serial (a date cell formatted as a number, 2000–2099);
    None for anything else. Every importer reads its dates through here."""
    text = (text or "").strip()
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    if re.fullmatch(r"\d{5}", text) and 36526 <= int(text) <= 73051:  # 2000-01-01 … 2099-12-31
        return EXCEL_EPOCH + datetime.timedelta(days=int(text))
    return None


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.3g} MB"


def _read_bytes(uploaded) -> bytes:
    limit = settings.IMPORT_MAX_BYTES
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise ImportFileError(f"文件过大（{megabytes(size)}），上限为 {megabytes(limit)}。")
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    data = uploaded.read() if hasattr(uploaded, "read") else bytes(uploaded)
    if len(data) > limit:
        raise ImportFileError(f"文件过大（{megabytes(len(data))}），上限为 {megabytes(limit)}。")
    if not data.strip():
        raise ImportFileError("文件是空的，请选择填好内容的 Excel 表格。")
    return data


def _xlsx_grid(data: bytes, *, fill_merged: bool) -> list[list]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("无法读取该文件：它不是有效的 Excel (.xlsx) 表格。") from exc
    sheet = workbook.worksheets[0]
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    if fill_merged:
        # A merged cell holds its value in the top-left cell only; offices mean it for every row it spans.
        for merged in sheet.merged_cells.ranges:
            value = sheet.cell(row=merged.min_row, column=merged.min_col).value
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if r - 1 < len(grid) and c - 1 < len(grid[r - 1]):
                        grid[r - 1][c - 1] = value
    return grid


def _csv_grid(data: bytes) -> list[list]:
    if b"\x00" in data[:4096]:
        raise ImportFileError("无法读取该文件：请上传 Excel (.xlsx) 或 CSV 表格。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ImportFileError("无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx。")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ImportFileError(f"无法读取该 CSV 文件：{exc}") from exc


def _rows_from_grid(grid: list[list], *, columns: list[Column], header_scan_rows: int) -> list[SheetRow]:
    lookup: dict[str, str] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup[_normalize_header(name)] = column.key
    required = [c for c in columns if c.required]

    header_index = None
    positions: dict[str, int] = {}
    for index, row in enumerate(grid[:header_scan_rows]):
        found = {}
        for position, cell in enumerate(row):
            key = lookup.get(_normalize_header(cell))
            if key and key not in found:
                found[key] = position
        if found and all(c.key in found for c in required):
            header_index, positions = index, found
            break
    if header_index is None:
        if not any(any(normalize_text(cell) for cell in row) for row in grid):
            raise ImportFileError("文件是空的，请选择填好内容的 Excel 表格。")
        names = "、".join(c.header for c in required)
        raise ImportFileError(f"未找到必需的表头：{names}。请确认第一张工作表的表头行包含这些列。")

    rows = []
    for index in range(header_index + 1, len(grid)):
        raw = grid[index]
        values = {key: normalize_text(raw[pos]) if pos < len(raw) else "" for key, pos in positions.items()}
        if any(values.values()):
            rows.append(SheetRow(number=index + 1, values=values))
    if not rows:
        raise ImportFileError("表格只有表头，没有数据行。")
    return rows


def header_of(columns: list[Column], key: str) -> str:
    for column in columns:
        if column.key == key:
            return column.header
    return key
