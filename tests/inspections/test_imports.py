"""Point and check-item imports: row errors with spreadsheet row numbers, all or nothing, idempotent."""

from decimal import Decimal

from inspections.importing import check_items_import, points_import
from inspections.models import CheckItem, Point
from tests.campaign.xlsx import make_xlsx, upload

POINT_HEADER = [
    "名称",
    "类型",
    "地址",
    "经度",
    "纬度",
    "所属社区或街道",
    "主管部门",
    "包保单位",
    "负责人",
    "联系电话",
    "重点点位",
]


def run_points(rows, dry_run=False):
    return points_import(file=upload("points.xlsx", make_xlsx([POINT_HEADER, *rows])), dry_run=dry_run)


def test_points_import_creates_updates_and_is_idempotent(city, market_type):
    rows = [
        ["甲一农贸市场", "农贸市场", "湖滨路1号", "120.3", "31.5", "甲一社区", "", "市文明办", "张三", "138", "是"],
        ["乙街道背街", "背街小巷", "", "", "", "乙街道", "市城管局、示范市文明办", "", "", "", ""],
    ]
    result = run_points(rows)
    assert (result.ok, result.created) == (True, 2)
    market = Point.objects.get(name="甲一农贸市场")
    assert (market.point_type.name, market.unit, market.key_point, market.latitude) == (
        "集贸(农贸)市场",
        city.community_jia1,
        True,
        Decimal("31.500000"),
    )
    assert [d.name for d in market.departments.all()] == ["示范市城市管理局"]  # the type's default
    lane = Point.objects.get(name="乙街道背街")
    assert sorted(d.short_name for d in lane.departments.all()) == ["市城管局", "市文明办"]
    again = run_points(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    rows[0][9] = "139"
    changed = run_points(rows, dry_run=True)
    assert changed.rows[0].changes == {"联系电话": ("138", "139")}


def test_points_import_reports_every_bad_row_and_writes_nothing(city, market_type):
    result = run_points(
        [
            ["甲一农贸市场", "菜场摊", "", "", "", "甲一社区", "", "", "", "", ""],
            ["x", "农贸市场", "", "200", "31", "甲区", "", "", "", "", ""],
            ["y", "农贸市场", "", "", "", "甲一社区", "市城管", "", "", "", "也许"],
            ["", "农贸市场", "", "120", "", "不存在社区", "", "", "", "", ""],
        ]
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "类型"),
        (3, "所属社区或街道"),
        (3, "经度"),
        (4, "主管部门"),
        (4, "重点点位"),
        (5, "名称"),
        (5, "所属社区或街道"),
        (5, "经度"),
    ]
    assert "相近的单位" in result.errors[3].message
    assert result.errors[1].message == "“甲区”是区县，此处应填写街道乡镇或社区村。"
    assert not Point.objects.exists()


CHECK_HEADER = [
    "点位类型",
    "测评标准编码",
    "检查内容",
    "计分规则",
    "每处扣分",
    "最高扣分",
    "严重程度",
    "责任部门",
    "说明",
]


def test_check_items_import(system, standard, market_type, city):
    rows = [
        ["农贸市场", "Ⅲ-1", "公益广告不少于2处", "每缺一处扣0.5分", "0.5", "2", "一般", "", "两处间隔10米以上"],
        ["农贸市场", "Ⅰ-1/Ⅲ-1", "无占道经营", "", "1", "", "严重", "市城管局", "划线内出店经营不算占道"],
    ]
    result = check_items_import(system=system, file=upload("c.xlsx", make_xlsx([CHECK_HEADER, *rows])), dry_run=False)
    assert (result.ok, result.created) == (True, 2)
    stall = CheckItem.objects.get(text="无占道经营")
    assert (stall.per_occurrence, stall.cap, stall.severity) == (Decimal(1), Decimal(1), "severe")
    assert [d.short_name for d in stall.departments.all()] == ["市城管局"]
    again = check_items_import(system=system, file=upload("c.xlsx", make_xlsx([CHECK_HEADER, *rows])), dry_run=False)
    assert again.unchanged == 2


def test_check_items_import_errors(system, standard, market_type):
    rows = [
        ["农贸市场", "Ⅹ-9", "a", "", "0.5", "", "", "", ""],
        ["农贸市场", "Ⅲ-1", "b", "", "-1", "", "", "", ""],
        ["农贸市场", "Ⅲ-1", "c", "", "1", "0.5", "很严重", "", ""],
    ]
    result = check_items_import(system=system, file=upload("c.xlsx", make_xlsx([CHECK_HEADER, *rows])), dry_run=False)
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "测评标准编码"),
        (3, "每处扣分"),
        (4, "最高扣分"),
        (4, "严重程度"),
    ]
    assert not CheckItem.objects.exists()


def test_import_commands(tmp_path, system, standard, market_type, city):
    import pytest
    from django.core.management import call_command
    from django.core.management.base import CommandError

    points = tmp_path / "points.xlsx"
    points.write_bytes(
        make_xlsx([POINT_HEADER, ["甲一农贸市场", "农贸市场", "", "", "", "甲一社区", "", "", "", "", ""]])
    )
    call_command("import_points", str(points), "--dry-run")
    assert not Point.objects.exists()
    call_command("import_points", str(points))
    assert Point.objects.count() == 1

    items = tmp_path / "items.xlsx"
    items.write_bytes(make_xlsx([CHECK_HEADER, ["农贸市场", "Ⅲ-1", "公益广告", "", "0.5", "2", "", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_check_items", str(items), "--system", "999999")
    call_command("import_check_items", str(items), "--system", str(system.pk))
    assert CheckItem.objects.count() == 1

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make_xlsx([CHECK_HEADER, ["农贸市场", "Ⅹ-1", "x", "", "0.5", "", "", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_check_items", str(bad), "--system", str(system.pk))
    assert CheckItem.objects.count() == 1
