"""Unit import (services.units_import): every row checked and reported in Chinese with the row
number the spreadsheet shows, then all or nothing. The `city` fixture is described in tests/conftest.py.
"""

from __future__ import annotations

import random
import re

import pytest

from campaign.choices import UnitKind
from campaign.importing import RowError
from campaign.models import Unit
from campaign.services import units_import
from tests.campaign.xlsx import make_xlsx, upload
from tests.conftest import unit_snapshot

HEADER = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def row(name, code, kind, parent="", *, short="", leader="", liaison="", phone="") -> list:
    """One data row in the order of HEADER."""
    return [name, short, code, kind, parent, leader, liaison, phone]


def run(rows, *, dry_run=False, header=HEADER, merges=(), name="units.xlsx"):
    """Import an .xlsx whose first row is `header` followed by `rows`."""
    return units_import(file=upload(name, make_xlsx([header, *rows], merges=merges)), dry_run=dry_run)


def where(result) -> list[tuple]:
    """(row, column, value) of every error, in the order reported."""
    return [(e.row, e.column, e.value) for e in result.errors]


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def path_of(*codes: str) -> str:
    """The materialised path of the chain root → … → leaf given by codes."""
    return "/" + "".join(f"{unit(code).pk}/" for code in codes)


def assert_tree_consistent() -> None:
    """Every unit's path and depth agree with its parent's (what a fresh rebuild would give)."""
    for u in Unit.objects.select_related("parent"):
        expected = (u.parent.path if u.parent_id else "/") + f"{u.pk}/"
        assert (u.code, u.path, u.depth) == (u.code, expected, expected.count("/") - 2)


# --- A clean file --------------------------------------------------------------------------------


def test_clean_file_creates_units_with_parents_paths_and_kinds(city):
    rows = [
        row("丙区", "BING", "区", leader="王五", liaison="赵六", phone="0510-88886666"),
        row("丙区城东街道", "BING-1", "街道", "丙区", short="城东街道"),  # parent by name, in the file
        row("城东一社区", "BING-1-1", "社区", "城东街道"),  # parent by short name, in the file
        row("城东二社区", "BING-1-2", "社区", "BING-1"),  # parent by code, in the file
        row("西湖社区", "BING-2-1", "社区", "城西街道"),  # parent defined in a LATER row
        row("丙区城西街道", "BING-2", "街道", "BING", short="城西街道"),
        row("甲三社区", "JIA-1-3", "社区", "甲街道"),  # existing parent by name
        row("城管执法支队", "D-CG-ZF", "部门", "市城管局"),  # existing parent by short name
    ]

    result = run(rows)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    assert [(r.row, r.action) for r in result.rows] == [(n, "create") for n in range(2, 10)]
    expected = {
        # code: (kind, parent code, chain of codes from the root)
        "BING": (UnitKind.DISTRICT, None, ["BING"]),
        "BING-1": (UnitKind.STREET, "BING", ["BING", "BING-1"]),
        "BING-1-1": (UnitKind.COMMUNITY, "BING-1", ["BING", "BING-1", "BING-1-1"]),
        "BING-1-2": (UnitKind.COMMUNITY, "BING-1", ["BING", "BING-1", "BING-1-2"]),
        "BING-2-1": (UnitKind.COMMUNITY, "BING-2", ["BING", "BING-2", "BING-2-1"]),
        "BING-2": (UnitKind.STREET, "BING", ["BING", "BING-2"]),
        "JIA-1-3": (UnitKind.COMMUNITY, "JIA-1", ["JIA", "JIA-1", "JIA-1-3"]),
        "D-CG-ZF": (UnitKind.DEPARTMENT, "D-CG", ["D-CG", "D-CG-ZF"]),
    }
    for code, (kind, parent, chain) in expected.items():
        u = unit(code)
        assert (u.kind, u.parent.code if u.parent else None, u.path, u.depth) == (
            kind,
            parent,
            path_of(*chain),
            len(chain) - 1,
        ), code
    bing = unit("BING")
    assert (bing.name, bing.short_name, bing.leader_name, bing.liaison_name, bing.phone, bing.active) == (
        "丙区",
        "",
        "王五",
        "赵六",
        "0510-88886666",
        True,
    )
    assert (unit("BING-1").name, unit("BING-1").short_name) == ("丙区城东街道", "城东街道")
    assert Unit.objects.count() == 9 + 8


