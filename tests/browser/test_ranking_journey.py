"""The weekly ranking journey: the office computes last week and publishes it; a leader opens the
ranking, drills from a district down to the failing observation and its photo, and downloads the
PDF bulletin, whose text is extracted and checked. Screenshots at desktop and phone sizes."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.models import RollupVersion
from inspections.selectors import iso_week_of
from tests.browser.conftest import login, logout
from tests.browser.weeks import good_and_bad_week

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def last_week(demo_city):
    """Last week's observations at two points: 湖滨 (东湖区) all fine, 北塘区 failing with a photo."""
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday() + 7)
    campaign, _beitang = good_and_bad_week(demo_city["users"], monday, "上周督查")
    return campaign, iso_week_of(monday)


def test_office_publishes_and_leader_drills_down_to_the_photo_and_the_pdf(page, live_server, shot, last_week, tmp_path):
    campaign, week = last_week
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "office")
    page.get_by_test_id("main-nav").get_by_role("link", name="周评比", exact=True).click()
    expect(page.get_by_text("还没有计算过周评比")).to_be_visible()
    page.select_option("#run-week", week)
    page.click('[data-testid="run-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("草稿")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="publish-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("已发布")
    assert RollupVersion.objects.get(campaign=campaign, week=week).status == "published"
    shot(page, "rankings-office-published-desktop")
    logout(page)

    login(page, live_server, "leader")
    page.get_by_test_id("main-nav").get_by_role("link", name="周评比", exact=True).click()
    table = page.get_by_test_id("ranking-table")
    expect(table).to_contain_text("示范市北塘区")
    expect(page.get_by_test_id("formula")).to_contain_text("综合分 = 70 × 得分率 + 30 × 按期整改率")
    expect(table.locator('[data-testid="board-black"]').first).to_be_visible()
    page.set_viewport_size(PHONE)
    shot(page, "rankings-leader-phone")
    page.set_viewport_size(DESKTOP)

    page.click('[data-testid="unit-link"] >> text=示范市北塘区')
    expect(page.locator(".page-title")).to_have_text("示范市北塘区")
    expect(page.get_by_test_id("unit-composite")).to_have_text("65.00")  # 70 × 0.5 + 30 (nothing due)
    shot(page, "rankings-unit-desktop")
    page.click('[data-testid="indicator-failing"]')
    expect(page.get_by_test_id("list-total")).to_have_text("共 1 条")
    photo_link = page.get_by_test_id("observation-photo").first
    expect(photo_link).to_be_visible()
    shot(page, "rankings-observations-desktop")
    photo = page.request.get(live_server.url + photo_link.get_attribute("href"))
    assert photo.ok and photo.headers["content-type"].startswith("image/")

    page.goto(f"{live_server.url}/rankings/?week={week}")
    page.click('[data-testid="bulletin-link"]')
    expect(page.locator("body")).to_contain_text("周通报")
    # The PDF and the workbook were rendered once, at publish, and stored: the page links to them.
    files = page.get_by_test_id("bulletin-files")
    expect(files).to_have_attribute("data-status", "done")
    download = page.get_by_test_id("download-pdf")
    expect(download).to_be_visible()
    expect(page.get_by_test_id("download-xlsx")).to_be_visible()
    assert download.get_attribute("href") == f"/bulletins/{campaign.pk}/{week}.pdf"
    pdf = page.request.get(live_server.url + download.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "bulletin.pdf"
        path.write_bytes(pdf.body())
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "周通报" in text and "北塘区" in text and week[-2:].lstrip("0") in text
