"""The 大屏 at 1920×1080 (issue 16 item 3) and the leaders' exports (item 5).

A leader opens the screen from the dashboard's 大屏 button: the trend and the ranking are drawn
(canvases), the 红黑榜, counters, veto band and clock are there, and the page does not scroll. A lost
connection keeps the last data and says 连接中断; the next answer is drawn in place (no reload).
Then the dashboard in print emulation hides the menu and buttons, and 保存图片 downloads the chart."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from campaign.models import Unit
from indicators import services as indicator_services
from inspections.models import Problem
from tests.browser.conftest import login
from tests.browser.test_dashboard_journey import publish_weeks

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()
    yield
    cache.clear()


def test_leader_watches_the_command_screen(page, live_server, demo_city, shot, settings):
    settings.COMMAND_SCREEN_REFRESH_SECONDS = 5
    campaign = demo_city["campaign"]
    publish_weeks(campaign)
    office = get_user_model().objects.get(username="office")
    south = Unit.objects.get(short_name="南湖区")
    system = indicator_services.indicator_system_create(campaign=campaign, name="测评体系", kind="national", year=2026)
    item = indicator_services.negative_item_create(system=system, title="发生重大安全责任事故", veto=True)
    indicator_services.risk_event_create(
        user=office,
        item=item,
        unit=south,
        occurred_on=timezone.localdate() - datetime.timedelta(days=1),
        description="x",
    )

    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, live_server, "leader")
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_test_id("open-screen").click()
    page.wait_for_selector('[data-testid="screen-trend"][data-chart-ready]')
    page.wait_for_selector('[data-testid="screen-ranking"][data-chart-ready]')
    assert page.locator('[data-testid="screen-trend"] canvas').count() == 1
    assert page.locator('[data-testid="screen-ranking"] canvas').count() == 1
    expect(page.get_by_test_id("screen-veto")).to_contain_text("发生重大安全责任事故")
    expect(page.get_by_test_id("screen-boards")).to_contain_text("东湖区")  # 红榜 of the last week
    expect(page.get_by_test_id("screen-boards")).to_contain_text("北塘区")  # 黑榜
    expect(page.get_by_test_id("screen-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    expect(page.get_by_test_id("screen-status")).to_contain_text("数据更新于")
    expect(page.get_by_test_id("screen-map")).to_have_attribute("data-problem-state", "ready")
    sizes = page.evaluate(
        "() => [document.documentElement.scrollHeight, window.innerHeight,"
        " document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes  # nothing to scroll at 1920×1080
    shot(page, "command-screen-1920")

    # The connection is lost: the last data stays, the status says so.
    found = page.locator('[data-counter="problems_found_today"]')
    expect(found).to_have_text("0")
    page.route("**/api/v1/command-screen/**", lambda route: route.abort())
    page.evaluate("() => window.commandScreen.refresh()")
    expect(page.get_by_test_id("screen-status")).to_contain_text("连接中断")
    expect(found).to_have_text("0")
    assert page.locator('[data-testid="screen-trend"] canvas').count() == 1

    # Back: a problem found meanwhile is drawn in place, without reloading the page.
    page.unroute("**/api/v1/command-screen/**")
    Problem.objects.create(
        campaign=campaign,
        source="inspection",
        unit=south,
        description="占道经营",
        found_at=timezone.now(),
        created_by=office,
    )
    cache.clear()
    page.evaluate("() => { window.notReloaded = true; }")
    page.evaluate("() => window.commandScreen.refresh()")
    expect(found).to_have_text("1")
    expect(page.get_by_test_id("screen-status")).to_contain_text("数据更新于")
    assert page.evaluate("() => window.notReloaded") is True


def test_the_dashboard_prints_on_a4_and_saves_its_chart(page, live_server, demo_city):
    publish_weeks(demo_city["campaign"])
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, "leader")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector('[data-testid="trend-chart"][data-chart-ready]')
    expect(page.get_by_test_id("main-nav")).to_be_visible()
    expect(page.get_by_test_id("print-dashboard")).to_be_visible()

    page.emulate_media(media="print")
    expect(page.get_by_test_id("main-nav")).to_be_hidden()
    expect(page.get_by_test_id("print-dashboard")).to_be_hidden()
    expect(page.get_by_test_id("save-trend-chart")).to_be_hidden()
    expect(page.get_by_test_id("print-title")).to_be_visible()
    expect(page.get_by_test_id("ranking-row")).to_have_count(5)
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_test_id("save-trend-chart").click()
    name = download.value.suggested_filename
    assert name == f"全市得分率趋势_{timezone.localdate():%Y%m%d}.png", name
    path = download.value.path()
    with open(path, "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
