"""Sightings visible on the phone (issue 11, part 8): the demo inspector fails an item at a point
whose problem for that item is still open. The done screen no longer says "全部合格，没有新立问题":
it lists the failure as added to that problem, linked; the link opens the problem, whose history
shows the sighting with its inspector."""

import uuid

import pytest
from playwright.sync_api import expect

from inspections import services
from inspections.models import Problem
from inspections.services import ObservationInput as Obs
from tests.browser.conftest import login
from tests.browser.test_inspection_journey import PHONE, POINT_NAME, field_setup

pytestmark = [pytest.mark.browser]


def test_a_failure_added_to_an_open_problem_is_named_on_the_done_screen(page, live_server, demo_city, shot):
    field = field_setup(demo_city)
    point, round_, items = field["point"], field["round"], field["items"]
    # A first inspection opens a problem for the first item (through the service, as the phone does).
    services.inspection_submit(
        user=demo_city["users"]["inspector"],
        round_=round_,
        point=point,
        observations=[Obs(items[0].pk, "fail", 1), *(Obs(item.pk, "pass") for item in items[1:])],
        client_uuid=uuid.uuid4(),
    )
    problem = Problem.objects.get(point=point)

    page.set_viewport_size(PHONE)
    login(page, live_server, "inspector")
    page.goto(f"{live_server.url}/inspections/record/?round={round_.pk}&point={point.pk}")
    expect(page.get_by_test_id("current-point")).to_have_text(POINT_NAME)
    cards = page.locator("[data-type-items]:not([hidden])").get_by_test_id("record-item")
    cards.nth(0).get_by_role("button", name="不合格", exact=True).click()
    page.get_by_test_id("all-pass").click()
    page.get_by_test_id("record-submit").click()

    expect(page.get_by_test_id("step-done")).to_be_visible()
    done = page.get_by_test_id("done-problems")
    expect(done).not_to_contain_text("全部合格")
    expect(done).to_contain_text("没有新立问题（不合格项已记入原有问题）")
    sighting = page.get_by_test_id("done-sighting")
    expect(sighting).to_have_count(1)
    expect(sighting).to_contain_text(f"记入原有问题 #{problem.pk}")
    shot(page, "inspections-record-done-sighting-phone")

    sighting.click()
    expect(page.get_by_test_id("problem-title")).to_have_text(f"问题 #{problem.pk}")
    entry = page.get_by_test_id("timeline").get_by_test_id("sighting")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("再次发现")
    expect(entry).to_contain_text("督查员")
    assert problem.sightings.count() == 1
