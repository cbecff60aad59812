"""Background jobs that are never lost or stuck: a transactional outbox and its sweeper.

The outbox. A job is a `JobRun` row written in the caller's own transaction (`job_run_create`);
`job_enqueue` hands it to the broker only once that transaction commits (`transaction.on_commit`
→ `job_dispatch`). The hand-over never raises: with the broker down, the request that queued the
job still succeeds, the run stays `queued` with the broker's error in `dispatch_error`, and the
sweeper sends it again. A transaction that rolls back sends nothing; a message the broker lost
still has its row.

The sweeper (`campaign.jobs_sweep`, every minute from beat — exactly one beat must run):
1. a `running` run started longer ago than the task time limit plus a margin has lost its worker
   (killed, out of memory, its machine gone): it is queued again, at most `JOB_MAX_ATTEMPTS`
   times in all, then failed for good with a Chinese error;
2. the apps' own states follow (`JOB_SWEEPERS`: the 周通报's files);
3. a `queued` run the broker never got, or got more than `JOB_REDISPATCH_MINUTES` ago without a
   worker taking it, is dispatched again.

A run may therefore be delivered more than once (the sweeper's re-dispatch, the broker's own
redelivery after the visibility timeout): every task takes its run with
`campaign.services.job_run_claim`, one conditional UPDATE, so only one delivery runs it.
Which task runs a run is the registry `JOB_TASKS` (settings): JobRun.name → Celery task name, and
the run's param the task takes (else the run's id) — the kernel names no higher app's code.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .celery import app
from .choices import JobStatus
from .models import JobRun

logger = logging.getLogger(__name__)

# A run just committed is being dispatched by its own request; the sweeper leaves it this long.
DISPATCH_GRACE = datetime.timedelta(minutes=1)
# Runs dispatched per sweep at most (the next sweep, a minute later, takes the rest).
SWEEP_BATCH = 500

LOST_REQUEUED = "上次执行时执行节点失联或超时，已重新排队。"
LOST_GIVEN_UP = "执行节点失联或超时：已执行 {attempts} 次仍未完成，不再自动重试；请检查后台任务节点后重新提交。"
LOST_NOT_RETRIED = "执行节点失联或超时；该任务不自动重试，到下次计划时间会再次运行。"
UNKNOWN_JOB = "未登记的任务类型“{name}”，无法派发。"


def _spec(name: str) -> dict | None:
    return settings.JOB_TASKS.get(name)


def _task(name: str):
    """The registered Celery task of this name (the apps' task modules imported if need be)."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def job_enqueue(run: JobRun) -> JobRun:
    """Hand a run just recorded to a worker once the caller's transaction commits (at once outside
    one). Never fails the caller: see job_dispatch."""
    transaction.on_commit(lambda: job_dispatch(run))
    return run


def job_dispatch(run: JobRun) -> bool:
    """Send a queued run's task to the broker; True when it was handed over. Never raises: a broker
    error (kombu's OperationalError when Redis is down) is logged and recorded on the run, which
    stays queued for the sweeper. With eager Celery (no broker) the task runs here, and a failure
    is the task's to record on its run; it is logged, not raised."""
    spec = _spec(run.name)
    if spec is None:
        logger.error("job run %s: no task registered for %r (JOB_TASKS)", run.pk, run.name)
        JobRun.objects.filter(pk=run.pk).update(dispatch_error=UNKNOWN_JOB.format(name=run.name))
        return False
    argument = run.params.get(spec["arg"]) if spec.get("arg") else run.pk
    try:
        _task(spec["task"]).apply_async(args=[argument])
    except Exception as exc:  # the broker's errors vary by transport; none may fail the caller
        if app.conf.task_always_eager:
            logger.exception("job run %s (%s) failed in-process", run.pk, run.name)
            return False
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning("job run %s (%s) not dispatched, left queued for the sweeper: %s", run.pk, run.name, error)
        JobRun.objects.filter(pk=run.pk).update(dispatch_error=error)
        return False
    JobRun.objects.filter(pk=run.pk).update(dispatched_at=timezone.now(), dispatch_error="")
    return True


def stale_running_after() -> datetime.timedelta:
    """How long a run may stay `running` before its worker is taken as lost: the hard time limit
    (a live worker kills the task by then) plus a margin."""
    limit = settings.CELERY_TASK_TIME_LIMIT or 0
    return datetime.timedelta(seconds=limit, minutes=settings.JOB_STALE_MARGIN_MINUTES)


def _requeue_lost(now: datetime.datetime) -> dict:
    """Running runs whose worker is gone: queued again while attempts remain (in SQL, two UPDATEs);
    failed for good past JOB_MAX_ATTEMPTS, or at once for a job without a registered task (a
    scheduled job, run again at its next time)."""
    stale = JobRun.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - stale_running_after())
    registered = list(settings.JOB_TASKS)
    most = settings.JOB_MAX_ATTEMPTS
    not_retried = stale.exclude(name__in=registered).update(
        status=JobStatus.FAILED, error=LOST_NOT_RETRIED, finished_at=now
    )
    given_up = stale.filter(name__in=registered, attempts__gte=most).update(
        status=JobStatus.FAILED, error=LOST_GIVEN_UP.format(attempts=most), finished_at=now
    )
    requeued = stale.filter(name__in=registered, attempts__lt=most).update(
        status=JobStatus.QUEUED,
        error=LOST_REQUEUED,
        started_at=None,
        worker="",
        progress=0,
        stage="",
        dispatched_at=None,
        dispatch_error="",
    )
    if requeued or given_up or not_retried:
        logger.warning("jobs sweep: %s lost runs queued again, %s failed for good", requeued, given_up + not_retried)
    return {"requeued": requeued, "failed": given_up + not_retried}


def _undispatched(now: datetime.datetime):
    """Queued runs to send (again): the broker refused them, never got them, or got them long ago
    and no worker took them."""
    late = now - datetime.timedelta(minutes=settings.JOB_REDISPATCH_MINUTES)
    return (
        JobRun.objects.filter(status=JobStatus.QUEUED, name__in=list(settings.JOB_TASKS))
        .filter(
            ~Q(dispatch_error="")
            | Q(dispatched_at__isnull=True, queued_at__lt=now - DISPATCH_GRACE)
            | Q(dispatched_at__lt=late)
        )
        .order_by("queued_at", "id")
        .only("pk", "name", "params")
    )


def jobs_sweep(*, now: datetime.datetime | None = None) -> dict:
    """One pass of the sweeper (see the module's docstring); returns what it did. `now` is the
    sweep's clock (tests move it on instead of waiting)."""
    now = now or timezone.now()
    summary = _requeue_lost(now)
    for path in settings.JOB_SWEEPERS:
        try:
            summary.update(import_string(path)(now=now))
        except Exception:  # one app's sweep must not stop the runs' dispatch below
            logger.exception("jobs sweep: %s failed", path)
    dispatched = failed = 0
    for run in _undispatched(now)[:SWEEP_BATCH]:
        if job_dispatch(run):
            dispatched += 1
            continue
        failed += 1
        if not app.conf.task_always_eager:
            break  # the broker is down: the next sweep tries again, without a timeout per run
    summary.update(dispatched=dispatched, dispatch_failed=failed)
    if dispatched or failed:
        logger.info("jobs sweep: %s", summary)
    return summary
