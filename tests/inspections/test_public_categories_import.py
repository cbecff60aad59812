"""公众问题类别 import and export (issue 15): by 编码, check items as 点位类别：检查内容, point types by
name; row errors with row numbers, all or nothing; the export re-imports with no change."""

import io

import pytest
from openpyxl import load_workbook

from inspections import triage
from inspections.models import PublicCategory
from tests.campaign.xlsx import make_xlsx, upload

HEADER = [c.header for c in triage.CATEGORY_COLUMNS]


def run(campaign, *rows, dry_run=False):
    return triage.public_categories_import(
        campaign=campaign, file=upload("类别.xlsx", make_xlsx([HEADER, *rows])), dry_run=dry_run
    )


def test_import_creates_updates_and_round_trips(web, office, campaign, stall_item, ads_item, market_type):
    items = f"集贸(农贸)市场：{stall_item.text}；集贸(农贸)市场：{ads_item.text}"
    result = run(
        campaign,
        ["zdjy", "占道经营", "市容", "", "10", "是", items, "集贸(农贸)市场"],
        ["qt", "其他", "", "", "", "", "", ""],
    )
    assert result.ok and result.created == 2, result.errors
    first = PublicCategory.objects.get(code="zdjy")
    assert set(first.check_items.all()) == {stall_item, ads_item} and list(first.point_types.all()) == [market_type]
    # The list's export re-imports with no change.
    content = web(office).get("/inspections/public-categories/?export=xlsx").content
    rows = [list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    again = triage.public_categories_import(campaign=campaign, file=upload("导出.xlsx", content), dry_run=False)
    assert (again.ok, again.unchanged, again.created, again.updated) == (True, 2, 0, 0)
    changed = run(campaign, ["zdjy", "占道经营", "市容", "", "10", "否", f"集贸(农贸)市场：{stall_item.text}", ""])
    assert changed.updated == 1 and set(changed.rows[0].changes) == {"启用", "对应测评细则", "对应点位类别"}
    first.refresh_from_db()
    assert not first.active and list(first.check_items.all()) == [stall_item] and not first.point_types.exists()


def test_bad_rows_are_refused_with_row_numbers(campaign, stall_item):
    result = run(
        campaign,
        ["zdjy", "占道经营", "", "", "10", "是", "", ""],
        ["占道", "乱码", "", "", "x", "也许", "小区：不存在的细则", "火星"],
        ["zdjy", "占道经营", "", "", "²", "", "", ""],
    )
    assert not result.ok and not PublicCategory.objects.exists()
    assert {(e.row, e.column) for e in result.errors} == {
        (3, "编码"),
        (3, "排序"),
        (3, "启用"),
        (3, "对应测评细则"),
        (3, "对应点位类别"),
        (4, "编码"),
        (4, "名称"),
        (4, "排序"),
    }


@pytest.mark.parametrize("persona", ["leader", "liaison_jia"])
def test_only_the_office_imports(request, persona, web, campaign):
    client = web(request.getfixturevalue(persona))
    response = client.post(
        "/inspections/public-categories/import/",
        {"file": upload("类别.xlsx", make_xlsx([HEADER, ["qt", "其他", "", "", "", "", "", ""]]))},
    )
    assert response.status_code == 403 and not PublicCategory.objects.exists()
