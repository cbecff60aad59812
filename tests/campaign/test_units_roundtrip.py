"""The units' 导入模板 and export against the demo city (issue 13, item 6), and the 区直部门 type.

The demo city's units are built by its own seeder (`campaign.demo`, the kernel's layer only): five
districts whose streets repeat names (湖滨街道 …), 28 city departments and four 区直部门.
"""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from campaign.choices import UnitKind
from campaign.demo import seed_all
from campaign.models import Unit
from campaign.services import units_import
from tests.campaign.xlsx import make_xlsx, upload
from tests.conftest import unit_snapshot

HEADER = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]


@pytest.fixture
def demo(db):
    return seed_all(only=("campaign",))


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [["" if value is None else value for value in row] for row in sheet.iter_rows(values_only=True)]


def test_the_template_imports_into_the_demo_city_as_it_is(client, demo):
    client.force_login(demo["users"]["office"])
    response = client.get("/units/import/?template=1")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = sheet_rows(content)
    assert rows[0] == HEADER
    assert any(row[3] == "区直部门" for row in rows[1:])  # an example of a 区直部门

    preview = units_import(file=upload("单位导入模板.xlsx", content), dry_run=True)
    assert preview.ok, [e.as_dict() for e in preview.errors]
    result = units_import(file=upload("单位导入模板.xlsx", content), dry_run=False)
    assert result.ok and result.created == len(rows) - 1
    housing = Unit.objects.get(code="GX-D01")
    assert (housing.kind, housing.parent.code, housing.kind_label) == (UnitKind.DEPARTMENT, "GX", "区直部门")
    assert Unit.objects.get(code="GX-01-01").parent.code == "GX-01"
    again = units_import(file=upload("单位导入模板.xlsx", content), dry_run=False)
    assert again.ok and again.unchanged == len(rows) - 1


def test_the_export_reimports_unchanged(client, demo):
    client.force_login(demo["users"]["office"])
    response = client.get("/units/?export=xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = sheet_rows(content)
    assert rows[0] == [*HEADER, "启用"]  # the import's columns (启用 is read back by nobody: ignored)
    assert len(rows) - 1 == Unit.objects.count()
    kinds = {row[3] for row in rows[1:]}
    assert kinds == {"区县", "街道乡镇", "社区村", "市直部门", "区直部门"}
    by_code = {row[2]: row for row in rows[1:]}
    assert by_code["DH-D02"][3:5] == ["区直部门", "DH"]  # the parent by code
    assert by_code["DH-01"][4] == "DH"

    before = unit_snapshot()
    preview = units_import(file=upload("单位.xlsx", content), dry_run=True)
    assert preview.ok, [e.as_dict() for e in preview.errors][:5]
    assert {change.action for change in preview.rows} == {"unchanged"}
    result = units_import(file=upload("单位.xlsx", content), dry_run=False)
    assert result.ok and result.unchanged == Unit.objects.count()
    assert unit_snapshot() == before


def test_district_department_rows_need_a_district_above_them(city):
    rows = [
        ["甲区卫生健康局", "甲区卫健局", "JIA-D1", "区直部门", "JIA"],
        ["甲区疾控中心", "", "JIA-D1-1", "区直部门", "JIA-D1"],  # under a 区直部门: still in the district
        ["甲区住建局", "", "JIA-D2", "部门", "JIA"],  # 部门 under a district is one too
        ["城管执法支队", "", "D-CG-1", "区直部门", "D-CG"],  # under a city department
        ["区政务办", "", "X-ZW", "区直部门", ""],  # no parent
    ]
    before = unit_snapshot()
    result = units_import(file=upload("units.xlsx", make_xlsx([HEADER[:5], *rows])), dry_run=False)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (5, "上级单位", "D-CG"),
        (6, "类型", "区直部门"),
    ]
    assert all("区直部门的上级须为区县" in e.message for e in result.errors)
    assert unit_snapshot() == before  # all or nothing

    ok = units_import(file=upload("units.xlsx", make_xlsx([HEADER[:5], *rows[:3]])), dry_run=False)
    assert ok.ok and ok.created == 3
    assert {u.code: u.kind_label for u in Unit.objects.filter(code__in=["JIA-D1", "JIA-D1-1", "JIA-D2"])} == {
        "JIA-D1": "区直部门",
        "JIA-D1-1": "区直部门",
        "JIA-D2": "区直部门",
    }


def test_export_and_import_query_counts_do_not_grow_with_rows(client, office, city):
    """The list's export reads the 区直部门 mark in its one query (a subquery), not per row."""
    from campaign import services

    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        client.get("/units/?export=xlsx")
    for n in range(30):
        services.unit_create(name=f"甲区部门{n}", code=f"JIA-X{n}", kind=UnitKind.DEPARTMENT, parent=city.district_jia)
    with CaptureQueriesContext(connection) as many:
        content = client.get("/units/?export=xlsx").content
    assert len(many) == len(few)
    assert sum(1 for row in sheet_rows(content) if row[3] == "区直部门") == 30


def test_the_demo_has_district_departments_with_their_liaisons(client, demo):
    from campaign.demo import DEMO_PASSWORD, DISTRICT_DEPARTMENTS
    from campaign.models import Membership

    for district, name, _short, code, username, full_name, _type in DISTRICT_DEPARTMENTS:
        unit = Unit.objects.get(code=code)
        assert (unit.name, unit.parent.short_name, unit.kind_label) == (name, district, "区直部门")
        membership = Membership.objects.get(user__username=username)
        assert (membership.unit, membership.role, membership.user.get_full_name()) == (unit, "liaison", full_name)
        assert client.login(username=username, password=DEMO_PASSWORD)
        assert client.get(f"/units/{unit.pk}/").status_code == 200
        assert client.get(f"/units/{unit.parent_id}/").status_code == 404  # its district is not its own