@pytest.mark.parametrize(
    ("kind", "parent_ref", "parent_code"),
    [
        ("社区", "甲街道", "JIA-1"),  # by name
        ("社区", "JIA-1", "JIA-1"),  # by code
        ("部门", "市城管局", "D-CG"),  # by short name
        ("部门", "示范市城市管理局", "D-CG"),  # by full name of a unit that also has a short name
    ],
)
def test_parent_is_found_by_name_short_name_or_code(city, kind, parent_ref, parent_code):
    result = run([row("新单位", "NEW", kind, parent_ref)])

    assert result.errors == []
    assert unit("NEW").parent == unit(parent_code)
    assert unit("NEW").path == unit(parent_code).path + f"{unit('NEW').pk}/"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        # The labels the spec lists …
        ("区", UnitKind.DISTRICT),
        ("县", UnitKind.DISTRICT),
        ("区县", UnitKind.DISTRICT),
        ("街道", UnitKind.STREET),
        ("乡", UnitKind.STREET),
        ("镇", UnitKind.STREET),
        ("社区", UnitKind.COMMUNITY),
        ("村", UnitKind.COMMUNITY),
        ("市直部门", UnitKind.DEPARTMENT),
        ("部门", UnitKind.DEPARTMENT),
        # … and other ways offices write them.
        ("县级市", UnitKind.DISTRICT),
        ("区（县）", UnitKind.DISTRICT),  # full-width brackets
        ("乡镇", UnitKind.STREET),
        ("街道办事处", UnitKind.STREET),
        ("街 道", UnitKind.STREET),  # a stray inner space
        ("居委会", UnitKind.COMMUNITY),
        ("村委会", UnitKind.COMMUNITY),
        ("社区（村）", UnitKind.COMMUNITY),
        ("委办局", UnitKind.DEPARTMENT),
        ("其他", UnitKind.OTHER),
        ("其它", UnitKind.OTHER),
    ],
)
def test_kind_labels_map_to_kinds(city, label, kind):
    # Each kind under a parent it may have: streets under a district, communities under a street.
    parent = {UnitKind.STREET: "甲区", UnitKind.COMMUNITY: "甲街道"}.get(kind, "")

    result = run([row("新单位", "NEW", label, parent)])

    assert result.errors == []
    assert unit("NEW").kind == kind


def test_headers_in_any_order_with_extra_columns_ignored(city):
    header = ["序号", "类型", "编码", "备注", "上级单位", "名称", "联系电话"]
    rows = [
        [1, "街道", "JIA-2", "新设", "甲区", "甲新街道", "0510-1"],
        [2, "社区", "JIA-2-1", "", "JIA-2", "甲新一社区", ""],
    ]

    result = run(rows, header=header)

    assert result.errors == []
    assert result.created == 2
    street = unit("JIA-2")
    assert (street.name, street.kind, street.parent.code, street.phone, street.short_name) == (
        "甲新街道",
        UnitKind.STREET,
        "JIA",
        "0510-1",
        "",
    )
    assert (unit("JIA-2-1").name, unit("JIA-2-1").parent.code) == ("甲新一社区", "JIA-2")


def test_header_aliases_and_decorations_are_understood(city):
    header = ["单位名称（必填）", "*单位编码", "单位类型", "上级单位编码", "负责人", "手机"]

    result = run([["甲新街道", "JIA-2", "街道", "JIA", "钱七", 13800138000]], header=header)

    assert result.errors == []
    street = unit("JIA-2")
    assert (street.name, street.parent.code, street.leader_name, street.phone) == (
        "甲新街道",
        "JIA",
        "钱七",
        "13800138000",
    )


def test_title_row_merged_above_headers_numbers_data_rows_from_3(city):
    data = make_xlsx(
        [
            ["示范市单位名录（2026 年）"],
            HEADER,
            row("丙区", "BING", "区"),
            row("丙街道", "BING-1", "居委"),  # error on spreadsheet row 4
            [],  # a blank row still counts in the numbering
            row("丙二街道", "BING-2", "街道", "丁区"),  # error on spreadsheet row 6
        ],
        merges=["A1:H1"],
    )

    result = units_import(file=upload("units.xlsx", data), dry_run=True)

    assert where(result) == [(4, "类型", "居委"), (6, "上级单位", "丁区")]
    assert [(r.row, r.action) for r in result.rows] == [(3, "create"), (6, "create")]


