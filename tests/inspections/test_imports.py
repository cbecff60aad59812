"""Point and check-item imports: row errors with spreadsheet row numbers, all or nothing, idempotent."""

from decimal import Decimal

import pytest

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
            ["x", "农贸市场", "", "200", "31", "市城管局", "", "", "", "", ""],
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
    assert result.errors[1].message == "“市城管局”是市直部门，此处应填写区县或街道乡镇或社区村。"
    assert not Point.objects.exists()


def test_a_point_may_sit_under_a_district_when_the_city_has_no_street_for_it(city, market_type):
    """An evaluator's rows without a street create points under the district (the third-party
    import); the points sheet takes them too, so its export re-imports."""
    result = run_points([["甲区河道", "农贸市场", "", "", "", "甲区", "", "", "", "", ""]], dry_run=False)
    assert result.ok, result.errors
    assert Point.objects.get(name="甲区河道").unit.name == "甲区"


def _point_rows(count: int, *, prefix: str = "点位") -> list[list[str]]:
    """`count` valid rows over both communities and a street, some with departments and a sponsor."""
    units, departments = ["甲一社区", "JIA-1-2", "乙街道"], ["", "市城管局", "市城管局、示范市文明办"]
    return [
        [
            f"{prefix}{i:04d}",
            "农贸市场" if i % 2 else "背街小巷",
            f"某路{i}号",
            f"120.{i:04d}",
            f"31.{i:04d}",
            units[i % 3],
            departments[i % 3],
            "甲街道" if i % 5 == 0 else "",
            "张三" if i % 2 else "",
            f"138{i:08d}",
            "是" if i % 4 == 0 else "否",
        ]
        for i in range(count)
    ]


def _import_queries(rows, dry_run=False) -> tuple[int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    file = upload("points.xlsx", make_xlsx([POINT_HEADER, *rows]))
    with CaptureQueriesContext(connection) as queries:
        result = points_import(file=file, dry_run=dry_run)
    assert result.ok, [e.as_dict() for e in result.errors]
    return len(queries), result


@pytest.fixture
def one_batch_on_sqlite(monkeypatch):
    """SQLite takes 32,766 parameters since 3.32, but Django's feature flag says 999, which splits
    a 200-row bulk insert into batches. Lift it so the counts show what grows with the rows (the
    importer's own queries), not the backend's batch size."""
    from django.db import connection

    if connection.vendor == "sqlite":
        monkeypatch.setattr(type(connection.features), "max_query_params", 32766)


def test_points_import_queries_do_not_grow_with_the_rows(city, market_type, one_batch_on_sqlite):
    # Preview, first import (creates), re-import (nothing) and an import that changes every row:
    # the same number of queries for 10 rows as for 200.
    counts = {}
    for size in (10, 200):
        rows = _point_rows(size, prefix=f"P{size}-")
        preview, _ = _import_queries(rows, dry_run=True)
        created, result = _import_queries(rows)
        assert result.created == size
        again, result = _import_queries(rows)
        assert result.unchanged == size
        for row in rows:
            row[9], row[6] = "139", "示范市文明办"  # a new phone; departments all changed
        changed, result = _import_queries(rows)
        assert result.updated == size
        counts[size] = (preview, created, again, changed)
    # preview: units, types, their departments, the points named; creating: + a savepoint, one
    # INSERT of points, one of their departments, the release; re-import: + the named points'
    # departments, no write; changing every row: one UPDATE, one DELETE and one INSERT of links.
    # Writing also records the points' history in bulk (issue 11, the audit): one INSERT of history
    # rows, one SELECT of their departments, one INSERT of that snapshot — 3 more, whatever the rows.
    assert counts[10] == counts[200] == (4, 11, 5, 13)


def test_points_import_in_bulk_keeps_the_service_rules(city, market_type):
    rows = _point_rows(30)
    assert run_points(rows).created == 30
    point = Point.objects.get(name="点位0005")
    assert (point.unit, point.sponsor, point.key_point, point.latitude) == (
        city.street_yi,
        city.street_jia,
        False,
        Decimal("31.000500"),
    )
    assert [d.name for d in point.departments.all()] == ["示范市城市管理局", "示范市文明办"]
    lane = Point.objects.get(name="点位0000")  # 背街小巷 has no default department: none
    assert list(lane.departments.all()) == []
    market = Point.objects.get(name="点位0003")  # blank departments: the type's default
    assert [d.name for d in market.departments.all()] == ["示范市城市管理局"]

    rows[5][6], rows[5][7], rows[5][10] = "示范市文明办", "", "是"
    preview = run_points(rows, dry_run=True)
    assert [(r.row, r.changes) for r in preview.rows if r.action == "update"] == [
        (
            7,
            {
                "包保单位": ("甲街道", ""),
                "重点点位": ("否", "是"),
                "主管部门": ("示范市城市管理局、示范市文明办", "示范市文明办"),
            },
        )
    ]
    result = run_points(rows)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 29)
    point.refresh_from_db()
    assert (point.sponsor, point.key_point) == (None, True)
    assert [d.name for d in point.departments.all()] == ["示范市文明办"]
    assert Point.departments.through.objects.count() == sum(len(p.departments.all()) for p in Point.objects.all())
    assert run_points(rows).unchanged == 30  # re-import changes nothing


