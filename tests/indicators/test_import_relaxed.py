"""A 测评体系 imported only to score field checks (issue 13, case 5): the evaluator's 测评细则 has no
测评内容, 分值, 测评方法, 牵头单位 or 责任单位. Missing columns and blank cells are warnings, never
errors; spaces inside titles are kept (case 6); and a weightless system does not break the board,
the forecast or the completeness numbers downstream."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.dashboard import forecast
from indicators.importing import BLANK_WARNINGS, MISSING_COLUMN_WARNINGS, clean_text, split_code_title
from indicators.models import Assignment, Indicator, IndicatorMethod
from indicators.selectors import completeness_by_project, completeness_by_unit
from inspections.choices import Result
from inspections.models import CheckItem, Inspection, InspectionRound, Observation, PointType
from inspections.services import point_create
from tests.accountability.test_dashboard import at, monday, publish
from tests.indicators.sheets import FOUR_LEVELS, run, sheet, snapshot, tree_of
from tests.indicators.test_import import errors_of, writes

FIELD_ONLY = ["测评项目", "测评标准", "适用点位"]
FIELD_ROWS = [
    ["Ⅰ-5 整洁优美的城市环境", "Ⅲ-57 餐饮场所张贴“光盘行动”宣传提示", "餐饮场所"],
    [None, "Ⅲ-58 农贸市场项目 第0条标准", "集贸(农贸)市场"],
    [None, "Ⅲ-59  背街小巷   路面平整 ", "背街小巷"],
    ["Ⅰ-6 安全便捷的公共秩序", "Ⅲ-60 安全出口畅通", "商场超市"],
]


def warnings_of(result) -> list[tuple]:
    return [(w.row, w.column, w.value, w.message) for w in result.warnings]


# --- Spaces inside titles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("…项目 第0条标准", ("", "…项目 第0条标准")),
        ("农贸市场项目 第0条标准", ("", "农贸市场项目 第0条标准")),
        ("  农贸市场项目   第0条标准 ", ("", "农贸市场项目 第0条标准")),  # trimmed, a run made one
        ("农贸市场项目\u3000第0条标准", ("", "农贸市场项目 第0条标准")),  # a full-width space made half-width
        ("Ⅲ-57 餐饮场所 张贴宣传提示", ("Ⅲ-57", "餐饮场所 张贴宣传提示")),
        ("Ⅲ-57餐饮场所", ("Ⅲ-57", "餐饮场所")),
        ("Ⅲ - 57   餐饮场所", ("Ⅲ-57", "餐饮场所")),
        ("1) 盲道连续 ， 无占用", ("1)", "盲道连续，无占用")),  # no space beside Chinese punctuation
        ("（三） 无障碍设施", ("（三）", "无障碍设施")),
    ],
)
def test_spaces_inside_titles_are_kept_and_codes_still_split(cell, expected):
    assert split_code_title(cell) == expected


def test_clean_text_trims_and_collapses_but_keeps_one_inner_space():
    assert clean_text("  甲  乙\t丙 ") == "甲 乙 丙"
    assert clean_text("“光盘行动” 宣传") == "“光盘行动”宣传"


# --- A field-only sheet -------------------------------------------------------------------------------


def test_a_field_only_sheet_imports_with_one_warning_per_missing_column(system, city):
    result = run(system, sheet(FIELD_ROWS, header=FIELD_ONLY))

    assert result.ok, errors_of(result)
    assert (result.created, result.updated) == (6, 0)
    assert warnings_of(result) == [
        (None, "测评内容", "", MISSING_COLUMN_WARNINGS["content"]),
        (None, "分值", "", MISSING_COLUMN_WARNINGS["weight"]),
        (None, "测评方法", "", MISSING_COLUMN_WARNINGS["methods"]),
        (None, "牵头单位", "", MISSING_COLUMN_WARNINGS["lead"]),
        (None, "责任单位", "", MISSING_COLUMN_WARNINGS["responsible"]),
    ]
    # The standards hang right under their 测评项目, codes split off, inner spaces kept.
    rows = [(row[0], row[1], row[2], row[3], row[5]) for row in tree_of(system)]
    assert rows == [
        (("Ⅰ-5 整洁优美的城市环境",), 1, "Ⅰ-5", "整洁优美的城市环境", None),
        (
            ("Ⅰ-5 整洁优美的城市环境", "Ⅲ-57 餐饮场所张贴“光盘行动”宣传提示"),
            4,
            "Ⅲ-57",
            "餐饮场所张贴“光盘行动”宣传提示",
            None,
        ),
        (("Ⅰ-5 整洁优美的城市环境", "Ⅲ-58 农贸市场项目 第0条标准"), 4, "Ⅲ-58", "农贸市场项目 第0条标准", None),
        (("Ⅰ-5 整洁优美的城市环境", "Ⅲ-59 背街小巷 路面平整"), 4, "Ⅲ-59", "背街小巷 路面平整", None),
        (("Ⅰ-6 安全便捷的公共秩序",), 1, "Ⅰ-6", "安全便捷的公共秩序", None),
        (("Ⅰ-6 安全便捷的公共秩序", "Ⅲ-60 安全出口畅通"), 4, "Ⅲ-60", "安全出口畅通", None),
    ]
    assert Indicator.objects.get(system=system, code="Ⅲ-58").point_types == "集贸（农贸）市场"
    assert not IndicatorMethod.objects.filter(indicator__system=system).exists()
    assert not Assignment.objects.filter(indicator__system=system).exists()

    # Importing it again changes nothing and writes nothing.
    before = snapshot(system)
    with CaptureQueriesContext(connection) as queries:
        again = run(system, sheet(FIELD_ROWS, header=FIELD_ONLY))
    assert (again.ok, again.created, again.updated, again.unchanged) == (True, 0, 0, 6)
    assert writes(queries.captured_queries) == []
    assert snapshot(system) == before


def test_blank_cells_are_warnings_per_row_not_errors(system, city):
    rows = [
        # Row 2: everything given.
        [
            "Ⅰ-1 思想道德",
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            6,
            "1) 标准一",
            "实地考察",
            "市城管局",
            "甲街道",
            None,
            None,
        ],
        # Rows 3–4: a content without 分值 (one warning, on its first row), blanks everywhere else.
        [None, None, "Ⅲ-2 志愿服务", None, "1) 标准二", None, None, None, None, None],
        [None, None, None, None, "2) 标准三", "网上申报", None, "乙街道", None, None],
        # Row 5: a project-level row gives its 牵头单位 to everything below it (no warning below).
        ["Ⅰ-2 市场环境", None, None, 10, None, None, "市文明办", None, None, None],
        [None, "Ⅱ-2 农贸", "Ⅲ-3 农贸市场", None, "1) 划行归市", "实地考察", None, "甲街道", None, None],
    ]
    result = run(system, sheet(rows, header=FOUR_LEVELS))

    assert result.ok, errors_of(result)
    assert warnings_of(result) == [
        (3, "分值", "", BLANK_WARNINGS["weight"]),
        (3, "测评方法", "", BLANK_WARNINGS["methods"]),
        (3, "牵头单位", "", BLANK_WARNINGS["lead"]),
        (3, "责任单位", "", BLANK_WARNINGS["responsible"]),
        (4, "牵头单位", "", BLANK_WARNINGS["lead"]),
    ]
    assert result.as_dict()["warnings"][0] == {
        "row": 3,
        "column": "分值",
        "value": "",
        "message": "未填分值：该指标按实地考察计分时不影响，网上申报完成度将不计其权重。",
    }
    # The weightless content has no effective weight and its leaves no share: nothing divides by it.
    content = Indicator.objects.get(system=system, code="Ⅲ-2")
    assert (content.weight, content.effective_weight) == (None, None)
    assert {s.share_weight for s in content.children.all()} == {Decimal(0)}


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        # A blank 测评项目 with none above.
        ([[None, "1) 标准"]], ["测评项目", "测评标准"], (2, "测评项目", "", "测评项目为空")),
        # A code without a title.
        ([["Ⅰ-1", "1) 标准"]], ["测评项目", "测评标准"], (2, "测评项目", "Ⅰ-1", "只有编号，缺少名称")),
        ([["Ⅰ-1 思想道德", "Ⅲ-1"]], ["测评项目", "测评标准"], (2, "测评标准", "Ⅲ-1", "只有编号")),
        # A 测评内容 column left blank above a standard: which content is meant is unknown.
        (
            [["Ⅰ-1 思想道德", None, "1) 标准"]],
            ["测评项目", "测评内容", "测评标准"],
            (2, "测评内容", "", "测评内容为空，上方也没有可沿用的测评内容"),
        ),
        # A 分值 that is written must still be a number.
        ([["Ⅰ-1 思想道德", "1) 标准", "六分"]], ["测评项目", "测评标准", "分值"], (2, "分值", "六分", "不是数字")),
    ],
)
def test_what_stays_an_error(system, city, rows, header, expected):
    result = run(system, sheet(rows, header=header))

    assert not result.ok and result.warnings == []
    row, column, value, message = expected
    assert [(e.row, e.column, e.value) for e in result.errors] == [(row, column, value)]
    assert message in result.errors[0].message
    assert not Indicator.objects.filter(system=system).exists()


def test_the_preview_page_lists_the_warnings_as_hints(web, office, system, city):
    from tests.campaign.xlsx import upload

    response = web(office).post(
        f"/indicators/systems/{system.pk}/import/",
        {"file": upload("测评细则.xlsx", sheet(FIELD_ROWS, header=FIELD_ONLY))},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "5 条提示（不影响导入）" in html
    assert MISSING_COLUMN_WARNINGS["weight"] in html
    assert not Indicator.objects.filter(system=system).exists()  # a preview writes nothing


def test_the_help_text_says_which_blanks_are_allowed(web, office, system):
    html = web(office).get(f"/indicators/systems/{system.pk}/import/").content.decode()
    assert "只需“测评项目”“测评标准”两列" in html
    assert "仍按错误处理的" in html


# --- Weightless indicators downstream -----------------------------------------------------------------


@pytest.fixture
def weightless(system, city):
    """The field-only sheet imported into the campaign's current system."""
    assert run(system, sheet(FIELD_ROWS, header=FIELD_ONLY)).ok
    system.refresh_from_db()
    assert system.is_current
    return {i.code: i for i in Indicator.objects.filter(system=system)}


