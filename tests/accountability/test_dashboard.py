"""The leaders' dashboard: access, the forecast against hand-computed numbers (and its missing
parts), the indicators losing most points, overdue problems and veto events, the ranking blocks,
the home widgets, and a query count that does not grow with units, observations or weeks.

The roll-up that writes RollupVersion / UnitWeekScore is another feature: these tests write the
published rows directly.

The 测评体系 of these tests:

    Ⅰ-1 思想道德 (no weight → effective 10)
      Ⅲ-1 公益广告 (6)   网上申报             a declaration indicator, material approved
      Ⅲ-2 环境卫生 (4)   实地考察
    Ⅰ-2 市场环境 (20)
      Ⅲ-3 农贸市场       材料审核, 实地考察   a declaration indicator (share 20), nothing approved
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.choices import Population, VersionStatus
from accountability.dashboard import forecast, home_widgets, loss_window_start, top_losing_indicators
from accountability.models import RollupVersion, SurveyResult, UnitWeekScore
from campaign import services as campaign_services
from campaign.choices import UnitKind
from indicators import services as indicator_services
from indicators.choices import MaterialStatus, Method
from indicators.models import Material
from inspections.choices import ProblemStatus, Result
from inspections.models import CheckItem, Inspection, InspectionRound, Observation, PointType, Problem
from inspections.services import point_create

TZ = timezone.get_default_timezone()
_uuid = itertools.count(1)


def monday(weeks_ago: int) -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7 * weeks_ago)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


def publish(campaign, weeks_ago: int, *, status=VersionStatus.PUBLISHED) -> RollupVersion:
    """The week's version with that status (made once: fixtures combine)."""
    start = monday(weeks_ago)
    year, week, _ = start.isocalendar()
    existing = RollupVersion.objects.filter(campaign=campaign, week=f"{year}-W{week:02d}", status=status).first()
    if existing is not None:
        return existing
    return RollupVersion.objects.create(
        campaign=campaign,
        week=f"{year}-W{week:02d}",
        week_start=start,
        week_end=start + datetime.timedelta(days=6),
        status=status,
        computed_at=timezone.now(),
        published_at=timezone.now() if status == VersionStatus.PUBLISHED else None,
    )


def score(version, unit=None, population=Population.CITY, **fields) -> UnitWeekScore:
    return UnitWeekScore.objects.create(rollup=version, unit=unit, population=population, **fields)


@pytest.fixture
def tree(campaign):
    s = indicator_services
    system = s.indicator_system_create(campaign=campaign, name="测评体系2026", kind="national", year=2026)
    a = s.indicator_create(system=system, level=1, code="Ⅰ-1", title="思想道德", rebuild=False)
    a1 = s.indicator_create(
        system=system,
        level=3,
        code="Ⅲ-1",
        title="公益广告",
        parent=a,
        weight=Decimal(6),
        methods=[Method.ONLINE],
        rebuild=False,
    )
    a2 = s.indicator_create(
        system=system,
        level=3,
        code="Ⅲ-2",
        title="环境卫生",
        parent=a,
        weight=Decimal(4),
        methods=[Method.FIELD],
        rebuild=False,
    )
    b = s.indicator_create(system=system, level=1, code="Ⅰ-2", title="市场环境", weight=Decimal(20), rebuild=False)
    b1 = s.indicator_create(
        system=system,
        level=3,
        code="Ⅲ-3",
        title="农贸市场",
        parent=b,
        methods=[Method.REVIEW, Method.FIELD],
        rebuild=False,
    )
    s.indicator_system_rebuild(system=system)
    nodes = {"system": system, "a": a, "a1": a1, "a2": a2, "b": b, "b1": b1}
    for key, node in nodes.items():
        if key != "system":
            node.refresh_from_db()
    assert (nodes["a"].effective_weight, nodes["b"].effective_weight) == (Decimal(10), Decimal(20))
    assert nodes["a1"].is_declaration and nodes["b1"].is_declaration and not nodes["a2"].is_declaration
    return nodes


