"""Background jobs of the shared kernel. Thin: each takes ids and calls one service."""

from celery import shared_task

from .services import worker_check_run


@shared_task(name="campaign.worker_check")
def worker_check_task(run_id: int) -> dict:
    """Prove a worker is alive and shares the database: it records itself on the run."""
    return worker_check_run(run_id=run_id)


@shared_task(name="campaign.import_job")
def import_job_task(run_id: int) -> dict:
    """A long import (more rows than IMPORT_JOB_ROWS) previewed or written off the request, with
    its progress on the run."""
    from .generic import import_job_run

    return import_job_run(run_id=run_id)


@shared_task(name="campaign.jobs_sweep", soft_time_limit=50, time_limit=55)
def jobs_sweep_task() -> dict:
    """Every minute from beat: re-dispatch the runs the broker never got, re-queue the runs whose
    worker died (campaign.jobs). Not itself recorded as a run: it would be 1,440 rows a day."""
    from .jobs import jobs_sweep

    return jobs_sweep()