def test_merged_parent_cell_applies_to_every_row_it_spans(city):
    rows = [
        row("甲三社区", "JIA-1-3", "社区", "甲街道"),
        row("甲四社区", "JIA-1-4", "社区", ""),  # merged with the cell above: 上级单位 E2:E3
    ]

    result = run(rows, merges=["E2:E3"])

    assert result.errors == []
    assert unit("JIA-1-3").parent.code == unit("JIA-1-4").parent.code == "JIA-1"


def test_full_width_characters_and_stray_spaces_are_normalised(city):
    rows = [
        ["\u3000丙区\u3000", "  丙 ", "ＢＩＮＧ", " 区 ", "", " 王　五 ", "赵六\u00a0", "０５１０－８８８８６６６６"],
        ["丙街道", "", "BING-1", "街道", " ＢＩＮＧ ", "", "", ""],
    ]

    result = run(rows)

    assert result.errors == []
    bing = unit("BING")
    assert (bing.name, bing.short_name, bing.code, bing.kind, bing.leader_name, bing.liaison_name, bing.phone) == (
        "丙区",
        "丙",
        "BING",
        UnitKind.DISTRICT,
        "王 五",
        "赵六",
        "0510-88886666",
    )
    assert unit("BING-1").parent == bing


def test_numbers_typed_as_numbers_read_as_text(city):
    result = run([["丙区", "", 1001, "区", "", "", "", 13800138000.0]])

    assert result.errors == []
    assert unit("1001").phone == "13800138000"


# --- Row errors ----------------------------------------------------------------------------------


def test_unknown_parent_lists_close_names(city):
    result = run([row("甲三社区", "JIA-1-3", "社区", "甲街到")])

    assert where(result) == [(2, "上级单位", "甲街到")]
    message = result.errors[0].message
    assert "找不到上级单位“甲街到”" in message
    assert "甲街道" in message


def test_duplicate_code_in_file_reports_the_second_row(city):
    rows = [
        row("丙区", "BING", "区"),
        row("丁区", "DING", "区"),
        row("丙区（重复）", "BING", "区"),
    ]

    result = run(rows)

    assert where(result) == [(4, "编码", "BING")]
    assert "第 2 行" in result.errors[0].message


@pytest.mark.parametrize(
    ("label", "fragment"),
    [("居委", "无法识别的类型“居委”"), ("", "类型不能为空")],
)
def test_unknown_or_missing_type(city, label, fragment):
    result = run([row("丙区", "BING", label)])

    assert where(result) == [(2, "类型", label)]
    assert fragment in result.errors[0].message


@pytest.mark.parametrize(
    ("rows", "expected", "fragment"),
    [
        pytest.param(
            [row("甲三社区", "JIA-1-3", "社区", "甲区")],
            (2, "上级单位", "甲区"),
            "社区村的上级不能是区县",
            id="community-under-district",
        ),
        pytest.param(
            [row("丙街道", "BING-1", "街道", "市城管局")],
            (2, "上级单位", "市城管局"),
            "街道乡镇的上级不能是市直部门",
            id="street-under-department",
        ),
        pytest.param(
            [row("丙区", "BING", "区", "甲区")],
            (2, "上级单位", "甲区"),
            "区县的上级不能是区县",
            id="district-under-district",
        ),
        pytest.param(
            [row("执法支队", "D-ZF", "部门", "甲街道")],
            (2, "上级单位", "甲街道"),
            "市直部门的上级不能是街道乡镇",
            id="department-under-street",
        ),
        pytest.param(
            [row("丙区", "BING", "区"), row("丙一社区", "BING-0-1", "社区", "丙区")],
            (3, "上级单位", "丙区"),
            "社区村的上级不能是区县",
            id="community-under-district-in-file",
        ),
    ],
)
def test_parent_of_the_wrong_kind(city, rows, expected, fragment):
    result = run(rows)

    assert where(result) == [expected]
    assert fragment in result.errors[0].message


def test_street_without_a_parent_is_refused(city):
    result = run([row("丙街道", "BING-1", "街道")])

    assert [e.row for e in result.errors] == [2]
    assert "街道乡镇必须有上级单位" in result.errors[0].message


@pytest.mark.parametrize(
    ("data_row", "expected", "message"),
    [
        (row("", "BING", "区"), (2, "名称", ""), "名称不能为空。"),
        (row("丙区", "", "区"), (2, "编码", ""), "编码不能为空。"),
    ],
)
def test_missing_name_or_code(city, data_row, expected, message):
    result = run([data_row])

    assert result.errors == [RowError(*expected, message)]


