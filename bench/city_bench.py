"""The whole benchmark at city scale, side by side in one run: `python manage.py bench`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chuangcheng_bench DEBUG=1 \\
        .venv/bin/python manage.py bench --scale city [--reuse] [--keep] [--runs 3] [--only 'rankings']

What it does, in order (each figure: median of `runs` runs, and a floor measured in the same run):

1. The data set: bench/rollup_bench.py's generator (INSERT … SELECT on the server, progress lines),
   at `city` (26 weeks; 16 × 16 × 12 units, 60 departments, 20,000 points) or `megacity` (104
   weeks, 100 departments: ≈ 2 M observations). `--reuse` keeps a data set of that scale.
2. roll-up: `rollup_compute` vs the set-based SQL computing the same figures (rows compared).
3. publish: `rollup_publish(..., bulletin=False)` on a fresh draft each run; floor = the SQL that
   publish cannot avoid (see `publish_floor`).
4. 周通报: `bulletin_render(version_id)` (PDF + workbook) and the download of each stored file.
5. every daily page (bench/pages_bench.py `page_targets`): p50/p95 over `requests` requests after
   one warm-up, the query count; floor = EXPLAIN ANALYZE execution time of the page's slowest
   statement.
6. submissions at 8 and 32 clients (bench/submit_load.py) and the 10,000-row points import
   (bench/points_import_bench.py), when those modules are there; a part that fails is recorded as
   `{"name", "error"}` and the run goes on.

Then `bench/results/latest.json`, a Markdown table printed and written into docs/benchmarks.md
between `<!-- bench:<scale> -->` markers, and the clean-up (unless `keep`): what the measurements
created (versions, cases, bulletin files and the temporary MEDIA_ROOT, job runs, the big round,
the bench's extra users and sessions). The generated data set itself stays in the `_bench`
database, for `--reuse`.

The guard (`check_database`) lives in the command, not in `measure`, so the test suite can run the
measuring code on its own test database at the hidden `smoke` scale.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shutil
import statistics
import tempfile
import time
import traceback
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
LATEST = RESULTS_DIR / "latest.json"
DOCS = BASE_DIR / "docs" / "benchmarks.md"

SCALES = {
    # Hidden: a tiny city for the test suite (writes into the current schema, no wipe).
    "smoke": {
        "weeks": 2,
        "scale": 1.0,
        "shape": {
            "districts": 2,
            "streets_per_district": 2,
            "communities_per_street": 2,
            "departments": 4,
            "points": 60,
        },
    },
    "city": {"weeks": 26, "scale": 1.0, "shape": {}},
    "megacity": {"weeks": 104, "scale": 1.0, "shape": {"departments": 100}},
}
PUBLIC_SCALES = ("city", "megacity")
FIGURE_KEYS = ("name", "median_s", "p95_s", "floor_s", "ratio", "queries")
PARTS = ("rollup", "publish", "bulletin", "pages", "submissions", "imports")
RENDER_NAME = "bulletin render (PDF + workbook)"
BULLETIN_NAMES = (RENDER_NAME, "bulletin PDF download", "bulletin XLSX download")
IMPORT_NAMES = ("points import 10k dry run", "points import 10k", "points re-import 10k (no change)")


class Refused(Exception):
    """The database is not one the bench may touch; the message is in Chinese and English."""


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- the guard -----------------------------------------------------------------------------------


def database_settings() -> dict:
    from django.conf import settings

    return settings.DATABASES["default"]


def check_database(settings_dict: dict | None = None) -> str:
    """The database's name when the bench may use it; Refused otherwise (SQLite, or a name that
    does not end in `_bench`). Reads the settings only: no connection is opened."""
    settings_dict = database_settings() if settings_dict is None else settings_dict
    engine, name = settings_dict.get("ENGINE", ""), str(settings_dict.get("NAME", ""))
    if "postgresql" not in engine:
        raise Refused(
            "基准测试只能在 PostgreSQL 上运行，当前数据库是 "
            f"{engine.rsplit('.', 1)[-1]}（{name}）。请设置 DATABASE_URL=postgres://…/<名称>_bench 后重试。\n"
            f"The bench runs on PostgreSQL only (got {engine!r}, {name!r}): "
            "set DATABASE_URL=postgres://…/<name>_bench."
        )
    if not name.endswith("_bench"):
        raise Refused(
            f"拒绝运行：数据库名 {name!r} 不以 _bench 结尾。基准测试会清空并重建它所用的数据库，"
            "只能使用专用的 *_bench 数据库。\n"
            f"Refusing to run: the database name {name!r} does not end in _bench. The bench wipes the "
            "database it uses, so it only runs on a dedicated *_bench database."
        )
    return name


def ensure_database() -> bool:
    """Create the `_bench` database when it does not exist yet (connecting to the server's
    maintenance database, as Django's test runner does). True when it was created."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            return False
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    log(f"created database {name}")
    return True


# --- figures -------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    """The 95th percentile, linear between the two nearest samples (for 10 samples: between the
    largest two)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = 0.95 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figure(
    name: str, times: list[float], floor_s: float | None, queries: int | None, *, with_p95: bool = False, **extra
) -> dict:
    median = statistics.median(times)
    row = {
        "name": name,
        "median_s": round(median, 4),
        "p95_s": round(p95(times), 4) if with_p95 else None,
        "floor_s": None if floor_s is None else round(floor_s, 4),
        "ratio": round(median / floor_s, 2) if floor_s else None,
        "queries": queries,
        "runs_s": [round(t, 4) for t in times],
    }
    row.update(extra)
    return row


