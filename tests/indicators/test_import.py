"""Importing a 任务分解表: every real-sheet shape, every bad file, re-import and corrections.

The base sheet (four levels) as the office lays it out, parents merged down:

    Ⅰ-1 思想道德 / Ⅱ-1 公益广告 / Ⅲ-1 公益广告宣传 (6) / 1) 主次干道… · 2) 刊播记录…
                               / Ⅲ-2 志愿服务 (4)      / 1) 注册志愿者…
    Ⅰ-2 市场环境 / Ⅱ-2 农贸市场 / Ⅲ-3 农贸市场秩序 (5)  / 1) 无占道经营 · 2) 明码标价
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.importing import indicators_import, split_code_title, split_list
from indicators.models import Indicator
from tests.campaign.xlsx import upload
from tests.indicators.sheets import FOUR_LEVELS, THREE_LEVELS, run, sheet, snapshot, tree_of

CG, WM = "示范市城市管理局", "示范市文明办"

BASE_ROWS = [
    [
        "Ⅰ-1 思想道德",
        "Ⅱ-1 公益广告",
        "Ⅲ-1 公益广告宣传",
        6,
        "1) 主次干道200米内至少1处公益广告",
        "实地考察",
        "市城管局",
        "甲街道、乙街道",
        None,
        "主次干道",
    ],
    [
        None,
        None,
        None,
        None,
        "2) 公益广告刊播记录完整",
        "网上申报、材料审核",
        "市文明办",
        "甲街道",
        "刊播记录、照片",
        None,
    ],
    [None, None, "Ⅲ-2 志愿服务", 4, "1) 注册志愿者比例达到15%", "数据采集", "示范市文明办", "甲区，乙区", None, None],
    [
        "Ⅰ-2 市场环境",
        "Ⅱ-2 农贸市场",
        "Ⅲ-3 农贸市场秩序",
        5,
        "1) 无占道经营",
        "实地考察",
        "市城管局",
        "甲一社区;甲二社区",
        None,
        "农贸市场",
    ],
    [None, None, None, None, "2) 明码标价", "实地考察", "市城管局", "乙街道", None, "农贸市场"],
]
BASE_MERGES = ["A2:A4", "B2:B4", "C2:C3", "D2:D3", "A5:A6", "B5:B6", "C5:C6"]

P1, P2 = ("Ⅰ-1 思想道德",), ("Ⅰ-2 市场环境",)
I1, I2 = (*P1, "Ⅱ-1 公益广告"), (*P2, "Ⅱ-2 农贸市场")
C1, C2, C3 = (*I1, "Ⅲ-1 公益广告宣传"), (*I1, "Ⅲ-2 志愿服务"), (*I2, "Ⅲ-3 农贸市场秩序")
NONE = ((), (), (), "", "", False, None)  # no methods, units, requirements, point types, veto, deadline

BASE_TREE = [
    (P1, 1, "Ⅰ-1", "思想道德", "", None, *NONE),
    (I1, 2, "Ⅱ-1", "公益广告", "", None, *NONE),
    (C1, 3, "Ⅲ-1", "公益广告宣传", "", Decimal(6), *NONE),
    (
        (*C1, "1) 主次干道200米内至少1处公益广告"),
        4,
        "1)",
        "主次干道200米内至少1处公益广告",
        "",
        None,
        ("field",),
        (CG,),
        ("乙街道", "甲街道"),
        "",
        "主次干道",
        False,
        None,
    ),
    (
        (*C1, "2) 公益广告刊播记录完整"),
        4,
        "2)",
        "公益广告刊播记录完整",
        "",
        None,
        ("online", "review"),
        (WM,),
        ("甲街道",),
        "刊播记录、照片",
        "",
        False,
        None,
    ),
    (C2, 3, "Ⅲ-2", "志愿服务", "", Decimal(4), *NONE),
    (
        (*C2, "1) 注册志愿者比例达到15%"),
        4,
        "1)",
        "注册志愿者比例达到15%",
        "",
        None,
        ("data",),
        (WM,),
        ("乙区", "甲区"),
        "",
        "",
        False,
        None,
    ),
    (P2, 1, "Ⅰ-2", "市场环境", "", None, *NONE),
    (I2, 2, "Ⅱ-2", "农贸市场", "", None, *NONE),
    (C3, 3, "Ⅲ-3", "农贸市场秩序", "", Decimal(5), *NONE),
    (
        (*C3, "1) 无占道经营"),
        4,
        "1)",
        "无占道经营",
        "",
        None,
        ("field",),
        (CG,),
        ("甲一社区", "甲二社区"),
        "",
        "农贸市场",
        False,
        None,
    ),
    ((*C3, "2) 明码标价"), 4, "2)", "明码标价", "", None, ("field",), (CG,), ("乙街道",), "", "农贸市场", False, None),
]


def base_sheet(rows=None, merges=BASE_MERGES) -> bytes:
    return sheet(rows if rows is not None else BASE_ROWS, merges=merges)


def effective_weights(system) -> dict[str, Decimal]:
    return {
        f"{n.code} {n.title}": n.effective_weight.normalize() for n in Indicator.objects.filter(system=system, level=1)
    }


def errors_of(result) -> list[tuple]:
    return [(e.row, e.column, e.value, e.message) for e in result.errors]


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


# --- Cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Ⅲ-57 无障碍设施", ("Ⅲ-57", "无障碍设施")),
        ("Ⅲ-57无障碍设施", ("Ⅲ-57", "无障碍设施")),
        ("Ⅲ－57　无障碍设施", ("Ⅲ-57", "无障碍设施")),
        ("Ⅲ - 57  无障碍设施 ", ("Ⅲ-57", "无障碍设施")),
        ("Ⅰ-3 规范守信的市场环境", ("Ⅰ-3", "规范守信的市场环境")),
        ("Ⅱ-26城市规划建设", ("Ⅱ-26", "城市规划建设")),
        ("Ⅻ-1 其他", ("Ⅻ-1", "其他")),
        ("（三）无障碍设施", ("（三）", "无障碍设施")),
        ("(三) 无障碍设施", ("（三）", "无障碍设施")),
        ("三、无障碍设施", ("三、", "无障碍设施")),
        ("1.无障碍设施", ("1.", "无障碍设施")),
        ("1. 无障碍设施", ("1.", "无障碍设施")),
        ("１．无障碍设施", ("1.", "无障碍设施")),
        ("1)盲道连续", ("1)", "盲道连续")),
        ("1）盲道连续、无占用", ("1)", "盲道连续、无占用")),
        ("12) 盲道连续", ("12)", "盲道连续")),
        ("(2)盲道连续", ("(2)", "盲道连续")),
        ("3.2.1 盲道连续", ("3.2.1", "盲道连续")),
        ("①盲道连续", ("①", "盲道连续")),
        ("无障碍设施", ("", "无障碍设施")),
        ("200米内至少1处公益广告", ("", "200米内至少1处公益广告")),
        (" 无障碍　设施 ", ("", "无障碍 设施")),  # a space between words is kept, made one half-width space
        ("盲道连续,无占用(含坡道)", ("", "盲道连续，无占用（含坡道）")),
        ("1.", ("1.", "")),
    ],
)
def test_split_code_title(cell, expected):
    assert split_code_title(cell) == expected


def test_split_list_on_every_separator():
    assert split_list("市城管局、市文明办，甲街道,乙街道；甲区;乙区\n甲一社区\r\n 乙一社区 、、") == [
        "市城管局",
        "市文明办",
        "甲街道",
        "乙街道",
        "甲区",
        "乙区",
        "甲一社区",
        "乙一社区",
    ]
    assert split_list("") == []


# --- Real-sheet shapes ------------------------------------------------------------------------------


def test_four_level_sheet_with_merged_parents(system, city):
    result = run(system, base_sheet())

    assert (result.ok, result.created, result.updated, result.unchanged) == (True, 12, 0, 0)
    assert tree_of(system) == BASE_TREE
    assert effective_weights(system) == {"Ⅰ-1 思想道德": Decimal(10), "Ⅰ-2 市场环境": Decimal(5)}
    assert [(c.row, c.action, c.label) for c in result.rows[:4]] == [
        (2, "create", "测评项目 Ⅰ-1 思想道德"),
        (2, "create", "指标名称 Ⅱ-1 公益广告"),
        (2, "create", "测评内容 Ⅲ-1 公益广告宣传"),
        (2, "create", "测评标准 1) 主次干道200米内至少1处公益广告"),
    ]
    assert result.summary == "已新增 12 条，更新 0 条，0 条不变。"


@pytest.mark.parametrize("layout", ["blank", "repeated"])
def test_blank_or_repeated_parent_cells_mean_same_as_above(system, city, layout):
    rows = [list(row) for row in BASE_ROWS]
    if layout == "repeated":
        for row, above in ((1, 0), (2, 1), (4, 3)):
            for column in range(3):
                rows[row][column] = rows[row][column] or rows[above][column]
        rows[1][3] = 6  # the 分值 repeated on the content's second row is still the content's

    result = run(system, base_sheet(rows, merges=()))

    assert (result.ok, result.created) == (True, 12)
    assert tree_of(system) == BASE_TREE


def test_a_new_parent_does_not_inherit_the_blank_cells_below_it(system, city):
    """A blank 指标名称 under a new 测评项目 means no 指标名称: the content sits under the project."""
    rows = [
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
        ["Ⅰ-2 市场环境", None, "Ⅲ-2 农贸市场", 4, "1) 标准二", "实地考察", "市城管局", "乙街道", None, None],
        [None, None, None, None, "2) 标准三", "实地考察", "市城管局", "乙街道", None, None],
    ]
    result = run(system, sheet(rows))

    assert result.ok
    market = Indicator.objects.get(system=system, code="Ⅲ-2")
    assert (market.level, market.parent.code) == (3, "Ⅰ-2")
    assert [n.code for n in market.children.order_by("order")] == ["1)", "2)"]
    assert effective_weights(system) == {"Ⅰ-1 思想道德": Decimal(6), "Ⅰ-2 市场环境": Decimal(4)}


def test_three_level_sheet_has_contents_under_projects(system, city):
    rows = [
        ["一、思想道德建设", "（一）公益广告", 6, "1.主次干道公益广告", "实地考察", "市城管局", "甲街道"],
        [None, None, None, "2.刊播记录", "网上申报", "市文明办", "甲街道"],
        [None, "（二）志愿服务", 4, None, "材料审核", "市文明办", "乙街道"],
        ["二、市场环境", "（一）农贸市场", "3", "3.2.1 无占道经营", "实地考察", "市城管局", "乙街道"],
    ]
    result = run(system, sheet(rows, header=THREE_LEVELS))

    assert (result.ok, result.created) == (True, 8)
    got = [(path, level, code, title, weight) for path, level, code, title, _, weight, *_ in tree_of(system)]
    assert got == [
        (("一、 思想道德建设",), 1, "一、", "思想道德建设", None),
        (("一、 思想道德建设", "（一） 公益广告"), 3, "（一）", "公益广告", Decimal(6)),
        (("一、 思想道德建设", "（一） 公益广告", "1. 主次干道公益广告"), 4, "1.", "主次干道公益广告", None),
        (("一、 思想道德建设", "（一） 公益广告", "2. 刊播记录"), 4, "2.", "刊播记录", None),
        (("一、 思想道德建设", "（二） 志愿服务"), 3, "（二）", "志愿服务", Decimal(4)),
        (("二、 市场环境",), 1, "二、", "市场环境", None),
        (("二、 市场环境", "（一） 农贸市场"), 3, "（一）", "农贸市场", Decimal(3)),
        (("二、 市场环境", "（一） 农贸市场", "3.2.1 无占道经营"), 4, "3.2.1", "无占道经营", None),
    ]
    volunteers = Indicator.objects.get(system=system, title="志愿服务")
    assert list(volunteers.method_rows.values_list("method", flat=True)) == ["review"]
    assert list(volunteers.assignments.filter(inherited=False).order_by("role").values_list("unit__name", "role")) == [
        (WM, "lead"),
        ("乙街道", "responsible"),
    ]


def test_standards_without_codes_keep_an_empty_code(system, city):
    rows = [
        [
            "Ⅰ-1 思想道德",
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            6,
            "主次干道公益广告",
            "实地考察",
            "市城管局",
            "甲街道",
            None,
            None,
        ],
        [None, None, None, None, "公益广告刊播记录", "网上申报", "市城管局", "甲街道", None, None],
    ]
    assert run(system, sheet(rows, merges=["A2:A3", "B2:B3", "C2:C3"])).ok
    standards = Indicator.objects.filter(system=system, level=4).order_by("order")
    assert [(s.code, s.title, s.order) for s in standards] == [("", "主次干道公益广告", 1), ("", "公益广告刊播记录", 2)]


def test_full_width_characters_stray_spaces_names_short_names_and_codes(system, city):
    rows = [
        [
            "Ⅰ－1　思想 道德 ",
            "Ⅱ-1  公益　广告",
            " Ⅲ-1公益广告宣传 ",
            "６",
            "１）主次干道 公益广告，不少于（２）处",
            "实地考察",
            "示范市城市管理局 ",
            "JIA-1、 乙街道 ",
            "照片 , 台账",
            "主次干道，公交站点",
        ],
    ]
    result = run(system, sheet(rows))

    assert result.ok
    # Ends trimmed, runs of spaces (full-width ones too) made one; a space between words is kept
    # (issue 13: "…项目 第0条标准" must stay as written).
    assert tree_of(system) == [
        (("Ⅰ-1 思想 道德",), 1, "Ⅰ-1", "思想 道德", "", None, *NONE),
        (("Ⅰ-1 思想 道德", "Ⅱ-1 公益 广告"), 2, "Ⅱ-1", "公益 广告", "", None, *NONE),
        (("Ⅰ-1 思想 道德", "Ⅱ-1 公益 广告", "Ⅲ-1 公益广告宣传"), 3, "Ⅲ-1", "公益广告宣传", "", Decimal(6), *NONE),
        (
            ("Ⅰ-1 思想 道德", "Ⅱ-1 公益 广告", "Ⅲ-1 公益广告宣传", "1) 主次干道 公益广告，不少于（2）处"),
            4,
            "1)",
            "主次干道 公益广告，不少于（2）处",
            "",
            None,
            ("field",),
            (CG,),
            ("乙街道", "甲街道"),
            "照片，台账",
            "主次干道、公交站点",
            False,
            None,
        ),
    ]


def test_headers_in_any_order_with_aliases_a_title_row_and_extra_columns(system, city):
    header = [
        "序号",
        "责任部门",
        "三级指标",
        "一级指标",
        "测评细则",
        "考察方法",
        "牵头部门",
        "权数",
        "备注",
        "点位类型",
    ]
    rows = [
        [1, "甲街道", "Ⅲ-1 公益广告宣传", "Ⅰ-1 思想道德", "1) 标准一", "实地考察", "市城管局", 6, "重点", "主次干道"],
        [2, "甲街道", None, None, "2) 标准二", "网上申报", "市城管局", None, None, None],
        [3, "乙街道", "Ⅲ-2 志愿服务", None, "1) 标准三", "材料审核", "市文明办", "四", None, None],
    ]
    result = run(system, sheet(rows, header=header, before=[["示范市任务分解表"]]))

    # The sheet's own row numbers: a title row, the header on row 2, data from row 3.
    assert errors_of(result) == [(5, "分值", "四", "分值“四”不是数字，请填写如 6 或 2.5 的数字。")]
    rows[2][7] = 4
    result = run(system, sheet(rows, header=header, before=[["示范市任务分解表"]]))
    assert (result.ok, result.created) == (True, 6)
    first = Indicator.objects.get(system=system, title="标准一")
    assert (first.point_types, first.parent.weight, first.parent.parent.code) == ("主次干道", Decimal(6), "Ⅰ-1")


def test_csv_sheet_with_blank_cells(system, city):
    text = (
        "测评项目,测评内容,分值,测评标准,测评方法,牵头单位,责任单位\n"
        'Ⅰ-1 思想道德,Ⅲ-1 公益广告宣传,6,1) 标准一,实地考察,市城管局,"甲街道，乙街道"\n'
        ",,,2) 标准二,网上申报,市城管局,甲街道\n"
    )
    result = run(system, text.encode("gb18030"), name="任务分解表.csv")
    assert (result.ok, result.created) == (True, 4)
    assert Indicator.objects.get(system=system, title="标准二").parent.code == "Ⅲ-1"


def test_weight_on_a_row_that_repeats_the_content_belongs_to_the_content(system, city):
    rows = [
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 公益广告宣传", None, "1) 标准一", "实地考察", "市城管局", "甲街道", None, None],
        [None, None, None, "6", "2) 标准二", "实地考察", "市城管局", "甲街道", None, None],
    ]
    assert run(system, sheet(rows)).ok
    assert [(n.level, n.title, n.weight) for n in Indicator.objects.filter(system=system).order_by("path")] == [
        (1, "思想道德", None),
        (3, "公益广告宣传", Decimal(6)),
        (4, "标准一", None),
        (4, "标准二", None),
    ]


def test_rows_without_a_standard_give_their_values_to_the_content_or_the_parent(system, city):
    header = [*FOUR_LEVELS, "一票否决", "完成时限"]
    rows = [
        ["Ⅰ-1 思想道德", None, None, 20, None, "网上申报", "市文明办", None, None, None, "否", None],
        [
            None,
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            6,
            None,
            "实地考察、网络调查",
            "市城管局",
            "甲街道",
            "照片",
            "主次干道",
            "是",
            datetime.date(2026, 6, 30),
        ],
        [None, None, "Ⅲ-2 志愿服务", 4, None, "问卷调查", "市文明办", "乙街道", None, None, None, "2026年7月1日"],
    ]
    result = run(system, sheet(rows, header=header))

    assert (result.ok, result.created) == (True, 4)
    project, _, ads, volunteers = Indicator.objects.filter(system=system).order_by("path")
    assert (project.weight, project.effective_weight, project.veto) == (Decimal(20), Decimal(20), False)
    assert list(project.method_rows.values_list("method", flat=True)) == ["online"]
    assert (ads.weight, ads.veto, ads.deadline, ads.requirements, ads.point_types, ads.is_leaf) == (
        Decimal(6),
        True,
        datetime.date(2026, 6, 30),
        "照片",
        "主次干道",
        True,
    )
    assert sorted(ads.method_rows.values_list("method", flat=True)) == ["field", "web"]
    assert list(ads.assignments.filter(inherited=False).order_by("role").values_list("role", "unit__name")) == [
        ("lead", CG),
        ("responsible", "甲街道"),
    ]
    assert (volunteers.deadline, volunteers.veto) == (datetime.date(2026, 7, 1), False)
    assert list(volunteers.method_rows.values_list("method", flat=True)) == ["survey"]


def test_methods_on_the_standard_when_the_row_has_one(system, city):
    assert run(system, base_sheet()).ok
    content = Indicator.objects.get(system=system, code="Ⅲ-1")
    assert not content.method_rows.exists()
    assert [s.is_declaration for s in content.children.order_by("order")] == [False, True]


# --- Bad files ------------------------------------------------------------------------------------

NOT_A_SPREADSHEET = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("空.xlsx", b"", "文件是空的，请选择填好内容的 Excel 表格。"),
        ("空表.xlsx", sheet([], header=[]), "文件是空的，请选择填好内容的 Excel 表格。"),
        ("表头.xlsx", sheet([]), "表格只有表头，没有数据行。"),
        (
            "单位.xlsx",
            sheet([["甲区", "JIA"]], header=["名称", "编码"]),
            "未找到必需的表头：测评项目、测评标准。请确认第一张工作表的表头行包含这些列。",
        ),
        (
            "缺列.xlsx",
            # Only 测评项目 and 测评标准 are required (a field-only sheet may lack the rest:
            # tests/indicators/test_import_relaxed.py).
            sheet([["Ⅰ-1 思想道德", "Ⅲ-1 公益广告", "6"]], header=["测评项目", "测评内容", "分值"]),
            "未找到必需的表头：测评项目、测评标准。请确认第一张工作表的表头行包含这些列。",
        ),
        ("照片.png", NOT_A_SPREADSHEET, "无法读取该文件：请上传 Excel (.xlsx) 或 CSV 表格。"),
        ("坏.xlsx", b"PK\x03\x04 not really a workbook", "无法读取该文件：它不是有效的 Excel (.xlsx) 表格。"),
        (
            "旧版.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
            "不支持旧版 .xls 格式，请在 Excel 或 WPS 中另存为 .xlsx 后再上传。",
        ),
    ],
)
def test_a_bad_file_gets_one_clear_message_and_nothing_is_written(system, city, name, data, message):
    result = run(system, data, name=name)

    assert errors_of(result) == [(None, "", "", message)]
    assert result.summary == "文件有 1 处错误，未写入任何数据。请修改后重新上传。"
    assert not Indicator.objects.filter(system=system).exists()


def test_a_file_over_the_size_limit_is_refused(system, city, settings):
    data = base_sheet()
    settings.IMPORT_MAX_BYTES = len(data) - 1

    result = run(system, data)

    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("文件过大（")
    assert result.errors[0].message.endswith(f"上限为 {(len(data) - 1) / 1024 / 1024:.3g} MB。")
    assert not Indicator.objects.filter(system=system).exists()


def test_every_bad_row_is_reported_with_row_column_and_value_and_nothing_is_written(system, city):
    rows = [
        [None, None, "Ⅲ-0 无项目", 1, "1) 无项目的标准", "实地考察", "市城管局", "甲街道", None, None],  # 2
        [
            "Ⅰ-1 思想道德",
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            -2,
            "1) 标准一",
            "实地考察",
            "市城管",
            "丙街道",
            None,
            None,
        ],  # 3
        [None, None, None, None, "1) 标准一再写一遍", "实地查看", "市城管局", "甲街道", None, None],  # 4
        [None, None, "Ⅲ-1 志愿服务", "六分", "1) 标准二", "实地考察", "市城管局", "甲街道", None, None],  # 5
        ["Ⅰ-2 市场环境", None, None, None, "1) 没有测评内容的标准", "实地考察", "市城管局", "甲街道", None, None],  # 6
        [None, None, "Ⅲ-3 农贸市场", "2.555", "1)", "实地考察", "市城管局", "甲街道", None, None],  # 7
        [None, None, None, None, "无编号标准", "实地考察", "市城管局", "甲街道", None, None],  # 8
        [None, None, None, None, "无编号标准", "实地考察", "市城管局", "甲街道", None, None],  # 9
    ]
    result = run(system, sheet(rows))

    assert errors_of(result) == [
        (2, "测评项目", "", "测评项目为空，上方也没有可沿用的测评项目，无法确定此行属于哪个测评项目。"),
        (3, "分值", "-2", "分值不能为负数（此处为 -2）。"),
        (3, "牵头单位", "市城管", "找不到单位“市城管”。相近的单位：市城管局、示范市城市管理局。"),
        (3, "责任单位", "丙街道", "找不到单位“丙街道”。相近的单位：甲街道、乙街道。"),
        (
            4,
            "测评方法",
            "实地查看",
            "无法识别的测评方法“实地查看”，可填写：网上申报、材料审核、实地考察、问卷调查、网络调查、数据采集。",
        ),
        (4, "测评标准", "1) 标准一再写一遍", "编号“1)”在同一测评内容下重复：第 3 行已有“1) 标准一”。"),
        (5, "分值", "六分", "分值“六分”不是数字，请填写如 6 或 2.5 的数字。"),
        (5, "测评内容", "Ⅲ-1 志愿服务", "编号“Ⅲ-1”在同一上级下重复：第 3 行已有“Ⅲ-1 公益广告宣传”。"),
        (
            6,
            "测评内容",
            "",
            "此行有测评标准，但测评内容为空，上方也没有可沿用的测评内容，无法确定该标准属于哪个测评内容。",
        ),
        (7, "分值", "2.555", "分值“2.555”最多保留两位小数。"),
        (7, "测评标准", "1)", "“1)”只有编号，缺少测评标准的内容。"),
        (9, "测评标准", "无编号标准", "与第 8 行的测评标准重复。"),
    ]
    assert result.summary == "文件有 12 处错误，未写入任何数据。请修改后重新上传。"
    assert (result.created, result.updated) == (0, 0)
    assert not Indicator.objects.filter(system=system).exists()


def test_bad_veto_and_deadline_cells(system, city):
    header = [*FOUR_LEVELS, "一票否决", "完成时限"]
    rows = [
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 公益广告", 6, None, "实地考察", "市城管局", "甲街道", None, None, "也许", "六月底"]
    ]
    assert errors_of(run(system, sheet(rows, header=header))) == [
        (2, "一票否决", "也许", "一票否决请填写“是”或“否”。"),
        (2, "完成时限", "六月底", "完成时限“六月底”不是日期，请填写如 2026-06-30 的日期。"),
    ]


def test_the_same_content_twice_without_standards_is_a_duplicate_row(system, city):
    rows = [
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 公益广告", 6, None, "实地考察", "市城管局", "甲街道", None, None],
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 公益广告", 6, None, "网上申报", "市城管局", "乙街道", None, None],
    ]
    assert errors_of(run(system, sheet(rows))) == [
        (3, "测评内容", "", "此行与第 2 行重复：“Ⅲ-1 公益广告”已在第 2 行填写。"),
    ]


def test_two_weights_for_one_content_are_refused(system, city):
    rows = [
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 公益广告", 6, "1) 标准一", "实地考察", "市城管局", "甲街道", None, None],
        [None, None, None, 3, "2) 标准二", "实地考察", "市城管局", "甲街道", None, None],
    ]
    assert errors_of(run(system, sheet(rows))) == [
        (3, "分值", "3", "“Ⅲ-1 公益广告”的分值在第 2 行为 6，此行为 3；同一测评内容只能有一个分值。"),
    ]


def test_an_error_in_a_corrected_sheet_leaves_the_existing_tree_alone(system, city):
    assert run(system, base_sheet()).ok
    before = snapshot(system)
    rows = [list(row) for row in BASE_ROWS]
    rows[0][3] = 7  # a good change …
    rows[4][6] = "市城管部门"  # … and a bad one

    result = run(system, base_sheet(rows))

    assert errors_of(result) == [
        (6, "牵头单位", "市城管部门", "找不到单位“市城管部门”。相近的单位：市城管局、示范市城市管理局。")
    ]
    assert snapshot(system) == before


# --- Re-import and corrections ------------------------------------------------------------------------


def test_importing_the_same_sheet_again_writes_nothing(system, city):
    assert run(system, base_sheet()).ok
    before = snapshot(system)

    with CaptureQueriesContext(connection) as queries:
        again = run(system, base_sheet())

    assert (again.ok, again.created, again.updated, again.unchanged) == (True, 0, 0, 12)
    assert writes(queries.captured_queries) == []
    assert snapshot(system) == before
    assert again.summary == "已新增 0 条，更新 0 条，12 条不变。"


def test_the_same_content_laid_out_differently_changes_nothing(system, city):
    assert run(system, base_sheet()).ok
    before = snapshot(system)
    rows = [list(row) for row in BASE_ROWS]
    rows[0][2] = "Ⅲ-1公益广告宣传"
    rows[0][7] = "乙街道;甲街道"
    rows[1][5] = "材料审核\n网上申报"

    again = run(system, base_sheet(rows, merges=()))

    assert (again.created, again.updated, again.unchanged) == (0, 0, 12)
    assert snapshot(system) == before


def test_a_corrected_sheet_previews_then_updates_in_place(system, city):
    assert run(system, base_sheet()).ok
    pks = {n.title: n.pk for n in Indicator.objects.filter(system=system)}
    before = snapshot(system)
    rows = [list(row) for row in BASE_ROWS]
    rows[0][3] = 7  # Ⅲ-1 weighs 7 now
    rows[1][7] = "乙街道"  # standard 2) of Ⅲ-1 changes its responsible unit
    rows.insert(2, [None, None, None, None, "3) 公益广告无破损", "实地考察", "市城管局", "甲街道", None, "主次干道"])
    corrected = base_sheet(rows, merges=["A2:A5", "B2:B5", "C2:C4", "D2:D4", "A6:A7", "B6:B7", "C6:C7"])

    preview = run(system, corrected, dry_run=True)

    assert (preview.ok, preview.created, preview.updated, preview.unchanged) == (True, 1, 2, 10)
    assert [(c.row, c.action, c.label, c.changes) for c in preview.rows if c.action != "unchanged"] == [
        (2, "update", "测评内容 Ⅲ-1 公益广告宣传", {"分值": ("6", "7")}),
        (3, "update", "测评标准 2) 公益广告刊播记录完整", {"责任单位": ("甲街道", "乙街道")}),
        (4, "create", "测评标准 3) 公益广告无破损", {}),
    ]
    assert preview.summary == "预览：将新增 1 条，更新 2 条，10 条不变。"
    assert snapshot(system) == before

    result = run(system, corrected)

    assert (result.created, result.updated, result.unchanged) == (1, 2, 10)
    assert {n.title: n.pk for n in Indicator.objects.filter(system=system) if n.title in pks} == pks
    content = Indicator.objects.get(system=system, code="Ⅲ-1")
    assert (content.weight, content.effective_weight) == (Decimal(7), Decimal(7))
    assert [(s.code, s.title, s.order) for s in content.children.order_by("order")] == [
        ("1)", "主次干道200米内至少1处公益广告", 1),
        ("2)", "公益广告刊播记录完整", 2),
        ("3)", "公益广告无破损", 3),
    ]
    second = content.children.get(code="2)")
    assert list(second.assignments.filter(role="responsible").values_list("unit__name", "inherited")) == [
        ("乙街道", False)
    ]
    assert effective_weights(system) == {"Ⅰ-1 思想道德": Decimal(11), "Ⅰ-2 市场环境": Decimal(5)}
    assert (run(system, corrected).unchanged, run(system, corrected).created) == (13, 0)


def test_a_changed_code_is_matched_by_title_and_an_inserted_node_renumbers(system, city):
    assert run(system, base_sheet()).ok
    volunteers = Indicator.objects.get(system=system, code="Ⅲ-2")
    rows = [list(row) for row in BASE_ROWS]
    rows[2][2] = "Ⅲ-9 志愿服务"
    rows.insert(2, [None, None, "Ⅲ-5 文明实践", 2, "1) 阵地建设", "实地考察", "市文明办", "甲街道", None, None])

    preview = run(
        system, base_sheet(rows, merges=["A2:A5", "B2:B5", "C2:C3", "D2:D3", "A6:A7", "B6:B7", "C6:C7"]), dry_run=True
    )

    assert [(c.row, c.action, c.label, c.changes) for c in preview.rows if c.action != "unchanged"] == [
        (4, "create", "测评内容 Ⅲ-5 文明实践", {}),
        (4, "create", "测评标准 1) 阵地建设", {}),
        (5, "update", "测评内容 Ⅲ-9 志愿服务", {"编号": ("Ⅲ-2", "Ⅲ-9"), "排序": ("2", "3")}),
    ]
    result = run(system, base_sheet(rows, merges=["A2:A5", "B2:B5", "C2:C3", "D2:D3", "A6:A7", "B6:B7", "C6:C7"]))
    volunteers.refresh_from_db()
    assert (result.ok, volunteers.code, volunteers.order) == (True, "Ⅲ-9", 3)
    assert [c.code for c in volunteers.parent.children.order_by("order")] == ["Ⅲ-1", "Ⅲ-5", "Ⅲ-9"]


def test_nodes_the_sheet_no_longer_names_are_kept(system, city):
    assert run(system, base_sheet()).ok
    result = run(system, base_sheet(BASE_ROWS[:3], merges=["A2:A4", "B2:B4", "C2:C3", "D2:D3"]))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 7)
    assert Indicator.objects.filter(system=system).count() == 12


def test_an_import_into_a_system_built_by_hand_matches_its_codes(tree, system, city):
    """The hand-built tree of the fixtures, given again as a sheet: codes match, titles update."""
    rows = [
        ["Ⅰ-1 思想道德", "Ⅱ-1 公益广告", "Ⅲ-1 公益广告宣传（修订）", 6, "1) 标准一", None, None, None, None, None],
    ]
    preview = run(system, sheet(rows), dry_run=True)
    assert [(c.action, c.label, c.changes) for c in preview.rows] == [
        ("update", "测评项目 Ⅰ-1 思想道德", {"牵头单位": ("市文明办", "")}),
        ("update", "指标名称 Ⅱ-1 公益广告", {"牵头单位": ("市城管局", ""), "责任单位": ("甲街道", "")}),
        (
            "update",
            "测评内容 Ⅲ-1 公益广告宣传（修订）",
            {"名称": ("公益广告宣传", "公益广告宣传（修订）"), "测评方法": ("网上申报、实地考察", "")},
        ),
        ("unchanged", "测评标准 1) 标准一", {}),
    ]


# --- The command ------------------------------------------------------------------------------------


def test_command_previews_imports_and_refuses_bad_files(system, city, tmp_path, capsys):
    path = tmp_path / "任务分解表.xlsx"
    path.write_bytes(base_sheet())

    call_command("import_indicators", str(path), "--system", str(system.pk), "--dry-run")
    out = capsys.readouterr().out
    assert "第 2 行 新增 测评项目 Ⅰ-1 思想道德" in out
    assert out.strip().endswith("预览：将新增 12 条，更新 0 条，0 条不变。")
    assert not Indicator.objects.filter(system=system).exists()

    call_command("import_indicators", str(path), "--system", str(system.pk))
    assert capsys.readouterr().out.strip().endswith("已新增 12 条，更新 0 条，0 条不变。")
    assert Indicator.objects.filter(system=system).count() == 12

    before = snapshot(system)
    rows = [list(row) for row in BASE_ROWS]
    rows[3][3] = -5
    path.write_bytes(base_sheet(rows))
    with pytest.raises(CommandError, match="文件有 1 处错误，未写入任何数据。"):
        call_command("import_indicators", str(path), "--system", str(system.pk))
    assert capsys.readouterr().err == "第 5 行 [分值] -5：分值不能为负数（此处为 -5）。\n"
    assert snapshot(system) == before

    with pytest.raises(CommandError, match=f"找不到编号为 {system.pk + 1} 的测评体系。"):
        call_command("import_indicators", str(path), "--system", str(system.pk + 1))
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("import_indicators", str(tmp_path / "没有这个文件.xlsx"), "--system", str(system.pk))


def test_an_uploaded_file_is_read_from_its_start(system, city):
    """The view may have read the upload already (to sniff it): the import rewinds it."""
    file = upload("任务分解表.xlsx", base_sheet())
    file.read()

    assert indicators_import(system=system, file=file, dry_run=True).created == 12
