"""Issue 15's whole journey: a citizen reports from a 375-px phone page → the office triages it
(accepted at the unit of the nearest point) → assigns it → 湖滨街道's liaison is told (the badge) and
rectifies → the office closes it → the citizen's status page reads 已办结 with the reply. Every wait
is on a page element."""

import io

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from campaign.models import Unit
from inspections.choices import ProblemSource, ReportStatus
from inspections.models import Problem, PublicCategory, Report
from tests.browser.conftest import login, logout
from tests.browser.test_inspection_journey import POINT_LAT, POINT_LNG, field_setup
from tests.browser.test_rectification_journey import act, photo_file

pytestmark = [pytest.mark.browser]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (120, 90, 40)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def test_a_citizen_report_is_triaged_assigned_rectified_and_reads_closed(page, live_server, demo_city, shot, tmp_path):
    cache.clear()
    field = field_setup(demo_city)
    point = field["point"]
    category = PublicCategory.objects.create(
        campaign=demo_city["campaign"], code="zdjy", name="占道经营", group="市容秩序", order=1
    )
    category.check_items.set([field["items"][0]])
    hubin = Unit.objects.get(short_name="湖滨街道")

    # 1. A citizen, not signed in, reports from a phone standing at the point.
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": float(POINT_LAT), "longitude": float(POINT_LNG), "accuracy": 10})
    page.goto(f"{live_server.url}/report/")
    page.get_by_text("占道经营", exact=True).click()
    page.get_by_test_id("photo-input").set_input_files(
        files=[{"name": "占道.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    expect(page.locator("#public-report-form")).to_have_attribute("data-photos-ready", "1")
    page.get_by_test_id("locate-button").click()
    expect(page.get_by_test_id("latitude")).not_to_have_value("")
    page.get_by_test_id("description").fill("广场入口有流动摊贩占道经营，行人只能走机动车道。")
    page.get_by_test_id("report-submit").click()
    reference = page.get_by_test_id("done-reference").inner_text().strip()
    report = Report.objects.get(reference=reference)
    assert report.status == ReportStatus.PENDING and report.photos.count() == 1

    # 2. The office accepts it in the 待分拣 queue: a problem 待交办 at the nearest point's street.
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/reports/")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_test_id("nearest-point")).to_contain_text(point.name)
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("problem-status")).to_have_text("待交办")
    problem = Problem.objects.get(reports=report)
    assert (problem.source, problem.unit_id) == (ProblemSource.CITIZEN, hubin.pk)
    shot(page, "citizen-journey-accepted")

    # 3. …and assigns it to 湖滨街道 from the 交办 queue.
    page.goto(f"{live_server.url}/problems/assign/")
    page.locator(f'input[name="problems"][value="{problem.pk}"]').check()
    page.locator("#id_handler").select_option(str(hubin.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="交办所选问题").click()
    expect(page.locator(".alert, [role=alert]").first).to_contain_text("已交办 1 个问题")
    logout(page)

    # 4. The liaison is told: the badge, the 交办 notification leading to the problem.
    login(page, live_server, "liaison")
    expect(page.get_by_test_id("nav-badge")).to_be_visible()
    page.get_by_test_id("main-nav").get_by_role("link", name="通知", exact=True).click()
    item = page.get_by_test_id("notification").filter(has_text=f"#{problem.pk}").first
    expect(item).to_contain_text("交办")
    with page.expect_navigation():
        item.get_by_test_id("notification-link").click()
    expect(page.get_by_test_id("problem-status")).to_have_text("待签收")
    act(page, "accept")
    act(
        page, "submit", note="摊贩已劝离，入口已安排专人值守。", photo=photo_file(tmp_path, "整改后.jpg", (60, 160, 80))
    )
    expect(page.get_by_test_id("problem-status")).to_have_text("待复查")
    logout(page)

    # 5. The office closes it.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/problems/{problem.pk}/")
    expect(page.get_by_test_id("reply-hint")).to_have_count(1)  # the closing note is the reply
    act(page, "approve", note="经复查，占道摊贩已清理，入口恢复通行。")
    expect(page.get_by_test_id("problem-status")).to_have_text("已销号")
    logout(page)

    # 6. The citizen's status page reads 已办结 with the office's reply, and nothing personal.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/report/{reference}/")
    expect(page.get_by_test_id("public-status-label")).to_contain_text("已办结")
    expect(page.get_by_test_id("public-status-note")).to_contain_text("占道摊贩已清理")
    shot(page, "citizen-journey-closed-phone")
    report.refresh_from_db()
    assert report.reply == "经复查，占道摊贩已清理，入口恢复通行。"