def test_points_import_checks_the_model_rules_in_the_preview_and_writes_nothing(city, market_type):
    rows = _point_rows(3)
    rows[1][0] = "长" * 201  # the model's 200 characters
    rows[2][9] = "1" * 51
    result = run_points(rows, dry_run=True)
    assert [(e.row, e.column) for e in result.errors] == [(3, "名称"), (4, "联系电话")]
    assert all("200" in e.message or "50" in e.message for e in result.errors)
    assert not run_points(rows).ok
    assert not Point.objects.exists()


def test_points_import_duplicates_in_the_file_are_row_errors(city, market_type):
    rows = _point_rows(3)
    rows[2] = list(rows[0])
    result = run_points(rows)
    assert [(e.row, e.message) for e in result.errors] == [(4, "与第 2 行重复（同一单位下同名同类点位）。")]
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


# --- 整改时限(工作日) ---------------------------------------------------------------------------


def run_items(system, header, rows, dry_run=False):
    return check_items_import(system=system, file=upload("c.xlsx", make_xlsx([header, *rows])), dry_run=dry_run)


@pytest.mark.parametrize("title", ["整改时限(工作日)", "整改时限（工作日）", "整改时限", "整改期限(工作日)", "时限"])
def test_check_items_import_reads_the_deadline_in_working_days(system, standard, market_type, title):
    header = [*CHECK_HEADER, title]
    rows = [
        ["农贸市场", "Ⅲ-1", "公益广告不少于2处", "", "0.5", "2", "一般", "", "", "3"],
        ["农贸市场", "Ⅲ-1", "无占道经营", "", "1", "", "严重", "", "", ""],
    ]
    result = run_items(system, header, rows)
    assert (result.ok, result.created) == (True, 2)
    assert dict(CheckItem.objects.values_list("text", "deadline_days")) == {"公益广告不少于2处": 3, "无占道经营": None}
    assert run_items(system, header, rows).unchanged == 2  # re-import changes nothing
    rows[0][9], rows[1][9] = "5", "2"
    preview = run_items(system, header, rows, dry_run=True)
    assert [(r.action, r.changes) for r in preview.rows] == [
        ("update", {"整改时限(工作日)": ("3", "5")}),
        ("update", {"整改时限(工作日)": ("", "2")}),
    ]
    assert dict(CheckItem.objects.values_list("text", "deadline_days")) == {"公益广告不少于2处": 3, "无占道经营": None}
    run_items(system, header, rows)
    assert dict(CheckItem.objects.values_list("text", "deadline_days")) == {"公益广告不少于2处": 5, "无占道经营": 2}
    rows[0][9] = ""  # blank: back to the default of its severity
    run_items(system, header, rows)
    assert CheckItem.objects.get(text="公益广告不少于2处").deadline_days is None


