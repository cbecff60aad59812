"""点位类别 import and export (issue 13, item 3): national types kept, local ones added, row errors
with their row numbers, all or nothing, re-import unchanged, queries that do not grow with the rows;
the page, the API (per persona) and the command; points and check items then import against them."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from campaign.choices import UnitKind
from campaign.services import unit_create
from inspections.importing import check_items_import, point_types_import, points_import
from inspections.models import CheckItem, Point, PointType
from tests.campaign.xlsx import make_xlsx, upload

HEADER = ["名称", "分类", "默认责任部门", "排序", "启用"]
PERSONAS = ["inspector", "leader", "liaison_jia", "liaison_dept"]


def run(rows, dry_run=False, header=HEADER):
    return point_types_import(file=upload("types.xlsx", make_xlsx([header, *rows])), dry_run=dry_run)


def snapshot():
    rows = list(PointType.objects.order_by("pk").values_list("pk", "name", "category", "order", "national", "active"))
    return rows, sorted(PointType.departments.through.objects.values_list("pointtype_id", "unit_id"))


def departments_of(name: str) -> list[str]:
    return sorted(d.name for d in PointType.objects.get(name=name).departments.all())


def test_national_types_are_updated_local_ones_added_and_a_reimport_changes_nothing(city, market_type):
    national = PointType.objects.count()
    rows = [
        ["集贸(农贸)市场", "公共场所", "市城管局、示范市文明办", "", ""],
        ["中学", "窗口单位", "市城管局 市文明办", "", ""],  # departments separated by a space
        ["药店", "", "", "40", "否"],
    ]
    result = run(rows)
    assert [e.as_dict() for e in result.errors] == []
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    market = PointType.objects.get(name="集贸(农贸)市场")
    assert (market.category, market.national, market.active) == ("公共场所", True, True)
    assert departments_of("集贸(农贸)市场") == ["示范市城市管理局", "示范市文明办"]
    school = PointType.objects.get(name="中学")
    assert (school.category, school.national, school.active) == ("窗口单位", False, True)
    assert school.order > max(PointType.objects.filter(national=True).values_list("order", flat=True))
    assert departments_of("中学") == ["示范市城市管理局", "示范市文明办"]
    pharmacy = PointType.objects.get(name="药店")
    assert (pharmacy.order, pharmacy.active, departments_of("药店")) == (40, False, [])
    assert PointType.objects.count() == national + 2  # nothing deleted

    before = snapshot()
    again = run(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert snapshot() == before

    # Blank 默认责任部门/排序/启用 keep an existing type's own; the name is matched as points name it.
    result = run([["农贸市场", "市场", "", "", ""]], dry_run=True)
    assert [(r.action, r.label, r.changes) for r in result.rows] == [
        ("update", "集贸(农贸)市场（国家测评点位类别）", {"分类": ("公共场所", "市场")})
    ]
    assert snapshot() == before  # a preview writes nothing


def test_history_is_recorded_in_bulk_with_the_departments(city, market_type):
    run([["集贸(农贸)市场", "公共场所", "市文明办", "", ""], ["中学", "", "市城管局", "", ""]])
    changed = PointType.history.filter(name="集贸(农贸)市场").latest("history_date")
    assert (changed.history_type, changed.category) == ("~", "公共场所")
    assert [d.unit_id for d in changed.departments.all()] == [city.dept_office.pk]
    created = PointType.history.get(name="中学")
    assert created.history_type == "+"
    assert [d.unit_id for d in created.departments.all()] == [city.dept_cg.pk]


def test_every_bad_row_is_reported_and_nothing_is_written(city, market_type):
    before = snapshot()
    result = run(
        [
            ["", "公共场所", "", "", ""],
            ["中学", "", "市城管 甲街道", "", ""],
            ["药店", "", "", "第一", "也许"],
            ["菜场" * 30, "x" * 51, "", "", ""],
            ["中学", "", "", "", ""],
            ["集贸市场", "", "", "", ""],
            ["集贸(农贸)市场", "", "", "", ""],
        ]
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "名称"),
        (3, "默认责任部门"),
        (3, "默认责任部门"),
        (4, "排序"),
        (4, "启用"),
        (5, "名称"),
        (5, "分类"),
        (8, "名称"),
    ]
    assert "找不到单位“市城管”" in result.errors[1].message
    assert result.errors[2].message.startswith("“甲街道”是街道乡镇，此处应填写")  # …部门
    assert result.errors[2].message.endswith("部门。")
    assert result.errors[-1].message == "与第 7 行是同一点位类别。"
    assert result.summary == "文件有 8 处错误，未写入任何数据。请修改后重新上传。"
    assert snapshot() == before


def test_an_ambiguous_department_names_its_candidates(city, market_type):
    jia_dept = unit_create(name="甲区卫健局", short_name="区卫健局", code="JIA-WJ", kind=UnitKind.DEPARTMENT)
    unit_create(name="乙区卫健局", short_name="区卫健局", code="YI-WJ", kind=UnitKind.DEPARTMENT)
    before = snapshot()
    result = run([["药店", "", "区卫健局", "", ""]])
    assert "有多个单位叫“区卫健局”" in result.errors[0].message and "JIA-WJ" in result.errors[0].message
    assert snapshot() == before
    # The export writes what names each department alone, so it imports back unchanged.
    run([["药店", "", "JIA-WJ、市城管局", "", ""]])
    assert departments_of("药店") == [jia_dept.name, "示范市城市管理局"]


@pytest.fixture
def one_batch_on_sqlite(monkeypatch):
    if connection.vendor == "sqlite":
        monkeypatch.setattr(type(connection.features), "max_query_params", 32766)


def _queries(rows, dry_run=False):
    file = upload("types.xlsx", make_xlsx([HEADER, *rows]))
    with CaptureQueriesContext(connection) as queries:
        result = point_types_import(file=file, dry_run=dry_run)
    assert result.ok, [e.as_dict() for e in result.errors]
    return len(queries), result


def test_queries_do_not_grow_with_the_rows(city, market_type, one_batch_on_sqlite):
    counts = {}
    for size in (10, 100):
        rows = [[f"类别{size}-{i:03d}", "分类甲", "市城管局", "", ""] for i in range(size)]
        preview, _ = _queries(rows, dry_run=True)
        created, result = _queries(rows)
        assert result.created == size
        again, result = _queries(rows)
        assert result.unchanged == size
        for row in rows:
            row[1], row[2] = "分类乙", "市文明办"
        changed, result = _queries(rows)
        assert result.updated == size
        counts[size] = (preview, created, again, changed)
    assert counts[10] == counts[100]


def test_points_and_check_items_import_against_a_local_type_imported_just_before(city, market_type, system, standard):
    run([["中学", "窗口单位", "市文明办", "", ""]])
    points = make_xlsx(
        [
            ["名称", "类型", "所属社区或街道"],
            ["示范市第一中学", "中学", "甲街道"],
        ]
    )
    result = points_import(file=upload("p.xlsx", points), dry_run=False)
    assert [e.as_dict() for e in result.errors] == []
    school = Point.objects.get(name="示范市第一中学")
    assert [d.name for d in school.departments.all()] == ["示范市文明办"]  # the type's default
    items = make_xlsx([["点位类型", "测评标准编码", "检查内容", "每处扣分"], ["中学", "Ⅲ-1", "校门口秩序良好", "1"]])
    result = check_items_import(system=system, file=upload("c.xlsx", items), dry_run=False)
    assert [e.as_dict() for e in result.errors] == []
    assert CheckItem.objects.get().point_type.name == "中学"


# --- The page -----------------------------------------------------------------------------------


def test_the_list_page_shows_the_category_filters_it_and_exports_the_import_layout(web, office, city, market_type):
    run([["集贸(农贸)市场", "公共场所", "市城管局", "", ""], ["中学", "窗口单位", "市文明办", "", ""]])
    client = web(office)
    page = client.get("/inspections/point-types/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "分类" in text and "公共场所" in text and "导入" in text and "导出" in text
    filtered = client.get("/inspections/point-types/", {"category": "窗口单位"}).content.decode()
    assert "中学" in filtered and "集贸(农贸)市场" not in filtered

    export = client.get("/inspections/point-types/?export=xlsx")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[[r[0] for r in rows].index("集贸(农贸)市场")][:3] == ("集贸(农贸)市场", "公共场所", "市城管局")
    before = snapshot()
    result = point_types_import(file=upload("export.xlsx", export.content), dry_run=False)
    assert (result.ok, result.created, result.updated) == (True, 0, 0)
    assert snapshot() == before


def test_the_import_page_previews_then_imports(web, office, city, market_type):
    client = web(office)
    assert "默认责任部门" in client.get("/inspections/point-types/import/").content.decode()
    template = client.get("/inspections/point-types/import/?template=1")
    assert list(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))[0] == tuple(HEADER)
    sheet = make_xlsx([HEADER, ["中学", "窗口单位", "市文明办", "", ""]])
    preview = client.post("/inspections/point-types/import/", {"file": upload("t.xlsx", sheet)})
    assert preview.status_code == 200 and not PointType.objects.filter(name="中学").exists()
    token = preview.context["token"]
    done = client.post("/inspections/point-types/import/", {"token": token})
    assert done.status_code == 302 and done.url == "/inspections/point-types/"
    assert PointType.objects.get(name="中学").category == "窗口单位"


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_office_opens_the_import_page(web, request, persona, city, market_type):
    client = web(request.getfixturevalue(persona))
    before = snapshot()
    sheet = make_xlsx([HEADER, ["中学", "", "", "", ""]])
    assert client.get("/inspections/point-types/import/").status_code == 403
    assert client.post("/inspections/point-types/import/", {"file": upload("t.xlsx", sheet)}).status_code == 403
    assert client.get("/inspections/point-types/").status_code == 200  # everyone reads the list
    assert snapshot() == before


# --- The API ------------------------------------------------------------------------------------


def test_the_api_previews_then_imports(api, office, city, market_type):
    client = api(office)
    sheet = make_xlsx([HEADER, ["中学", "窗口单位", "市文明办", "", ""], ["集贸(农贸)市场", "公共场所", "", "", ""]])
    preview = client.post(
        "/api/v1/point-types/import/", {"file": upload("t.xlsx", sheet), "dry_run": "1"}, format="multipart"
    )
    assert preview.status_code == 200, preview.content
    assert preview.json()["detail"] == "预览：将新增 1 条，更新 1 条，0 条不变。"
    assert not PointType.objects.filter(name="中学").exists()
    response = client.post("/api/v1/point-types/import/", {"file": upload("t.xlsx", sheet)}, format="multipart")
    assert (response.status_code, response.json()["detail"]) == (200, "已新增 1 条，更新 1 条，0 条不变。")
    school = client.get("/api/v1/point-types/", {"category": "窗口单位"}).json()["results"]
    assert [(t["name"], t["category"], t["national"]) for t in school] == [("中学", "窗口单位", False)]
    patched = client.patch(f"/api/v1/point-types/{school[0]['id']}/", {"category": "学校"}, format="json")
    assert (patched.status_code, patched.json()["category"]) == (200, "学校")


def test_the_api_answers_row_errors_in_chinese_and_writes_nothing(api, office, city, market_type):
    before = snapshot()
    sheet = make_xlsx([HEADER, ["中学", "", "不存在的局", "", ""]])
    response = api(office).post("/api/v1/point-types/import/", {"file": upload("t.xlsx", sheet)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["errors"][0]["row"], body["errors"][0]["column"]) == (
        "import_invalid",
        2,
        "默认责任部门",
    )
    assert snapshot() == before


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_only_the_office_imports_through_the_api(api, request, persona, city, market_type):
    client = api(request.getfixturevalue(persona) if persona else None)
    before = snapshot()
    sheet = make_xlsx([HEADER, ["中学", "", "", "", ""]])
    response = client.post("/api/v1/point-types/import/", {"file": upload("t.xlsx", sheet)}, format="multipart")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert snapshot() == before


# --- The command --------------------------------------------------------------------------------


def test_the_command(tmp_path, city, market_type):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "types.xlsx"
    path.write_bytes(make_xlsx([HEADER, ["中学", "窗口单位", "市文明办", "", ""]]))
    call_command("import_point_types", str(path), "--dry-run", stdout=io.StringIO())
    assert not PointType.objects.filter(name="中学").exists()
    call_command("import_point_types", str(path), stdout=io.StringIO())
    assert PointType.objects.get(name="中学").category == "窗口单位"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make_xlsx([HEADER, ["药店", "", "不存在的局", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_point_types", str(bad), stdout=io.StringIO())
    assert not PointType.objects.filter(name="药店").exists()


# --- The form pages -------------------------------------------------------------------------------


def test_the_office_adds_and_edits_a_type_with_its_category(web, office, city, market_type):
    client = web(office)
    assert "/inspections/point-types/new/" in client.get("/inspections/point-types/").content.decode()
    response = client.post(
        "/inspections/point-types/new/",
        {"name": "药店", "category": "窗口单位", "departments": [city.dept_cg.pk], "order": "30", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    pharmacy = PointType.objects.get(name="药店")
    assert (pharmacy.category, pharmacy.national, departments_of("药店")) == ("窗口单位", False, ["示范市城市管理局"])
    assert f"/inspections/point-types/{pharmacy.pk}/edit/" in client.get("/inspections/point-types/").content.decode()

    # A national type: 分类 and departments change, the name does not (the field is disabled).
    response = client.post(
        f"/inspections/point-types/{market_type.pk}/edit/",
        {
            "name": "改名市场",
            "category": "公共场所",
            "departments": [city.dept_office.pk],
            "order": "3",
            "active": "on",
        },
    )
    assert response.status_code == 302
    market_type.refresh_from_db()
    assert (market_type.name, market_type.category, market_type.order, market_type.national) == (
        "集贸(农贸)市场",
        "公共场所",
        3,
        True,
    )
    assert departments_of("集贸(农贸)市场") == ["示范市文明办"]
    assert PointType.history.filter(id=market_type.pk).latest("history_date").category == "公共场所"

    duplicate = client.post("/inspections/point-types/new/", {"name": "药店", "order": "1"})
    assert duplicate.status_code == 400 and "已有同名的点位类别。" in duplicate.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_office_adds_or_edits_types(web, request, persona, city, market_type):
    client = web(request.getfixturevalue(persona))
    before = snapshot()
    assert client.get("/inspections/point-types/new/").status_code == 403
    assert client.post("/inspections/point-types/new/", {"name": "越权", "order": "1"}).status_code == 403
    edit = f"/inspections/point-types/{market_type.pk}/edit/"
    assert client.post(edit, {"name": "越权", "category": "x", "order": "1"}).status_code == 403
    assert "/edit/" not in client.get("/inspections/point-types/").content.decode()
    assert snapshot() == before
