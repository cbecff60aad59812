"""The state machine, table-driven: every allowed transition, and refusals that change nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from accountability.choices import Action as A
from accountability.models import ProblemEvent
from accountability.workflow import (
    TRANSITIONS,
    TransitionConflict,
    TransitionInput,
    TransitionRefused,
    allowed_actions,
    problem_transition,
)
from inspections.choices import ProblemStatus as S
from inspections.models import Problem
from inspections.services import photo_upload


def snapshot(problem):
    row = (
        Problem.objects.filter(pk=problem.pk)
        .values(
            "status",
            "handler",
            "deadline",
            "original_deadline",
            "rework_count",
            "shelved",
            "pending_request",
            "requested_deadline",
            "closed_at",
            "version",
        )
        .get()
    )
    return row, ProblemEvent.objects.filter(problem=problem).count()


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


def photo(user):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(buffer, format="JPEG")
    return photo_upload(user=user, file=SimpleUploadedFile("after.jpg", buffer.getvalue())).pk


@pytest.fixture
def assigned(problem, office, city, later):
    return act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)


def test_the_whole_loop_with_a_rework(assigned, office, liaison_jia):
    problem = act(liaison_jia, assigned, A.ACCEPT)
    assert problem.status == S.RECTIFYING
    problem = act(liaison_jia, problem, A.SUBMIT, note="已清理", photos=(photo(liaison_jia),))
    assert problem.status == S.REVIEWING
    problem = act(office, problem, A.REJECT, note="仍有一处未清理")
    assert (problem.status, problem.rework_count) == (S.RECTIFYING, 1)
    problem = act(liaison_jia, problem, A.SUBMIT, note="已全部清理", photos=(photo(liaison_jia),))
    # The second report's photo repeats the first (疑似重复): approving it needs a note.
    problem = act(office, problem, A.APPROVE, note="已现场核实")
    assert problem.status == S.CLOSED and problem.closed_at is not None
    actions = list(ProblemEvent.objects.filter(problem=problem).values_list("action", "from_status", "to_status"))
    assert actions == [
        (A.ASSIGN, S.NEW, S.ASSIGNED),
        (A.ACCEPT, S.ASSIGNED, S.RECTIFYING),
        (A.SUBMIT, S.RECTIFYING, S.REVIEWING),
        (A.REJECT, S.REVIEWING, S.RECTIFYING),
        (A.SUBMIT, S.RECTIFYING, S.REVIEWING),
        (A.APPROVE, S.REVIEWING, S.CLOSED),
    ]


def test_assign_records_handler_and_original_deadline(assigned, city, later):
    assert (assigned.handler, assigned.deadline, assigned.original_deadline) == (city.street_jia, later, later)
    event = ProblemEvent.objects.get(problem=assigned)
    assert event.changes["handler"] == [None, city.street_jia.pk]


def _advance(problem, office, liaison, later, to):
    """Bring a fresh problem to a given status through the real transitions."""
    path = {
        S.NEW: [],
        S.ASSIGNED: [(office, A.ASSIGN, {"deadline": later})],
        S.RECTIFYING: [(office, A.ASSIGN, {"deadline": later}), (liaison, A.ACCEPT, {})],
        S.REVIEWING: [
            (office, A.ASSIGN, {"deadline": later}),
            (liaison, A.ACCEPT, {}),
            (liaison, A.SUBMIT, {"note": "好了", "photos": "photo"}),
        ],
        S.CLOSED: [
            (office, A.ASSIGN, {"deadline": later}),
            (liaison, A.ACCEPT, {}),
            (liaison, A.SUBMIT, {"note": "好了", "photos": "photo"}),
            (office, A.APPROVE, {}),
        ],
    }[to]
    for user, action, kwargs in path:
        if kwargs.get("photos") == "photo":
            kwargs = {**kwargs, "photos": (photo(user),)}
        if action == A.ASSIGN:
            kwargs = {**kwargs, "handler": liaison.memberships.get().unit}
        problem = act(user, problem, action, **kwargs)
    return problem


ALL_STATES = [S.NEW, S.ASSIGNED, S.RECTIFYING, S.REVIEWING, S.CLOSED]


@pytest.mark.parametrize("state", ALL_STATES)
# A comment is not a transition (it changes no state; tests/inspections/test_department_view.py).
@pytest.mark.parametrize("action", [a for a in A.values if a not in (A.SHELVE, A.RESUME, A.VOID, A.COMMENT)])
def test_every_refused_transition_changes_nothing(problem, office, liaison_jia, later, state, action):
    problem = _advance(problem, office, liaison_jia, later, state)
    for user, role in ((office, "office"), (liaison_jia, "handler")):
        if (state, action, role) in TRANSITIONS:
            continue
        before = snapshot(problem)
        with pytest.raises((TransitionRefused, PermissionDenied)):
            act(user, problem, action, note="x", deadline=later + datetime.timedelta(days=5))
        assert snapshot(problem) == before


def test_other_streets_liaison_and_leaders_act_on_nothing(assigned, liaison_yi, leader, inspector):
    before = snapshot(assigned)
    for user in (liaison_yi, leader, inspector):
        assert allowed_actions(user, assigned) == []
        with pytest.raises(PermissionDenied):
            act(user, assigned, A.ACCEPT)
    assert snapshot(assigned) == before


def test_submit_needs_a_note_and_a_photo(assigned, liaison_jia):
    problem = act(liaison_jia, assigned, A.ACCEPT)
    before = snapshot(problem)
    with pytest.raises(TransitionRefused):
        act(liaison_jia, problem, A.SUBMIT, note="好了")
    with pytest.raises(TransitionRefused):
        act(liaison_jia, problem, A.SUBMIT, photos=(photo(liaison_jia),))
    assert snapshot(problem) == before


def test_extension_keeps_the_original_deadline(assigned, liaison_jia, office, later):
    asked = later + datetime.timedelta(days=7)
    problem = act(liaison_jia, assigned, A.REQUEST_EXTENSION, note="需采购设备", deadline=asked)
    assert (problem.pending_request, problem.requested_deadline) == ("extension", asked)
    with pytest.raises(TransitionRefused):
        act(liaison_jia, problem, A.REQUEST_EXTENSION, note="再申请", deadline=asked)
    problem = act(office, problem, A.GRANT_EXTENSION)
    assert (problem.deadline, problem.original_deadline, problem.pending_request) == (asked, later, "")


def test_reassign_goes_back_to_be_accepted(assigned, liaison_jia, office, city):
    problem = act(liaison_jia, assigned, A.ACCEPT)
    problem = act(liaison_jia, problem, A.REQUEST_REASSIGN, note="不属于本街道")
    problem = act(office, problem, A.REASSIGN, handler=city.dept_cg)
    assert (problem.status, problem.handler, problem.pending_request) == (S.ASSIGNED, city.dept_cg, "")


def test_shelve_resume_and_void(assigned, office, later):
    problem = act(office, assigned, A.SHELVE, note="需纳入明年改造计划", deadline=later)
    assert (problem.shelved, problem.status) == (True, S.ASSIGNED)
    problem = act(office, problem, A.RESUME)
    assert problem.shelved is False
    problem = act(office, problem, A.VOID, note="重复录入")
    assert problem.status == S.VOID


def test_a_stale_view_is_a_conflict(assigned, liaison_jia, office):
    seen = assigned.version
    act(liaison_jia, assigned, A.ACCEPT, expected_version=seen)
    before = snapshot(assigned)
    with pytest.raises(TransitionConflict):
        act(office, assigned, A.REASSIGN, expected_version=seen)
    assert snapshot(assigned) == before


def test_assign_without_a_deadline_takes_working_days_by_severity(problem, office, city):
    from django.utils import timezone

    from accountability.calendar import add_working_days, calendar_seed

    calendar_seed()
    assigned = act(office, problem, A.ASSIGN, handler=city.street_jia)
    assert assigned.deadline == add_working_days(timezone.localdate(), 5)  # 一般: 5 working days


def test_the_default_handler_is_the_check_items_department_else_the_street(problem, office, city, stall_item):
    from accountability.workflow import default_handler

    assert default_handler(problem) == city.street_jia  # the point sits in 甲一社区 of 甲街道
    problem.check_item = stall_item  # charged to 市文明办
    assert default_handler(problem) == city.dept_office


def test_allowed_actions_follow_requests_and_shelving(assigned, office, liaison_jia, later):
    assert set(allowed_actions(office, assigned)) == {A.REASSIGN, A.SHELVE, A.VOID}
    assert set(allowed_actions(liaison_jia, assigned)) == {A.ACCEPT, A.REQUEST_REASSIGN, A.REQUEST_EXTENSION}
    asked = act(liaison_jia, assigned, A.REQUEST_EXTENSION, note="需时间", deadline=later + datetime.timedelta(days=3))
    assert set(allowed_actions(office, asked)) == {A.REASSIGN, A.GRANT_EXTENSION, A.DENY_EXTENSION, A.SHELVE, A.VOID}
    assert set(allowed_actions(liaison_jia, asked)) == {A.ACCEPT}