def target_for(row: dict) -> tuple[str, bool | None]:
    """The issue's target for a figure, and whether this run met it (None: no target, or no data)."""
    name = row["name"]
    if row.get("error"):
        return "", None

    def at_most(key: str, limit: float) -> bool | None:
        value = row.get(key)
        return None if value is None else value <= limit

    if name == "roll-up":
        return "≤ 2 × set-based SQL; 0 units differ", (
            None if row.get("ratio") is None else row["ratio"] <= 2 and row.get("differing") == 0
        )
    if name == "publish":
        return "≤ 3 s", at_most("median_s", 3)
    if name.startswith("bulletin render"):
        return "once, at publish (a job)", None
    if name.startswith("bulletin") and "download" in name:
        return "p95 ≤ 100 ms", at_most("p95_s", 0.1)
    if name.startswith("page ") and "page_1_queries" in row:
        fast = at_most("p95_s", 0.3)
        flat = row["queries"] == row["page_1_queries"]
        return "p95 ≤ 300 ms; queries = page 1's", None if fast is None else fast and flat
    if name.startswith("page "):
        return "p95 ≤ 300 ms", at_most("p95_s", 0.3)
    if name.startswith("submissions"):
        if name.startswith("submissions 8 "):
            rate, p95_s = row.get("rate_per_s"), row.get("p95_s")
            if rate is None or p95_s is None:
                return "≥ 50/s, p95 ≤ 500 ms, 0 lost, 0 doubled", None
            met = rate >= 50 and p95_s <= 0.5 and not row.get("lost") and not row.get("doubled")
            return "≥ 50/s, p95 ≤ 500 ms, 0 lost, 0 doubled", met
        return "0 lost, 0 doubled", (None if row.get("lost") is None else not row["lost"] and not row.get("doubled"))
    if "import" in name:
        return "≤ 10 s", at_most("median_s", 10)
    return "", None


def wanted(only: str, *names: str) -> bool:
    return not only or any(only in name for name in names)


# --- the parts -----------------------------------------------------------------------------------


def reset_week(campaign, week: str) -> None:
    """Drop the week's versions and cases (cases first: their score link is DO_NOTHING)."""
    from accountability.models import AccountabilityCase, RollupVersion

    AccountabilityCase.objects.filter(campaign=campaign, week=week).delete()
    RollupVersion.objects.filter(campaign=campaign, week=week).delete()


def measure_rollup(campaign, week: str, runs: int) -> dict:
    from bench import rollup_bench

    reset_week(campaign, week)
    result = rollup_bench.benchmark(campaign=campaign, week=week, runs=runs, do_explain=False)
    check = result["check_against_rollup"]
    return figure(
        "roll-up",
        [r["seconds"] for r in result["runs"]],
        result["set_based"]["median_seconds"],
        int(statistics.median(r["queries"] for r in result["runs"])),
        floor_what="the set-based SQL computing every metric of every unit (median of 3)",
        rows=result["runs"][-1]["rows"],
        units_compared=check["units_compared"],
        differing=check["differing"],
        differing_examples=check["examples"],
        reads_floor_s=result["floor_total_median_seconds"],
        sql_median_s=result["rollup_median_sql_seconds"],
        phases=result["phases"],
    )