@pytest.fixture
def approved(tree, city, office):
    return Material.objects.create(
        indicator=tree["a1"],
        unit=city.dept_office,
        description="工作方案",
        status=MaterialStatus.APPROVED,
        submitted_by=office,
        submitted_at=timezone.now(),
    )


@pytest.fixture
def other_campaign(db):
    return campaign_services.campaign_create(
        name="创建国家卫生城市",
        level="national",
        start_date=datetime.date(2026, 1, 1),
        evaluation_date=datetime.date(2027, 12, 1),
    )


@pytest.fixture
def observe(tree, city, campaign, office, inspector):
    """observe(indicator, score, day, deduction=…, current=…, campaign=…): one observation."""
    point_type = PointType.objects.get(name="集贸(农贸)市场")
    point = point_create(name="甲一农贸市场", point_type=point_type, unit=city.community_jia1)
    rounds: dict = {}
    items: dict = {}
    mirrors: dict = {}

    def own_indicator(indicator, in_campaign):
        """The indicator as another campaign's own system has it (made once): a check item belongs
        to one campaign, so another campaign's round never records this tree's items."""
        if in_campaign.pk == campaign.pk:
            return indicator
        if in_campaign.pk not in mirrors:
            mirrors[in_campaign.pk] = {
                "system": indicator_services.indicator_system_create(
                    campaign=in_campaign, name=f"{in_campaign.name}测评体系", kind="national", year=2026
                )
            }
        own = mirrors[in_campaign.pk]
        if indicator.pk not in own:
            own[indicator.pk] = indicator_services.indicator_create(
                system=own["system"], level=indicator.level, code=indicator.code, title=indicator.title
            )
        return own[indicator.pk]

    def make(indicator, score_, day, *, deduction=None, current=True, in_campaign=None, hour=10):
        in_campaign = in_campaign or campaign
        indicator = own_indicator(indicator, in_campaign)
        if in_campaign.pk not in rounds:
            rounds[in_campaign.pk] = InspectionRound.objects.create(
                campaign=in_campaign,
                name=f"督查{in_campaign.pk}",
                kind="weekly",
                start_date=monday(8),
                end_date=timezone.localdate(),
                created_by=office,
            )
        if indicator.pk not in items:
            items[indicator.pk] = CheckItem.objects.create(
                point_type=point_type, indicator=indicator, text=f"检查{indicator.code}", per_occurrence=1, cap=2
            )
        score_ = Decimal(str(score_))
        loss = 1 - score_
        inspection = Inspection.objects.create(
            round=rounds[in_campaign.pk],
            point=point,
            inspector=inspector,
            client_uuid=uuid.UUID(int=next(_uuid)),
            submitted_at=at(day, hour),
            current=current,
        )
        return Observation.objects.create(
            inspection=inspection,
            campaign=in_campaign,
            check_item=items[indicator.pk],
            indicator=indicator,
            point=point,
            result=Result.PASS if loss == 0 else Result.FAIL,
            deduction=Decimal(str(deduction)) if deduction is not None else loss * 2,
            loss=loss,
            score=score_,
            observed_at=at(day, hour),
            current=current,
        )

    return make


def survey(campaign, unit, day, satisfaction, **rates):
    return SurveyResult.objects.create(campaign=campaign, unit=unit, date=day, satisfaction=satisfaction, **rates)


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    "persona, status", [("office", 200), ("leader", 200), ("inspector", 403), ("liaison_jia", 403)]
)
def test_dashboard_is_for_leaders_and_the_office(web, campaign, persona, status, request):
    response = web(request.getfixturevalue(persona)).get("/dashboard/")
    assert response.status_code == status
    if status == 403:
        assert "领导驾驶舱仅对领导和创建办开放" in response.content.decode()


