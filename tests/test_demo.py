"""The demo city that `make run` loads: what every page shows on first start.

Seeding is the slow part, so one test seeds and checks everything it promises.
"""

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Sum
from django.test import RequestFactory

from campaign.choices import Role, UnitKind
from campaign.models import Campaign, Membership, Unit, WorkGroup

ACCOUNTS = [
    ("office", Role.OFFICE, "示范市文明办"),
    ("inspector", Role.INSPECTOR, "示范市文明办"),
    ("leader", Role.LEADER, None),
    ("liaison", Role.LIAISON, "东湖区湖滨街道"),
    ("liaison2", Role.LIAISON, "西山区山前街道"),
    ("dept", Role.LIAISON, "示范市城市管理局"),
]

# `[seed] <step> … <seconds> s (<rows> 行)`: one line per step, then the total.
PROGRESS = re.compile(r"^\[seed\] (?P<step>\S.*) … (?P<seconds>\d+\.\d) s \((?P<rows>\d+) 行\)$")
STEPS = [
    "单位（区县、街道、社区）",
    "部门、创建活动、工作组、演示账号",
    "测评体系（任务分解表导入）",
    "负面清单与风险事件",
    "申报材料（各审核状态）",
    "检查项与点位",
    "八周督查（检查记录、照片、问题）与本周轮次",
    "创建办登记的问题",
    "群众反映与12345工单",
    "问题整改流转（交办、签收、整改、复查）",
    "八周排名计算、发布与问责",
    "满意度调查",
    "国家卫生城市复审（测评体系、检查项、两周暗访与排名）",
    "变更记录（上调一项测评细则的最高扣分）",
    "通知与推送渠道（提醒、群机器人）",
]


def progress_lines(output: str) -> list[tuple[str, int]]:
    lines = [line for line in output.splitlines() if line.startswith("[seed]")]
    matches = [PROGRESS.match(line) for line in lines]
    assert all(matches), lines
    return [(match["step"], int(match["rows"])) for match in matches]


@pytest.mark.django_db
def test_seed_all_prints_one_progress_line_per_step_with_rows():
    from campaign.demo import seed_all

    out = io.StringIO()
    seed_all(stdout=out, only=("campaign",))

    lines = progress_lines(out.getvalue())
    assert [step for step, _ in lines] == [*STEPS[:2], "合计"]
    assert all(rows > 0 for _, rows in lines)
    assert sum(rows for _, rows in lines[:-1]) == lines[-1][1]