def test_weightless_tree_has_no_effective_weight_and_no_shares(weightless):
    assert {(i.code, i.effective_weight, i.share_weight) for i in weightless.values()} == {
        (code, None, Decimal(0)) for code in weightless
    }
    assert not any(i.is_declaration for i in weightless.values())


def test_the_board_with_weightless_indicators(web, office, leader, system, weightless, city):
    assert completeness_by_project(system=system) == []
    assert completeness_by_unit(system=system) == []
    for user in (office, leader):
        response = web(user).get("/indicators/board/")
        assert response.status_code == 200


def test_the_board_with_a_declaration_indicator_of_no_weight(web, office, system, city):
    """A 网上申报 standard without any 分值: counted as an item, rate unknown (no 0/0)."""
    rows = [["Ⅰ-1 思想道德", "1) 工作方案", "网上申报", "市文明办"]]
    assert run(system, sheet(rows, header=["测评项目", "测评标准", "测评方法", "牵头单位"])).ok
    [row] = completeness_by_project(system=system)
    assert (row["items"], row["total_weight"], row["rate"]) == (1, Decimal(0), None)
    [unit_row] = completeness_by_unit(system=system)
    assert (unit_row["items"], unit_row["rate"]) == (1, None)
    assert web(office).get("/indicators/board/").status_code == 200
    part = forecast(campaign=system.campaign).part("declaration")
    assert part.rate is None and "没有带分值的网上申报或材料审核类指标" in part.note


