"""Two office users act on the same problem at once, on PostgreSQL: exactly one wins."""

import datetime
import threading
import uuid

import pytest
from django.db import connection

from accountability.choices import Action as A
from accountability.workflow import TransitionConflict, TransitionInput, TransitionRefused, problem_transition
from campaign import services as campaign_services
from campaign.choices import Role
from inspections.choices import ProblemStatus as S
from inspections.models import Problem
from inspections.services import ObservationInput, inspection_submit
from tests.inspections.conftest import *  # noqa: F403 - points, check items and a round

pytestmark = [pytest.mark.services]


def race(actions):
    """Run each (user, problem, input) in its own thread and connection; return their outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, user, problem, data):
        try:
            barrier.wait()
            problem_transition(user=user, problem=problem, data=data)
            outcomes[index] = "ok"
        except (TransitionConflict, TransitionRefused) as exc:
            outcomes[index] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def reviewing(transactional_db, inspector, round_, market, ads_item, office, liaison_jia, city):
    inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 1)],
    )
    problem = Problem.objects.get()
    later = datetime.date.today() + datetime.timedelta(days=10)
    problem = problem_transition(
        user=office, problem=problem, data=TransitionInput(A.ASSIGN, handler=city.street_jia, deadline=later)
    )
    problem = problem_transition(user=liaison_jia, problem=problem, data=TransitionInput(A.ACCEPT))
    from inspections.services import photo_upload
    from tests.accountability.test_workflow import photo

    problem = problem_transition(
        user=liaison_jia, problem=problem, data=TransitionInput(A.SUBMIT, note="已整改", photos=(photo(liaison_jia),))
    )
    assert photo_upload  # imported for the helper above
    return problem


def test_two_office_users_approve_at_once(reviewing, office, city):
    second = campaign_services.user_create(username="office2", password="long-pass-2026")
    campaign_services.membership_create(user=second, role=Role.OFFICE, unit=city.dept_office)
    seen = reviewing.version
    outcomes = race(
        [
            (office, reviewing, TransitionInput(A.APPROVE, expected_version=seen)),
            (second, reviewing, TransitionInput(A.APPROVE, expected_version=seen)),
        ]
    )
    assert sorted(outcomes) == ["TransitionConflict", "ok"]
    problem = Problem.objects.get()
    assert (problem.status, problem.version, problem.events.filter(action=A.APPROVE).count()) == (S.CLOSED, seen + 1, 1)


def test_an_approve_racing_a_reject(reviewing, office):
    seen = reviewing.version
    outcomes = race(
        [
            (office, reviewing, TransitionInput(A.APPROVE, expected_version=seen)),
            (office, reviewing, TransitionInput(A.REJECT, note="不合格", expected_version=seen)),
        ]
    )
    assert sorted(outcomes) == ["TransitionConflict", "ok"]
    assert Problem.objects.get().version == seen + 1