def test_too_long_name_is_a_row_error(city):
    name = "长" * 101

    result = run([row(name, "LONG", "区")])

    assert result.errors == [RowError(2, "名称", name, "名称不能超过 100 个字。")]


def test_too_long_code_is_a_row_error_not_a_crash(city):
    # Unit.code holds 50 characters; a longer one must be a row error in the preview, not an exception on write.
    code = "X" * 51

    result = run([row("丙区", code, "区")])

    assert where(result) == [(2, "编码", code)]
    assert "50" in result.errors[0].message
    assert not Unit.objects.filter(name="丙区").exists()


def test_ambiguous_parent_name_asks_for_the_code(city):
    rows = [
        row("甲区城关镇", "JIA-CG", "镇", "甲区", short="城关镇"),
        row("乙区城关镇", "YI-CG", "镇", "乙区", short="城关镇"),
        row("城关一村", "JIA-CG-1", "村", "城关镇"),
    ]

    result = run(rows)

    assert where(result) == [(4, "上级单位", "城关镇")]
    assert "有多个单位叫“城关镇”" in result.errors[0].message
    assert "编码" in result.errors[0].message


def test_parent_cycle_inside_the_file(city):
    rows = [
        row("督查一组", "G-1", "其他", "G-2"),
        row("督查二组", "G-2", "其他", "G-3"),
        row("督查三组", "G-3", "其他", "G-1"),
    ]

    result = run(rows)

    assert where(result) == [(2, "上级单位", "G-2"), (3, "上级单位", "G-3"), (4, "上级单位", "G-1")]
    assert all("循环" in e.message for e in result.errors)


def test_unit_as_its_own_parent(city):
    result = run([row("督查组", "G-1", "其他", "G-1")])

    assert where(result) == [(2, "上级单位", "G-1")]
    assert "自己" in result.errors[0].message


def test_moving_an_existing_unit_under_its_own_descendant_is_a_cycle(city):
    # 示范市城市管理局 → 执法支队 exists; the file puts 示范市城市管理局 under 执法支队.
    from campaign import services

    services.unit_create(name="执法支队", code="D-CG-ZF", kind=UnitKind.DEPARTMENT, parent=city.dept_cg)
    before = unit_snapshot()

    result = run([row("示范市城市管理局", "D-CG", "部门", "D-CG-ZF", short="市城管局")])

    assert where(result) == [(2, "上级单位", "D-CG-ZF")]
    assert "循环" in result.errors[0].message
    assert unit_snapshot() == before


def test_kind_change_that_strands_existing_children_is_a_row_error(city):
    # 甲区 has 甲街道 under it; a street may only sit under a district, so 甲区 cannot become a department.
    # The preview must say so (not pass and then fail on write).
    before = unit_snapshot()

    preview = run([row("甲区", "JIA", "市直部门")], dry_run=True)

    assert where(preview) == [(2, "类型", "市直部门")]
    assert "甲街道" in preview.errors[0].message
    result = run([row("甲区", "JIA", "市直部门")])
    assert where(result) == [(2, "类型", "市直部门")]
    assert unit_snapshot() == before


def test_several_errors_are_all_reported_in_row_order(city):
    rows = [
        row("丙区", "BING", "区"),  # fine
        row("丙街道", "BING-1", "街坊"),  # 3: unknown type
        row("丙二街道", "BING-2", "街道", "丙区"),  # fine
        row("丙一社区", "BING-2-1", "社区", "丙三街道"),  # 5: unknown parent
        row("丙区别名", "BING", "区"),  # 6: duplicate code
        row("", "BING-9", "区"),  # 7: no name
        row("甲三社区", "JIA-1-3", "社区", "乙区"),  # 8: wrong kind of parent
    ]

    result = run(rows)

    assert where(result) == [
        (3, "类型", "街坊"),
        (5, "上级单位", "丙三街道"),
        (6, "编码", "BING"),
        (7, "名称", ""),
        (8, "上级单位", "乙区"),
    ]
    assert all(CJK.search(e.message) for e in result.errors)
    assert result.summary == "文件有 5 处错误，未写入任何数据。请修改后重新上传。"


