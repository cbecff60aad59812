"""Exporting a 测评体系 as a 任务分解表: the import's layout, and a round trip that keeps the content."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaign import services as campaign_services
from campaign.choices import UnitKind
from indicators import services
from indicators.choices import AssignmentRole
from indicators.importing import indicators_export
from indicators.models import Indicator
from tests.indicators.sheets import FOUR_LEVELS, THREE_LEVELS, cells, run, sheet, snapshot, tree_of
from tests.indicators.test_import import BASE_MERGES, BASE_ROWS, base_sheet, writes

HEADER = [
    "测评项目",
    "指标名称",
    "测评内容",
    "分值",
    "测评标准",
    "测评方法",
    "牵头单位",
    "责任单位",
    "材料要求",
    "适用点位",
]


def second_system(campaign, name="测评体系2027"):
    return services.indicator_system_create(campaign=campaign, name=name, kind="national", year=2027)


def assert_round_trip(system) -> bytes:
    """Export, import back: nothing created, nothing updated, nothing written; the same tree again
    in a fresh system."""
    before = snapshot(system)
    data = indicators_export(system=system)
    with CaptureQueriesContext(connection) as queries:
        result = run(system, data)
    assert (result.ok, result.created, result.updated) == (True, 0, 0)
    assert result.unchanged == Indicator.objects.filter(system=system).count()
    assert writes(queries.captured_queries) == []
    assert snapshot(system) == before
    copy = second_system(system.campaign, name=f"{system.name}（副本）")
    assert run(copy, data).ok
    assert tree_of(copy) == tree_of(system)
    return data


def test_an_imported_sheet_exports_in_the_same_layout(system, city):
    assert run(system, base_sheet()).ok

    data = assert_round_trip(system)

    values, merges = cells(data)
    assert values == [
        HEADER,
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
        [None, None, "Ⅲ-2 志愿服务", 4, "1) 注册志愿者比例达到15%", "数据采集", "市文明办", "甲区、乙区", None, None],
        [
            "Ⅰ-2 市场环境",
            "Ⅱ-2 农贸市场",
            "Ⅲ-3 农贸市场秩序",
            5,
            "1) 无占道经营",
            "实地考察",
            "市城管局",
            "甲一社区、甲二社区",
            None,
            "农贸市场",
        ],
        [None, None, None, None, "2) 明码标价", "实地考察", "市城管局", "乙街道", None, "农贸市场"],
    ]
    assert merges == sorted([*BASE_MERGES, "D5:D6"])


def test_the_hand_built_tree_exports_parents_with_values_on_rows_of_their_own(tree, system, city):
    """Values no leaf row can carry (a project's 牵头单位, a weighted project, a content's own
    methods above its standards) get a row of their own, so the round trip keeps them."""
    data = assert_round_trip(system)

    values, merges = cells(data)
    assert values == [
        HEADER,
        ["Ⅰ-1 思想道德", None, None, None, None, None, "市文明办", None, None, None],
        [None, "Ⅱ-1 公益广告", None, None, None, None, "市城管局", "甲街道", None, None],
        [None, None, "Ⅲ-1 公益广告宣传", 6, None, "网上申报、实地考察", None, None, None, None],
        [None, None, None, None, "1) 标准一", None, None, None, None, None],
        [None, None, None, None, "2) 标准二", None, None, None, None, None],
        [None, None, "Ⅲ-2 志愿服务", 4, None, "材料审核", None, None, None, None],
        ["Ⅰ-2 市场环境", None, None, 10, None, None, None, "乙街道", None, None],
        [None, None, "Ⅲ-3 农贸市场", None, None, "实地考察", None, None, None, None],
    ]
    assert merges == ["A2:A7", "A8:A9", "B3:B7", "C4:C6", "D4:D6"]
    # The effective facts survive too: inherited units and the leaves' shares.
    copy = Indicator.objects.exclude(system=system).get(code="1)")
    assert sorted(copy.assignments.values_list("unit__name", "role", "inherited")) == [
        ("甲街道", "responsible", True),
        ("示范市城市管理局", "lead", True),
    ]
    assert copy.share_weight == Decimal(3)


def test_a_three_level_system_exports_without_the_indicator_column(system, city):
    rows = [
        ["Ⅰ-1 思想道德", "Ⅲ-1 公益广告宣传", 6, "1) 标准一", "实地考察", "市城管局", "甲街道"],
        [None, None, None, "2) 标准二", "网上申报；实地考察", "市城管局", "甲街道"],
        ["Ⅰ-2 市场环境", "Ⅲ-2 农贸市场", 2.5, None, "实地考察", "市城管局", "乙街道、甲街道"],
    ]
    assert run(system, sheet(rows, header=THREE_LEVELS)).ok

    values, merges = cells(assert_round_trip(system))

    assert values == [
        ["测评项目", "测评内容", "分值", "测评标准", "测评方法", "牵头单位", "责任单位", "材料要求", "适用点位"],
        ["Ⅰ-1 思想道德", "Ⅲ-1 公益广告宣传", 6, "1) 标准一", "实地考察", "市城管局", "甲街道", None, None],
        [None, None, None, "2) 标准二", "网上申报、实地考察", "市城管局", "甲街道", None, None],
        ["Ⅰ-2 市场环境", "Ⅲ-2 农贸市场", 2.5, None, "实地考察", "市城管局", "甲街道、乙街道", None, None],
    ]
    assert merges == ["A2:A3", "B2:B3", "C2:C3"]


def test_veto_and_deadline_columns_come_with_the_system_that_uses_them(system, city):
    header = [*FOUR_LEVELS, "一票否决", "完成时限"]
    rows = [
        [
            "Ⅰ-1 安全底线",
            None,
            "Ⅲ-1 安全生产",
            5,
            "1) 无重大安全生产责任事故",
            "数据采集",
            "市城管局",
            "甲区",
            None,
            None,
            "是",
            "2026-12-31",
        ],
        [None, None, None, None, "2) 安全生产台账完整", "材料审核", "市城管局", "甲区", "台账", None, "否", None],
    ]
    assert run(system, sheet(rows, header=header)).ok

    values, _ = cells(assert_round_trip(system))

    assert values[0][-2:] == ["一票否决", "完成时限"]
    assert [row[-2:] for row in values[1:]] == [["是", datetime.datetime(2026, 12, 31)], ["否", None]]


def test_units_are_written_by_a_name_that_finds_them_again(system, city):
    """The short name when set and unique, else the full name, else the code."""
    jia = campaign_services.unit_create(
        name="甲街道幸福社区", short_name="幸福社区", code="JIA-1-9", kind=UnitKind.COMMUNITY, parent=city.street_jia
    )
    yi = campaign_services.unit_create(
        name="乙街道幸福社区", short_name="幸福社区", code="YI-1-9", kind=UnitKind.COMMUNITY, parent=city.street_yi
    )
    twin = campaign_services.unit_create(name="甲二社区", code="YI-1-8", kind=UnitKind.COMMUNITY, parent=city.street_yi)
    content = services.indicator_create(system=system, level=1, code="Ⅰ-1", title="社区环境", weight=Decimal(3))
    services.indicator_set_units(indicator=content, role=AssignmentRole.LEAD, units=[city.dept_cg])
    services.indicator_set_units(
        indicator=content, role=AssignmentRole.RESPONSIBLE, units=[jia, yi, twin, city.street_jia]
    )

    values, _ = cells(assert_round_trip(system))

    assert values[1] == [
        "Ⅰ-1 社区环境",
        None,
        3,
        None,
        None,
        "市城管局",
        "甲街道、甲街道幸福社区、乙街道幸福社区、YI-1-8",
        None,
        None,
    ]


def test_long_and_multi_line_standards_keep_their_whole_text(system, city):
    long_text = "建立健全工作机制，" * 40  # 360 characters: longer than a title may be
    rows = [
        ["Ⅰ-1 思想道德", None, "Ⅲ-1 工作机制", 3, f"1) {long_text}", "材料审核", "市文明办", "甲街道", None, None],
        [None, None, None, None, "2) 有年度计划\n有总结", "材料审核", "市文明办", "甲街道", None, None],
    ]
    assert run(system, sheet(rows)).ok
    first, second = Indicator.objects.filter(system=system, level=4).order_by("order")
    assert (len(first.title), first.title[-1], first.text) == (300, "…", long_text)
    assert (second.title, second.text) == ("有年度计划", "有年度计划\n有总结")

    values, _ = cells(assert_round_trip(system))

    assert [row[3] for row in values[1:]] == [f"1) {long_text}", "2) 有年度计划\n有总结"]


def test_an_empty_system_exports_its_header(system):
    values, merges = cells(indicators_export(system=system))
    assert (values, merges) == (
        [["测评项目", "测评内容", "分值", "测评标准", "测评方法", "牵头单位", "责任单位", "材料要求", "适用点位"]],
        [],
    )


def test_the_round_trip_keeps_a_corrected_sheet(system, city):
    """After a correction the export is the corrected sheet: a round trip of a round trip."""
    assert run(system, base_sheet()).ok
    rows = [list(row) for row in BASE_ROWS]
    rows[3][3] = 8
    rows[4][7] = "乙街道、甲一社区"
    assert run(system, base_sheet(rows)).updated == 2
    values, _ = cells(assert_round_trip(system))
    assert (values[4][3], values[5][7]) == (8, "乙街道、甲一社区")


# --- The demo city, a field-only system and the downloadable template (issue 13, item 6) -------------


@pytest.fixture
def demo(db):
    """The demo city's units, campaign and 测评体系 as `make run` seeds them (tests/test_demo.py)."""
    from campaign.demo import seed_all

    context = seed_all(only=("campaign", "indicators"))
    return context["campaign"]


