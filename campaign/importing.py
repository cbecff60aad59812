"""Reading offices' spreadsheets: the shared part of every import (units, indicators, points …).

An import is always two steps: a preview (dry run) that lists every row error in Chinese with the
row number as the spreadsheet shows it, then an all-or-nothing write. This module reads the file
into numbered rows keyed by canonical column names; each app's importer validates and writes.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    # Things the office should know that do not stop the import (a field-only system's blank 分值).
    warnings: list[RowError] = field(default_factory=list)

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
            "warnings": [w.as_dict() for w in self.warnings],
            "rows": [r.as_dict() for r in self.rows],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImportResult:
        """The result as_dict() stored (an import run as a job), for the page that shows it."""
        return cls(
            dry_run=data.get("dry_run", True),
            errors=[RowError(**error) for error in data.get("errors", [])],
            warnings=[RowError(**warning) for warning in data.get("warnings", [])],
            rows=[
                RowChange(
                    row=row["row"],
                    action=row["action"],
                    label=row["label"],
                    changes={key: (change["old"], change["new"]) for key, change in row.get("changes", {}).items()},
                )
                for row in data.get("rows", [])
            ],
        )


# --- Progress of a long import ----------------------------------------------------------------

# Set while an import runs as a job (campaign.generic.import_job_run): receives (stage, done, total)
# with stage "read", "validate" or "write" and done/total in rows. Importers call report_progress.
_progress: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("import_progress", default=None)


def report_progress(stage: str, done: int, total: int) -> None:
    """Tell the job running this import how far it is (a no-op outside a job)."""
    callback = _progress.get()
    if callback is not None:
        callback(stage, done, total)


@contextmanager
def progress_to(callback: Callable[[str, int, int], None]) -> Iterator[None]:
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


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


# _normalize_char for every character it changes, as one str.translate table (the full-width block
# and the ideographic space), plus the no-break space made a space.
_NORMALIZE_TABLE = {
    code: _normalize_char(chr(code))
    for code in [*range(0xFF01, 0xFF5F), 0x3000]
    if _normalize_char(chr(code)) != chr(code)
}
_NORMALIZE_TABLE[0xA0] = " "
_SPACES = re.compile(r"[ \t]+")


def normalize_text(value) -> str:
    """What offices meant to type: full-width ASCII made half-width, no stray spaces at line edges
    or doubled inside. Chinese punctuation and numeral codes keep their characters."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).translate(_NORMALIZE_TABLE)
    if "  " not in text and text.isprintable():  # one line (line breaks and tabs are not printable)
        return text.strip()
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
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
    check_sheet_limits(data)
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


def sheet_row_count(data: bytes) -> int:
    """About how many rows a file has, without reading it: the first worksheet's <dimension> (or
    its <row> tags counted in the compressed stream's text), a CSV's lines; 0 when it cannot tell
    (the import then reads it the usual way and reports what is wrong)."""
    import zipfile

    if not data.startswith(XLSX_MAGIC):
        return data.count(b"\n") + (0 if data.endswith(b"\n") else 1) if data.strip() else 0
    try:
        from openpyxl.reader.excel import ExcelReader

        reader = ExcelReader(io.BytesIO(data), read_only=True)
        reader.read_manifest()
        reader.read_workbook()
        path = next(
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        )
        with reader.archive.open(path) as source:
            head = source.read(4096)
            found = _DIMENSION.search(head)
            if found:
                return int(found.group(1))
            count, tail = head.count(b"<row"), head[-4:]
            while chunk := source.read(1 << 20):
                count += (tail + chunk).count(b"<row") - tail.count(b"<row")
                tail = chunk[-4:]
            return count
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, StopIteration):
        return 0


def check_sheet_limits(data: bytes) -> None:
    """Refuse a hostile or oversized sheet before parsing it, in well under a second whatever it
    inflates to: an .xlsx whose parts would inflate beyond `IMPORT_MAX_UNCOMPRESSED_BYTES` in all,
    or a part inflating more than `IMPORT_MAX_RATIO` times (a zip bomb); then more rows than
    `IMPORT_MAX_ROWS`. The sizes are those the archive declares, which also bound what is read:
    Python's zip reader stops at a part's declared size (and fails its CRC check if the data is
    longer). The row count is the sheet's own <dimension>, else its <row> tags counted in the
    stream; the parser enforces the same limit while reading (a sheet that understates itself)."""
    import zipfile

    if data.startswith(XLSX_MAGIC):
        try:
            parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFileError("无法读取该文件：它不是有效的 Excel (.xlsx) 表格。") from exc
        limit, ratio = settings.IMPORT_MAX_UNCOMPRESSED_BYTES, settings.IMPORT_MAX_RATIO
        total = sum(part.file_size for part in parts)
        if total > limit:
            raise ImportFileError(
                f"文件解压后过大（{megabytes(total)}），解压后上限为 {megabytes(limit)}；"
                "请删除多余的工作表、图片和空白行列后再上传。"
            )
        for part in parts:
            if part.file_size > 1024 * 1024 and part.file_size > ratio * max(part.compress_size, 1):
                raise ImportFileError(
                    f"文件内容异常：其中“{part.filename}”的压缩比超过 {ratio} 倍（疑似压缩炸弹），已拒绝读取。"
                )
    rows = sheet_row_count(data)
    if rows > settings.IMPORT_MAX_ROWS:
        raise ImportFileError(_too_many_rows(rows))


