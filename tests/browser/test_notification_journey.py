"""通知 in the browser (issue 15 item 5): the office assigns a problem to 湖滨街道; its liaison signs
in and the menu's badge beside 通知 shows the unread count; 通知 lists the 交办 (unread, bold);
clicking it opens the problem page and the badge goes down. Every wait is on a page element."""

import pytest
from playwright.sync_api import expect

from campaign.models import Unit
from tests.browser.conftest import login, logout
from tests.browser.test_rectification_journey import scenario

pytestmark = [pytest.mark.browser]


def test_office_assigns_and_the_liaison_is_told(page, live_server, demo_city, shot):
    problem = scenario(demo_city)
    hubin = Unit.objects.get(short_name="湖滨街道")
    page.set_viewport_size({"width": 1280, "height": 800})

    login(page, live_server, "office")
    page.goto(f"{live_server.url}/problems/assign/")
    page.locator(f'input[name="problems"][value="{problem.pk}"]').check()
    page.locator("#id_handler").select_option(str(hubin.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="交办所选问题").click()
    expect(page.locator(".alert, [role=alert]").first).to_contain_text("已交办 1 个问题")
    logout(page)

    login(page, live_server, "liaison")
    badge = page.get_by_test_id("nav-badge")
    expect(badge).to_be_visible()
    before = int(badge.inner_text())
    assert before >= 1
    # The menu's label stays 通知: the count is the badge beside it.
    expect(page.get_by_test_id("main-nav").get_by_role("link", name="通知", exact=True)).to_be_visible()
    page.get_by_test_id("main-nav").get_by_role("link", name="通知", exact=True).click()
    item = page.get_by_test_id("notification").filter(has_text=f"#{problem.pk}").first
    expect(item).to_contain_text("交办")
    assert item.get_attribute("data-unread") is not None
    shot(page, "notifications-liaison")
    with page.expect_navigation():
        item.get_by_test_id("notification-link").click()
    expect(page.get_by_test_id("problem-status")).to_have_text("待签收")
    assert page.url.endswith(f"/inspections/problems/{problem.pk}/")
    after = page.get_by_test_id("nav-badge")
    if before == 1:
        expect(after).to_have_count(0)
    else:
        expect(after).to_have_text(str(before - 1))
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_test_id("notification").filter(has_text=f"#{problem.pk}").first).not_to_have_attribute(
        "data-unread", ""
    )
    page.set_viewport_size({"width": 375, "height": 812})
    shot(page, "notifications-liaison-phone")
