"""The demo city's 任务分解表: the committed fixture is the generator's sheet, and it imports cleanly."""

from __future__ import annotations

import pathlib
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from indicators import services
from indicators.demo_sheet import HEADER, SYSTEM, TITLE, build_demo_sheet
from indicators.importing import indicators_export
from indicators.models import Assignment, Indicator, IndicatorMethod
from tests.indicators.sheets import cells, run, snapshot
from tests.indicators.test_import import writes

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "indicators" / "demo_sheet.xlsx"


def test_the_committed_fixture_is_the_generated_sheet():
    """Regenerate with: .venv/bin/python -c "from indicators.demo_sheet import build_demo_sheet;
    open('tests/fixtures/indicators/demo_sheet.xlsx', 'wb').write(build_demo_sheet())" """
    assert cells(FIXTURE.read_bytes()) == cells(build_demo_sheet())


def test_the_sheet_is_the_same_on_every_call():
    assert cells(build_demo_sheet()) == cells(build_demo_sheet())


def test_the_sheet_looks_like_an_office_sheet():
    values, merges = cells(build_demo_sheet())

    assert values[0][0] == TITLE
    assert values[1] == HEADER
    assert len(values) == 2 + 126
    assert values[2] == [
        1,
        "Ⅰ-1 思想引领与理论武装",
        "Ⅱ-1 理论武装",
        "Ⅲ-1 理论学习",
        3,
        "1) 党委（党组）理论学习中心组学习制度健全，年度学习计划、学习记录完整。",
        "网上申报，材料审核",
        "市委宣传部",
        "市委组织部、东湖区、西山区、南湖区、北塘区、滨江县",
        "年度学习计划、中心组学习记录、专题研讨材料",
        None,
        values[2][11],
        "省级重点指标",
    ]
    assert values[2][11].date().isoformat() == "2026-06-30"
    column = {name: index for index, name in enumerate(HEADER)}
    projects = [row[column["测评项目"]] for row in values[2:]]
    # Parents merged down (title row and Ⅰ-1), left blank below (Ⅰ-2), or repeated (some contents).
    assert "A1:M1" in merges and "B3:B20" in merges
    assert projects[18:20] == ["Ⅰ-2崇德向善的道德风尚", None]
    contents = [row[column["测评内容"]] for row in values[2:]]
    assert contents[6:9] == ["Ⅲ-3 宣传阵地建设与管理"] * 3
    written = [c for c in contents if c]
    assert any(c.startswith("Ⅲ-5核心价值观") for c in written)  # a code without a space
    standards = [row[column["测评标准"]] for row in values[2:]]
    assert standards[9:12] == [
        "1）主次干道、商业大街公益广告设置规范，200米内至少1处。",
        "2）公交站点、公交车、出租车刊播公益广告，内容规范醒目。",
        "3）建筑工地围挡公益广告不低于围挡面积的20%。",
    ]
    units = " ".join(row[column["责任单位"]] for row in values[2:])
    for separator in ("、", "，", ";", "；", "\n"):
        assert separator in units, separator
    methods = {part for row in values[2:] for part in re.split("[、，;]", row[column["测评方法"]])}
    assert methods == {"网上申报", "材料审核", "实地考察", "问卷调查", "网络调查", "数据采集"}
    weights = [row[column["分值"]] for row in values[2:] if row[column["分值"]] is not None]
    assert (len(weights), sum(Decimal(str(w)) for w in weights)) == (42, Decimal(100))


@pytest.fixture
def demo_city(db):
    from campaign.demo import seed

    context: dict = {}
    seed(context)
    return context


