"""Scheduled jobs of the rectification loop. Thin: each records a JobRun and calls one service."""

from celery import shared_task

from campaign.services import job_run_create, job_run_finish, job_run_start


@shared_task(name="accountability.reminders_send")
def reminders_send_task() -> dict:
    from .services import reminders_send

    run = job_run_start(run=job_run_create(name="reminders_send"))
    try:
        result = reminders_send()
    except Exception as exc:  # recorded on the run, then re-raised for Celery's own logs
        job_run_finish(run=run, error=repr(exc))
        raise
    job_run_finish(run=run, result=result)
    return result