def test_anonymous_is_sent_to_login(client, campaign):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_empty_dashboard_says_what_to_do_in_every_block(web, city, campaign, leader):
    response = web(leader).get("/dashboard/")
    html = response.content.decode()
    assert "距测评还有" in html or "倒计时" in html
    assert "还没有发布的周评比" in html and "创建办在“周评比”页计算并发布后显示" in html
    assert "近四周没有扣分的督查记录" in html
    assert "没有未解决的一票否决事项" in html
    assert "暂不合计" in html and "缺少网上申报、实地考察、问卷调查的数据" in html
    assert html.count("暂无数据") >= 3
    assert "echarts" not in html  # no chart, no chart library


# ---------------------------------------------------------------- forecast


@pytest.fixture
def forecast_world(campaign, other_campaign, city, tree, approved, observe):
    """Published weeks 1–5 weeks ago (the last four count), a draft this week, and observations
    that must and must not count."""
    versions = {n: publish(campaign, n) for n in range(1, 6)}
    publish(campaign, 0, status=VersionStatus.DRAFT)
    wednesday_2 = monday(2) + datetime.timedelta(days=2)
    # Counted: 思想道德 (via 环境卫生) 1 and 0.5 → 0.75; 市场环境 (via 农贸市场) 0.4.
    observe(tree["a2"], 1, wednesday_2)
    observe(tree["a2"], "0.5", wednesday_2, hour=11)
    observe(tree["b1"], "0.4", monday(4) + datetime.timedelta(days=6), hour=23)  # Sunday late: still week 4
    # Not counted: a week older than the last four, a superseded observation, this (draft) week,
    # another campaign's round.
    observe(tree["a2"], 0, monday(5) + datetime.timedelta(days=1))
    observe(tree["b1"], 0, monday(1), current=False)
    observe(tree["b1"], 0, timezone.localdate())
    observe(tree["b1"], 0, wednesday_2, in_campaign=other_campaign)
    # Surveys: 甲区's latest 90; 乙区's latest survey has no 满意率, so its 84 counts.
    survey(campaign, city.district_jia, datetime.date(2026, 9, 15), Decimal(80))
    survey(campaign, city.district_jia, datetime.date(2026, 10, 15), Decimal(90))
    survey(campaign, city.district_yi, datetime.date(2026, 9, 15), Decimal(84))
    survey(campaign, city.district_yi, datetime.date(2026, 10, 15), None, awareness=Decimal(70))
    survey(other_campaign, city.district_yi, datetime.date(2026, 10, 20), Decimal(10))
    return versions


Q6 = Decimal("0.000001")


def test_forecast_matches_the_hand_computation(campaign, forecast_world):
    result = forecast(campaign=campaign)
    declaration, field, survey_ = result.parts
    # 网上申报: approved weight 6 of 6 + 20.
    assert declaration.rate == Decimal(6) / Decimal(26)
    assert declaration.points.quantize(Q6) == Decimal("9.230769")
    # 实地考察: (10 × 0.75 + 20 × 0.4) / (10 + 20).
    assert field.rate.quantize(Q6) == (Decimal("15.5") / Decimal(30)).quantize(Q6) == Decimal("0.516667")
    assert field.points.quantize(Q6) == Decimal("20.666667")
    assert [(d["code"], d["observations"], d["rate"].quantize(Q6)) for d in field.detail] == [
        ("Ⅰ-1", 2, Decimal("0.750000")),
        ("Ⅰ-2", 1, Decimal("0.400000")),
    ]
    # 问卷调查: (90 + 84) / 2 = 87%.
    assert survey_.rate == Decimal("0.87")
    assert survey_.points == Decimal("17.4")
    assert result.total.quantize(Decimal("0.0001")) == Decimal("47.2974")
    assert result.missing == []


def test_forecast_uses_the_campaigns_shares(campaign, forecast_world):
    campaign_services.campaign_update(campaign=campaign, share_declaration=50, share_field=30, share_survey=20)
    result = forecast(campaign=campaign)
    expected = 50 * Decimal(6) / 26 + 30 * Decimal("15.5") / 30 + 20 * Decimal("0.87")
    assert result.total.quantize(Q6) == expected.quantize(Q6)