def test_check_items_import_refuses_bad_deadlines_with_their_row_numbers(system, standard, market_type):
    header = [*CHECK_HEADER, "整改时限(工作日)"]
    values = ["0", "61", "2.5", "三天", "-1", "60", "1"]
    rows = [["农贸市场", "Ⅲ-1", f"细则{i}", "", "1", "", "", "", "", value] for i, value in enumerate(values)]
    result = run_items(system, header, rows)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (2, "整改时限(工作日)", "0"),
        (3, "整改时限(工作日)", "61"),
        (4, "整改时限(工作日)", "2.5"),
        (5, "整改时限(工作日)", "三天"),
        (6, "整改时限(工作日)", "-1"),
    ]
    assert {e.message for e in result.errors} == {
        "整改时限应为 1 到 60 之间的整数（工作日），留空则按严重程度的默认时限。"
    }
    assert not CheckItem.objects.exists()  # all or nothing


def test_a_sheet_without_the_column_keeps_the_deadlines(system, standard, market_type):
    run_items(system, [*CHECK_HEADER, "整改时限"], [["农贸市场", "Ⅲ-1", "公益广告", "", "0.5", "2", "", "", "", "4"]])
    result = run_items(system, CHECK_HEADER, [["农贸市场", "Ⅲ-1", "公益广告", "", "0.5", "2", "", "", ""]])
    assert result.unchanged == 1
    assert CheckItem.objects.get().deadline_days == 4


def test_check_item_export_and_template_have_the_deadline(web, office, system, standard, market_type):
    import io

    from openpyxl import load_workbook

    run_items(system, [*CHECK_HEADER, "时限"], [["农贸市场", "Ⅲ-1", "公益广告", "", "0.5", "2", "", "", "", "4"]])
    client = web(office)
    sheet = load_workbook(io.BytesIO(client.get("/inspections/check-items/?export=xlsx").content)).active
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert row[header.index("整改时限(工作日)")] == "4"
    template = load_workbook(io.BytesIO(client.get("/inspections/check-items/import/?template=1").content)).active
    rows = list(template.iter_rows(values_only=True))
    assert rows[0][-1] == "整改时限(工作日)" and all(len(r) == len(rows[0]) for r in rows)
    assert "整改时限" in client.get("/inspections/check-items/import/").content.decode()


def test_the_service_checks_the_deadline_too(standard, market_type):
    from django.core.exceptions import ValidationError

    from inspections import services

    for value in (0, 61, True):
        with pytest.raises(ValidationError) as caught:
            services.check_item_create(
                point_type=market_type,
                indicator=standard,
                text="x",
                per_occurrence=Decimal(1),
                cap=Decimal(1),
                deadline_days=value,
            )
        assert caught.value.message_dict["deadline_days"] == ["整改时限应为 1 到 60 之间的整数（工作日）。"]
    assert not CheckItem.objects.exists()
    item = services.check_item_create(
        point_type=market_type, indicator=standard, text="x", per_occurrence=Decimal(1), cap=Decimal(1), deadline_days=7
    )
    with pytest.raises(ValidationError):
        services.check_item_update(item=item, deadline_days=100)
    item.refresh_from_db()
    assert item.deadline_days == 7
    assert services.check_item_update(item=item, deadline_days=None).deadline_days is None


def test_the_points_import_bench_refuses_a_database_not_named_bench(db):
    from bench.points_import_bench import run_points_import

    with pytest.raises(RuntimeError, match="refusing to run"):
        run_points_import(rows=10, runs=1)
    assert not Point.objects.exists()
