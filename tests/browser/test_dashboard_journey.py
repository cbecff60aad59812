"""A leader opens the dashboard: the citywide trend chart is drawn, the district ranking and the
红黑榜 are there; then the survey page with its 满意率 chart. On a desktop and on a phone.

The weekly roll-up is another feature: published weeks are written directly here."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability import demo_surveys
from accountability.choices import Population, VersionStatus
from accountability.models import RollupVersion, UnitWeekScore
from campaign.choices import UnitKind
from campaign.models import Unit
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

# District short name → composite per week, oldest first (8 published weeks).
COMPOSITES = {
    "东湖区": [84, 86, 85, 88, 89, 90, 91, 92.5],
    "西山区": [86, 85, 87, 86, 88, 87, 89, 86.9],
    "南湖区": [80, 82, 84, 83, 85, 86, 86, 87.4],
    "北塘区": [78, 79, 77, 80, 79, 81, 80, 79.6],
    "滨江县": [82, 81, 83, 84, 82, 83, 85, 84.1],
}
CITY_RATES = ["0.782", "0.795", "0.801", "0.814", "0.822", "0.836", "0.841", "0.857"]


def publish_weeks(campaign) -> RollupVersion:
    """Eight published weeks ending last week, with citywide and district rows; the latest is returned."""
    districts = {u.short_name: u for u in Unit.objects.filter(kind=UnitKind.DISTRICT)}
    today = timezone.localdate()
    last_monday = today - datetime.timedelta(days=today.weekday() + 7)
    previous: dict[str, int] = {}
    version = None
    for index in range(8):
        start = last_monday - datetime.timedelta(weeks=7 - index)
        year, week, _ = start.isocalendar()
        version = RollupVersion.objects.create(
            campaign=campaign,
            week=f"{year}-W{week:02d}",
            week_start=start,
            week_end=start + datetime.timedelta(days=6),
            status=VersionStatus.PUBLISHED,
            computed_at=timezone.now(),
            published_at=timezone.now(),
        )
        UnitWeekScore.objects.create(
            rollup=version, population=Population.CITY, score_rate=Decimal(CITY_RATES[index]), observations=180 + index
        )
        ordered = sorted(COMPOSITES, key=lambda name: -COMPOSITES[name][index])
        for rank, name in enumerate(ordered, start=1):
            UnitWeekScore.objects.create(
                rollup=version,
                unit=districts[name],
                population=Population.DISTRICT,
                composite=Decimal(str(COMPOSITES[name][index])),
                score_rate=Decimal(str(COMPOSITES[name][index] / 100 + 0.02)),
                observations=30,
                sample_ok=True,
                rank=rank,
                rank_change=(previous[name] - rank) if name in previous else None,
                board="red" if rank == 1 else ("black" if rank == len(ordered) else ""),
            )
            previous[name] = rank
    return version


def test_leader_reads_the_dashboard_and_surveys(page, live_server, demo_city, shot):
    campaign = demo_city["campaign"]
    publish_weeks(campaign)
    demo_surveys.seed(demo_city)

    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, "leader")
    expect(page.get_by_test_id("widget-leader-trend")).to_contain_text("区县排名")
    page.wait_for_selector('[data-testid="widget-leader-trend"] [data-chart-ready]')
    page.get_by_test_id("open-dashboard").click()

    page.wait_for_selector('[data-testid="trend-chart"][data-chart-ready]')
    assert page.locator('[data-testid="trend-chart"] canvas').count() == 1
    rows = page.get_by_test_id("ranking-row")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("东湖区")
    expect(rows.first).to_contain_text("红榜")
    expect(rows.last).to_contain_text("北塘区")
    expect(rows.last).to_contain_text("黑榜")
    expect(page.get_by_test_id("forecast")).to_contain_text("问卷调查")
    expect(page.get_by_test_id("boards")).to_contain_text("区县")
    shot(page, "dashboard-leader-desktop")

    page.set_viewport_size({"width": 375, "height": 812})
    page.wait_for_function(
        "() => document.querySelector('[data-testid=trend-chart] canvas').getBoundingClientRect().width <= 375"
    )
    shot(page, "dashboard-leader-phone")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/surveys/")
    page.wait_for_selector('[data-testid="survey-chart"][data-chart-ready]')
    expect(page.get_by_test_id("survey-row")).to_have_count(5)
    below = page.get_by_test_id("survey-row").filter(has=page.get_by_test_id("below-target"))
    expect(below).to_have_count(1)
    expect(below).to_contain_text("北塘区")
    shot(page, "surveys-leader-desktop")
    page.set_viewport_size({"width": 375, "height": 812})
    page.wait_for_function(
        "() => document.querySelector('[data-testid=survey-chart] canvas').getBoundingClientRect().width <= 375"
    )
    shot(page, "surveys-leader-phone")


def test_a_liaison_is_refused_the_dashboard(page, live_server, demo_city):
    login(page, live_server, "liaison")
    response = page.goto(f"{live_server.url}/dashboard/")
    assert response.status == 403


def test_office_imports_a_survey_sheet_with_a_preview(page, live_server, demo_city, shot, tmp_path):
    """The office uploads a 问卷调查 sheet: a bad row is named with its row number and nothing is
    written; the corrected sheet previews, is confirmed, and the survey page shows the rates."""
    from openpyxl import Workbook

    from accountability.models import SurveyResult

    def sheet(rows) -> str:
        workbook = Workbook()
        workbook.active.append(["区县", "调查日期", "知晓率", "支持率", "参与率", "满意率", "样本量"])
        for row in rows:
            workbook.active.append(row)
        path = tmp_path / f"survey-{len(rows)}.xlsx"
        workbook.save(path)
        return str(path)

    day = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/surveys/import/")
    page.set_input_files(
        'input[name="file"]', sheet([["东湖区", day, 91, 90, 80, 88.5, 400], ["不存在区", day, 1, 1, 1, 1, 1]])
    )
    page.click('[data-testid="import-upload"] button[type="submit"]')
    expect(page.get_by_test_id("import-errors")).to_contain_text("第 3 行")
    assert SurveyResult.objects.count() == 0
    page.goto(f"{live_server.url}/surveys/import/")
    page.set_input_files('input[name="file"]', sheet([["东湖区", day, 91, 90, 80, 88.5, 400]]))
    page.click('[data-testid="import-upload"] button[type="submit"]')
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    page.click('[data-testid="import-confirm"]')
    page.goto(f"{live_server.url}/surveys/")
    expect(page.locator("body")).to_contain_text("88.5")
    assert SurveyResult.objects.get().satisfaction == Decimal("88.5")
    shot(page, "surveys-office-imported-desktop")
