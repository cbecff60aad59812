"""Templates and round trips against the demo city (issue 13, item 6): each downloaded 导入模板 of
点位, 测评细则 and 点位类别 imports into the demo city as it is, and each export imports back
unchanged — through the pages an office uses (download, upload, preview)."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from campaign.exporting import workbook_bytes
from inspections.models import CheckItem, Point, PointType
from tests.campaign.xlsx import upload


@pytest.fixture
def demo(db):
    """The demo city's units, campaign, 测评体系 and field reference data (check items, points):
    everything these sheets name, without the weeks of inspections."""
    from campaign.demo import seed_all
    from inspections.demo import seed_items_and_points

    context = seed_all(only=("campaign", "indicators"))
    seed_items_and_points(context)
    return context


@pytest.fixture
def office_client(demo, client):
    client.force_login(demo["users"]["office"])
    return client


def rows_of(content: bytes) -> list[list]:
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]


def preview(client, path: str, content: bytes):
    """The import page's preview of a sheet: (result, status)."""
    response = client.post(path, {"file": upload("sheet.xlsx", content)})
    result = response.context["result"]
    return result, response.status_code


def assert_imports_as_it_is(client, path: str):
    template = client.get(f"{path}?template=1")
    assert template.status_code == 200
    result, status = preview(client, path, template.content)
    assert [e.as_dict() for e in result.errors] == []
    assert status == 200 and result.created >= 1
    return result


def assert_reimports_unchanged(client, list_path: str, import_path: str, snapshot) -> int:
    export = client.get(f"{list_path}?export=xlsx")
    assert export.status_code == 200
    before = snapshot()
    result, status = preview(client, import_path, export.content)
    assert [e.as_dict() for e in result.errors] == []
    assert (status, result.created, result.updated) == (200, 0, 0)
    assert result.unchanged == len(rows_of(export.content)) - 1
    token = client.post(import_path, {"file": upload("export.xlsx", export.content)}).context["token"]
    assert client.post(import_path, {"token": token}).status_code == 302  # confirmed: nothing to write
    assert snapshot() == before
    return result.unchanged


def points_snapshot():
    return sorted(Point.objects.values_list("name", "point_type", "unit", "address", "latitude", "longitude")), sorted(
        Point.departments.through.objects.values_list("point_id", "unit_id")
    )


def items_snapshot():
    return sorted(
        CheckItem.objects.values_list("point_type", "indicator", "text", "per_occurrence", "cap", "severity")
    ), sorted(CheckItem.departments.through.objects.values_list("checkitem_id", "unit_id"))


def types_snapshot():
    return sorted(PointType.objects.values_list("name", "category", "order", "national", "active")), sorted(
        PointType.departments.through.objects.values_list("pointtype_id", "unit_id")
    )


def test_the_points_template_imports_into_the_demo_city(office_client):
    assert_imports_as_it_is(office_client, "/inspections/points/import/")


def test_the_check_items_template_imports_into_the_demo_citys_current_system(office_client):
    result = assert_imports_as_it_is(office_client, "/inspections/check-items/import/")
    assert result.created == 2


def test_the_point_types_template_imports_into_the_demo_city(office_client):
    result = assert_imports_as_it_is(office_client, "/inspections/point-types/import/")
    assert (result.created, result.updated) == (2, 1)  # two local types; a national one gets its 分类


def test_the_points_export_reimports_unchanged(office_client):
    count = assert_reimports_unchanged(
        office_client, "/inspections/points/", "/inspections/points/import/", points_snapshot
    )
    assert count == Point.objects.count()


def test_the_check_items_export_reimports_unchanged(office_client, demo):
    export = office_client.get("/inspections/check-items/?export=xlsx")
    rows = rows_of(export.content)
    # The standard as the import resolves it: the content's code with the standard's ("Ⅲ-24/1)").
    standards = {row[2]: row[1] for row in rows[1:]}
    assert standards["安全出口畅通"] == "Ⅲ-24/1)"
    assert standards["服务文明规范"] == "Ⅲ-24"  # an item under a 测评内容: its code alone
    count = assert_reimports_unchanged(
        office_client, "/inspections/check-items/", "/inspections/check-items/import/", items_snapshot
    )
    assert count == CheckItem.objects.filter(indicator__system=demo["indicator_system"]).count()


def test_the_check_items_export_is_of_the_system_filtered(office_client, demo):
    system = demo["indicator_system"]
    export = office_client.get(f"/inspections/check-items/?export=xlsx&system={system.pk}")
    assert len(rows_of(export.content)) == CheckItem.objects.filter(indicator__system=system).count() + 1


def test_the_point_types_export_reimports_unchanged(office_client):
    # With 分类 and several departments set by an import first, as an office would.
    sheet = workbook_bytes(["名称", "分类", "默认责任部门"], [["集贸(农贸)市场", "公共场所", "市市场监管局 市商务局"]])
    result, _status = preview(office_client, "/inspections/point-types/import/", sheet)
    assert result.ok
    count = assert_reimports_unchanged(
        office_client, "/inspections/point-types/", "/inspections/point-types/import/", types_snapshot
    )
    assert count == PointType.objects.count()


def test_an_export_that_was_edited_reimports_with_exactly_the_edit(office_client):
    export = office_client.get("/inspections/check-items/?export=xlsx")
    rows = rows_of(export.content)
    rows[1][5] = str(float(rows[1][5]) + 1)  # 最高扣分 up by one
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result, _status = preview(office_client, "/inspections/check-items/import/", buffer.getvalue())
    assert (result.created, result.updated) == (0, 1)
    assert list(next(r for r in result.rows if r.action == "update").changes) == ["最高扣分"]
