"""The weekly roll-up against real services: queued through Redis to a worker process that writes
to the same PostgreSQL; and two roll-ups or two publishes of one week racing on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accountability.choices import VersionStatus
from accountability.models import RollupVersion, UnitWeekScore
from accountability.rollup import rollup_compute, rollup_publish
from campaign.choices import JobStatus
from campaign.models import JobRun
from campaign.weeks import week_label
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week
from tests.accountability.rollup_fixtures import WEEK
from tests.inspections.conftest import *  # noqa: F403 - points, check items and a round
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.services]


def test_api_queues_the_week_for_a_worker(transactional_db, celery_worker_process, api, office, campaign, week45):
    response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 202 and response.json()["status"] == JobStatus.QUEUED
    run = JobRun.objects.get(pk=response.json()["id"])

    def finished():
        run.refresh_from_db()
        return run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    assert wait_for(finished), f"worker did not finish; exit code {celery_worker_process.poll()}"
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.worker and run.result["rows"] == 10
    version = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    assert UnitWeekScore.objects.get(rollup=version, unit__name="甲区").composite == 67.5


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except ValidationError as exc:
            outcomes[index] = "; ".join(exc.messages)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_roll_ups_of_one_week_make_one_draft(transactional_db, campaign, week45):
    outcomes = _race([lambda: rollup_compute(campaign=campaign, week=WEEK)] * 2)
    assert outcomes == ["ok", "ok"]
    version = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    assert version.status == VersionStatus.DRAFT and version.number == 1
    assert UnitWeekScore.objects.filter(rollup=version).count() == version.rows == 10


def test_two_publishes_of_one_week_publish_once(transactional_db, campaign, week45, office):
    rollup_compute(campaign=campaign, week=WEEK)
    outcomes = _race([lambda: rollup_publish(campaign=campaign, week=WEEK, user=office)] * 2)
    assert sorted(outcomes, key=str) == sorted(["ok", f"{week_label(WEEK)}没有待发布的草稿：请先计算该周。"], key=str)
    assert RollupVersion.objects.get(campaign=campaign, week=WEEK).status == VersionStatus.PUBLISHED
