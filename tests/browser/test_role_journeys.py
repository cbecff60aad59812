"""Each demo role logs in, sees its own home and navigation, and logs out."""

import pytest
from playwright.sync_api import expect

from campaign.models import Unit
from tests.browser.conftest import login, logout
from tests.navigation import NAV

pytestmark = pytest.mark.browser

ROLES = [
    ("office", "创建办工作台", [*NAV["office"], "管理"]),
    ("inspector", "督查员首页", NAV["inspector"]),
    ("leader", "领导驾驶舱", NAV["leader"]),
    ("liaison", "单位工作台", NAV["liaison"]),
    ("liaison2", "单位工作台", NAV["liaison"]),
    ("dept", "单位工作台", NAV["liaison"]),
]


def test_each_demo_role_logs_in_sees_its_home_and_logs_out(page, live_server, demo_city, shot):
    for username, title, nav in ROLES:
        page.set_viewport_size({"width": 1280, "height": 800})
        login(page, live_server, username)
        expect(page.get_by_test_id("home-title")).to_have_text(title)
        expect(page.get_by_test_id("main-nav").locator("> .nav-item > .nav-link")).to_have_text(nav)
        expect(page.get_by_test_id("countdown")).to_contain_text("示范市创建全国文明城市")
        shot(page, f"home-{username}-desktop")
        page.set_viewport_size({"width": 375, "height": 812})
        shot(page, f"home-{username}-phone")
        page.set_viewport_size({"width": 1280, "height": 800})
        logout(page)
        expect(page.locator("h2")).to_contain_text("账号登录")


def test_liaison_is_refused_another_streets_unit(page, live_server, demo_city, shot):
    own = Unit.objects.get(short_name="湖滨街道")
    other = Unit.objects.get(short_name="山前街道")
    login(page, live_server, "liaison")
    page.goto(f"{live_server.url}/units/{own.pk}/")
    expect(page.get_by_test_id("unit-name")).to_have_text("东湖区湖滨街道")
    shot(page, "unit-own-liaison")
    response = page.goto(f"{live_server.url}/units/{other.pk}/")
    assert response.status == 404
    expect(page.locator("body")).to_contain_text("该页面不存在，或您无权查看")
    shot(page, "unit-other-refused")
    page.goto(f"{live_server.url}/units/tree/")
    expect(page.get_by_test_id("tree-territorial")).to_contain_text("湖滨街道")
    expect(page.get_by_test_id("tree-territorial")).not_to_contain_text("山前街道")


def test_office_sees_the_unit_tree_and_campaign(page, live_server, demo_city, shot):
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/units/tree/")
    expect(page.get_by_test_id("tree-departments")).to_contain_text("示范市城市管理局")
    shot(page, "unit-tree-office")
    page.goto(f"{live_server.url}/units/?kind=community")
    expect(page.get_by_test_id("list-total")).to_contain_text("共 69 条")
    shot(page, "unit-list-office")
    page.get_by_test_id("nav-more").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="创建活动", exact=True).click()
    expect(page.get_by_test_id("phases")).to_contain_text("集中整治")
    shot(page, "campaign-office")