def test_forecast_with_nothing_to_go_on_invents_nothing(campaign):
    result = forecast(campaign=campaign)
    assert [part.rate for part in result.parts] == [None, None, None]
    assert [part.points for part in result.parts] == [None, None, None]
    assert result.total is None
    assert result.missing == ["网上申报", "实地考察", "问卷调查"]
    assert (result.known_points, result.known_share) == (0, 0)
    assert [part.note for part in result.parts] == [
        "暂无数据：本活动还没有测评体系。创建办在“测评体系”中导入任务分解表后显示。",
        "暂无数据：还没有发布的周评比。创建办在“周评比”页计算并发布后显示。",
        "暂无数据：还没有导入问卷调查结果。创建办在“问卷调查”页导入后显示。",
    ]


def test_a_missing_part_leaves_the_total_open_but_shows_what_is_known(web, campaign, city, tree, approved, leader):
    publish(campaign, 1)  # published, but nobody inspected that week
    survey(campaign, city.district_jia, datetime.date(2026, 10, 15), Decimal(90))
    result = forecast(campaign=campaign)
    assert result.part("field").rate is None
    assert result.part("field").note.startswith("暂无数据：最近发布的第")
    assert result.part("field").note.endswith("没有有效的督查观测。")
    assert result.total is None and result.missing == ["实地考察"]
    assert result.known_share == 60
    assert result.known_points.quantize(Q6) == (40 * Decimal(6) / 26 + 18).quantize(Q6)
    html = web(leader).get("/dashboard/").content.decode()
    assert "暂不合计" in html and "缺少实地考察的数据" in html and "已知部分 27.2 分（占满分 60 分）" in html


def test_a_system_without_declaration_weight_has_no_declaration_rate(campaign):
    system = indicator_services.indicator_system_create(campaign=campaign, name="空体系", kind="national", year=2027)
    indicator_services.indicator_create(system=system, level=1, code="Ⅰ-1", title="实地", methods=[Method.FIELD])
    part = forecast(campaign=campaign).part("declaration")
    assert part.rate is None and part.note == "暂无数据：“空体系”中没有带分值的网上申报或材料审核类指标。"


def test_the_page_shows_the_forecast_and_its_formula(web, campaign, forecast_world, leader):
    response = web(leader).get("/dashboard/")
    html = response.content.decode()
    assert 'data-testid="forecast-total">47.3<' in html
    assert "计算方法" in html and "按各测评项目的分值加权" in html
    assert ">9.2<" in html and ">20.7<" in html and ">17.4<" in html


# ---------------------------------------------------------------- losses


def test_top_losing_indicators_sums_deductions_over_the_last_four_weeks(campaign, other_campaign, tree, observe):
    start = loss_window_start()
    assert start == monday(3)
    observe(tree["b1"], 0, timezone.localdate(), deduction=2)
    observe(tree["a2"], "0.5", monday(1), deduction=1)
    observe(tree["a2"], "0.75", monday(2), deduction="0.5")
    observe(tree["a2"], 1, monday(2), deduction=0, hour=11)
    observe(tree["a1"], 0, start, deduction="1.5", hour=0)  # the window's first moment
    # Not counted: before the window, superseded, another campaign; a passing-only indicator is no loss.
    observe(tree["a1"], 0, start - datetime.timedelta(days=1), deduction=5, hour=23)
    observe(tree["b1"], 0, monday(1), deduction=5, current=False)
    observe(tree["b1"], 0, monday(1), deduction=5, in_campaign=other_campaign)
    rows = top_losing_indicators(campaign=campaign)
    assert [(r["indicator__code"], r["lost"], r["failing"], r["observations"]) for r in rows] == [
        ("Ⅲ-3", Decimal(2), 1, 1),
        ("Ⅲ-1", Decimal("1.5"), 1, 1),  # ties with Ⅲ-2 on points; loses more of its cap (1 vs 0.75)
        ("Ⅲ-2", Decimal("1.5"), 2, 3),
    ]
    assert rows[0]["url"] == f"/inspections/problems/?indicator={tree['b1'].pk}"
    assert rows[0]["label"] == "Ⅲ-3 农贸市场"  # its parent is the 测评项目 itself: no prefix
    assert rows[0]["indicator__top__title"] == "市场环境"