def _too_many_rows(rows: int | None = None) -> str:
    limit = settings.IMPORT_MAX_ROWS
    found = f"（约 {rows:,} 行）" if rows else ""
    return f"表格行数过多{found}，单次导入上限为 {limit:,} 行；请拆分成几个文件分别导入。"


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


@functools.cache
def _fast_sheet_parser():
    """openpyxl's sheet parser with a lean reading of inline strings (what openpyxl itself and many
    exporters write): the same text as openpyxl's Text(...).content — the plain run and the
    formatted runs, no phonetic runs — without building rich-text objects for every cell."""
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet._reader import INLINE_STRING, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    text_tag, run_tag = f"{{{SHEET_MAIN_NS}}}t", f"{{{SHEET_MAIN_NS}}}r"

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            if element.get("t") != "inlineStr" or self.rich_text:
                return super().parse_cell(element)
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            value, data_type = None, "inlineStr"
            child = element.find(INLINE_STRING)
            if child is not None:
                data_type = "s"
                value = (child.findtext(text_tag) or "") + "".join(
                    run.findtext(text_tag) or "" for run in child.iterfind(run_tag)
                )
            style_id = element.get("s", 0)
            return {"row": row, "column": column, "value": value, "data_type": data_type, "style_id": int(style_id)}

    return Parser


def _first_worksheet(data: bytes):
    """(workbook, path of the first worksheet in the archive, shared strings), read the way
    openpyxl's read-only mode reads them but without its size scan, which parses a whole sheet
    that has no <dimension> (as openpyxl's own write-only files have) just to count it."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # which styles are dates
    for _sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return reader.wb, rel.target, reader.shared_strings
    raise ImportFileError("无法读取该文件：它不是有效的 Excel (.xlsx) 表格。")


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension ref=\"[A-Z]+\d+:[A-Z]+(\d+)\"")


def _xlsx_grid(data: bytes, *, fill_merged: bool) -> list[list]:
    """The first sheet's values, row by row as the sheet numbers them, streamed through openpyxl's
    sheet parser (no cell objects: about three times faster than loading the workbook) with the
    rows read reported to a running job; merged ranges filled from their top-left cell."""
    import zipfile

    from openpyxl.utils.cell import range_boundaries

    try:
        workbook, path, shared_strings = _first_worksheet(data)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError("无法读取该文件：它不是有效的 Excel (.xlsx) 表格。") from exc
    grid: list[list] = []
    try:
        with workbook._archive.open(path) as source:
            found = _DIMENSION.search(source.read(4096))
            estimate = int(found.group(1)) if found else 0  # the writer's count of rows, when it gave one
        with workbook._archive.open(path) as source:
            parser = _fast_sheet_parser()(
                source,
                shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            max_rows = settings.IMPORT_MAX_ROWS + 50  # header rows above the data
            for number, cells in parser.parse():
                if number > max_rows:
                    raise ImportFileError(_too_many_rows())
                while len(grid) < number - 1:  # rows the file leaves out are empty rows
                    grid.append([])
                values = [None] * (max(cell["column"] for cell in cells) if cells else 0)
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                grid.append(values)
                if number % 1000 == 0:
                    report_progress("read", number, max(estimate, number))
            merged = parser.merged_cells.mergeCell if (fill_merged and parser.merged_cells) else []
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError("无法读取该文件：它不是有效的 Excel (.xlsx) 表格。") from exc
    finally:
        workbook._archive.close()
    for cell_range in merged:
        # A merged cell holds its value in the top-left cell only; offices mean it for every row it spans.
        min_col, min_row, max_col, max_row = range_boundaries(cell_range.ref)
        top = grid[min_row - 1] if min_row - 1 < len(grid) else []
        value = top[min_col - 1] if min_col - 1 < len(top) else None
        for r in range(min_row, min(max_row, len(grid)) + 1):
            row = grid[r - 1]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col, max_col + 1):
                row[c - 1] = value
    report_progress("read", len(grid), len(grid))
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
