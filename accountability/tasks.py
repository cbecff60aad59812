"""Scheduled jobs of the rectification loop. Thin: each records a JobRun and calls one service."""

from celery import shared_task

from campaign.services import job_run_create, job_run_finish, job_run_start


@shared_task(name="accountability.reminders_send")
def reminders_send_task() -> dict:
    from .commitments import commitment_reminders_send
    from .services import reminders_send

    run = job_run_start(run=job_run_create(name="reminders_send"))
    try:
        result = reminders_send()
        commitments = commitment_reminders_send()  # 承诺事项: due soon or overdue, keyed once
        result["sent"] += commitments["sent"]
        result["commitments_due_soon"] = commitments["due_soon"]
        result["commitments_overdue"] = commitments["overdue"]
    except Exception as exc:  # recorded on the run, then re-raised for Celery's own logs
        job_run_finish(run=run, error=repr(exc))
        raise
    job_run_finish(run=run, result=result)
    return result


@shared_task(name="accountability.rollup_week")
def rollup_week_task(run_id: int) -> dict:
    """Compute one (campaign, week) recorded on a queued JobRun."""
    from .rollup import rollup_run

    return rollup_run(run_id=run_id)


@shared_task(name="accountability.rollup_last_week")
def rollup_last_week_task() -> list[int]:
    """Monday's beat: queue the week just ended for every active campaign."""
    import datetime

    from django.utils import timezone

    from campaign.models import Campaign
    from inspections.selectors import iso_week_of

    from .rollup import rollup_enqueue

    week = iso_week_of(timezone.localdate() - datetime.timedelta(days=7))
    return [
        rollup_enqueue(campaign=campaign, week=week, reason="每周一自动计算").pk
        for campaign in Campaign.objects.filter(active=True)
    ]


@shared_task(name="accountability.bulletin_render")
def bulletin_render_task(version_id: int) -> dict:
    """Render and store a published version's 周通报 (PDF and workbook), recorded as a JobRun."""
    from .bulletin_store import bulletin_render

    return bulletin_render(version_id)


@shared_task(name="accountability.meeting_render")
def meeting_render_task(run_id: int) -> dict:
    """Render and store a 调度会材料's PDF (accountability.meeting), taken once per run."""
    from .meeting import meeting_render

    return meeting_render(run_id)


@shared_task(name="accountability.housekeeping")
def housekeeping_task() -> dict:
    """Nightly: ended push records past DELIVERY_KEEP_DAYS, superseded weeks' stored files."""
    from .housekeeping import housekeeping_run

    return housekeeping_run()


@shared_task(name="accountability.deliver_notification")
def deliver_notification(delivery_id: int) -> str:
    """One attempt at one push (e-mail, SMS, a group robot); a failure is recorded on the delivery
    and the next attempt queued with backoff (accountability.notify.delivery_send)."""
    from .notify import delivery_send

    return delivery_send(delivery_id=delivery_id)
