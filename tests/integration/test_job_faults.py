"""Faults of the broker and of a worker, against real services (issue 12 part 3): a Redis server
this test starts itself on a port of its own (6390–6399; the shared one is never touched) and real
`celery worker` subprocesses on it, sharing the PostgreSQL test database.

(a) Redis stopped during an inspection submission and a roll-up request: both answer 2xx, the runs
    wait queued; Redis back, one sweep sends them, the worker runs them, and the ranking equals a
    clean recompute.
(b) A worker SIGKILLed in the middle of a roll-up (it sleeps inside the roll-up's transaction after
    writing its rows: ROLLUP_TEST_DELAY_SECONDS, a test-only setting): nothing half-written is
    visible, the run stays `running`; a new worker starts, the sweeper (its clock moved past the
    time limit) queues the run again, and it completes with the rows of a clean run.
"""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.utils import timezone

from accountability.models import RollupVersion, UnitWeekScore
from accountability.rollup import JOB_NAME, METRICS, rollup_compute
from campaign.celery import app as celery_app
from campaign.choices import JobStatus
from campaign.jobs import jobs_sweep, stale_running_after
from campaign.models import JobRun
from inspections.models import Observation
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week
from tests.accountability.rollup_fixtures import WEEK
from tests.inspections.conftest import *  # noqa: F403 - points, check items, rounds
from tests.inspections.test_api_inspections import OBSERVED_AT, body_for
from tests.integration.conftest import ROOT, _test_database_url, wait_for

pytestmark = [pytest.mark.services]

THIS_WEEK = "{}-W{:02d}".format(*OBSERVED_AT.isocalendar()[:2])
PORTS = range(6390, 6400)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server binds
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 6390–6399 for the test's own Redis")


class OwnRedis:
    """A redis-server of this test's own, stopped and started again on the same port."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.RedisError:
                return False

        assert wait_for(answers, timeout=10, interval=0.05), "the test's own redis-server did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(own_redis, transactional_db, settings):
    """This process sends its tasks to the test's own Redis, on a queue of its own, not eagerly; its
    cache is on that Redis too, as in production (one REDIS_URL), so stopping it stops both."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": own_redis.url}}
    conf = celery_app.conf
    previous = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    queue = f"faults-{uuid.uuid4().hex[:8]}"

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.task_always_eager, conf.task_default_queue = own_redis.url, False, queue
    reset_pools()
    try:
        yield queue
    finally:
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = previous
        reset_pools()


@pytest.fixture
def workers(own_redis, broker):
    """start(**env) a `celery worker` subprocess on the test's Redis and queue; all killed at the end."""
    started: list[subprocess.Popen] = []
    logs = []
    (ROOT / "test-artifacts").mkdir(exist_ok=True)

    def start(**extra) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": own_redis.url,
            "CELERY_TASK_DEFAULT_QUEUE": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "1",
            **{key: str(value) for key, value in extra.items()},
        }
        log = open(ROOT / "test-artifacts" / f"celery-{broker}-{len(started)}.log", "w")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "campaign", "worker", "--pool=solo", "--loglevel=INFO"]
            + [
                "-Q",
                broker,
                "-n",
                f"{broker}-{len(started)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        path = ROOT / "test-artifacts" / f"celery-{broker}-{len(started) - 1}.log"
        assert wait_for(lambda: " ready." in path.read_text(), timeout=30), f"worker not ready; exit {process.poll()}"
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=20)
        for log in logs:
            log.close()


def snapshot(version) -> list[tuple]:
    return list(UnitWeekScore.objects.filter(rollup=version).order_by("unit_id").values_list("unit_id", *METRICS))


def finished(run: JobRun):
    def check():
        run.refresh_from_db()
        return run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    return check


def clean_recompute_equals(campaign, week) -> None:
    """The week's draft as the jobs left it equals a clean recompute (in this process, now)."""
    shown = RollupVersion.objects.get(campaign=campaign, week=week)
    before = snapshot(shown)
    again, outcome = rollup_compute(campaign=campaign, week=week)
    assert (again.pk, outcome) == (shown.pk, "recomputed")
    assert snapshot(again) == before and before


def test_redis_stopped_during_a_submission_and_a_roll_up_request(
    own_redis, workers, api, office, inspector, campaign, round_, market, ads_item, week45
):
    worker = workers()
    rollup_compute(campaign=campaign, week=THIS_WEEK)  # computed: a change to it queues a recompute
    own_redis.stop()
    started = time.monotonic()

    body = body_for(round_, market, [{"check_item": ads_item.pk, "result": "fail", "occurrences": 1}])
    response = api(inspector).post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 201, response.content
    assert Observation.objects.filter(inspection_id=response.json()["id"]).count() == 1
    response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 202, response.content
    assert time.monotonic() - started < 15, "a request waited too long on the broker that is down"

    runs = list(JobRun.objects.filter(name=JOB_NAME).order_by("pk"))
    assert [run.params["week"] for run in runs] == [THIS_WEEK, WEEK]
    for run in runs:
        assert run.status == JobStatus.QUEUED and run.dispatch_error and run.dispatched_at is None
    assert (
        api(office).get("/api/v1/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK}).json()["pending_recompute"]
    )

    own_redis.start()
    assert jobs_sweep()["dispatched"] == 2
    for run in runs:
        assert wait_for(finished(run), timeout=60), f"not run after Redis returned; worker exit {worker.poll()}"
        assert (run.status, run.attempts) == (JobStatus.SUCCEEDED, 1), run.error
    draft = RollupVersion.objects.get(campaign=campaign, week=THIS_WEEK)
    assert draft.scores.get(unit__name="甲区").observations == 1  # the inspection is counted
    assert (
        not api(office)
        .get("/api/v1/rankings/", {"campaign": campaign.pk, "week": THIS_WEEK})
        .json()["pending_recompute"]
    )
    clean_recompute_equals(campaign, THIS_WEEK)
    clean_recompute_equals(campaign, WEEK)
    assert RollupVersion.objects.get(campaign=campaign, week=WEEK).scores.get(unit__name="甲区").composite == 67.5


def test_a_worker_killed_mid_roll_up_is_retried_and_completes(workers, api, office, campaign, week45):
    first = workers(ROLLUP_TEST_DELAY_SECONDS=30)
    response = api(office).post("/api/v1/rollups/", {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 202, response.content
    run = JobRun.objects.get(pk=response.json()["id"])

    def running():
        run.refresh_from_db()
        return run.status == JobStatus.RUNNING

    assert wait_for(running, timeout=30), f"the worker did not take the run; exit {first.poll()}"
    time.sleep(1.5)  # inside the roll-up's transaction, its rows written, not committed
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == JobStatus.RUNNING and run.attempts == 1  # stuck, as the issue found it
    assert not RollupVersion.objects.filter(campaign=campaign, week=WEEK).exists()  # nothing half-written

    second = workers()
    summary = jobs_sweep(now=timezone.now() + stale_running_after() + datetime.timedelta(seconds=1))
    assert (summary["requeued"], summary["dispatched"]) == (1, 1), summary
    assert wait_for(finished(run), timeout=60), f"the retry did not finish; exit {second.poll()}"
    assert (run.status, run.attempts, run.error) == (JobStatus.SUCCEEDED, 2, "")
    version = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    assert version.scores.get(unit__name="甲区").composite == 67.5
    assert version.rows == UnitWeekScore.objects.filter(rollup=version).count() == 10
    clean_recompute_equals(campaign, WEEK)