@pytest.mark.django_db
def test_the_demo_city():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    lines = progress_lines(out.getvalue())
    assert [step for step, _ in lines] == [*STEPS, "合计"]
    assert all(rows > 0 for _, rows in lines)
    assert sum(rows for _, rows in lines[:-1]) == lines[-1][1]

    counts = {kind: Unit.objects.filter(kind=kind).count() for kind in UnitKind.values}
    assert counts[UnitKind.DISTRICT] == 5
    assert counts[UnitKind.STREET] >= 20
    assert counts[UnitKind.COMMUNITY] >= 60
    assert counts[UnitKind.DEPARTMENT] >= 25
    for short in ("市城管局", "市市场监管局", "市卫健委", "市住建局", "市交通运输局", "市公安局交警支队", "市文明办"):
        assert Unit.objects.filter(short_name=short, kind=UnitKind.DEPARTMENT).exists(), short
    # 创文 (the default: active, evaluated soonest), 创卫 over the same units, and an archived one.
    campaign, health, archived = Campaign.objects.order_by("-active", "evaluation_date")
    assert campaign.name == "示范市创建全国文明城市" and campaign.level == "national"
    assert (health.name, health.level, health.active) == ("示范市国家卫生城市复审", "health", True)
    assert health.evaluation_date > campaign.evaluation_date
    assert not archived.active
    assert campaign.phases.count() == 4
    assert WorkGroup.objects.filter(campaign=campaign).count() == 5

    for username, role, unit in ACCOUNTS:
        user = authenticate(RequestFactory().post("/login/"), username=username, password="demo-pass-2026")
        assert user is not None, username
        membership = Membership.objects.get(user=user)
        assert (membership.role, membership.unit.name if membership.unit else None) == (role, unit)
    streets = [Membership.objects.get(user__username=name).unit for name in ("liaison", "liaison2")]
    assert streets[0].parent != streets[1].parent

    # The 测评体系 (issue: indicators): the demo sheet, materials in every review state.
    from indicators.choices import MaterialStatus
    from indicators.models import Indicator, Material, NegativeListItem

    main = Indicator.objects.filter(system__campaign=campaign)
    assert main.filter(level=1).count() >= 7
    assert main.filter(level=3).count() >= 40
    assert main.filter(level=4).count() >= 120
    assert main.filter(level=1).aggregate(total=Sum("effective_weight"))["total"] == 100
    assert set(Material.objects.values_list("status", flat=True)) == set(MaterialStatus.values)
    negative = NegativeListItem.objects.filter(system__campaign=campaign)
    assert (negative.count(), negative.filter(veto=True).count()) == (30, 10)

    # Field work (issue: inspections): ~150 points, 8 types with check items, 8 past weeks.
    from inspections.models import CheckItem, Inspection, InspectionRound, Observation, Point, Problem

    assert 140 <= Point.objects.count() <= 200
    assert CheckItem.objects.values("point_type").distinct().count() >= 8
    rounds = InspectionRound.objects.filter(campaign=campaign).exclude(kind="third_party")
    assert rounds.count() == 9  # 8 past weeks and this week's, not yet visited
    # And an empty 第三方测评 round, where the evaluator's sheet is imported.
    assert InspectionRound.objects.filter(campaign=campaign, kind="third_party").count() == 1
    # The 8 past weeks, and this week where the first visits found two rebounds.
    assert Inspection.objects.filter(round__in=rounds).order_by().values("round").distinct().count() == 9
    assert Observation.objects.filter(result="fail").exists() and Problem.objects.exists()

    # The rectification loop (issue: accountability): problems in every state, overdue ones, a rebound.
    from django.utils import timezone

    from inspections.choices import ProblemStatus

    states = set(Problem.objects.values_list("status", flat=True))
    assert states >= {
        ProblemStatus.NEW,
        ProblemStatus.ASSIGNED,
        ProblemStatus.RECTIFYING,
        ProblemStatus.REVIEWING,
        ProblemStatus.CLOSED,
    }
    assert Problem.objects.filter(
        status__in=["assigned", "rectifying"], shelved=False, deadline__lt=timezone.localdate()
    ).exists()
    assert Problem.objects.filter(rework_count__gt=0).exists()
    assert Problem.objects.filter(rebound_of__isnull=False).exists()
    # Problems the office registered from elsewhere: every other source; the leader's and the
    # superior's assigned (the leader's accepted), the 12345 and 随手拍 ones still 待交办.
    registered = Problem.objects.exclude(source="inspection")
    assert set(registered.values_list("source", flat=True)) == {"leader", "hotline", "citizen", "superior"}
    assert dict(registered.exclude(status="new").values_list("source", "status")) == {
        "leader": "rectifying",
        "superior": "assigned",
    }
    assert registered.filter(source="citizen", photos__isnull=False).exists()

    # 多城联创: 创卫 has its own current system, check items, rounds and two published weeks, and
    # no observation or problem of either campaign uses the other's check items.
    from accountability.models import RollupVersion
    from indicators.models import IndicatorSystem

    systems = IndicatorSystem.objects.filter(is_current=True)
    assert sorted(systems.values_list("campaign__name", flat=True)) == sorted([campaign.name, health.name])
    health_system = systems.get(campaign=health)
    assert health_system.indicators.filter(level=1).aggregate(total=Sum("effective_weight"))["total"] == 100
    health_items = CheckItem.objects.filter(indicator__system__campaign=health)
    assert health_items.count() >= 10 and health_items.values("point_type").distinct().count() >= 4
    assert InspectionRound.objects.filter(campaign=health).count() == 2
    assert Observation.objects.filter(campaign=health, result="fail").exists()
    assert Problem.objects.filter(campaign=health).exclude(status="new").exists()
    assert Problem.objects.filter(campaign=health, status="new").exists()
    published = RollupVersion.objects.filter(campaign=health, status="published")
    assert published.count() == 2 and published.values("week").distinct().count() == 2
    assert published.filter(scores__rank__isnull=False).exists()
    assert RollupVersion.objects.filter(campaign=campaign, status="published").count() == 8
    # Its forecast has all three parts: approved declaration material and a survey of its own.
    from accountability.models import SurveyResult

    assert Material.objects.filter(indicator__system=health_system, status=MaterialStatus.APPROVED).exists()
    assert SurveyResult.objects.filter(campaign=health).count() == 5
    for model in (Observation, Problem):
        crossed = model.objects.filter(check_item__isnull=False).exclude(
            check_item__indicator__system__campaign=F("campaign")
        )
        assert not crossed.exists(), model
    assert not Observation.objects.exclude(campaign=F("inspection__round__campaign")).exists()
    assert not InspectionRound.objects.filter(campaign=archived).exists()

    # 变更记录 has a real before → after: the office raised one check item's cap after the weeks were
    # published, and the published weeks still point at the version they counted.
    from accountability.models import RollupVersion
    from inspections.models import CheckItem

    changed = CheckItem.history.filter(history_type="~", history_user__username="office").latest("history_date")
    assert CheckItem.objects.get(pk=changed.id).cap == changed.prev_record.cap + 1
    counted = RollupVersion.objects.filter(status="published", check_item_versions__id=changed.id).values_list(
        "check_item_versions__cap", flat=True
    )
    assert counted.exists()
    assert set(counted.filter(check_item_versions__id=changed.id)) == {changed.prev_record.cap}

    with pytest.raises(CommandError):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")  # skips quietly