def test_a_standard_is_named_with_its_parents_code(campaign, tree, observe):
    standard = indicator_services.indicator_create(
        system=tree["system"], level=4, code="1)", title="路面整洁", parent=tree["a2"]
    )
    observe(standard, 0, timezone.localdate())
    assert [r["label"] for r in top_losing_indicators(campaign=campaign)] == ["Ⅲ-2 1) 路面整洁"]


def test_top_losing_indicators_keeps_ten(campaign, tree, observe):
    system = tree["system"]
    nodes = [
        indicator_services.indicator_create(
            system=system, level=3, code=f"Ⅲ-{10 + n}", title=f"指标{n}", parent=tree["b"], rebuild=False
        )
        for n in range(12)
    ]
    indicator_services.indicator_system_rebuild(system=system)
    for n, node in enumerate(nodes):
        observe(node, 0, timezone.localdate(), deduction=n + 1)
    rows = top_losing_indicators(campaign=campaign)
    assert [r["lost"] for r in rows] == [Decimal(n) for n in range(12, 2, -1)]


def test_the_losses_block_links_each_indicator_to_its_problems(web, campaign, tree, observe, leader):
    observe(tree["b1"], 0, timezone.localdate(), deduction="2.5")
    html = web(leader).get("/dashboard/").content.decode()
    assert f'href="/inspections/problems/?indicator={tree["b1"].pk}"' in html
    assert 'data-testid="loss-points">2.5<' in html


# ---------------------------------------------------------------- risks


def _problem(campaign, city, office, **fields):
    return Problem.objects.create(
        campaign=campaign,
        source="inspection",
        unit=city.community_jia1,
        description="占道经营",
        found_at=timezone.now(),
        created_by=office,
        **fields,
    )


def test_overdue_count_matches_the_problem_list_it_links_to(web, campaign, city, office, leader):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _problem(campaign, city, office, status=ProblemStatus.RECTIFYING, deadline=yesterday)
    _problem(campaign, city, office, status=ProblemStatus.ASSIGNED, deadline=yesterday)
    _problem(campaign, city, office, status=ProblemStatus.RECTIFYING, deadline=yesterday, shelved=True)
    _problem(campaign, city, office, status=ProblemStatus.CLOSED, deadline=yesterday)
    _problem(campaign, city, office, status=ProblemStatus.RECTIFYING, deadline=timezone.localdate())
    client = web(leader)
    response = client.get("/dashboard/")
    assert response.context["overdue"] == 2
    url = f"/inspections/problems/?campaign={campaign.pk}&amp;overdue=true"  # the campaign's, as counted
    assert f'href="{url}" data-testid="overdue-count">2<' in response.content.decode()
    listed = client.get(url.replace("&amp;", "&"))
    assert listed.context["paginator"].count == 2


def test_open_veto_events_of_the_campaign_are_listed(web, campaign, tree, city, office, leader):
    item = indicator_services.negative_item_create(system=tree["system"], title="发生重大安全责任事故", veto=True)
    minor = indicator_services.negative_item_create(system=tree["system"], title="市容投诉", veto=False)
    day = timezone.localdate() - datetime.timedelta(days=3)
    indicator_services.risk_event_create(
        user=office, item=item, unit=city.district_yi, occurred_on=day, description="x"
    )
    indicator_services.risk_event_create(
        user=office, item=minor, unit=city.district_jia, occurred_on=day, description="y"
    )
    solved = indicator_services.risk_event_create(
        user=office, item=item, unit=city.district_jia, occurred_on=day, description="z"
    )
    indicator_services.risk_event_resolve(user=office, event=solved, resolution="已整改")
    response = web(leader).get("/dashboard/")
    assert [(e.unit.name, e.item.title) for e in response.context["vetoes"]] == [("乙区", "发生重大安全责任事故")]
    assert 'data-testid="veto-events"' in response.content.decode()


# ---------------------------------------------------------------- ranking and trend


