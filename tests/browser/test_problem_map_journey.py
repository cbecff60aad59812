"""The map of problems on the points map (issue 16 item 4): the office turns on the 问题 layer —
problems cluster, coloured by status, over the points (no tile server: a plain background) —
switches to 热力, back to 聚合, clicks a single problem and follows the popup's 打开问题 to the problem
page. The vendored leaflet.markercluster 1.5.3 and leaflet.heat 1.0.0 run on the vendored Leaflet 1.9.4."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaign.models import Unit
from inspections import services
from inspections.models import PointType, Problem
from tests.browser.conftest import SCREENSHOTS, login

pytestmark = [pytest.mark.browser]


def snap(page, name: str) -> None:
    """A screenshot of the viewport: a full-page one resizes the window, which makes the points map
    refit (its resize handler) and moves the markers under the test's next click."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_problems_cluster_heat_and_open_from_the_points_map(page, live_server, demo_city):
    campaign, office = demo_city["campaign"], demo_city["users"]["office"]
    street = Unit.objects.get(name="东湖区湖滨街道")
    market_type = PointType.objects.get(name="集贸(农贸)市场")
    busy = services.point_create(
        name="湖滨农贸市场", point_type=market_type, unit=street, latitude=Decimal("31.5"), longitude=Decimal("120.3")
    )
    quiet = services.point_create(
        name="湖滨小区", point_type=PointType.objects.get(name="小区"), unit=street,
        latitude=Decimal("31.53"), longitude=Decimal("120.35"),
    )  # fmt: skip
    for number in range(12):
        services.problem_create(
            campaign=campaign,
            source="hotline",
            unit=None,
            point=busy,
            description=f"市场问题{number}",
            created_by=office,
        )
    single = services.problem_create(
        campaign=campaign, source="hotline", unit=None, point=quiet, description="小区门口垃圾", created_by=office
    )
    Problem.objects.filter(description="市场问题0").update(status="closed")

    page.set_viewport_size({"width": 1280, "height": 1280})  # the whole page: no full-page resize
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/points/map/")
    page.get_by_test_id("problem-layer").locator("summary").click()
    page.get_by_test_id("problem-layer-on").check()
    the_map = page.get_by_test_id("point-map")
    expect(the_map).to_have_attribute("data-problem-state", "ready")
    expect(the_map).to_have_attribute("data-problems", "13")
    expect(page.get_by_test_id("problem-layer-status")).to_contain_text("地图上显示 13 个问题")
    cluster = page.locator(".pm-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster).to_have_text("12")
    expect(page.get_by_test_id("problem-legend")).to_contain_text("整改中")
    snap(page, "inspections-point-map-problems-cluster")

    page.get_by_test_id("problem-mode-heat").click()
    expect(the_map).to_have_attribute("data-problem-mode", "heat")
    expect(page.locator(".leaflet-heatmap-layer")).to_have_count(1)
    expect(page.locator(".pm-cluster")).to_have_count(0)
    snap(page, "inspections-point-map-problems-heat")

    page.get_by_test_id("problem-mode-cluster").click()
    expect(page.locator(".leaflet-heatmap-layer")).to_have_count(0)
    # The layer's filters go to the endpoint: only the closed one, then all again.
    page.select_option("#pm-status", "closed")
    page.get_by_test_id("problem-layer-apply").click()
    expect(the_map).to_have_attribute("data-problems", "1")
    expect(page.get_by_test_id("problem-layer-status")).to_contain_text("地图上显示 1 个问题")
    page.select_option("#pm-status", "")
    page.get_by_test_id("problem-layer-apply").click()
    expect(the_map).to_have_attribute("data-problems", "13")
    marker = page.get_by_title(f"问题 #{single.pk}", exact=True)
    marker.click()
    link = page.get_by_test_id("problem-popup-link")
    expect(link).to_have_text("打开问题")
    snap(page, "inspections-point-map-problem-popup")
    link.click()
    expect(page.get_by_test_id("problem-title")).to_have_text(f"问题 #{single.pk}")
    assert errors == []
