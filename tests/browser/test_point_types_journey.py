"""The office loads the city's own point types in a real browser: from the points list to 点位类别,
导入, the template's columns, a sheet with a national type and two local ones (departments separated
by a space, as evaluators write them), the preview, the confirm, and the list with its 分类 filter."""

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from inspections.models import PointType
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_the_office_imports_point_types_and_filters_them_by_category(page, live_server, demo_city, shot, tmp_path):
    sheet = tmp_path / "点位类别.xlsx"
    workbook = Workbook()
    for row in (
        ["名称", "分类", "默认责任部门"],
        ["集贸(农贸)市场", "公共场所", "市市场监管局、市商务局"],
        ["中学", "教育场所", "市教育局 市公安局交警支队"],
        ["药店", "窗口单位", "市市场监管局"],
    ):
        workbook.active.append(row)
    workbook.save(sheet)

    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/points/")
    page.get_by_role("link", name="点位类别").click()
    expect(page).to_have_url(f"{live_server.url}/inspections/point-types/")
    page.get_by_role("link", name="导入", exact=True).click()
    expect(page.locator("body")).to_contain_text("默认责任部门")
    page.set_input_files("input[name=file]", str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_test_id("import-summary")).to_have_text("预览：将新增 2 条，更新 1 条，0 条不变。")
    assert not PointType.objects.filter(name="中学").exists()
    shot(page, "point-types-import-preview")

    page.get_by_test_id("import-confirm").click()
    expect(page).to_have_url(f"{live_server.url}/inspections/point-types/")
    expect(page.locator(".alert")).to_contain_text("已新增 2 条，更新 1 条，0 条不变。")
    expect(page.locator("table")).to_contain_text("教育场所")
    page.goto(f"{live_server.url}/inspections/point-types/?category=窗口单位")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("药店")
    shot(page, "point-types-list")

    school = PointType.objects.get(name="中学")
    assert (school.category, school.national) == ("教育场所", False)
    assert sorted(d.short_name for d in school.departments.all()) == ["市公安局交警支队", "市教育局"]
    assert PointType.objects.get(name="集贸(农贸)市场").national
