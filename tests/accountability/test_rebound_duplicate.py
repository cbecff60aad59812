"""A failure at the same point for the same item: another sighting of an open problem, or a
rebound of one closed within the window."""

import datetime
import uuid

from django.utils import timezone

from accountability.choices import Action as A
from inspections.models import Problem
from inspections.services import ObservationInput, inspection_submit
from tests.accountability.test_workflow import act, photo


def fail_again(inspector, round_, market, ads_item):
    inspection, _ = inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 1)],
    )
    return inspection.observations.get()


def test_a_failure_matching_an_open_problem_is_another_sighting(problem, inspector, round_, market, ads_item):
    observation = fail_again(inspector, round_, market, ads_item)
    assert Problem.objects.count() == 1
    assert list(problem.sightings.all()) == [observation]


def test_a_failure_soon_after_closing_is_a_rebound(
    problem, inspector, round_, market, ads_item, office, liaison_jia, city
):
    later = timezone.localdate() + datetime.timedelta(days=10)
    problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    problem = act(liaison_jia, problem, A.ACCEPT)
    problem = act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=(photo(liaison_jia),))
    problem = act(office, problem, A.APPROVE)
    fail_again(inspector, round_, market, ads_item)
    rebound = Problem.objects.exclude(pk=problem.pk).get()
    assert rebound.rebound_of == problem
    assert list(problem.rebounds.all()) == [rebound]


def test_outside_the_window_it_is_a_new_problem(problem, inspector, round_, market, ads_item, settings):
    Problem.objects.filter(pk=problem.pk).update(
        status="closed", closed_at=timezone.now() - datetime.timedelta(days=40)
    )
    fail_again(inspector, round_, market, ads_item)
    newest = Problem.objects.exclude(pk=problem.pk).get()
    assert newest.rebound_of is None
