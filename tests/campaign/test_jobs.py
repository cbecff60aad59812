"""Jobs that are never lost or stuck (issue 12 part 3): the transactional outbox and its sweeper.

A broker that is down (every send raises kombu's OperationalError, as Redis stopped does) never
fails the request that queued a job: the request answers 2xx, its data is saved, the run waits
`queued` with the broker's error. The sweeper sends it again once the broker is back; a run left
`running` by a lost worker is queued again (a bounded number of times, then failed in Chinese); a
run delivered twice runs once. A week whose recompute is waiting shows 待重算. Celery is not eager
here while the broker is "down"; "up", the broker records what it was sent and the test delivers it.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from accountability.bulletin_store import JOB_NAME as BULLETIN_JOB
from accountability.choices import BulletinStatus
from accountability.models import BulletinFile, RollupVersion
from accountability.rollup import JOB_NAME as ROLLUP_JOB
from accountability.rollup import rollup_compute, rollup_pending, rollup_publish, rollup_run
from campaign.celery import app
from campaign.choices import JobStatus
from campaign.jobs import LOST_GIVEN_UP, LOST_NOT_RETRIED, LOST_REQUEUED, job_dispatch, jobs_sweep
from campaign.models import JobRun, Unit
from inspections.models import Inspection, Observation
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week
from tests.accountability.rollup_fixtures import WEEK
from tests.campaign.xlsx import make_xlsx, upload
from tests.inspections.conftest import *  # noqa: F403 - points, check items, rounds
from tests.inspections.test_api_inspections import OBSERVED_AT, body_for

TASKS = ("campaign.worker_check", "campaign.import_job", "accountability.rollup_week", "accountability.bulletin_render")
THIS_WEEK = "{}-W{:02d}".format(*OBSERVED_AT.isocalendar()[:2])


class Broker:
    """Stands in for Redis: down, every send raises kombu's OperationalError; up, every send is
    recorded, and deliver() runs what was sent, in this process, as a worker would."""

    def __init__(self):
        self.is_up = False
        self.sent: list[tuple[str, list]] = []

    def send(self, name):
        def apply_async(args=None, kwargs=None, **options):
            if not self.is_up:
                raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
            self.sent.append((name, list(args or [])))

        return apply_async

    def deliver(self) -> int:
        sent, self.sent = self.sent, []
        for name, args in sent:
            app.tasks[name].run(*args)
        return len(sent)


@pytest.fixture
def broker(monkeypatch):
    app.loader.import_default_modules()
    fake = Broker()
    for name in TASKS:
        monkeypatch.setattr(app.tasks[name], "apply_async", fake.send(name))
    app.conf.task_always_eager = False  # restored to eager by the suite's autouse fixture
    yield fake
    app.conf.task_always_eager = True


def rollup_runs():
    return JobRun.objects.filter(name=ROLLUP_JOB).order_by("pk")


# --- The request that queues a job succeeds with the broker down --------------------------------


def test_an_inspection_submitted_while_the_broker_is_down_answers_201_and_its_recompute_waits(
    api, web, office, inspector, campaign, round_, market, ads_item, broker, django_capture_on_commit_callbacks
):
    draft, _ = rollup_compute(campaign=campaign, week=THIS_WEEK)  # the week is computed: a change recomputes it
    assert draft.rows and not rollup_pending(version=draft)
    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        response = api(inspector).post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201, response.content
    assert Inspection.objects.count() == 1 and Observation.objects.count() == 1  # the data is saved
    run = rollup_runs().get()
    assert run.status == JobStatus.QUEUED and run.dispatched_at is None
    assert "OperationalError" in run.dispatch_error and "Connection refused" in run.dispatch_error
    assert run.params == {
        "campaign": campaign.pk,
        "week": THIS_WEEK,
        "reason": f"督查记录 #{Inspection.objects.get().pk}",
    }

    # Shown as 待重算 until the run completes: on the page and in the API.
    assert rollup_pending(version=draft)
    page = web(office).get("/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK})
    assert page.status_code == 200 and 'data-testid="pending-recompute"' in page.content.decode()
    data = api(office).get("/api/v1/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK}).json()
    assert data["pending_recompute"] is True
    unit_url = f"/rankings/units/{Unit.objects.get(name='甲区').pk}/"
    unit_page = web(office).get(unit_url, {"campaign": campaign.pk, "week": THIS_WEEK})
    assert 'data-testid="pending-recompute"' in unit_page.content.decode()

    # The broker is back: the sweeper sends it, a worker runs it, the week counts the inspection.
    broker.is_up = True
    assert jobs_sweep()["dispatched"] == 1
    assert broker.sent == [("accountability.rollup_week", [run.pk])]
    assert broker.deliver() == 1
    run.refresh_from_db()
    assert (run.status, run.attempts, run.dispatch_error) == (JobStatus.SUCCEEDED, 1, "")
    assert run.dispatched_at is not None
    draft.refresh_from_db()
    assert draft.scores.get(unit__name="甲区").observations == 1
    assert not rollup_pending(version=draft)
    assert (
        api(office).get("/api/v1/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK}).json()["pending_recompute"]
        is False
    )
    assert (
        'data-testid="pending-recompute"'
        not in web(office).get("/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK}).content.decode()
    )
    unit_page = web(office).get(unit_url, {"campaign": campaign.pk, "week": THIS_WEEK})
    assert 'data-testid="pending-recompute"' not in unit_page.content.decode()


def test_a_roll_up_posted_while_the_broker_is_down_answers_202_and_runs_after_it_returns(
    api, office, campaign, week45, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == JobStatus.QUEUED
    run = rollup_runs().get()
    assert "OperationalError" in run.dispatch_error

    # Still down: the sweep tries once and stops (no timeout per waiting run); nothing is lost.
    with django_capture_on_commit_callbacks(execute=True):
        api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": "2026-W44"}, format="json")
    assert jobs_sweep() == {"requeued": 0, "failed": 0, **_no_bulletins(), "dispatched": 0, "dispatch_failed": 1}
    assert set(rollup_runs().values_list("status", flat=True)) == {JobStatus.QUEUED}

    broker.is_up = True
    assert jobs_sweep()["dispatched"] == 2
    assert broker.deliver() == 2
    assert set(rollup_runs().values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    version = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    assert version.scores.get(unit__name="甲区").composite == 67.5  # the hand-computed week


def _no_bulletins() -> dict:
    # The apps' own sweeps (JOB_SWEEPERS): the 周通报's files and the notifications' pushes.
    return {"bulletin_requeued": 0, "bulletin_failed": 0, "bulletin_adopted": 0, "deliveries_redispatched": 0}


def test_a_worker_check_while_the_broker_is_down_redirects_and_the_list_says_it_waits(
    web, office, city, broker, django_capture_on_commit_callbacks
):
    client = web(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/worker-check/")
    assert response.status_code == 302
    run = JobRun.objects.get(name="worker_check")
    assert run.status == JobStatus.QUEUED and run.dispatch_error
    listing = client.get("/jobs/").content.decode()
    assert "未能交给任务队列，等待自动重发" in listing


def test_a_big_import_while_the_broker_is_down_answers_and_is_previewed_after_it_returns(
    web, office, city, broker, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_ROWS = 5
    header = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]
    rows = [["丙区", "", "BING", "区", "", "", "", ""]] + [
        [f"丙{i}街道", "", f"BING-{i}", "街道", "BING", "", "", ""] for i in range(1, 7)
    ]
    client = web(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/units/import/", {"file": upload("units.xlsx", make_xlsx([header, *rows]))})
    assert response.status_code in (200, 302)
    run = JobRun.objects.get(name="import")
    assert run.status == JobStatus.QUEUED and run.dispatch_error
    broker.is_up = True
    jobs_sweep()
    broker.deliver()
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED and run.result["dry_run"] is True
    assert not Unit.objects.filter(code__startswith="BING").exists()  # a preview writes nothing


def test_a_publish_while_the_broker_is_down_answers_and_its_bulletin_renders_later(
    api, office, campaign, week45, broker, django_capture_on_commit_callbacks
):
    rollup_compute(campaign=campaign, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(office).post("/api/v1/rankings/publish/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 200, response.content
    run = JobRun.objects.get(name=BULLETIN_JOB)
    assert run.status == JobStatus.QUEUED and run.dispatch_error
    assert set(BulletinFile.objects.values_list("status", flat=True)) == {BulletinStatus.QUEUED}
    broker.is_up = True
    jobs_sweep()
    assert broker.sent == [("accountability.bulletin_render", [run.params["version"]])]
    broker.deliver()
    assert set(BulletinFile.objects.values_list("status", flat=True)) <= {BulletinStatus.DONE, BulletinStatus.FAILED}
    assert BulletinFile.objects.get(kind="xlsx").status == BulletinStatus.DONE


# --- The sweeper ----------------------------------------------------------------------------------


def _run(name=ROLLUP_JOB, **fields) -> JobRun:
    return JobRun.objects.create(name=name, **fields)


def test_the_sweeper_sends_again_only_what_the_broker_never_got_or_got_long_ago(broker, campaign, settings):
    broker.is_up = True
    now = timezone.now()
    minutes = datetime.timedelta(minutes=1)
    params = {"campaign": campaign.pk, "week": WEEK}
    refused = _run(params=params, dispatch_error="OperationalError: down", queued_at=now)
    never = _run(params=params, queued_at=now - 2 * minutes)  # its request died before dispatching
    just_now = _run(params=params, queued_at=now)  # its request is dispatching it right now
    recent = _run(params=params, queued_at=now - 3 * minutes, dispatched_at=now - 3 * minutes)
    long_ago = _run(params=params, queued_at=now - 9 * minutes, dispatched_at=now - 6 * minutes)
    _run(params=params, status=JobStatus.SUCCEEDED, queued_at=now - 60 * minutes)
    _run(name="reminders_send", queued_at=now - 60 * minutes)  # no task to send it to
    assert settings.JOB_REDISPATCH_MINUTES == 5
    assert jobs_sweep(now=now)["dispatched"] == 3
    assert sorted(args[0] for _, args in broker.sent) == sorted([refused.pk, never.pk, long_ago.pk])
    for run in (refused, never, long_ago):
        run.refresh_from_db()
        assert run.dispatched_at is not None and run.dispatch_error == ""
    assert JobRun.objects.get(pk=just_now.pk).dispatched_at is None
    assert JobRun.objects.get(pk=recent.pk).dispatched_at == recent.dispatched_at


def test_a_run_whose_worker_was_lost_is_queued_again_and_completes(broker, campaign, week45, settings):
    broker.is_up = True
    now = timezone.now()
    lost = _run(
        params={"campaign": campaign.pk, "week": WEEK},
        status=JobStatus.RUNNING,
        attempts=1,
        worker="worker-1",
        queued_at=now - datetime.timedelta(minutes=40),
        dispatched_at=now - datetime.timedelta(minutes=40),
        started_at=now - datetime.timedelta(minutes=36),  # time limit 30 + margin 5 minutes ago
    )
    alive = _run(
        params={"campaign": campaign.pk, "week": "2026-W44"},
        status=JobStatus.RUNNING,
        attempts=1,
        started_at=now - datetime.timedelta(minutes=34),
    )
    summary = jobs_sweep(now=now)
    assert (summary["requeued"], summary["failed"], summary["dispatched"]) == (1, 0, 1)
    lost.refresh_from_db()
    assert (lost.status, lost.error, lost.worker, lost.started_at) == (JobStatus.QUEUED, LOST_REQUEUED, "", None)
    assert broker.sent == [("accountability.rollup_week", [lost.pk])]
    assert JobRun.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    broker.deliver()
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, lost.error) == (JobStatus.SUCCEEDED, 2, "")
    assert RollupVersion.objects.get(campaign=campaign, week=WEEK).scores.get(unit__name="甲区").composite == 67.5


def test_a_run_lost_at_its_last_attempt_fails_for_good_in_chinese(broker, campaign, settings):
    broker.is_up = True
    now = timezone.now()
    started = now - datetime.timedelta(hours=1)
    last = _run(
        params={"campaign": campaign.pk, "week": WEEK}, status=JobStatus.RUNNING, attempts=3, started_at=started
    )
    scheduled = _run(name="reminders_send", status=JobStatus.RUNNING, attempts=1, started_at=started)
    summary = jobs_sweep(now=now)
    assert (summary["requeued"], summary["failed"], summary["dispatched"]) == (0, 2, 0)
    last.refresh_from_db()
    assert (last.status, last.error, last.finished_at) == (JobStatus.FAILED, LOST_GIVEN_UP.format(attempts=3), now)
    assert "执行节点失联或超时" in last.error and "不再自动重试" in last.error
    assert JobRun.objects.get(pk=scheduled.pk).error == LOST_NOT_RETRIED
    assert broker.sent == []

    settings.JOB_MAX_ATTEMPTS = 5  # the bound is a setting
    again = _run(
        params={"campaign": campaign.pk, "week": WEEK}, status=JobStatus.RUNNING, attempts=3, started_at=started
    )
    assert jobs_sweep(now=now)["requeued"] == 1
    assert JobRun.objects.get(pk=again.pk).status == JobStatus.QUEUED


def test_a_run_delivered_twice_runs_once(campaign, week45):
    run = _run(params={"campaign": campaign.pk, "week": WEEK})
    first = rollup_run(run_id=run.pk)
    computed_at = RollupVersion.objects.get(campaign=campaign, week=WEEK).computed_at
    assert rollup_run(run_id=run.pk) == first  # the redelivery finds it done and leaves it
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobStatus.SUCCEEDED, 1)
    assert RollupVersion.objects.get(campaign=campaign, week=WEEK).computed_at == computed_at


def test_a_running_run_is_not_taken_by_a_second_delivery(campaign, week45):
    run = _run(params={"campaign": campaign.pk, "week": WEEK}, status=JobStatus.RUNNING, attempts=1)
    assert rollup_run(run_id=run.pk) == {}
    assert not RollupVersion.objects.exists()
    assert JobRun.objects.get(pk=run.pk).attempts == 1


def test_a_bulletin_render_lost_mid_render_is_rendered_again(
    broker, campaign, week45, office, django_capture_on_commit_callbacks
):
    rollup_compute(campaign=campaign, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        version = rollup_publish(campaign=campaign, week=WEEK, user=office)
    run = JobRun.objects.get(name=BULLETIN_JOB)
    # A worker took it and died while rendering.
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    JobRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, attempts=1, queued_at=long_ago, started_at=long_ago, dispatch_error=""
    )
    BulletinFile.objects.filter(version=version).update(status=BulletinStatus.RENDERING, progress=35)
    broker.is_up = True
    summary = jobs_sweep()
    assert (summary["requeued"], summary["bulletin_requeued"], summary["dispatched"]) == (1, 2, 1)
    assert set(BulletinFile.objects.values_list("status", flat=True)) == {BulletinStatus.QUEUED}
    broker.deliver()
    assert BulletinFile.objects.get(kind="xlsx").status == BulletinStatus.DONE
    run.refresh_from_db()
    assert run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) and run.attempts == 2


def test_bulletin_files_of_a_run_given_up_fail_and_orphans_get_a_new_run(
    broker, campaign, week45, office, django_capture_on_commit_callbacks
):
    rollup_compute(campaign=campaign, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        version = rollup_publish(campaign=campaign, week=WEEK, user=office)
    run = JobRun.objects.get(name=BULLETIN_JOB)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    JobRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, attempts=3, started_at=long_ago)
    BulletinFile.objects.filter(version=version).update(status=BulletinStatus.RENDERING)
    broker.is_up = True
    assert jobs_sweep()["bulletin_failed"] == 2
    assert set(BulletinFile.objects.values_list("status", flat=True)) == {BulletinStatus.FAILED}
    assert "重新生成" in BulletinFile.objects.first().error

    # Files left 排队中 with no live run (older data): the sweeper gives them a run and sends it.
    BulletinFile.objects.filter(version=version).update(status=BulletinStatus.QUEUED, run=None, queued_at=long_ago)
    summary = jobs_sweep()
    assert (summary["bulletin_adopted"], summary["dispatched"]) == (1, 1)
    broker.deliver()
    assert BulletinFile.objects.get(kind="xlsx").status == BulletinStatus.DONE


def test_dispatch_never_raises_even_for_an_unknown_job(db, broker):
    run = _run(name="unheard_of")
    assert job_dispatch(run) is False
    assert "未登记的任务类型" in JobRun.objects.get(pk=run.pk).dispatch_error


def test_the_beat_runs_the_sweeper_every_minute_and_the_worker_limits_are_sane(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "campaign.jobs_sweep")
    assert entry["schedule"] == 60.0
    assert "campaign.jobs_sweep" in app.tasks or app.loader.import_default_modules() or True
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    # Redis must not redeliver a task still running: the visibility timeout outlasts the hard limit.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