def publish_floor(version) -> float:
    """The SQL a publish cannot avoid, timed inside a transaction that is rolled back: the case
    candidates (the version's rows on the 黑榜, over the overdue threshold or with a rebound), the
    status UPDATE of the version, and one INSERT … SELECT writing as many case rows as the publish
    wrote. The evidence look-ups (problem ids per case) and the 黑榜 streak reads are not in it."""
    from django.db import connection, transaction

    from accountability.choices import BoardList
    from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
    from accountability.rollup import CASE_POPULATIONS

    scores, versions = UnitWeekScore._meta.db_table, RollupVersion._meta.db_table
    cases = AccountabilityCase._meta.db_table
    columns = [f.column for f in AccountabilityCase._meta.concrete_fields if not f.primary_key]
    copied = ", ".join("'0000-W00'" if c == "week" else c for c in columns)
    threshold = version.rules.get("overdue_case_threshold", 0)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, unit_id, board, overdue_open, rebounds FROM {scores} "
            f"WHERE rollup_id = %s AND population = ANY(%s) AND (board = %s OR overdue_open > %s OR rebounds > 0)",
            [version.pk, list(CASE_POPULATIONS), BoardList.BLACK, threshold],
        )
        cursor.fetchall()
        cursor.execute(
            f"UPDATE {versions} SET status = status, published_at = now() WHERE campaign_id = %s AND week = %s",
            [version.campaign_id, version.week],
        )
        cursor.execute(
            f"INSERT INTO {cases} ({', '.join(columns)}) SELECT {copied} FROM {cases} "
            f"WHERE campaign_id = %s AND week = %s",
            [version.campaign_id, version.week],
        )
        transaction.set_rollback(True)
    return time.perf_counter() - started


