"""抽查复核 (issue 14 item 4): a reproducible, recorded draw of closed problems; outcomes 属实 /
不属实, where 不属实 reopens the problem as 返工 through the workflow's one table (`recheck_fail`)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability import workflow
from accountability.choices import Action as A
from accountability.choices import RecheckStatus
from accountability.models import ProblemEvent, Recheck, RecheckDraw
from accountability.recheck import (
    Candidate,
    RecheckConflict,
    recheck_candidates,
    recheck_draw,
    recheck_record,
    recheck_sample,
)
from accountability.workflow import TRANSITIONS, TransitionInput, TransitionRefused, allowed_actions, problem_transition
from inspections.choices import ProblemStatus as S
from inspections.selectors import iso_week_of
from tests.accountability.test_review_pairs import after_photo
from tests.accountability.test_workflow import snapshot


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


@pytest.fixture
def closed(problem, office, liaison_jia, city, later):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    act(liaison_jia, problem, A.ACCEPT)
    photo = after_photo(liaison_jia, 61)
    act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=(photo.pk,))
    return act(office, problem, A.APPROVE)


WEEK = iso_week_of(timezone.now())


def draws():
    return list(RecheckDraw.objects.values_list("pk", "seed")), list(Recheck.objects.values_list("pk", "status"))


# --- The sample --------------------------------------------------------------------------------


CANDIDATES = [Candidate(i, "D1" if i % 2 else "D2", i % 5 == 0) for i in range(1, 41)]


def test_the_same_seed_and_parameters_give_the_same_draw():
    first = recheck_sample(seed=7, candidates=CANDIDATES, count=5)
    assert first == recheck_sample(seed=7, candidates=list(reversed(CANDIDATES)), count=5)
    assert len(first) == 5 and first != recheck_sample(seed=8, candidates=CANDIDATES, count=5)


def test_per_district_percent_and_flagged_first():
    drawn = recheck_sample(seed=3, candidates=CANDIDATES, count=3, per_district=True)
    assert sorted(c.district for c in drawn) == ["D1"] * 3 + ["D2"] * 3
    assert len(recheck_sample(seed=3, candidates=CANDIDATES, percent=10)) == 4  # 10 % of 40
    assert len(recheck_sample(seed=3, candidates=CANDIDATES, percent=1)) == 1  # rounded up
    flagged = recheck_sample(seed=3, candidates=CANDIDATES, count=10, flagged_first=True)
    assert sum(c.flagged for c in flagged) == 8  # every flagged one (8 of 40), then 2 others
    assert len(recheck_sample(seed=3, candidates=CANDIDATES, count=100)) == 40


# --- The draw ----------------------------------------------------------------------------------


def test_the_office_draws_closed_problems_and_records_seed_and_parameters(closed, office, campaign, city):
    draw = recheck_draw(user=office, campaign=campaign, week_from=WEEK, week_to=WEEK, count=5, flagged_first=True)
    assert draw.parameters == {
        "count": 5,
        "percent": None,
        "per_district": False,
        "flagged_first": True,
        "candidates": 1,
    }
    recheck = draw.rechecks.get()
    assert (recheck.problem_id, recheck.status, recheck.district_id) == (
        closed.pk,
        RecheckStatus.PENDING,
        city.district_jia.pk,
    )
    assert draw.created_by == office and draw.seed
    # Replayed from the record: the same problems (the drawn one is now awaiting its re-check).
    assert recheck_candidates(campaign=campaign, week_from=WEEK, week_to=WEEK) == []


def test_a_given_seed_is_kept(closed, office, campaign):
    draw = recheck_draw(user=office, campaign=campaign, week_from=WEEK, week_to=WEEK, percent=50, seed=12345)
    assert draw.seed == 12345 and draw.rechecks.count() == 1


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({}, "count", "请填写抽取数量或抽取比例（二选一）。"),
        ({"count": 1, "percent": 5}, "count", "请填写抽取数量或抽取比例（二选一）。"),
        ({"count": 0}, "count", "抽取数量应在 1 到 1000 之间。"),
        ({"percent": 101}, "percent", "抽取比例应在 1% 到 100% 之间。"),
        ({"count": 1, "week_from": "2026-W99"}, "week_from", "2026 年没有第 99 周。"),
        (
            {"count": 1, "week_from": "2020-W10", "week_to": "2020-W11"},
            "week_from",
            "所选周次内没有可抽查的已销号问题。",
        ),
    ],
)
def test_bad_draws_are_refused_and_save_nothing(closed, office, campaign, kwargs, field, message):
    args = {"week_from": WEEK, "week_to": WEEK} | kwargs
    with pytest.raises(ValidationError) as info:
        recheck_draw(user=office, campaign=campaign, **args)
    assert info.value.message_dict[field] == [message]
    assert draws() == ([], [])


def test_open_problems_are_not_drawn(problem, office, campaign):
    with pytest.raises(ValidationError):
        recheck_draw(user=office, campaign=campaign, week_from=WEEK, week_to=WEEK, count=1)
    assert draws() == ([], [])


@pytest.mark.parametrize("who", ["inspector", "leader", "liaison_jia"])
def test_only_the_office_draws(closed, campaign, who, request):
    with pytest.raises(PermissionDenied):
        recheck_draw(user=request.getfixturevalue(who), campaign=campaign, week_from=WEEK, week_to=WEEK, count=1)
    assert draws() == ([], [])


# --- Outcomes ----------------------------------------------------------------------------------


@pytest.fixture
def pending(closed, office, campaign):
    return recheck_draw(user=office, campaign=campaign, week_from=WEEK, week_to=WEEK, count=1).rechecks.get()


def test_confirmed_leaves_the_problem_closed(pending, office, closed):
    before = snapshot(closed)
    recheck = recheck_record(user=office, recheck=pending, outcome=True)
    assert (recheck.status, recheck.checker, recheck.version) == (RecheckStatus.CONFIRMED, office, 1)
    assert snapshot(closed) == before


def test_failed_reopens_the_problem_as_rework(pending, office, closed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recheck = recheck_record(user=office, recheck=pending, outcome=False, note="现场仍有小广告")
    assert (recheck.status, recheck.note) == (RecheckStatus.FAILED, "现场仍有小广告")
    closed.refresh_from_db()
    assert (closed.status, closed.rework_count, closed.closed_at) == (S.RECTIFYING, 1, None)
    event = ProblemEvent.objects.filter(problem=closed).latest("at", "id")
    assert (event.action, event.role, event.from_status, event.to_status) == (
        A.RECHECK_FAIL,
        "office",
        S.CLOSED,
        S.RECTIFYING,
    )
    assert event.note == "抽查复核不属实：现场仍有小广告" and event.actor == office


def test_failed_needs_a_note_and_changes_nothing_without(pending, office, closed):
    before = snapshot(closed)
    with pytest.raises(ValidationError) as info:
        recheck_record(user=office, recheck=pending, outcome=False, note="  ")
    assert info.value.message_dict["note"] == ["记录不属实时请写明情况。"]
    assert snapshot(closed) == before and Recheck.objects.get().status == RecheckStatus.PENDING


def test_a_recorded_recheck_is_not_recorded_again(pending, office, closed):
    recheck_record(user=office, recheck=pending, outcome=True)
    before = snapshot(closed), list(Recheck.objects.values_list("pk", "status", "version", "note"))
    with pytest.raises(RecheckConflict):
        recheck_record(user=office, recheck=pending, outcome=False, note="再记一次")
    assert Recheck.objects.get().status == RecheckStatus.CONFIRMED
    assert (snapshot(closed), list(Recheck.objects.values_list("pk", "status", "version", "note"))) == before


def test_a_stale_version_is_a_conflict(pending, office, closed):
    before = snapshot(closed)
    with pytest.raises(RecheckConflict):
        recheck_record(user=office, recheck=pending, outcome=False, note="x", expected_version=5)
    assert snapshot(closed) == before


@pytest.mark.parametrize("who", ["inspector", "leader", "liaison_jia"])
def test_only_the_office_records(pending, closed, who, request):
    before = snapshot(closed)
    with pytest.raises(PermissionDenied):
        recheck_record(user=request.getfixturevalue(who), recheck=pending, outcome=False, note="越权")
    assert snapshot(closed) == before and Recheck.objects.get().status == RecheckStatus.PENDING


# --- The workflow table ------------------------------------------------------------------------


def test_the_table_gains_exactly_one_transition():
    added = {key: to for key, to in TRANSITIONS.items() if key[1] == A.RECHECK_FAIL}
    assert added == {(S.CLOSED, A.RECHECK_FAIL, workflow.OFFICE): S.RECTIFYING}
    # The rest is as before: 5 single steps, 6 actions over the 2 working states, 3 over the 4 open ones.
    rest = {key: to for key, to in TRANSITIONS.items() if key[1] != A.RECHECK_FAIL}
    assert len(rest) == 5 + 6 * 2 + 3 * 4
    assert not any(state == S.CLOSED for state, _, _ in rest)
    assert rest[(S.REVIEWING, A.APPROVE, workflow.OFFICE)] == S.CLOSED
    assert rest[(S.REVIEWING, A.REJECT, workflow.OFFICE)] == S.RECTIFYING


def test_recheck_fail_is_never_offered_nor_applied_without_a_pending_recheck(closed, office):
    assert A.RECHECK_FAIL not in allowed_actions(office, closed)
    before = snapshot(closed)
    with pytest.raises(TransitionRefused) as info:
        act(office, closed, A.RECHECK_FAIL, note="直接重开")
    assert info.value.message_dict["action"] == ["只有记录抽查复核不属实时才能重新打开已销号的问题。"]
    assert snapshot(closed) == before


def test_the_demo_has_a_draw_with_one_failed_recheck(db):
    from campaign.demo import seed_all

    seed_all()
    draw = RecheckDraw.objects.get()
    assert draw.seed == 20261 and draw.parameters["flagged_first"] is True
    statuses = sorted(draw.rechecks.values_list("status", flat=True))
    assert statuses.count(RecheckStatus.FAILED) == 1 and statuses.count(RecheckStatus.CONFIRMED) == 1
    failed = draw.rechecks.get(status=RecheckStatus.FAILED).problem
    assert failed.status == S.RECTIFYING and failed.events.filter(action=A.RECHECK_FAIL).exists()
