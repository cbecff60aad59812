"""Sightings visible (issue 11, part 8): a failure of an item at a point whose problem for that item
is still open does not open another problem, it becomes a sighting of it. The phone's done screen
says so and names the problem (linked only when the recorder may read it); the problem's history
records each sighting with its time, inspector and a link to the inspection; the API's problem
carries them as {observation, inspection, inspector, at}."""

import datetime
import json

import pytest
from django.utils import timezone

from campaign.choices import Role
from inspections import services
from inspections.models import Problem
from tests.conftest import _user
from tests.inspections.test_views import record_payload


def post_json(client, payload):
    return client.post("/inspections/record/", json.dumps(payload), content_type="application/json")


def both_pass(ads_item, stall_item):
    return [
        {"check_item": ads_item.pk, "result": "pass", "occurrences": 0, "photos": []},
        {"check_item": stall_item.pk, "result": "pass", "occurrences": 0, "photos": []},
    ]


@pytest.fixture
def first(web, inspector, round_, market, ads_item, stall_item):
    """The first failure at the market (ads ×3, stall severe): two problems, open."""
    response = post_json(web(inspector), record_payload(round_, market, ads_item, stall_item))
    assert response.status_code == 201
    return response.json()


@pytest.fixture
def inspector_other(city):
    return _user("inspector_wu", Role.INSPECTOR, city.dept_office)


@pytest.fixture
def other_round(office, campaign, inspector_other, market):
    """Another round of the same campaign at the same market, by another inspector."""
    today = timezone.localdate()
    return services.round_create(
        user=office,
        campaign=campaign,
        name="第48周复查",
        kind="weekly",
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=1),
        inspectors=[inspector_other],
        points=[market],
    )


def test_the_done_screen_names_the_open_problem_a_failure_was_added_to(
    web, first, inspector, round_, market, ads_item, stall_item
):
    ads_problem = Problem.objects.get(check_item=ads_item)
    observations = [
        {"check_item": ads_item.pk, "result": "fail", "occurrences": 1, "photos": []},
        {"check_item": stall_item.pk, "result": "pass", "occurrences": 0, "photos": []},
    ]
    payload = record_payload(round_, market, ads_item, stall_item, observations=observations)
    response = post_json(web(inspector), payload)
    assert response.status_code == 201
    body = response.json()
    assert body["problems"] == []  # no new problem…
    sighting = ads_problem.sightings.get()
    assert body["sightings"] == [  # …but the failure is listed, with the problem it went to
        {
            "observation": sighting.pk,
            "check_item": "核心价值观公益广告不少于2处",
            "deduction": "0.50",
            "problem": ads_problem.pk,
            "description": ads_problem.description,
            "status": "待交办",
            "url": f"/inspections/problems/{ads_problem.pk}/",
        }
    ]
    # A retry of the same draft (same client_uuid) answers the same, and records nothing more.
    replay = post_json(web(inspector), payload)
    assert replay.status_code == 200 and replay.json()["sightings"] == body["sightings"]
    assert ads_problem.sightings.count() == 1


def test_the_done_screen_links_the_problem_only_when_the_recorder_may_read_it(
    web,
    first,
    other_round,
    inspector_other,
    market,
    ads_item,
    stall_item,
):
    ads_problem = Problem.objects.get(check_item=ads_item)
    observations = [
        {"check_item": ads_item.pk, "result": "fail", "occurrences": 2, "photos": []},
        {"check_item": stall_item.pk, "result": "severe", "occurrences": 1, "photos": []},
    ]
    payload = record_payload(other_round, market, ads_item, stall_item, observations=observations)
    body = post_json(web(inspector_other), payload).json()
    # Not an inspector of the round that opened them: named, not linked (its page would be a 404).
    assert [(s["problem"], s["url"]) for s in body["sightings"]] == [
        (ads_problem.pk, None),
        (Problem.objects.get(check_item=stall_item).pk, None),
    ]
    assert web(inspector_other).get(f"/inspections/problems/{ads_problem.pk}/").status_code == 404


def test_the_problem_history_and_the_api_show_each_sighting(
    web,
    api,
    first,
    other_round,
    inspector,
    inspector_other,
    office,
    round_,
    market,
    ads_item,
    stall_item,
):
    ads_problem = Problem.objects.get(check_item=ads_item)
    fail_ads = [
        {"check_item": ads_item.pk, "result": "fail", "occurrences": 1, "photos": []},
        {"check_item": stall_item.pk, "result": "pass", "occurrences": 0, "photos": []},
    ]
    post_json(web(inspector), record_payload(round_, market, ads_item, stall_item, observations=fail_ads))
    post_json(web(inspector_other), record_payload(other_round, market, ads_item, stall_item, observations=fail_ads))
    sightings = list(ads_problem.sightings.select_related("inspection__inspector").order_by("inspection__submitted_at"))
    assert [s.inspection.inspector for s in sightings] == [inspector, inspector_other]

    html = web(office).get(f"/inspections/problems/{ads_problem.pk}/").content.decode()
    timeline = html.split('data-testid="timeline"')[1]
    assert timeline.count('data-testid="sighting"') == 2
    for sighting in sightings:
        at = timezone.localtime(sighting.inspection.submitted_at).strftime("%Y-%m-%d %H:%M")
        assert f"{at} · 督查员 {sighting.inspection.inspector.get_full_name()}" in timeline
        link = f'href="/inspections/{sighting.inspection_id}/#observation-{sighting.pk}" data-testid="sighting-link"'
        assert link in timeline
    # The inspection page names the problem its failure was added to, and has the anchor.
    inspection_html = web(office).get(f"/inspections/{sightings[0].inspection_id}/").content.decode()
    assert f'id="observation-{sightings[0].pk}"' in inspection_html
    assert f'再次发现，记入原有问题 <a href="/inspections/problems/{ads_problem.pk}/">#{ads_problem.pk}</a>' in (
        inspection_html
    )

    data = api(office).get(f"/api/v1/problems/{ads_problem.pk}/").json()
    assert data["sightings"] == [
        {
            "observation": s.pk,
            "inspection": s.inspection_id,
            "inspector": s.inspection.inspector_id,
            "inspector_name": s.inspection.inspector.get_full_name(),
            "at": timezone.localtime(s.inspection.submitted_at).isoformat(),
        }
        for s in sightings
    ]
    listed = next(p for p in api(office).get("/api/v1/problems/").json()["results"] if p["id"] == ads_problem.pk)
    assert listed["sightings"] == data["sightings"]


def test_a_sighting_in_an_inspection_the_reader_cannot_open_is_plain_text(
    web,
    first,
    other_round,
    inspector,
    inspector_other,
    market,
    ads_item,
    stall_item,
):
    ads_problem = Problem.objects.get(check_item=ads_item)
    fail_ads = [
        {"check_item": ads_item.pk, "result": "fail", "occurrences": 1, "photos": []},
        {"check_item": stall_item.pk, "result": "pass", "occurrences": 0, "photos": []},
    ]
    post_json(web(inspector_other), record_payload(other_round, market, ads_item, stall_item, observations=fail_ads))
    sighting = ads_problem.sightings.get()
    # The first inspector reads the problem (its round) but not the other round's inspection.
    html = web(inspector).get(f"/inspections/problems/{ads_problem.pk}/").content.decode()
    timeline = html.split('data-testid="timeline"')[1]
    assert 'data-testid="sighting"' in timeline and f"督查记录 #{sighting.inspection_id}" in timeline
    assert f"/inspections/{sighting.inspection_id}/" not in timeline
    assert web(inspector).get(f"/inspections/{sighting.inspection_id}/").status_code == 404
