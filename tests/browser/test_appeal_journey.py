"""The 申诉 journey: the office computes last week; 湖滨街道's liaison appeals a failing observation
from the inspection page; the office grants it on the appeals list; the draft is recomputed (the
street's composite goes from 82.50 to 100.00); the office publishes the week."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.models import Appeal, AppealStatus, RollupVersion
from campaign.models import Membership, Unit
from inspections import services
from inspections.selectors import iso_week_of
from tests.browser.conftest import login, logout
from tests.browser.weeks import at, backstreets, observe, weekly_round

pytestmark = [pytest.mark.browser]


@pytest.fixture
def last_week(demo_city):
    """Two observations last week in a community of 湖滨街道: one fine, one failing (score 0.5)."""
    users = demo_city["users"]
    world = backstreets()
    campaign = world.campaign
    campaign.appeal_working_days = 10  # the window still open whatever weekday the test runs
    campaign.save(update_fields=["appeal_working_days"])
    street = Membership.objects.get(user=users["liaison"]).unit
    community = Unit.objects.filter(kind="community", path__startswith=street.path).first()
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday() + 7)
    round_ = weekly_round(campaign, users["office"], monday, "上周督查")
    moment = at(monday + datetime.timedelta(days=2))
    inspections = {}
    for name, score in (("湖滨一巷", Decimal(1)), ("湖滨二巷", Decimal("0.5"))):
        point = services.point_create(name=name, point_type=world.point_type, unit=community)
        inspections[name] = observe(round_, users["inspector"], world.item, point, score, moment).inspection
    return campaign, iso_week_of(monday), street, inspections["湖滨二巷"]


def test_liaison_appeals_office_grants_draft_changes_publish(page, live_server, shot, last_week):
    campaign, week, street, failing = last_week
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/rankings/")
    page.select_option("#run-week", week)
    page.click('[data-testid="run-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("草稿")
    page.goto(f"{live_server.url}/rankings/units/{street.pk}/?week={week}")
    expect(page.get_by_test_id("unit-composite")).to_have_text("82.50")  # 70 × 0.75 + 30
    logout(page)

    login(page, live_server, "liaison")
    page.goto(f"{live_server.url}/inspections/{failing.pk}/")
    page.click('[data-testid="appeal-button"]')
    page.fill("#appeal-reason", "检查当日堆物为施工临时材料，已获审批，附审批照片。")
    shot(page, "appeal-form-liaison")
    page.click('[data-testid="appeal-submit"]')
    expect(page.get_by_test_id("appeal-status")).to_have_text("待裁定")
    logout(page)

    login(page, live_server, "office")
    page.goto(f"{live_server.url}/rankings/?week={week}")
    expect(page.get_by_test_id("publish-override")).to_contain_text("尚有 1 件申诉待裁定")
    page.click('[data-testid="appeals-link"]')
    row = page.get_by_test_id("appeal-row").first
    expect(row).to_contain_text(street.name)
    shot(page, "appeal-list-office")
    row.locator('textarea[name="note"]').fill("审批材料属实，撤销该项扣分。")
    row.get_by_test_id("appeal-grant").click()
    expect(page.get_by_test_id("appeal-status").first).to_have_text("撤销")
    assert Appeal.objects.get().status == AppealStatus.GRANTED

    page.goto(f"{live_server.url}/rankings/units/{street.pk}/?week={week}")
    expect(page.get_by_test_id("unit-composite")).to_have_text("100.00")  # the failing one no longer counts
    expect(page.get_by_test_id("unit-appeals")).to_contain_text("撤销 1")
    page.goto(f"{live_server.url}/rankings/?week={week}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="publish-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("已发布")
    assert RollupVersion.objects.get(campaign=campaign, week=week).status == "published"
    shot(page, "appeal-published-office")