def measure_publish(campaign, week: str, runs: int, office) -> tuple[dict, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accountability.models import AccountabilityCase
    from accountability.rollup import rollup_compute, rollup_publish

    times, floors, queries, cases = [], [], [], 0
    version = None
    for n in range(1, runs + 1):
        reset_week(campaign, week)
        draft, _ = rollup_compute(campaign=campaign, week=week)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            version = rollup_publish(campaign=campaign, week=week, user=office, bulletin=False)
            times.append(time.perf_counter() - started)
        queries.append(len(captured.captured_queries))
        cases = AccountabilityCase.objects.filter(campaign=campaign, week=week).count()
        floors.append(publish_floor(version))
        log(f"  publish run {n}: {times[-1]:.3f}s, {queries[-1]} queries, {cases} cases; floor {floors[-1]:.3f}s")
    row = figure(
        "publish",
        times,
        statistics.median(floors),
        int(statistics.median(queries)),
        floor_what="case candidates SELECT + version status UPDATE + INSERT … SELECT of as many cases (rolled back)",
        cases=cases,
    )
    return row, version


def measure_bulletin(version, runs: int, only: str, office_username: str) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accountability.bulletin_store import bulletin_render
    from accountability.choices import BulletinStatus
    from accountability.models import BulletinFile

    rows = []
    render_name = RENDER_NAME
    result = {}
    # Rendered at least once (untimed when not asked for): the downloads and the print page need the files.
    times, sql_times, queries = [], [], []
    for n in range(1, (runs if wanted(only, render_name) else 1) + 1):
        # Queued again, as the office's 重新生成 does (untimed): a render does nothing once the files are made.
        BulletinFile.objects.filter(version=version).update(status=BulletinStatus.QUEUED, progress=0)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = bulletin_render(version.pk)
            times.append(time.perf_counter() - started)
        sql_times.append(sum(float(q["time"]) for q in captured.captured_queries))
        queries.append(len(captured.captured_queries))
        log(f"  bulletin render run {n}: {times[-1]:.2f}s, {queries[-1]} queries ({result})")
        if result.get("skipped"):
            raise RuntimeError(f"bulletin_render did not render: {result}")
    if wanted(only, render_name):
        rows.append(
            figure(
                render_name,
                times,
                statistics.median(sql_times),
                int(statistics.median(queries)),
                floor_what="the SQL time inside the render (sum of the statement times Django records)",
                result=result,
            )
        )
    client = Client()
    client.force_login(get_user_model().objects.get(username=office_username))
    for kind in ("pdf", "xlsx"):
        name = f"bulletin {kind.upper()} download"
        if not wanted(only, name):
            continue
        stored = BulletinFile.objects.filter(version=version, kind=kind).first()
        if stored is None or not stored.file:
            rows.append(
                {"name": name, "error": f"no stored {kind} file ({stored.error if stored else 'not rendered'})"}
            )
            continue
        url = reverse(f"bulletin-{kind}", args=[version.campaign_id, version.week])
        times, floors, queries, size = [], [], 0, 0
        for n in range(runs + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, HTTP_HOST="localhost")
                # Consuming the stream closes the file (the test client wraps it).
                body = b"".join(response.streaming_content) if response.streaming else response.content
                seconds = time.perf_counter() - started
            if response.status_code != 200:
                rows.append({"name": name, "error": f"HTTP {response.status_code}"})
                break
            started = time.perf_counter()
            with stored.file.storage.open(stored.file.name, "rb") as handle:
                size = len(handle.read())
            floor = time.perf_counter() - started
            if n:  # the first is the warm-up
                times.append(seconds)
                floors.append(floor)
                queries = len(captured.captured_queries)
        else:
            rows.append(
                figure(
                    name,
                    times,
                    statistics.median(floors),
                    queries,
                    with_p95=True,
                    floor_what="reading the stored file from storage",
                    bytes=len(body),
                    stored_bytes=size,
                )
            )
    return rows


def slowest_select(captured: list[dict]) -> dict | None:
    selects = [q for q in captured if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    return max(selects, key=lambda q: float(q["time"])) if selects else None


def explain_ms(statement: str) -> float | None:
    """EXPLAIN (ANALYZE) execution time of a statement as Django recorded it (psycopg interpolates
    the parameters into the recorded SQL), rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE) " + statement)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return next(
        (float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time")),
        None,
    )


def measure_pages(campaign, week: str, requests: int, only: str) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import pages_bench

    users = get_user_model().objects
    rows = []
    for target in pages_bench.page_targets(campaign, week):
        name = f"page {target['name']}"
        if not wanted(only, name):
            continue
        try:
            client = Client()
            client.force_login(users.get(username=target["user"]))
            started = time.perf_counter()
            response = client.get(target["url"], HTTP_HOST="localhost")
            warm = time.perf_counter() - started
            if response.status_code != 200:
                rows.append({"name": name, "error": f"HTTP {response.status_code} on {target['url']}"})
                log(f"  {name}: HTTP {response.status_code}")
                continue
            # A page far over target is timed fewer times, so one slow page cannot hold the run up.
            count = requests if warm < 3 else min(requests, 3)
            times, queries, slowest = [], [], None
            for _ in range(count):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    client.get(target["url"], HTTP_HOST="localhost")
                    times.append(time.perf_counter() - started)
                queries.append(len(captured.captured_queries))
                candidate = slowest_select(captured.captured_queries)
                if candidate and (slowest is None or float(candidate["time"]) > float(slowest["time"])):
                    slowest = candidate
            floor_ms = explain_ms(slowest["sql"]) if slowest else None
            row = figure(
                name,
                times,
                None if floor_ms is None else floor_ms / 1000,
                max(queries),
                with_p95=True,
                floor_what="EXPLAIN ANALYZE execution time of the page's slowest statement",
                url=target["url"],
                user=target["user"],
                requests=count,
                warm_up_s=round(warm, 4),
                queries_min=min(queries),
                slowest_sql=(slowest["sql"][:300] if slowest else ""),
                slowest_captured_s=(float(slowest["time"]) if slowest else None),
            )
        except Exception as exc:  # one broken page must not stop the run
            row = {"name": name, "error": f"{type(exc).__name__}: {exc}", "url": target["url"]}
        rows.append(row)
        log(
            f"  {name:<48} "
            + (
                row["error"]
                if row.get("error")
                else f"p50 {row['median_s'] * 1000:7.1f} ms  p95 {row['p95_s'] * 1000:7.1f} ms  "
                f"floor {0 if row['floor_s'] is None else row['floor_s'] * 1000:6.1f} ms  {row['queries']} q"
            )
        )
    return rows


def deep_pages(rows: list[dict]) -> None:
    """A deep page of a list carries its page 1's query count (they must be equal)."""
    by_name = {row["name"]: row for row in rows if not row.get("error")}
    for row in by_name.values():
        name = row["name"]
        if name.startswith("page problems page ") and name != "page problems page 1":
            first = by_name.get("page problems page 1")
        elif name == "page API problems deep":
            first = by_name.get("page API problems")
        else:
            continue
        if first is not None:
            row["page_1_queries"] = first["queries"]


def external(label: str, call) -> list[dict]:
    """A figure measured by another module; its absence or failure is recorded, not raised."""
    try:
        result = call()
    except Exception as exc:
        log(f"  {label}: {type(exc).__name__}: {exc}")
        return [{"name": label, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=3)}]
    rows = result if isinstance(result, list) else [result]
    for row in rows:
        row.setdefault("name", label)
        for key in FIGURE_KEYS:
            row.setdefault(key, None)
    return rows


def measure_submissions(clients: int, seconds: float, port: int) -> list[dict]:
    def call():
        from bench import submit_load

        return submit_load.run_submit_load(clients=clients, seconds=seconds, port=port)

    return external(f"submissions {clients} clients", call)


def measure_imports(runs: int) -> list[dict]:
    def call():
        from bench import points_import_bench

        return points_import_bench.run_points_import(rows=10_000, runs=runs)

    return external("points import 10k", call)


# --- the run -------------------------------------------------------------------------------------


def prepare_data(scale: str, *, reuse: bool, reset: bool = True, vacuum: bool = True):
    """The data set of that scale: (campaign, week, meta, generation seconds or None)."""
    from bench import rollup_bench

    spec = SCALES[scale]
    found = rollup_bench.existing(weeks=spec["weeks"], scale=spec["scale"], shape=spec["shape"]) if reuse else None
    if found:
        from django.core.management import call_command

        campaign, meta = found
        log(f"reusing the {scale} data set generated {meta['generated_at']} ({meta['seconds']}s); migrating it")
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)  # migrations added since it was generated
        log(f"  migrate: {time.perf_counter() - started:.1f}s")
        return campaign, meta["last_week"], meta, None
    campaign, week, seconds = rollup_bench.generate(
        weeks=spec["weeks"], scale=spec["scale"], shape=spec["shape"], reset=reset, vacuum=vacuum
    )
    meta = json.loads(campaign.description[len(rollup_bench.MARKER) :])
    return campaign, week, meta, seconds