def test_the_demo_sheet_imports_against_the_demo_city(demo_city):
    system = services.indicator_system_create(
        campaign=demo_city["campaign"], name="全国文明城市测评体系（2026年版）", kind="national", year=2026
    )

    result = run(system, build_demo_sheet())

    assert [e.as_dict() for e in result.errors] == []
    assert (result.created, result.updated, result.unchanged) == (189, 0, 0)
    nodes = Indicator.objects.filter(system=system)
    assert Counter(nodes.values_list("level", flat=True)) == {1: 7, 2: 14, 3: 42, 4: 126}
    # 分值 on every 测评内容, blank on the standards; the projects add up to exactly 100.
    assert nodes.filter(level=3, weight__isnull=True).count() == 0
    assert not nodes.exclude(level=3).filter(weight__isnull=False).exists()
    assert nodes.filter(level=1).aggregate(total=Sum("effective_weight"))["total"] == 100
    assert {f"{n.code} {n.title}": n.effective_weight.normalize() for n in nodes.filter(level=1)} == {
        "Ⅰ-1 思想引领与理论武装": Decimal(15),
        "Ⅰ-2 崇德向善的道德风尚": Decimal(14),
        "Ⅰ-3 志愿服务与文明创建": Decimal("13.5"),
        "Ⅰ-4 规范有序的市场环境": Decimal(15),
        "Ⅰ-5 整洁优美的城市环境": Decimal("14.5"),
        "Ⅰ-6 安全便捷的公共秩序": Decimal(14),
        "Ⅰ-7 未成年人思想道德建设": Decimal(14),
    }

    # Methods sit on the standards; all six are used, most standards are declared online.
    methods = Counter(IndicatorMethod.objects.filter(indicator__system=system).values_list("method", flat=True))
    assert methods == {"online": 44, "review": 37, "field": 49, "survey": 17, "web": 9, "data": 22}
    assert set(IndicatorMethod.objects.filter(indicator__system=system).values_list("indicator__level", flat=True)) == {
        4
    }
    assert nodes.filter(is_declaration=True).count() == 53

    # Shapes the sheet mixes, read back as the office meant them.
    assert nodes.get(code="Ⅲ-26").title == "公共厕所"
    assert nodes.get(code="Ⅲ-5").title == "核心价值观融入法治建设"
    assert [(s.code, s.title) for s in nodes.get(code="Ⅲ-12").children.order_by("order")] == [
        ("", "政府守信践诺，无拖欠企业账款、农民工工资问题。"),
        ("", "政务公开信息及时、准确、完整。"),
        ("", "群众对政务诚信的满意率。"),
    ]
    assert list(nodes.get(code="Ⅲ-4").children.order_by("order").values_list("code", flat=True)) == ["1)", "2)", "3)"]
    assert nodes.get(code="Ⅲ-38").children.get(code="1)").title == "校园周边200米内无网吧、无游戏厅、无歌舞娱乐场所。"

    # Units by name and short name, several to a cell.
    first = nodes.get(code="Ⅲ-1").children.get(code="1)")
    assert sorted(first.assignments.filter(inherited=False).values_list("role", "unit__short_name")) == [
        ("lead", "市委宣传部"),
        ("responsible", "东湖区"),
        ("responsible", "北塘区"),
        ("responsible", "南湖区"),
        ("responsible", "市委组织部"),
        ("responsible", "滨江县"),
        ("responsible", "西山区"),
    ]
    assert (first.requirements, str(first.deadline)) == ("年度学习计划、中心组学习记录、专题研讨材料", "2026-06-30")
    lanes = nodes.get(code="Ⅲ-26").children.get(code="1)")
    assert list(lanes.assignments.filter(role="lead").values_list("unit__name", flat=True)) == ["示范市城市管理局"]
    for short_name in ("湖滨街道", "山前街道", "市城管局"):  # the demo liaisons have declaration work
        assert Assignment.objects.filter(
            indicator__system=system, indicator__is_declaration=True, unit__short_name=short_name
        ).exists(), short_name
    # The point types the inspections demo looks its check items up by.
    for keyword in ("农贸市场", "背街小巷", "小区", "公交站", "干道", "公共厕所", "商场", "公园", "医院", "学校"):
        assert nodes.filter(is_leaf=True, point_types__contains=keyword).exists(), keyword

    # Again: nothing written. Exported and imported back: nothing changes either.
    before = snapshot(system)
    with CaptureQueriesContext(connection) as queries:
        again = run(system, build_demo_sheet())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 189)
    assert writes(queries.captured_queries) == []
    round_trip = run(system, indicators_export(system=system))
    assert (round_trip.ok, round_trip.created, round_trip.updated, round_trip.unchanged) == (True, 0, 0, 189)
    assert snapshot(system) == before


def test_the_demo_sheet_is_a_sheet_of_four_levels():
    """The generator's data: 7 projects, 14 indicators, 42 contents, 126 standards, 分值 100."""
    indicators = [i for _, _, items in SYSTEM for i in items]
    contents = [c for _, _, items in indicators for c in items]
    standards = [s for c in contents for s in c[5]]
    assert (len(SYSTEM), len(indicators), len(contents), len(standards)) == (7, 14, 42, 126)
    assert sum(Decimal(str(c[2])) for c in contents) == 100