@pytest.fixture
def ranked(campaign, city):
    bing = campaign_services.unit_create(name="丙区", code="BING", kind=UnitKind.DISTRICT)
    old = publish(campaign, 2)
    score(old, score_rate=Decimal("0.81"), observations=40)
    latest = publish(campaign, 1)
    score(latest, score_rate=Decimal("0.853"), observations=50)
    d = Population.DISTRICT
    score(
        latest, city.district_yi, d, composite=Decimal("80.00"), rank=2, rank_change=-1, board="black", sample_ok=True
    )
    score(latest, bing, d, composite=None, rank=None, sample_ok=False)
    score(latest, city.district_jia, d, composite=Decimal("92.50"), rank=1, rank_change=1, board="red", sample_ok=True)
    score(latest, city.street_jia, Population.STREET, composite=Decimal("95"), rank=1, board="red")
    score(latest, city.street_yi, Population.STREET, composite=Decimal("70"), rank=2)
    score(latest, city.dept_cg, Population.DEPARTMENT, composite=Decimal("60"), rank=2, board="black")
    return latest


def test_ranking_lists_districts_by_rank_with_changes_and_boards(web, campaign, ranked, leader):
    response = web(leader).get("/dashboard/")
    rows = response.context["districts"]
    assert [(r.unit.name, r.rank, r.rank_change, r.board) for r in rows] == [
        ("甲区", 1, 1, "red"),
        ("乙区", 2, -1, "black"),
        ("丙区", None, None, ""),
    ]
    boards = response.context["boards"]
    assert [(b["population"], [r.unit.name for r in b["red"]], [r.unit.name for r in b["black"]]) for b in boards] == [
        ("区县", ["甲区"], ["乙区"]),
        ("街道乡镇", ["甲街道"], []),
        ("市直部门", [], ["示范市城市管理局"]),
    ]
    html = response.content.decode()
    assert "↑1" in html and "↓1" in html and "样本不足" in html
    assert response.context["latest_label"].startswith(f"第{int(ranked.week[-2:])}周（")


def test_a_long_board_shows_its_first_names_and_how_many_it_holds(web, campaign, city, ranked, leader):
    """A line rule can put a thousand communities on one list: the dashboard names the first
    BOARD_NAMES (best first on 红榜) and links to the ranking for the rest."""
    from accountability.dashboard import BOARD_NAMES

    for n in range(BOARD_NAMES + 5):
        unit = campaign_services.unit_create(
            name=f"社区{n:02d}", code=f"C-{n}", kind=UnitKind.COMMUNITY, parent=city.street_jia
        )
        score(ranked, unit, Population.COMMUNITY, composite=Decimal(99 - n), rank=n + 1, board="red")
    response = web(leader).get("/dashboard/")
    board = next(b for b in response.context["boards"] if b["population_key"] == Population.COMMUNITY)
    assert [r.unit.name for r in board["red"]] == [f"社区{n:02d}" for n in range(BOARD_NAMES)]
    assert board["red_total"] == BOARD_NAMES + 5 and board["black"] == []
    html = response.content.decode()
    assert f"…共 {BOARD_NAMES + 5} 个" in html and "population=community" in html
    # Shorter lists are whole, with no link.
    district = next(b for b in response.context["boards"] if b["population_key"] == Population.DISTRICT)
    assert (district["red_total"], len(district["red"]), district["black_total"]) == (1, 1, 1)


def test_trend_is_the_citywide_score_rate_of_published_weeks_oldest_first(web, campaign, ranked, leader):
    publish(campaign, 0, status=VersionStatus.DRAFT)  # a draft never shows
    response = web(leader).get("/dashboard/")
    trend = response.context["trend"]
    assert [(p["rate"], p["observations"]) for p in trend["points"]] == [(81.0, 40), (85.3, 50)]
    html = response.content.decode()
    assert 'data-testid="trend-chart"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'id="trend-data"' in html


def test_trend_keeps_the_last_twelve_weeks(web, campaign, leader):
    for n in range(1, 16):
        score(publish(campaign, n), score_rate=Decimal(n) / 100)
    points = web(leader).get("/dashboard/").context["trend"]["points"]
    assert [p["rate"] for p in points] == [float(n) for n in range(12, 0, -1)]