def measure(
    campaign,
    week: str,
    *,
    runs: int = 3,
    requests: int = 10,
    only: str = "",
    parts: tuple[str, ...] = PARTS,
    port: int = 8720,
    submit_seconds: float = 20.0,
    into: list[dict] | None = None,
) -> list[dict]:
    """Every figure (appended to `into` as they come, when given), in an order where each part finds what it needs: the roll-up, then publish
    (which leaves the week published), the 周通报 of that version, the pages (rankings read the
    published version; the 周通报 page finds its files), then submissions and the import."""
    from django.contrib.auth import get_user_model

    from bench import pages_bench

    office = get_user_model().objects.get(username=pages_bench.OFFICE)
    figures: list[dict] = [] if into is None else into
    version = None
    if "rollup" in parts and wanted(only, "roll-up"):
        log("roll-up vs the set-based SQL")
        figures += external("roll-up", lambda: measure_rollup(campaign, week, runs))
    page_names: list[str] = []
    if "pages" in parts:
        try:
            page_names = [f"page {t['name']}" for t in pages_bench.page_targets(campaign, week)]
        except Exception as exc:  # e.g. a URLconf that does not import: recorded, the rest goes on
            figures.append({"name": "pages", "error": f"{type(exc).__name__}: {exc}"})
            log(f"  pages: {type(exc).__name__}: {exc}")
    pages_wanted = [name for name in page_names if wanted(only, name)]
    bulletin_wanted = "bulletin" in parts and wanted(only, *BULLETIN_NAMES)
    # The 周通报 and the ranking pages need the week published: once, when publish is not measured.
    needs_version = bulletin_wanted or bool(pages_wanted)
    if "publish" in parts and (wanted(only, "publish") or needs_version):
        log("publish")
        try:
            row, version = measure_publish(campaign, week, runs if wanted(only, "publish") else 1, office)
            if wanted(only, "publish"):
                figures.append(row)
        except Exception as exc:
            figures.append({"name": "publish", "error": f"{type(exc).__name__}: {exc}"})
    if version is not None and (bulletin_wanted or any("周通报" in name for name in pages_wanted)):
        log("周通报")
        rows = external("bulletin", lambda: measure_bulletin(version, runs, only, pages_bench.OFFICE))
        figures += [row for row in rows if wanted(only, row["name"]) or row.get("error")]
    if pages_wanted:
        log("pages")

        def pages():
            pages_bench.ensure_round_with_points(campaign)
            rows = measure_pages(campaign, week, requests, only)
            deep_pages(rows)
            return rows

        figures += external("pages", pages)
    if "submissions" in parts:
        for n, clients in enumerate((8, 32)):
            if wanted(only, f"submissions {clients} clients"):
                log(f"submissions, {clients} clients")
                figures += measure_submissions(clients, submit_seconds, port + n)
    if "imports" in parts and wanted(only, *IMPORT_NAMES):
        log("points import")
        figures += [row for row in measure_imports(runs) if wanted(only, row["name"]) or row.get("error")]
    return finish(figures)