def test_the_demo_system_round_trips(demo):
    from indicators.models import IndicatorSystem

    system = IndicatorSystem.objects.get(campaign=demo, is_current=True)
    assert Indicator.objects.filter(system=system).count() > 150
    assert_round_trip(system)


def test_a_field_only_system_round_trips(system, city):
    """Standards right under their 测评项目, no 分值, methods or units, a space inside a title."""
    from tests.indicators.test_import_relaxed import FIELD_ONLY, FIELD_ROWS

    assert run(system, sheet(FIELD_ROWS, header=FIELD_ONLY)).ok

    data = assert_round_trip(system)

    values, _merges = cells(data)
    assert values[0] == ["测评项目", "分值", "测评标准", "测评方法", "牵头单位", "责任单位", "材料要求", "适用点位"]
    assert values[2][:3] == [None, None, "Ⅲ-58 农贸市场项目 第0条标准"]


def test_the_downloadable_template_imports_into_the_demo_city_as_it_is(demo, client):
    from django.contrib.auth import get_user_model

    from campaign.demo import DEMO_PASSWORD
    from tests.campaign.xlsx import upload

    assert client.login(username="office", password=DEMO_PASSWORD)
    fresh = second_system(demo, name="导入模板试导")
    response = client.get(f"/indicators/systems/{fresh.pk}/import/?template=1")
    assert response.status_code == 200
    template = b"".join(response.streaming_content) if response.streaming else response.content

    preview = client.post(f"/indicators/systems/{fresh.pk}/import/", {"file": upload("任务分解表模板.xlsx", template)})
    assert preview.status_code == 200
    result = run(fresh, template, dry_run=True)
    assert result.ok, [e.as_dict() for e in result.errors]
    assert result.warnings == [] and result.created == 9
    assert run(fresh, template).ok
    assert get_user_model().objects.filter(username="office").exists()
    assert_round_trip(fresh)
