"""A job goes through Redis to a real worker process, which writes to the same PostgreSQL."""

import pytest
from django.db import transaction

from campaign import services
from campaign.choices import JobStatus, UnitKind
from campaign.models import JobRun
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.services]


def test_worker_round_trip_through_redis(celery_worker_process):
    services.unit_create(name="甲区", code="JIA", kind=UnitKind.DISTRICT)
    services.unit_create(name="乙区", code="YI", kind=UnitKind.DISTRICT)
    with transaction.atomic():
        run = services.worker_check_enqueue()
        # Not queued before the commit: a worker must never see a run that does not exist yet.
        assert JobRun.objects.get(pk=run.pk).status == JobStatus.QUEUED

    def finished():
        run.refresh_from_db()
        return run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    assert wait_for(finished), f"worker did not finish the run; exit code {celery_worker_process.poll()}"
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.result["units"] == 2
    assert run.worker
    assert run.started_at <= run.finished_at


def test_api_queues_the_check_for_a_worker(celery_worker_process, api, office):
    response = api(office).post("/api/v1/job-runs/worker-check/")
    assert response.status_code == 202
    run = JobRun.objects.get(pk=response.json()["id"])

    def finished():
        run.refresh_from_db()
        return run.status == JobStatus.SUCCEEDED

    assert wait_for(finished)
    assert run.result["campaigns"] == 0