def finish(figures: list[dict]) -> list[dict]:
    """Every figure with the common keys, its target and whether it was met."""
    for row in figures:
        for key in FIGURE_KEYS:
            row.setdefault(key, None)
        row["target"], row["met"] = target_for(row)
    return figures


class Snapshot:
    """What exists before the measurements, so the clean-up removes only what they created."""

    def __init__(self, campaign):
        from django.contrib.auth import get_user_model

        from bench import pages_bench
        from campaign.models import JobRun
        from inspections.models import InspectionRound

        self.campaign = campaign
        self.max_user = get_user_model().objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.max_job = JobRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.big_round = InspectionRound.objects.filter(campaign=campaign, name=pages_bench.BIG_ROUND_NAME).exists()
        self.started = datetime.datetime.now(datetime.UTC)


def clean_up(snapshot: Snapshot, media_root: str | None) -> list[str]:
    """Remove what the measurements created; each step on its own, so one failure leaves a note."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    from accountability.models import AccountabilityCase, RollupVersion
    from bench import pages_bench
    from campaign.models import JobRun
    from inspections.models import Inspection, InspectionRound

    campaign, notes = snapshot.campaign, []

    def step(label, action):
        try:
            action()
        except Exception as exc:
            notes.append(f"{label}: {type(exc).__name__}: {exc}")
            log(f"  clean-up of {label} failed: {exc}")

    def big_round():
        if snapshot.big_round:
            return
        for round_ in InspectionRound.objects.filter(campaign=campaign, name=pages_bench.BIG_ROUND_NAME):
            Inspection.objects.filter(round=round_).delete()
            round_.delete()

    step("cases", lambda: AccountabilityCase.objects.filter(campaign=campaign).delete())
    step("versions and bulletin files", lambda: RollupVersion.objects.filter(campaign=campaign).delete())
    step("job runs", lambda: JobRun.objects.filter(pk__gt=snapshot.max_job).delete())
    step("the big round", big_round)
    step("sessions", lambda: Session.objects.filter(expire_date__gt=snapshot.started).delete())
    step("users", lambda: get_user_model().objects.filter(pk__gt=snapshot.max_user).delete())
    if media_root:
        step("temporary MEDIA_ROOT", lambda: shutil.rmtree(media_root))
    log("cleaned up what the measurements created" + (f" ({len(notes)} failed)" if notes else ""))
    return notes


def machine() -> dict:
    from bench import rollup_bench

    info = rollup_bench.machine()
    info["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    return info


def fmt_seconds(value) -> str:
    if value is None:
        return "–"
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def markdown(figures: list[dict]) -> str:
    lines = [
        "| name | median | p95 | floor | ratio | queries | target | met? |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in figures:
        if row.get("error"):
            lines.append(f"| {row['name']} | error: {str(row['error'])[:120]} | | | | | | |")
            continue
        extra = ""
        if row.get("rate_per_s") is not None:
            extra = f" ({row['rate_per_s']:.1f}/s, lost {row.get('lost')}, doubled {row.get('doubled')})"
        if row["name"] == "roll-up":
            extra = (
                f" ({row.get('differing')} of {row.get('units_compared')} units differ; "
                f"read floor {fmt_seconds(row.get('reads_floor_s'))})"
            )
        met = {True: "yes", False: "**no**", None: "–"}[row.get("met")]
        lines.append(
            f"| {row['name']}{extra} | {fmt_seconds(row['median_s'])} | {fmt_seconds(row.get('p95_s'))} | "
            f"{fmt_seconds(row.get('floor_s'))} | {'–' if row.get('ratio') is None else row['ratio']} | "
            f"{'–' if row.get('queries') is None else row['queries']} | {row.get('target') or ''} | {met} |"
        )
    return "\n".join(lines)


def write_docs_block(scale: str, text: str, path: Path = DOCS) -> None:
    """Replace what stands between `<!-- bench:<scale> -->` and `<!-- /bench:<scale> -->` (the
    markers are appended to the file when missing)."""
    start, end = f"<!-- bench:{scale} -->", f"<!-- /bench:{scale} -->"
    content = path.read_text(encoding="utf-8")
    block = f"{start}\n{text}\n{end}"
    if start in content and end in content:
        before, rest = content.split(start, 1)
        after = rest.split(end, 1)[1]
        content = before + block + after
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content, encoding="utf-8")


def run(
    *,
    scale: str,
    reuse: bool = False,
    keep: bool = False,
    runs: int = 3,
    only: str = "",
    requests: int = 10,
    port: int = 8720,
    submit_seconds: float = 20.0,
    write: bool = True,
) -> dict:
    """The whole bench (the guard is the caller's): data set, figures, results, clean-up."""
    from django.test.utils import override_settings

    from bench import rollup_bench

    started_at = datetime.datetime.now(rollup_bench.SHANGHAI)
    campaign, week, meta, generation = prepare_data(scale, reuse=reuse)
    counts = rollup_bench.row_counts()
    log(
        "data set: "
        + ", ".join(
            f"{name.split('_', 1)[-1]} {counts[name]:,}"
            for name in sorted(counts)
            if counts[name] and name.startswith(("inspections_", "campaign_unit"))
        )
    )
    # Left over by an earlier --keep run: versions and cases of the campaign.
    from accountability.models import AccountabilityCase, RollupVersion

    AccountabilityCase.objects.filter(campaign=campaign).delete()
    RollupVersion.objects.filter(campaign=campaign).delete()
    snapshot = Snapshot(campaign)
    media_root = tempfile.mkdtemp(prefix="bench-media-")
    load_before = os.getloadavg()
    figures: list[dict] = []
    try:
        with override_settings(MEDIA_ROOT=media_root):
            measure(
                campaign,
                week,
                runs=runs,
                requests=requests,
                only=only,
                port=port,
                submit_seconds=submit_seconds,
                into=figures,
            )
    except Exception as exc:  # recorded after what was measured; the results are still written
        log(f"the measurements stopped: {type(exc).__name__}: {exc}")
        figures.append({"name": "bench", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        finish(figures)
    finally:
        if keep:
            log(f"--keep: the measurements' objects stay; bulletin files in {media_root}")
        else:
            clean_up(snapshot, media_root)
    results = {
        "machine": machine() | {"loadavg_before": [round(x, 2) for x in load_before]},
        "data_set": {
            "scale": scale,
            "week": week,
            "meta": meta,
            "generation_seconds_this_run": None if generation is None else round(generation, 1),
            "row_counts": counts,
        },
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.datetime.now(rollup_bench.SHANGHAI).isoformat(timespec="seconds"),
        "options": {"runs": runs, "requests": requests, "only": only, "reuse": reuse, "keep": keep},
        "figures": figures,
    }
    table = markdown(figures)
    print(table, flush=True)
    if write:
        # latest.json is always a whole run; a subset goes to its own (ignored) file.
        out = LATEST if not only else RESULTS_DIR / f"bench-{scale}-only-{started_at:%Y%m%d-%H%M%S}.json"
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        log(f"results → {out.relative_to(BASE_DIR)}")
        if not only:
            load = results["machine"]["loadavg_1_5_15"]
            header = (
                f"`manage.py bench --scale {scale}`, {results['started_at']} (Asia/Shanghai), week {week}, "
                f"{runs} runs each, pages {requests} requests after a warm-up; load average before "
                f"{results['machine']['loadavg_before'][0]}, after {load[0]} on {results['machine']['nproc']} cores."
            )
            write_docs_block(scale, header + "\n\n" + table)
            log(f"table → {DOCS.relative_to(BASE_DIR)} (block bench:{scale})")
    return results
