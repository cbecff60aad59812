"""The 抽查复核 journey: a problem of 湖滨街道 was closed this week; the office draws it for an
independent re-check, records 不属实 with a note, and the problem is back in 整改中 (返工)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.choices import Action as A
from accountability.choices import RecheckStatus
from accountability.models import Recheck
from accountability.workflow import TransitionInput, problem_transition
from campaign.models import Campaign, Membership
from inspections.choices import ProblemSource
from inspections.choices import ProblemStatus as S
from inspections.selectors import iso_week_of
from inspections.services import problem_create
from tests.accountability.test_review_pairs import after_photo
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


@pytest.fixture
def closed_problem(demo_city):
    users = demo_city["users"]
    office, liaison = users["office"], users["liaison"]
    street = Membership.objects.get(user=liaison).unit
    problem = problem_create(
        campaign=Campaign.objects.filter(active=True).first(),
        source=ProblemSource.HOTLINE,
        unit=street,
        description="湖滨路人行道堆放建筑垃圾",
        created_by=office,
    )

    def act(user, action, **kwargs):
        return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))

    act(office, A.ASSIGN, handler=street, deadline=timezone.localdate() + datetime.timedelta(days=5))
    act(liaison, A.ACCEPT)
    act(liaison, A.SUBMIT, note="已清运", photos=(after_photo(liaison, 91, gps=None).pk,))
    act(office, A.APPROVE, note="已核实")
    return problem


def test_office_draws_records_not_true_and_the_problem_is_back_in_rework(page, live_server, shot, closed_problem):
    week = iso_week_of(timezone.now())
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/rankings/")
    page.click('[data-testid="recheck-link"]')
    page.select_option("#week_from", week)
    page.select_option("#week_to", week)
    page.fill("#number", "1")
    page.click('[data-testid="recheck-draw-form"] button[type=submit]')
    row = page.get_by_test_id("recheck-row").first
    expect(row).to_contain_text(f"#{closed_problem.pk}")
    expect(row).to_contain_text("待复核")
    shot(page, "recheck-drawn-office")
    row.locator('input[name="note"]').fill("复核时现场仍堆放建筑垃圾。")
    row.get_by_role("button", name="不属实").click()
    expect(page.get_by_test_id("recheck-row").first).to_contain_text("不属实")
    assert Recheck.objects.get().status == RecheckStatus.FAILED
    page.goto(f"{live_server.url}/inspections/problems/{closed_problem.pk}/")
    expect(page.get_by_test_id("problem-status")).to_have_text(S.RECTIFYING.label)
    shot(page, "recheck-problem-reworked")