# ---------------------------------------------------------------- home widgets


def _widgets(user):
    request = RequestFactory().get("/")
    request.user = user
    return home_widgets(request)


def test_leader_home_shows_trend_ranking_losses_and_risks(web, campaign, ranked, tree, observe, leader):
    observe(tree["b1"], 0, timezone.localdate(), deduction=2)
    html = web(leader).get("/").content.decode()
    assert 'data-testid="widget-leader-trend"' in html and 'data-testid="widget-ranking"' in html
    assert 'data-testid="losses"' in html and 'data-testid="risks"' in html
    assert 'href="/dashboard/"' in html and "第1名" in html


def test_leader_home_without_data_explains(web, campaign, leader):
    html = web(leader).get("/").content.decode()
    assert "还没有发布的周评比：创建办在“周评比”页计算并发布后" in html


@pytest.mark.parametrize("persona", ["office", "inspector", "liaison_jia"])
def test_other_roles_get_no_leader_widgets(campaign, persona, request):
    assert _widgets(request.getfixturevalue(persona)) == {}


def test_leader_widgets_fill_the_three_slots(campaign, leader):
    assert set(_widgets(leader)) == {"leader_trend", "leader_losses", "leader_risks"}


# ---------------------------------------------------------------- query count


def _grow(campaign, city, tree, observe, office, n):
    """n more communities, each with a week row, an observation, a problem and a survey district."""
    for i in range(n):
        unit = campaign_services.unit_create(
            name=f"新{i}社区", code=f"NEW-{i}", kind=UnitKind.COMMUNITY, parent=city.street_jia
        )
        for version in RollupVersion.objects.filter(campaign=campaign):
            score(version, unit, Population.COMMUNITY, composite=Decimal(80), rank=i + 1, board="red" if i < 3 else "")
        observe(tree["a2" if i % 2 else "b1"], "0.5", timezone.localdate() - datetime.timedelta(days=i % 20))
        _problem(
            campaign,
            city,
            office,
            status=ProblemStatus.RECTIFYING,
            deadline=timezone.localdate() - datetime.timedelta(days=1),
        )
        district = campaign_services.unit_create(name=f"新{i}区", code=f"NEWD-{i}", kind=UnitKind.DISTRICT)
        survey(campaign, district, datetime.date(2026, 10, 1), Decimal(80 + i % 10))


# 1 session, 2 user, 3 memberships (scope), 4 campaigns (the picker, the current one, the header's
# switcher and footer: one read per request), 5 published versions (trend, ranking and forecast
# weeks), 6 ranking and 红黑榜 rows, 7 phase, 8 citywide rows, 9 indicator system, 10 completeness,
# 11 field observations per 测评项目, 12 those 测评项目, 13 latest surveys, 14 top losses per
# indicator, 15 those indicators, 16 overdue count, 17 veto events; the base layout: 18 unread
# notifications, 19 veto banner.
DASHBOARD_QUERIES = 19


def test_dashboard_query_count_does_not_grow(
    web, campaign, city, tree, approved, forecast_world, ranked, observe, office, leader
):
    client = web(leader)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/dashboard/").status_code == 200
    _grow(campaign, city, tree, observe, office, 100)
    for n in range(6, 13):
        score(publish(campaign, n), score_rate=Decimal("0.8"))
    with CaptureQueriesContext(connection) as second:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert len(response.context["losses"]) == 2 and response.context["overdue"] == 100
    assert len(first) == len(second) == DASHBOARD_QUERIES, [q["sql"] for q in second.captured_queries]


def test_leader_home_query_count_does_not_grow(
    web, campaign, city, tree, forecast_world, ranked, observe, office, leader
):
    client = web(leader)
    with CaptureQueriesContext(connection) as first:
        client.get("/")
    _grow(campaign, city, tree, observe, office, 30)
    with CaptureQueriesContext(connection) as second:
        client.get("/")
    assert len(first) == len(second)
