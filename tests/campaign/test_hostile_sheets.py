"""Hostile files refused fast, before parsing (issue 12, part 4): a zip bomb, a part that inflates
too much, a sheet with more rows than an import takes — through the reader, the page and the API,
with a Chinese message naming the limit, and nothing written."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.test import override_settings

from campaign.importing import ImportFileError, check_sheet_limits, read_table
from campaign.services import UNIT_COLUMNS
from tests.campaign.xlsx import make_xlsx, upload
from tests.conftest import unit_snapshot

pytestmark = pytest.mark.django_db

HEADER = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]


def _with_extra_part(sheet: bytes, name: str, size: int) -> bytes:
    """A real workbook plus one part of `size` zero bytes (it compresses about a thousand times)."""
    buffer = io.BytesIO(sheet)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"\0" * size)
    return buffer.getvalue()


def _bomb() -> bytes:
    return _with_extra_part(make_xlsx([HEADER]), "xl/media/image1.bin", 60 * 1024 * 1024)


def test_a_zip_bomb_is_refused_naming_the_uncompressed_limit():
    data = _bomb()
    assert len(data) < 200 * 1024  # what travels is small; what it inflates to is not
    with pytest.raises(ImportFileError, match="解压后上限为 50 MB"):
        check_sheet_limits(data)


def test_a_part_inflating_beyond_the_ratio_is_refused_even_under_the_total():
    data = _with_extra_part(make_xlsx([HEADER]), "xl/media/image1.bin", 5 * 1024 * 1024)
    with pytest.raises(ImportFileError, match=r"压缩比超过 100 倍.*压缩炸弹"):
        check_sheet_limits(data)


def test_an_ordinary_repetitive_sheet_passes():
    rows = [HEADER] + [["甲街道", "", f"C{i}", "社区", "甲区", "张三", "", "13800000000"] for i in range(3000)]
    check_sheet_limits(make_xlsx(rows))


@override_settings(IMPORT_MAX_ROWS=100)
def test_too_many_rows_are_refused_from_the_sheets_own_count():
    rows = [HEADER] + [["x", "", f"C{i}", "社区", "甲区", "", "", ""] for i in range(150)]
    with pytest.raises(ImportFileError, match="单次导入上限为 100 行"):
        check_sheet_limits(make_xlsx(rows))
    csv = "\n".join(",".join(row) for row in rows).encode()
    with pytest.raises(ImportFileError, match="单次导入上限为 100 行"):
        check_sheet_limits(csv)


@override_settings(IMPORT_MAX_ROWS=100)
def test_a_sheet_that_understates_its_rows_is_stopped_while_parsing():
    rows = [HEADER] + [["x", "", f"C{i}", "社区", "甲区", "", "", ""] for i in range(300)]
    data = make_xlsx(rows)
    # Rewrite the sheet's <dimension> to claim two rows.
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in source.infolist():
            body = source.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:H2"', body)
            archive.writestr(part, body)
    with pytest.raises(ImportFileError, match="单次导入上限为 100 行"):
        read_table(upload("units.xlsx", target.getvalue()), columns=UNIT_COLUMNS)


def test_the_unit_import_page_and_api_refuse_a_bomb_and_write_nothing(web, api, office, city):
    before = unit_snapshot()
    page = web(office).post("/units/import/", {"file": upload("units.xlsx", _bomb())})
    assert page.status_code == 400 and "解压后上限为 50 MB" in page.content.decode()
    answer = api(office).post("/api/v1/units/import/", {"file": upload("units.xlsx", _bomb())}, format="multipart")
    assert answer.status_code == 400 and "解压后上限" in answer.json()["errors"][0]["message"]
    assert unit_snapshot() == before


def test_a_hundred_thousand_row_sheet_is_refused_by_the_api(api, office, city):
    before = unit_snapshot()
    lines = [",".join(HEADER)] + [f"社区{i},,C{i},社区,甲街道,,," for i in range(100_000)]
    data = "\n".join(lines).encode()
    answer = api(office).post("/api/v1/units/import/", {"file": upload("units.csv", data)}, format="multipart")
    assert answer.status_code == 400
    assert "单次导入上限为 20,000 行" in answer.json()["errors"][0]["message"]
    assert unit_snapshot() == before