def test_any_error_writes_nothing_even_when_other_rows_are_fine(city):
    before, count = unit_snapshot(), Unit.objects.count()
    rows = [
        row("丙区", "BING", "区"),
        row("丙街道", "BING-1", "街道", "丙区"),
        row("甲街道", "JIA-1", "街道", "乙区", leader="改了"),  # a fine update
        row("丙一社区", "BING-1-1", "社区", "丙区"),  # the one bad row
    ]

    result = run(rows)

    assert where(result) == [(5, "上级单位", "丙区")]
    assert unit_snapshot() == before
    assert Unit.objects.count() == count


# --- Preview, re-import, updates -----------------------------------------------------------------


def test_dry_run_reports_counts_and_writes_nothing(city):
    before = unit_snapshot()
    rows = [
        row("丙区", "BING", "区"),  # create
        row("丙街道", "BING-1", "街道", "丙区"),  # create
        row("甲街道", "JIA-1", "街道", "甲区", leader="孙八"),  # update: a new leader
        row("示范市城市管理局", "D-CG", "部门", short="市城管局"),  # unchanged
    ]

    result = run(rows, dry_run=True)

    assert result.errors == []
    assert (result.dry_run, result.created, result.updated, result.unchanged) == (True, 2, 1, 1)
    assert [(r.row, r.action) for r in result.rows] == [(2, "create"), (3, "create"), (4, "update"), (5, "unchanged")]
    assert result.rows[2].changes == {"主要负责人": ("", "孙八")}
    assert result.summary == "预览：将新增 2 条，更新 1 条，1 条不变。"
    assert unit_snapshot() == before


def test_reimporting_the_same_file_changes_nothing(city):
    rows = [
        row("丙区", "BING", "区", leader="王五", phone="0510-1"),
        row("丙街道", "BING-1", "街道", "丙区", short="丙街"),
        row("丙一社区", "BING-1-1", "社区", "丙街"),
        row("甲街道", "JIA-1", "街道", "甲区"),
        row("示范市城市管理局", "D-CG", "部门", short="市城管局"),
    ]
    data = make_xlsx([HEADER, *rows])
    first = units_import(file=upload("units.xlsx", data), dry_run=False)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 2)
    before, history = unit_snapshot(), Unit.history.count()

    again = units_import(file=upload("units.xlsx", data), dry_run=False)

    assert again.errors == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert all(r.changes == {} for r in again.rows)
    assert again.summary == "已新增 0 条，更新 0 条，5 条不变。"
    assert unit_snapshot() == before
    assert Unit.history.count() == history


def test_corrected_file_updates_in_place_and_reports_changed_fields(city):
    run([row("丙区", "BING", "区", phone="0510-1"), row("丙街道", "BING-1", "街道", "丙区")])
    pk = unit("BING").pk

    result = run([row("丙新区", "BING", "区", phone="0510-2"), row("丙街道", "BING-1", "街道", "BING")])

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert result.rows[0].changes == {"名称": ("丙区", "丙新区"), "联系电话": ("0510-1", "0510-2")}
    bing = Unit.objects.get(pk=pk)
    assert (bing.name, bing.code, bing.phone) == ("丙新区", "BING", "0510-2")
    assert unit("BING-1").parent_id == pk
    assert Unit.objects.filter(code="BING").count() == 1


def test_moving_a_unit_moves_its_subtree(city):
    result = run([row("甲街道", "JIA-1", "街道", "乙区")])

    assert result.errors == []
    assert result.rows[0].changes == {"上级单位": ("JIA", "YI")}
    for code, chain in {
        "JIA-1": ["YI", "JIA-1"],
        "JIA-1-1": ["YI", "JIA-1", "JIA-1-1"],
        "JIA-1-2": ["YI", "JIA-1", "JIA-1-2"],
        "JIA": ["JIA"],
    }.items():
        assert (unit(code).path, unit(code).depth) == (path_of(*chain), len(chain) - 1), code
    assert unit("JIA-1").parent.code == "YI"
    assert_tree_consistent()


def test_move_and_new_child_below_an_unchanged_row_in_the_same_file(city):
    # The office re-imports its whole list after putting 甲区 under a new management committee and
    # adding a community under 甲街道 (a row that itself is unchanged): every path must be right.
    rows = [
        row("经济开发区管委会", "KF", "其他"),
        row("甲区", "JIA", "区", "KF"),  # moved
        row("甲街道", "JIA-1", "街道", "甲区"),  # unchanged
        row("甲三社区", "JIA-1-3", "社区", "甲街道"),  # new, below the unchanged row
    ]

    result = run(rows)

    assert result.errors == []
    assert [r.action for r in result.rows] == ["create", "update", "unchanged", "create"]
    assert unit("JIA-1-3").path == path_of("KF", "JIA", "JIA-1", "JIA-1-3")
    assert unit("JIA-1-3").depth == 3
    assert_tree_consistent()


