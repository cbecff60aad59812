"""第三方测评结果导入 (issue 13 item 4): an evaluator's sheet shaped like the real 苏州 case — one
row per observation, several departments in a cell separated by spaces, rows without a street
(the point sits under the district, which alone is charged territorially), 扣分 as a value — into
a BARE city, then the week's roll-up checked against a hand computation."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.models import UnitWeekScore
from accountability.rollup import rollup_compute
from campaign import services as campaign_services
from campaign.choices import Role, UnitKind
from campaign.models import Unit
from indicators import services as indicator_services
from inspections import services, third_party
from inspections.choices import ChargeKind, Result
from inspections.models import Charge, Inspection, InspectionRound, Observation, Point, PointType, Problem
from inspections.third_party import third_party_results_import
from tests.campaign.xlsx import make_xlsx, upload
from tests.conftest import create_campaign

HEADER = ["点位名称", "点位类型", "所在单位", "测评标准", "扣分", "责任部门", "检查时间", "备注"]
CITY_DEPARTMENTS = ["市城管局", "市文明办", "市公安局", "市交通局", "市水务局", "市商务局"]
DISTRICT_DEPARTMENTS = [
    "区政务办",
    "消防大队",
    "区卫健局",
    "区教育局",
    "区住建局",
    "区市场监管局",
    "区交通运输局",
    "区水利局",
]
TYPES = [
    "中学",
    "药店",
    "公交站台",
    "建成区河道",
    "加油站",
    "政务服务中心",
    "银行营业厅",
    "社区卫生服务站",
    "菜场",
    "停车场",
]
STANDARDS = ["Ⅲ-1", "Ⅲ-2", "Ⅲ-3"]
# Cycled over the rows (9 and 7 are prime to the 3 standards: every pattern meets every standard).
DEDUCTIONS = ["0", "0.3", "0", "1.0", "0.5", "0", "0.2", "0.0", "0.6"]
DEPARTMENT_CELLS = [
    "区政务办 消防大队",  # the evaluator's spaces
    "",  # blank: the check item's departments, else the point's (none here)
    "区教育局",
    "市城管局、区卫健局",
    "区住建局 区市场监管局 市文明办",
    "",
    "区交通运输局",
]
POINTS = 24  # 16 in the street, 8 under the district directly (the data has no street for them)


@pytest.fixture
def bare(db):
    """One district, one street, 14 departments (8 of them 区直部门), 10 point types, a system of
    three standards, one check item per (type, standard) with a cap of 1, a 第三方测评 round."""
    district = campaign_services.unit_create(name="吴中区", code="WZ", kind=UnitKind.DISTRICT)
    street = campaign_services.unit_create(name="城南街道", code="WZ-CN", kind=UnitKind.STREET, parent=district)
    departments = {}
    for index, name in enumerate(CITY_DEPARTMENTS):
        departments[name] = campaign_services.unit_create(name=name, code=f"D{index:02d}", kind=UnitKind.DEPARTMENT)
    for index, name in enumerate(DISTRICT_DEPARTMENTS):
        departments[name] = campaign_services.unit_create(
            name=name, code=f"WZ-D{index:02d}", kind=UnitKind.DEPARTMENT, parent=district
        )
    office = campaign_services.user_create(username="wz_office", password="x-pass-2026", full_name="吴中创建办")
    campaign_services.membership_create(user=office, role=Role.OFFICE, unit=departments["市文明办"])
    campaign = create_campaign()
    system = indicator_services.indicator_system_create(
        campaign=campaign, name="2016测评体系", kind="national", year=2016
    )
    top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-1", title="公共环境", rebuild=False)
    standards = {
        code: indicator_services.indicator_create(
            system=system, level=3, code=code, title=f"第{code[-1]}条标准", parent=top, weight=Decimal(1)
        )
        for code in STANDARDS
    }
    types = {name: services.point_type_save(name=name, order=100 + i) for i, name in enumerate(TYPES)}
    items = {}
    for type_name, point_type in types.items():
        for code, standard in standards.items():
            items[(type_name, code)] = services.check_item_create(
                point_type=point_type,
                indicator=standard,
                text=f"{type_name}{code}细则",
                per_occurrence=Decimal(1),
                cap=Decimal(1),
                # One item names its own department: a blank cell charges it.
                departments=[departments["区市场监管局"]] if (type_name, code) == ("药店", "Ⅲ-2") else [],
            )
    round_ = services.round_create(
        user=office,
        campaign=campaign,
        name="2026年第三方测评",
        kind="third_party",
        start_date=datetime.date(2026, 11, 23),
        end_date=datetime.date(2026, 11, 29),
    )
    return {
        "district": district,
        "street": street,
        "departments": departments,
        "office": office,
        "campaign": campaign,
        "system": system,
        "types": types,
        "items": items,
        "round": round_,
    }


def point_name(i: int) -> str:
    return f"城南{TYPES[i % len(TYPES)]}{i + 1:02d}"


def case_rows(points: int = POINTS) -> list[list[str]]:
    """Three rows per point (one per standard): 扣分, departments and dates cycled."""
    rows = []
    for i in range(points):
        unit = "城南街道" if i < 16 else "吴中区"
        when = "2026-11-26 10:30" if i % 4 == 0 else ""  # else the form's date (2026-11-25)
        for code in STANDARDS:
            k = len(rows)
            rows.append(
                [
                    point_name(i),
                    TYPES[i % len(TYPES)],
                    unit,
                    code,
                    DEDUCTIONS[k % len(DEDUCTIONS)],
                    DEPARTMENT_CELLS[k % len(DEPARTMENT_CELLS)],
                    when,
                    "",
                ]
            )
    return rows


def sheet(rows) -> object:
    return upload("第三方测评结果.xlsx", make_xlsx([HEADER, *rows]))


def run(bare, rows, *, dry_run=False, **options):
    options.setdefault("create_points", True)
    return third_party_results_import(
        round_=bare["round"],
        file=sheet(rows),
        dry_run=dry_run,
        user=bare["office"],
        observed_on=datetime.date(2026, 11, 25),
        **options,
    )


def expected_rates(rows) -> dict[str, Decimal]:
    """The rates by hand, from the sheet alone: each row's score is 1 − 扣分 (cap 1); it counts
    for the street when the row names the street, for the district always, and for the departments
    its cell names (split at spaces and 、) — a blank cell for the one item that names 区市场监管局."""
    scores: dict[str, list[Decimal]] = {}
    for _name, type_name, unit, code, deduction, cell, _when, _note in rows:
        score = 1 - Decimal(deduction)
        charged = {"吴中区"} | ({"城南街道"} if unit == "城南街道" else set())
        names = [part for part in re.split(r"[\s、]+", cell) if part]
        if not names and (type_name, code) == ("药店", "Ⅲ-2"):
            names = ["区市场监管局"]
        for unit_name in charged | set(names):
            scores.setdefault(unit_name, []).append(score)
    return {name: sum(values) / len(values) for name, values in scores.items()}


def week_rates(bare) -> dict[str, UnitWeekScore]:
    version, _outcome = rollup_compute(campaign=bare["campaign"], week="2026-W48")
    return {
        row.unit.name: row
        for row in UnitWeekScore.objects.filter(rollup=version, unit__isnull=False).select_related("unit")
    }


# --- The case -----------------------------------------------------------------------------------


def test_the_evaluators_sheet_imports_and_the_week_rates_match_a_hand_computation(bare):
    rows = case_rows()
    assert len(rows) == 72
    preview = run(bare, rows, dry_run=True)
    assert preview.ok, preview.errors
    # One inspection per (point, day): each point's three rows share a day (the 26th, or the form's 25th).
    assert (preview.created, preview.new_inspections, len(preview.new_points)) == (72, 24, 24)
    assert Inspection.objects.count() == Point.objects.count() == 0  # a preview writes nothing

    result = run(bare, rows)
    assert result.ok, result.errors
    assert Inspection.objects.filter(round=bare["round"], current=True).count() == result.new_inspections == 24
    assert Observation.objects.count() == 72
    assert Observation.objects.filter(deduction_given=True).count() == 72
    assert Problem.objects.count() == 0  # open_problems is off by default
    assert bare["round"].points.count() == 24
    # Points without a street sit under the district and are charged to it alone territorially.
    no_street = Point.objects.get(name=point_name(20))
    assert no_street.unit == bare["district"]
    territorial = Charge.objects.filter(observation__point=no_street, kind=ChargeKind.TERRITORIAL)
    assert set(territorial.values_list("unit__name", flat=True)) == {"吴中区"}
    # A value-based 扣分 is stored and scored as given.
    observation = Observation.objects.get(point__name=point_name(0), indicator__code="Ⅲ-2")
    assert (observation.deduction, observation.score, observation.result) == (
        Decimal("0.30"),
        Decimal("0.700000"),
        Result.FAIL,
    )
    # Spaces separate departments: row 2 ("区政务办 消防大队") charges both, instead of the item's.
    first = Observation.objects.get(point__name=point_name(0), indicator__code="Ⅲ-1")
    assert set(first.charges.filter(kind=ChargeKind.DEPARTMENT).values_list("unit__name", flat=True)) == {
        "区政务办",
        "消防大队",
    }
    # One (type × standard) pair — 中学 × Ⅲ-1 at three points — names different departments on
    # different rows: one check item suffices.
    school = Observation.objects.filter(check_item=bare["items"][("中学", "Ⅲ-1")]).order_by("point__name")
    assert [
        sorted(o.charges.filter(kind=ChargeKind.DEPARTMENT).values_list("unit__name", flat=True)) for o in school
    ] == [
        ["区政务办", "消防大队"],
        ["区教育局"],
        ["区住建局", "区市场监管局", "市文明办"],
    ]
    assert CheckItem_count(bare) == 30

    rates = week_rates(bare)
    expected = expected_rates(rows)
    # Written out for the units the issue names (deductions as cycled by DEDUCTIONS over the 72
    # rows, 9 values summing to 2.6, so 8 full cycles = 20.8):
    #   吴中区 (district: every row) 72 observations, Σ扣分 20.8 → 1 − 20.8/72 = 0.711111
    #   城南街道 (rows 1–48) 48 observations: rows 1–45 are 5 cycles (13.0) + "0","0.3","0" → 13.3
    #       → 1 − 13.3/48 = 0.722917
    #   区政务办 (every 7th row from the 1st: rows k = 0, 7, 14 … 70 — 11 observations) 扣分
    #       DEDUCTIONS[k % 9] = k%9 0, 7, 5, 3, 1, 8, 6, 4, 2, 0, 7 → 0, 0.0, 0, 1.0, 0.3, 0.6, 0.2, 0.5,
    #       0, 0, 0.0 → Σ 2.6 → 1 − 2.6/11 = 0.763636
    hand = {"吴中区": Decimal("0.711111"), "城南街道": Decimal("0.722917"), "区政务办": Decimal("0.763636")}
    for name, rate in hand.items():
        assert abs(expected[name] - rate) < Decimal("0.000001"), name
    for name in [
        "吴中区",
        "城南街道",
        "区政务办",
        "消防大队",
        "区教育局",
        "区卫健局",
        "区市场监管局",
        "市城管局",
        "市文明办",
    ]:
        row = rates[name]
        assert abs(row.score_rate - expected[name]) <= Decimal("0.000001"), (name, row.score_rate, expected[name])
    assert rates["区政务办"].population == rates["消防大队"].population
    # Every unit charged is in the roll-up with its count of observations.
    counts = {name: len([r for r in rows if name in r[5].replace("、", " ").split()]) for name in ["区政务办"]}
    assert rates["区政务办"].observations == counts["区政务办"] == 11


def CheckItem_count(bare) -> int:
    from inspections.models import CheckItem

    return CheckItem.objects.filter(indicator__system=bare["system"]).count()


def test_reimporting_the_same_sheet_changes_nothing_and_a_changed_deduction_supersedes(bare):
    rows = case_rows(6)
    first = run(bare, rows)
    assert first.ok, first.errors
    before = list(Inspection.objects.order_by("pk").values_list("pk", "current"))

    again = run(bare, rows, dry_run=True)
    assert (again.created, again.updated, again.new_inspections, again.corrected_inspections) == (0, 0, 0, 0)
    assert again.unchanged == 18 and again.new_points == []
    assert run(bare, rows).ok
    assert list(Inspection.objects.order_by("pk").values_list("pk", "current")) == before

    changed = [list(row) for row in rows]
    changed[4][4] = "0.8"  # point 2, Ⅲ-2: 0.5 → 0.8
    preview = run(bare, changed, dry_run=True)
    assert (preview.corrected_inspections, preview.updated, preview.new_inspections) == (1, 3, 0)
    assert "更正 1 次" in preview.summary
    update = next(r for r in preview.rows if r.row == 6)
    assert update.changes == {"扣分/结果": ("0.50（不合格）", "0.80（不合格）")}
    result = run(bare, changed)
    assert result.ok, result.errors
    old = Inspection.objects.get(pk=before[1][0])
    assert not old.current
    new = old.superseded_by
    assert (new.current, new.correction_reason) == (True, "第三方测评结果重新导入")
    assert new.observations.get(indicator__code="Ⅲ-2").deduction == Decimal("0.80")
    assert Observation.objects.filter(current=True).count() == 18
    # The changed sheet again: nothing; and back to the first sheet: a correction again, not a
    # return of the superseded record.
    assert run(bare, changed, dry_run=True).corrected_inspections == 0
    back = run(bare, rows)
    assert (back.corrected_inspections, back.new_inspections) == (1, 0)
    assert Observation.objects.filter(
        current=True, point__name=point_name(1), indicator__code="Ⅲ-2"
    ).get().deduction == Decimal("0.50")


def test_problems_are_opened_only_when_asked(bare):
    result = run(bare, case_rows(3), open_problems=True)
    assert result.ok, result.errors
    failing = Observation.objects.exclude(result=Result.PASS).count()
    assert failing and Problem.objects.count() == failing


def test_rows_name_existing_points_by_name_alone_when_unique(bare):
    assert run(bare, case_rows(2)).ok
    rows = [[point_name(0), "", "", "Ⅲ-1", "0", "", "2026-11-27", ""]]
    result = run(bare, rows, create_points=False)
    assert result.ok, result.errors
    assert (result.new_inspections, result.new_points) == (1, [])
    assert Point.objects.count() == 2


def test_row_errors_name_row_and_column_and_nothing_is_written(bare):
    other = campaign_services.unit_create(name="相城区", code="XC", kind=UnitKind.DISTRICT)
    campaign_services.unit_create(name="城南街道", code="XC-CN", kind=UnitKind.STREET, parent=other)
    good = ["城南中学01", "中学", "WZ-CN", "Ⅲ-1", "0.3", "", "", ""]
    rows = [
        good,
        ["城南中学01", "中学", "WZ-CN", "Ⅲ-99", "0.3", "", "", ""],  # unknown standard
        ["城南中学01", "中学", "WZ-CN", "Ⅲ-2", "1.5", "", "", ""],  # above the cap
        ["城南中学01", "中学", "WZ-CN", "Ⅲ-3", "0.333", "", "", ""],  # three decimals
        ["城南药店02", "药店", "WZ-CN", "Ⅲ-1", "0", "区政务办 区不存在局", "", ""],  # unknown department
        ["城南药店02", "药店", "WZ-CN", "Ⅲ-2", "0", "", "2026-12-20", ""],  # outside the round
        ["城南菜场03", "菜场", "城南街道", "Ⅲ-1", "0", "", "", ""],  # ambiguous unit
    ]
    before = (Point.objects.count(), Inspection.objects.count(), Observation.objects.count())
    for dry_run in (True, False):
        result = run(bare, rows, dry_run=dry_run)
        found = {(e.row, e.column): e.message for e in result.errors}
        assert set(found) == {
            (3, "测评标准"),
            (4, "扣分"),
            (5, "扣分"),
            (6, "责任部门"),
            (7, "检查时间"),
            (8, "所在单位"),
        }
        assert "找不到编码“Ⅲ-99”" in found[(3, "测评标准")]
        assert "超过该测评细则的最高扣分 1。" in found[(4, "扣分")]
        assert "最多保留两位小数" in found[(5, "扣分")]
        assert "找不到单位“区不存在局”" in found[(6, "责任部门")]
        assert "2026-11-23 至 2026-11-29" in found[(7, "检查时间")]
        assert "有多个单位叫“城南街道”" in found[(8, "所在单位")] and "XC-CN" in found[(8, "所在单位")]
        assert "未写入任何数据" in result.summary
        assert (Point.objects.count(), Inspection.objects.count(), Observation.objects.count()) == before


def test_a_round_of_another_kind_or_a_date_outside_it_is_refused(bare):
    weekly = services.round_create(
        user=bare["office"],
        campaign=bare["campaign"],
        name="周评比",
        kind="weekly",
        start_date=datetime.date(2026, 11, 23),
        end_date=datetime.date(2026, 11, 29),
    )
    result = third_party_results_import(
        round_=weekly, file=sheet(case_rows(1)), dry_run=True, user=bare["office"], create_points=True
    )
    assert "只能导入类型为第三方测评的批次" in result.errors[0].message
    outside = third_party_results_import(
        round_=bare["round"],
        file=sheet(case_rows(1)),
        dry_run=True,
        user=bare["office"],
        observed_on=datetime.date(2026, 12, 1),
    )
    assert outside.errors[0].column == "测评日期"


def test_the_lookups_do_not_grow_with_the_rows(bare, monkeypatch):
    """10 rows and 100 rows cost the same queries, the submits apart (one per inspection, pinned by
    test_submit_queries): the preview, and the confirm with inspection_submit stubbed out."""
    submits = []
    monkeypatch.setattr(third_party.services, "inspection_submit", lambda **kwargs: submits.append(kwargs))

    def count(rows, dry_run):
        with CaptureQueriesContext(connection) as queries:
            result = run(bare, rows, dry_run=dry_run)
        assert result.ok, result.errors
        return len(queries)

    small, large = case_rows(24)[:10], case_rows(34)[:100]
    assert count(small, True) == count(large, True)
    Point.objects.all().delete()
    written_small = count(small, False)
    InspectionRound.points.through.objects.all().delete()
    Point.objects.all().delete()
    written_large = count(large, False)
    assert written_small == written_large
    assert len(submits) == 4 + 34


def test_the_management_command_previews_and_imports(bare, tmp_path, capsys):
    path = tmp_path / "结果.xlsx"
    path.write_bytes(make_xlsx([HEADER, *case_rows(2)]))
    args = [str(path), "--round", str(bare["round"].pk), "--date", "2026-11-25", "--create-points"]
    call_command("import_third_party_results", *args, "--dry-run")
    assert Inspection.objects.count() == 0
    call_command("import_third_party_results", *args)
    assert Inspection.objects.count() == 2 and Observation.objects.count() == 6
    assert "新增督查记录 2 次" in capsys.readouterr().out


def test_point_types_exist_only_as_made(bare):
    assert PointType.objects.filter(name__in=TYPES).count() == 10
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT, parent=bare["district"]).count() == 8
