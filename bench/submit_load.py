"""Inspection submissions through a real gunicorn, with N concurrent clients for a bounded time.

`run_submit_load(clients=8, seconds=20, port=8710)` (what `manage.py bench` calls), on the city data
set of bench/rollup_bench.py in a PostgreSQL database whose name ends with `_bench`:

1. Uses the current week's big round of bench/pages_bench.py (`ensure_round_with_points`: 20,000
   points, created when missing and left in place like the rest of the data set) and its points
   that have no inspection yet.
2. Starts gunicorn as the Procfile's `web` line says (worker class, workers, threads; overridable)
   on 127.0.0.1:`port` with DEBUG=0, and gets an API token for the bench inspector (one login per
   run: the token endpoint is rate limited).
3. Floor: the same clients GET a tiny authenticated endpoint of the same server (a point type by
   id: token check and one row) — what the server, the network and the clients cost.
4. The load: each client POSTs `/api/v1/inspections/` as the phone does — a distinct point, a fresh
   client_uuid, one observation per check item of the point's type (10), about a quarter failing
   with occurrences and a note — on a new connection each time (a proxy talks to gunicorn that
   way), until the time is up; every request's latency is recorded.
5. Verifies: every acknowledged (201) submission is stored exactly once, with all its observations
   (by client_uuid); what was stored without an acknowledgement is reported; 20 acknowledged ones
   are sent again with the same client_uuid and must answer 200 with the same record and write
   nothing.
6. Counts the queries of one submission (in-process, through the same API view, commit hooks
   included) and the bare SQL floor of one submission's INSERTs (rolled back).
7. Stops gunicorn and deletes everything the run created (inspections, observations, charges,
   problems, sightings, queued roll-up runs, the token if it made it).

Standalone, for comparing worker classes and counts:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/submit_bench DEBUG=1 .venv/bin/python bench/submit_load.py \\
        --clients 8 --seconds 20 --port 8710 [--worker-class gthread --workers 2 --threads 4] [--runs 3]
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

CAMPAIGN_NAME = "基准测试创建活动"
INSPECTOR, PASSWORD = "bench_inspector", "bench-pass-2026"
RETRIES_CHECKED = 20
ROLLUP_JOB = "weekly_rollup"  # accountability.rollup.JOB_NAME
REQUEST_TIMEOUT_S = 60


def _guard() -> None:
    from django.db import connection

    if connection.vendor != "postgresql" or not str(connection.settings_dict.get("NAME", "")).endswith("_bench"):
        raise SystemExit(
            "refusing to run: the submission load needs PostgreSQL and a database whose name ends with _bench "
            f"(got {connection.vendor} {connection.settings_dict.get('NAME')!r})"
        )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _cpu_seconds(*, parent: int, database: str) -> tuple[float, float]:
    """CPU time used so far (user + system) by the children of `parent` (the gunicorn workers) and by
    the PostgreSQL backends connected to `database` — a measure that other load on the machine does
    not inflate, unlike wall-clock latencies."""
    tick = os.sysconf("SC_CLK_TCK")
    workers = backends = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[1]) == parent:
            workers += used
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            backends += used
    return workers, backends


def _elapsed(results: list[tuple[float, float, int, object]]) -> float:
    """From the first request's start to the last one's answer."""
    return max(s + latency for s, latency, _, _ in results) - min(s for s, _, _, _ in results)


# --- gunicorn -----------------------------------------------------------------------------------


def procfile_web() -> dict:
    """Worker class, workers and threads of the Procfile's `web` line (gunicorn's defaults else)."""
    line = next(
        (ln for ln in (BASE_DIR / "Procfile").read_text().splitlines() if ln.startswith("web:")), "web: gunicorn"
    )
    args = shlex.split(line.split(":", 1)[1])

    def value(*flags, default):
        for flag in flags:
            for index, arg in enumerate(args):
                if arg == flag and index + 1 < len(args):
                    return args[index + 1]
                if arg.startswith(flag + "="):
                    return arg.split("=", 1)[1]
        return default

    return {
        "worker_class": value("--worker-class", "-k", default="sync"),
        "workers": int(value("--workers", "-w", default="1")),
        "threads": int(value("--threads", default="1")),
    }


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += ":" + db["PASSWORD"]
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_gunicorn(
    *, port: int, worker_class: str, workers: int, threads: int, app: str = "campaign.wsgi"
) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [
        str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
        app,
        "--no-control-socket",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        worker_class,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "60",
    ]
    # gunicorn's log goes to a temporary file, not a pipe nobody reads while the load runs (a full
    # pipe would block the workers).
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_gunicorn
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
    )
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            log.close()
            raise RuntimeError(f"gunicorn exited: {output}")
        try:
            status, _ = _request(port, "GET", "/api/v1/", None, None)
            if status < 500:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    process.log.close()


# --- HTTP ---------------------------------------------------------------------------------------


def _request(port: int, method: str, path: str, body: dict | None, token: str | None) -> tuple[int, bytes]:
    """One request on a new connection (as a proxy talks to gunicorn)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        headers = {"Host": "localhost", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _token(port: int) -> str:
    status, content = _request(port, "POST", "/api/v1/auth/token/", {"username": INSPECTOR, "password": PASSWORD}, None)
    if status != 200:
        raise RuntimeError(f"token request answered {status}: {content[:300]!r}")
    return json.loads(content)["token"]


def _hammer(*, clients: int, seconds: float, make_request) -> list[tuple[float, float, int, object]]:
    """`clients` threads call make_request() until `seconds` are up; (start, latency, status, tag)."""
    results: list[tuple[float, float, int, object]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    deadline_box: list[float] = []

    def client() -> None:
        barrier.wait()
        deadline = deadline_box[0]
        mine = []
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status, tag = make_request()
            except Exception as exc:  # a refused or timed-out connection counts as a failed request
                status, tag = 0, exc
            mine.append((started, time.monotonic() - started, status, tag))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline_box.append(time.monotonic() + seconds)
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 10)
    return results


# --- data ---------------------------------------------------------------------------------------


def _plan(round_, limit: int) -> tuple[list[dict], dict[int, list[int]]]:
    """Points of the round without an inspection yet (with their type) and the check items by type."""
    from inspections.models import CheckItem, Inspection

    inspected = Inspection.objects.filter(round=round_).values("point_id")
    points = list(
        round_.points.exclude(pk__in=inspected)
        .order_by("pk")
        .values("pk", "point_type_id", "latitude", "longitude")[:limit]
    )
    items: dict[int, list[int]] = {}
    for point_type_id, pk in (
        CheckItem.objects.filter(active=True).order_by("order", "pk").values_list("point_type_id", "pk")
    ):
        items.setdefault(point_type_id, []).append(pk)
    return points, items


def _body(round_id: int, point: dict, items: dict[int, list[int]], rng: random.Random) -> dict:
    observations = []
    for item in items.get(point["point_type_id"], [])[:10]:
        draw = rng.random()
        if draw < 0.04:
            observations.append({"check_item": item, "result": "severe", "note": "严重：现场堆放垃圾"})
        elif draw < 0.25:
            observations.append(
                {"check_item": item, "result": "fail", "occurrences": rng.randint(1, 3), "note": "现场发现问题"}
            )
        else:
            observations.append({"check_item": item, "result": "pass"})
    latitude = float(point["latitude"] or 31.5) + rng.uniform(-0.0003, 0.0003)
    longitude = float(point["longitude"] or 120.3) + rng.uniform(-0.0003, 0.0003)
    return {
        "round": round_id,
        "point": point["pk"],
        "client_uuid": str(uuid.uuid4()),
        "latitude": f"{latitude:.6f}",
        "longitude": f"{longitude:.6f}",
        "observations": observations,
    }


def _submission_queries(round_, point: dict, items, token: str) -> tuple[int, str]:
    """The queries of one submission through the API view in this process (commit hooks included)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from rest_framework.test import APIClient

    body = _body(round_.pk, point, items, random.Random(1))
    client = APIClient()
    with (
        override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "localhost"]),
        CaptureQueriesContext(connection) as captured,
    ):
        response = client.post(
            "/api/v1/inspections/", body, format="json", HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost"
        )
    if response.status_code != 201:
        raise RuntimeError(f"in-process submission answered {response.status_code}: {response.content[:300]!r}")
    return len(captured.captured_queries), body["client_uuid"]


def _insert_floor(round_, point: dict, items, runs: int = 5) -> float:
    """Median time of the bare INSERTs of one submission (inspection, its observations, their charges
    and its problems, as multi-row INSERTs), in a transaction rolled back each time."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from campaign.models import Unit
    from inspections.models import Point

    inspector = get_user_model().objects.get(username=INSPECTOR)
    the_point = Point.objects.select_related("unit").get(pk=point["pk"])
    chain = [*the_point.unit.ancestor_ids, the_point.unit_id]
    departments = list(Unit.objects.filter(kind="department").values_list("pk", flat=True)[:1])
    item_ids = items.get(point["point_type_id"], [])[:10]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO inspections_inspection (client_uuid, submitted_at, far_from_point, note, "
                "correction_reason, current, inspector_id, round_id, point_id) "
                "VALUES (%s, now(), false, '', '', true, %s, %s, %s) RETURNING id",
                [str(uuid.uuid4()), inspector.pk, round_.pk, the_point.pk],
            )
            inspection_id = cursor.fetchone()[0]
            values = ", ".join(
                [
                    "(%s, %s, %s, (SELECT indicator_id FROM inspections_checkitem WHERE id = %s), %s, "
                    "'fail', 1, '', 0.5, 0.25, 0.75, now(), true, false)"
                ]
                * len(item_ids)
            )
            params = [p for item in item_ids for p in (inspection_id, round_.campaign_id, item, item, the_point.pk)]
            cursor.execute(
                "INSERT INTO inspections_observation (inspection_id, campaign_id, check_item_id, indicator_id, "
                "point_id, result, occurrences, note, deduction, loss, score, observed_at, current, deduction_given) "
                f"VALUES {values} RETURNING id",
                params,
            )
            observation_ids = [row[0] for row in cursor.fetchall()]
            charges = [(o, u, "territorial") for o in observation_ids for u in chain] + [
                (o, u, "department") for o in observation_ids for u in departments
            ]
            cursor.execute(
                "INSERT INTO inspections_charge (observation_id, unit_id, kind) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(charges)),
                [p for row in charges for p in row],
            )
            problems = observation_ids[:3]
            cursor.execute(
                "INSERT INTO inspections_problem (campaign_id, source, status, point_id, check_item_id, "
                "observation_id, unit_id, description, severity, deduction, found_at, created_by_id, created_at, "
                "rework_count, shelved, pending_request, request_reason, version) "
                "SELECT %s, 'inspection', 'new', o.point_id, o.check_item_id, o.id, %s, 'x', 'normal', 0.5, now(), "
                "%s, now(), 0, false, '', '', 0 FROM inspections_observation o WHERE o.id = ANY(%s)",
                [round_.campaign_id, the_point.unit_id, inspector.pk, problems],
            )
            transaction.set_rollback(True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _cleanup(uuids: list[str], started_at, token_created: bool) -> dict:
    """Delete what the run wrote: its inspections (observations, charges, sightings, problems) and
    the roll-up runs its submissions queued."""
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from campaign.models import JobRun
    from inspections.models import Inspection, Observation, Problem

    with transaction.atomic():
        inspections = Inspection.objects.filter(client_uuid__in=uuids)
        observations = Observation.objects.filter(inspection__in=inspections)
        Problem.sightings.through.objects.filter(observation__in=observations).delete()
        problems, _ = Problem.objects.filter(observation__in=observations).delete()
        rows, _ = observations.delete()  # their charges with them
        deleted, _ = inspections.delete()
        deleted += rows
        runs, _ = JobRun.objects.filter(
            name=ROLLUP_JOB, queued_at__gte=started_at, params__reason__startswith="督查记录"
        ).delete()
        if token_created:
            Token.objects.filter(user__username=INSPECTOR).delete()
    return {"deleted_rows": deleted, "deleted_problem_rows": problems, "deleted_job_runs": runs}


# --- the run ------------------------------------------------------------------------------------


def run_submit_load(
    *,
    clients: int,
    seconds: float,
    port: int,
    worker_class: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    floor_seconds: float | None = None,
    app: str = "campaign.wsgi",
) -> dict:
    """Submissions/s, p50/p95 and acknowledged = stored, through gunicorn as the Procfile runs it
    (or with the worker class/count given). See the module docstring."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench.pages_bench import ensure_round_with_points
    from campaign.models import Campaign
    from inspections.models import Inspection, Observation

    _guard()
    config = procfile_web()
    config.update(
        {k: v for k, v in {"worker_class": worker_class, "workers": workers, "threads": threads}.items() if v}
    )
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    round_ = ensure_round_with_points(campaign)
    points, items = _plan(round_, limit=int(seconds * 400) + 100)
    inspector = get_user_model().objects.get(username=INSPECTOR)
    token_created = not Token.objects.filter(user=inspector).exists()
    started_at = timezone.now()
    load_avg = os.getloadavg()[0]
    sent: dict[str, int] = {}  # client_uuid → observations sent
    bodies: dict[str, dict] = {}
    probe: list[str] = []
    try:
        process = start_gunicorn(port=port, app=app, **config)
        try:
            token = _token(port)
            floor_id = _first_point_type_id()

            def floor_request():
                status, _ = _request(port, "GET", f"/api/v1/point-types/{floor_id}/", None, token)
                return status, None

            floor_seconds = floor_seconds or min(seconds, 10.0)
            database = connection.settings_dict["NAME"]
            cpu_before = _cpu_seconds(parent=process.pid, database=database)
            floor = _hammer(clients=clients, seconds=floor_seconds, make_request=floor_request)
            cpu_floor = _cpu_seconds(parent=process.pid, database=database)
            next_point = itertools.count()
            lock = threading.Lock()

            def submit_request():
                with lock:
                    index = next(next_point)
                if index >= len(points):
                    raise RuntimeError("out of uninspected points in the round")
                body = _body(round_.pk, points[index], items, random.Random(index))
                with lock:
                    sent[body["client_uuid"]] = len(body["observations"])
                    bodies[body["client_uuid"]] = body
                status, content = _request(port, "POST", "/api/v1/inspections/", body, token)
                return status, (body["client_uuid"], content[:300] if status >= 300 else b"")

            load = _hammer(clients=clients, seconds=seconds, make_request=submit_request)
            cpu_load = _cpu_seconds(parent=process.pid, database=database)
            acked = [tag[0] for _, _, status, tag in load if status == 201]
            errors = [(status, tag) for _, _, status, tag in load if status != 201]
            # Replays: the same client_uuid again must answer 200 with the same record, writing nothing.
            replay_ok = 0
            for key in acked[:RETRIES_CHECKED]:
                status, content = _request(port, "POST", "/api/v1/inspections/", bodies[key], token)
                replay_ok += status == 200 and json.loads(content)["client_uuid"] == key
        finally:
            stop_gunicorn(process)
        connection.close()
        stored_rows = list(Inspection.objects.filter(client_uuid__in=list(sent)).values_list("client_uuid", "pk"))
        per_uuid: dict[str, list[int]] = {}
        for key, pk in stored_rows:
            per_uuid.setdefault(str(key), []).append(pk)
        observations = dict(
            Observation.objects.filter(inspection_id__in=[pk for _, pk in stored_rows])
            .values("inspection_id")
            .annotate(n=Count("id"))
            .values_list("inspection_id", "n")
        )
        acked_set = set(acked)
        doubled = sum(len(pks) > 1 for pks in per_uuid.values())
        incomplete = sum(observations.get(pk, 0) != sent[key] for key, pks in per_uuid.items() for pk in pks)
        lost = sum(key not in per_uuid for key in acked)
        stored_unacked = sum(key not in acked_set for key in per_uuid)
        spare = len(sent)
        queries, probe_uuid = _submission_queries(round_, points[spare], items, token)
        probe.append(probe_uuid)
        insert_floor = _insert_floor(round_, points[spare + 1], items)
    finally:
        cleanup = _cleanup([*sent, *probe], started_at, token_created)
    latencies = [latency for _, latency, status, _ in load if status == 201]
    floor_latencies = [latency for _, latency, status, _ in floor if status == 200]
    median = statistics.median(latencies) if latencies else float("nan")
    floor_median = statistics.median(floor_latencies) if floor_latencies else float("nan")
    floor_ok = max(1, len(floor_latencies))
    acked_n = max(1, len(acked))
    label = f"{config['worker_class']} ×{config['workers']}" + (
        f"×{config['threads']} threads" if config["threads"] > 1 else ""
    )
    return {
        "name": f"submissions {clients} clients",
        "median_s": round(median, 4),
        "p95_s": round(_percentile(latencies, 0.95), 4),
        "floor_s": round(floor_median, 4),
        "ratio": round(median / floor_median, 1) if floor_median else None,
        "rate_per_s": round(len(acked) / _elapsed(load), 1),
        "acked": len(acked),
        "stored": len(per_uuid),
        "lost": lost,
        "doubled": doubled,
        "queries": queries,
        # Details: the server, the floor's rate and p95, the bare INSERTs, errors, replays, cleanup.
        "server": f"gunicorn {label}",
        "clients": clients,
        "seconds": seconds,
        "floor_rate_per_s": round(len(floor_latencies) / _elapsed(floor), 1),
        "floor_p95_s": round(_percentile(floor_latencies, 0.95), 4),
        "insert_floor_s": round(insert_floor, 4),
        # CPU per request of the gunicorn workers and of their PostgreSQL backends (ms).
        "server_cpu_ms": round((cpu_load[0] - cpu_floor[0]) / acked_n * 1000, 1),
        "db_cpu_ms": round((cpu_load[1] - cpu_floor[1]) / acked_n * 1000, 1),
        "floor_server_cpu_ms": round((cpu_floor[0] - cpu_before[0]) / floor_ok * 1000, 1),
        "floor_db_cpu_ms": round((cpu_floor[1] - cpu_before[1]) / floor_ok * 1000, 1),
        "load_avg_1min": round(load_avg, 1),
        "stored_not_acked": stored_unacked,
        "incomplete": incomplete,
        "errors": len(errors),
        "error_samples": [f"{status}: {tag!r}"[:200] for status, tag in errors[:3]],
        "replays_checked": min(len(acked), RETRIES_CHECKED),
        "replays_ok": replay_ok,
        "observations_per_submission": round(statistics.mean(sent.values()), 1) if sent else 0,
        **cleanup,
    }


def _first_point_type_id() -> int:
    from inspections.models import PointType

    return PointType.objects.order_by("pk").values_list("pk", flat=True).first()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--worker-class", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--app", default="campaign.wsgi", help="the WSGI module gunicorn serves")
    args = parser.parse_args()
    for clients in args.clients:
        rows = [
            run_submit_load(
                clients=clients,
                seconds=args.seconds,
                port=args.port,
                worker_class=args.worker_class,
                workers=args.workers,
                threads=args.threads,
                app=args.app,
            )
            for _ in range(args.runs)
        ]
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        if len(rows) > 1:
            keys = ("rate_per_s", "median_s", "p95_s", "floor_s", "ratio")
            print(json.dumps({"median of runs": {k: statistics.median(r[k] for r in rows) for k in keys}}), flush=True)


if __name__ == "__main__":
    main()