def test_the_forecast_and_dashboard_with_weightless_indicators(
    web, leader, campaign, system, weightless, city, office, inspector
):
    """Field observations of weightless 测评项目: the field part says it cannot weight them."""
    point_type = PointType.objects.get(name="集贸(农贸)市场")
    point = point_create(name="甲一农贸市场", point_type=point_type, unit=city.community_jia1)
    item = CheckItem.objects.create(
        point_type=point_type, indicator=weightless["Ⅲ-58"], text="划行归市", per_occurrence=1, cap=2
    )
    inspection_round = InspectionRound.objects.create(
        campaign=campaign,
        name="督查",
        kind="weekly",
        start_date=monday(3),
        end_date=datetime.date.today(),
        created_by=office,
    )
    day = monday(1) + datetime.timedelta(days=2)
    publish(campaign, 1)
    inspection = Inspection.objects.create(
        round=inspection_round,
        point=point,
        inspector=inspector,
        client_uuid=uuid.uuid4(),
        submitted_at=at(day),
        current=True,
    )
    Observation.objects.create(
        inspection=inspection,
        campaign=campaign,
        check_item=item,
        indicator=weightless["Ⅲ-58"],
        point=point,
        result=Result.FAIL,
        deduction=Decimal(1),
        loss=Decimal("0.5"),
        score=Decimal("0.5"),
        observed_at=at(day),
        current=True,
    )
    result = forecast(campaign=campaign)
    field = result.part("field")
    assert field.rate is None and "都没有分值，无法加权" in field.note
    assert [(d["code"], d["weight"], d["weight_text"]) for d in field.detail] == [("Ⅰ-5", None, "未设")]
    assert result.part("declaration").rate is None and result.total is None
    response = web(leader).get("/dashboard/")
    assert response.status_code == 200
    assert "都没有分值，无法加权" in response.content.decode()


def test_the_api_answers_the_warnings_and_imports(api, office, system, city):
    from tests.campaign.xlsx import upload

    url = f"/api/v1/indicator-systems/{system.pk}/import/"
    preview = api(office).post(
        url, {"file": upload("测评细则.xlsx", sheet(FIELD_ROWS, header=FIELD_ONLY)), "dry_run": "1"}, format="multipart"
    )
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert (body["dry_run"], body["created"], body["errors"]) == (True, 6, [])
    assert [w["column"] for w in body["warnings"]] == ["测评内容", "分值", "测评方法", "牵头单位", "责任单位"]
    assert not Indicator.objects.filter(system=system).exists()
    done = api(office).post(
        url, {"file": upload("测评细则.xlsx", sheet(FIELD_ROWS, header=FIELD_ONLY))}, format="multipart"
    )
    assert done.status_code == 200 and done.json()["created"] == 6
    assert Indicator.objects.get(system=system, code="Ⅲ-58").title == "农贸市场项目 第0条标准"
