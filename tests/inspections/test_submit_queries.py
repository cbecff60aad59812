"""A submission costs the same queries whatever its number of observations: observations, charges,
photos and problems are written in batches (issue 10: 2.6–7.4 submissions/s through gunicorn, up
to 112 queries for 20 observations before). And the batched rules are still the rules: each
failure opens a problem, is another sighting of an open one, or rebounds a recently closed one;
photos go to the observation and to its problem; charges follow the item's or the point's
departments."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from inspections import services
from inspections.choices import ChargeKind, ProblemStatus
from inspections.models import Charge, Observation, Problem
from inspections.services import ObservationInput as Obs
from tests.accountability.test_workflow import photo

# The service: membership scope; the round's facts in one query (the user among its inspectors, the
# point among its points, an inspection with this client_uuid); check items and their departments;
# the inspection (in its savepoint); territorial chain; point departments; observations; photos;
# charges; open problems; closed ones (rebounds); problems; problem photos; plus the test's outer
# savepoint pair.
SERVICE_QUERIES = 18
# The API: the same, the round and the point of the body, and after the commit the roll-up refresh
# check (one query: is the week computed?). The answer reads nothing back: the service hands over
# what it wrote (24 → 21 queries).
API_QUERIES = 21


@pytest.fixture
def many_items(market_type, standard, city):
    """20 check items at 农贸市场; every third names its own department (市文明办)."""
    return [
        services.check_item_create(
            point_type=market_type,
            indicator=standard,
            text=f"细则{i:02d}",
            per_occurrence=Decimal("0.5"),
            cap=Decimal(2),
            departments=[city.dept_office] if i % 3 == 0 else [],
        )
        for i in range(20)
    ]


def lines(items, user, n):
    """n observations: every other one fails, the first failure with a photo."""
    return [
        Obs(
            item.pk,
            "fail" if i % 2 else "pass",
            occurrences=2 if i % 2 else 0,
            photos=[photo(user)] if i == 1 else [],
        )
        for i, item in enumerate(items[:n])
    ]


@pytest.mark.parametrize("n", [2, 20])
def test_a_submission_costs_the_same_queries_with_2_or_20_observations(
    n, inspector, round_, market, many_items, django_assert_num_queries
):
    observations = lines(many_items, inspector, n)
    with django_assert_num_queries(SERVICE_QUERIES):
        inspection, created = services.inspection_submit(
            user=inspector, round_=round_, point=market, observations=observations, client_uuid=uuid.uuid4()
        )
    assert created
    assert inspection.observations.count() == n
    assert Problem.objects.count() == n // 2
    assert Charge.objects.filter(observation__inspection=inspection).count() == 4 * n


@pytest.mark.parametrize("n", [2, 20])
def test_an_api_submission_costs_the_same_queries_with_2_or_20_observations(
    n, api, inspector, round_, market, many_items, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = api(inspector)
    body = {
        "round": round_.pk,
        "point": market.pk,
        "client_uuid": str(uuid.uuid4()),
        "latitude": "31.501",
        "longitude": "120.3",
        "observations": [
            {"check_item": o.check_item, "result": o.result, "occurrences": o.occurrences, "photos": o.photos}
            for o in lines(many_items, inspector, n)
        ],
    }
    with django_assert_num_queries(API_QUERIES), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()["observations"]) == n
    assert len(response.json()["problems"]) == n // 2


def test_the_answer_from_what_was_written_is_what_a_read_gives(
    api, inspector, round_, market, many_items, django_capture_on_commit_callbacks
):
    """The 201 answer is built from the rows just written, not read back: it must equal the record
    read afterwards (check-item order, charges, photos, problems; a sighting opens none)."""
    services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        observations=[Obs(many_items[3].pk, "fail", 1)],
        client_uuid=uuid.uuid4(),
    )
    client = api(inspector)
    observations = lines(many_items, inspector, 8)
    observations[5].photos = [photo(inspector), photo(inspector)]
    observations[6] = Obs(many_items[6].pk, "severe", note=" 严重 ")
    body = {
        "round": round_.pk,
        "point": market.pk,
        "client_uuid": str(uuid.uuid4()),
        "latitude": "31.501",
        "longitude": "120.3",
        "observations": [
            {
                "check_item": o.check_item,
                "result": o.result,
                "occurrences": o.occurrences,
                "photos": o.photos,
                "note": o.note,
            }
            for o in reversed(observations)
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/inspections/", body, format="json")
    assert answer.status_code == 201, answer.content
    read = client.get(f"/api/v1/inspections/{answer.json()['id']}/")
    assert read.status_code == 200
    assert answer.json() == read.json()
    assert [o["check_item"] for o in answer.json()["observations"]] == [i.pk for i in many_items[:8]]
    assert len(answer.json()["problems"]) == 4  # 5 failures, one of them a sighting of an open problem


def test_a_batch_mixes_new_problems_sightings_and_rebounds(inspector, round_, market, many_items, city, campaign):
    open_item, closed_item, new_item, pass_item = many_items[1], many_items[2], many_items[3], many_items[4]
    first, _ = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[Obs(open_item.pk, "fail", 1), Obs(closed_item.pk, "fail", 1)],
    )
    still_open = Problem.objects.get(check_item=open_item)
    closed = Problem.objects.get(check_item=closed_item)
    Problem.objects.filter(pk=closed.pk).update(
        status=ProblemStatus.CLOSED, closed_at=timezone.now() - datetime.timedelta(days=2)
    )
    on_open, on_new = photo(inspector), photo(inspector)
    second, _ = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[
            Obs(open_item.pk, "fail", 2, photos=[on_open]),
            Obs(closed_item.pk, "severe"),
            Obs(new_item.pk, "fail", 1, note=" 新问题 ", photos=[on_new]),
            Obs(pass_item.pk, "pass"),
        ],
    )
    by_item = {o.check_item_id: o for o in second.observations.all()}
    # The open problem: another sighting, with the new photo; no second problem for that item.
    assert Problem.objects.filter(check_item=open_item).count() == 1
    assert list(still_open.sightings.all()) == [by_item[open_item.pk]]
    assert list(still_open.photos.values_list("pk", flat=True)) == [on_open]
    # The one closed two days ago: a rebound, severe.
    rebound = Problem.objects.get(check_item=closed_item, status=ProblemStatus.NEW)
    assert (rebound.rebound_of, rebound.observation, rebound.severity) == (closed, by_item[closed_item.pk], "severe")
    # A new one, with its photo and the note in its description.
    new = Problem.objects.get(check_item=new_item)
    assert (new.observation, new.rebound_of, new.description) == (
        by_item[new_item.pk],
        None,
        "甲一农贸市场：细则03（新问题）",
    )
    assert list(new.photos.values_list("pk", flat=True)) == [on_new]
    assert (new.campaign, new.unit, new.found_at) == (campaign, city.community_jia1, by_item[new_item.pk].observed_at)
    # Photos belong to their own observation.
    assert list(by_item[open_item.pk].photos.values_list("pk", flat=True)) == [on_open]
    assert list(by_item[new_item.pk].photos.values_list("pk", flat=True)) == [on_new]
    assert not by_item[pass_item.pk].photos.exists()
    # No problem for the pass; nothing of the first inspection moved.
    assert not Problem.objects.filter(check_item=pass_item).exists()
    assert Observation.objects.filter(inspection=first).count() == 2


def test_charges_follow_the_items_or_the_points_departments(inspector, round_, market, many_items, city):
    own, points = many_items[0], many_items[1]  # 细则00 names 市文明办; 细则01 none: the point's 市城管局
    inspection, _ = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[Obs(own.pk, "pass"), Obs(points.pk, "fail", 1)],
    )
    charged = {
        item: sorted(
            (c.unit.name, c.kind)
            for c in Charge.objects.filter(observation__inspection=inspection, observation__check_item=item)
        )
        for item in (own, points)
    }
    territorial = [
        ("甲一社区", ChargeKind.TERRITORIAL),
        ("甲区", ChargeKind.TERRITORIAL),
        ("甲街道", ChargeKind.TERRITORIAL),
    ]
    assert charged[own] == sorted([*territorial, ("示范市文明办", ChargeKind.DEPARTMENT)])
    assert charged[points] == sorted([*territorial, ("示范市城市管理局", ChargeKind.DEPARTMENT)])