# --- File-level errors ---------------------------------------------------------------------------

LEGACY_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        pytest.param("units.xlsx", b"", "文件是空的", id="empty"),
        pytest.param("units.xlsx", b" \r\n ", "文件是空的", id="blank"),
        pytest.param("units.xlsx", random.Random(20260301).randbytes(4096), "无法读取该文件", id="random-bytes"),
        pytest.param("logo.png", PNG, "无法读取该文件", id="png"),
        pytest.param(
            "units.xlsx", make_xlsx([HEADER, row("丙区", "BING", "区")])[:300], "不是有效的 Excel", id="truncated-xlsx"
        ),
        pytest.param("units.xls", LEGACY_XLS, "不支持旧版 .xls", id="legacy-xls"),
        pytest.param(
            "units.xlsx",
            make_xlsx([["名称", "简称", "上级单位"], ["丙区", "", ""]]),
            "未找到必需的表头",
            id="required-headers-missing",
        ),
        pytest.param("units.xlsx", make_xlsx([HEADER]), "没有数据行", id="header-only"),
        pytest.param("units.xlsx", make_xlsx([HEADER, [], [None, "  "]]), "没有数据行", id="header-and-blank-rows"),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_file_level_errors_are_one_chinese_error_without_a_row(city, name, data, fragment, dry_run):
    before = unit_snapshot()

    result = units_import(file=upload(name, data), dry_run=dry_run)

    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.row, error.column, error.value) == (None, "", "")
    assert fragment in error.message
    assert CJK.search(error.message)
    assert result.rows == []
    assert unit_snapshot() == before


def test_missing_required_header_names_the_headers(city):
    result = run([["丙区", "BING"]], header=["名称", "编码"])

    assert len(result.errors) == 1
    assert result.errors[0].row is None
    assert "类型" in result.errors[0].message


def test_file_over_the_size_limit_is_refused(city, settings):
    data = make_xlsx([HEADER, row("丙区", "BING", "区")])
    settings.IMPORT_MAX_BYTES = len(data) - 1
    before = unit_snapshot()

    result = units_import(file=upload("units.xlsx", data), dry_run=False)

    assert len(result.errors) == 1
    assert result.errors[0].row is None
    assert "文件过大" in result.errors[0].message
    assert unit_snapshot() == before


# --- CSV -----------------------------------------------------------------------------------------

CSV_TEXT = (
    "名称,简称,编码,类型,上级单位\r\n丙区,,BING,区,\r\n丙街道,,BING-1,街道,丙区\r\n丙一社区,,BING-1-1,社区,丙街道\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_or_gbk_is_imported(city, encoding):
    result = units_import(file=upload("units.csv", CSV_TEXT.encode(encoding)), dry_run=False)

    assert result.errors == []
    assert result.created == 3
    assert unit("BING-1-1").path == path_of("BING", "BING-1", "BING-1-1")
    assert unit("BING-1-1").name == "丙一社区"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_csv_row_errors_carry_the_line_number(city, encoding):
    text = "名称,编码,类型,上级单位\r\n丙区,BING,区,\r\n丙街道,BING-1,街坊,丙区\r\n"

    result = units_import(file=upload("units.csv", text.encode(encoding)), dry_run=False)

    assert where(result) == [(3, "类型", "街坊")]
    assert not Unit.objects.filter(code="BING").exists()


def test_a_kind_change_is_previewed_with_its_labels(city):
    result = run([row("示范市文明办", "D-WM", "其他")], dry_run=True)
    assert result.rows[0].changes["类型"] == ("市直部门", "其他")


def test_a_unit_naming_itself_as_parent_by_name(city):
    result = run([row("督查组", "G-1", "其他", "督查组")])
    assert where(result) == [(2, "上级单位", "督查组")]
    assert result.errors[0].message == "上级单位不能是它自己。"


def test_duplicate_code_is_reported_even_after_a_bad_first_row(city):
    result = run([row("甲", "DUP", "星球"), row("乙", "DUP", "区")])
    assert where(result) == [(2, "类型", "星球"), (3, "编码", "DUP")]
