#!/usr/bin/env python
"""The weekly roll-up at city scale, measured against a hand-written SQL floor.

    createdb -h 127.0.0.1 -U postgres chuangcheng_bench        # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chuangcheng_bench DEBUG=1 \\
        .venv/bin/python bench/rollup_bench.py [--weeks 26] [--scale 1.0] [--reuse] [--runs 3] [--no-explain]

1. Generates a city at the roadmap's scale (scale 1.0): 16 districts × 16 streets × 12 communities,
   60 departments, 20,000 points, one campaign with its indicator system and check items, one weekly
   round per week and, for each of the last N ISO weeks (Asia/Shanghai), one inspection with one
   observation per point, charged exactly as `inspections.services.charged_units` charges, and one
   problem per failing observation with a workflow history. Reference data goes through the
   services (or bulk_create where the brief allows it); the facts are written with
   INSERT … SELECT on the server. Without --reuse the database is wiped (DROP SCHEMA public) and
   migrated first; with --reuse an existing data set of the same --weeks/--scale is kept.
2. Times `accountability.rollup.rollup_compute` for the last week --runs times (the first creates
   the draft, the others recompute it in place), with the number of SQL queries; then the "floor":
   hand-written SQL that only reads what the roll-up must read (observation aggregates per charged
   unit, problem counts per located unit); and, for reference, a set-based hand-written equivalent
   of the whole metric set, checked row by row against what the roll-up wrote.

Refuses to run unless the database is PostgreSQL and its name ends with `_bench`.
Results are printed and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMPAIGN_NAME = "基准测试创建活动"
MARKER = "bench:"
RESULTS_DIR = BASE_DIR / "bench" / "results"

DISTRICTS, STREETS_PER_DISTRICT, COMMUNITIES_PER_STREET = 16, 16, 12
DEPARTMENTS, POINTS = 60, 20_000
TOP_INDICATORS, GROUPS_PER_TOP, LEAVES_PER_GROUP = 10, 3, 4  # 10 × 3 × 4 = 120 leaves
ITEMS_PER_POINT_TYPE = 10
FACT_CHUNK_WEEKS = 13  # the facts are written a quarter at a time, with a progress line each


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def guard() -> None:
    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql" or not str(db.get("NAME", "")).endswith("_bench"):
        sys.exit(
            f"refusing to run: the database must be PostgreSQL and its name end with _bench "
            f"(got vendor={connection.vendor!r}, name={db.get('NAME')!r})"
        )


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(statement: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def table(model_label: str) -> str:
    return apps.get_model(model_label)._meta.db_table


def m2m_table(model_label: str, field: str) -> tuple[str, str, str]:
    """(table, this side's column, the unit column) of a model's M2M to Unit."""
    remote = apps.get_model(model_label)._meta.get_field(field).remote_field.through._meta
    own = next(f.column for f in remote.fields if f.is_relation and f.related_model._meta.label == model_label)
    other = next(f.column for f in remote.fields if f.is_relation and f.related_model._meta.label != model_label)
    return remote.db_table, own, other


# --- weeks ---------------------------------------------------------------------------------------


def last_complete_monday(today: datetime.date | None = None) -> datetime.date:
    today = today or datetime.datetime.now(SHANGHAI).date()
    return today - datetime.timedelta(days=today.weekday() + 7)


def iso_week(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- generation ----------------------------------------------------------------------------------


def reset_database() -> None:
    log("wiping the bench database (DROP SCHEMA public CASCADE) and migrating")
    sql("DROP SCHEMA public CASCADE")
    sql("CREATE SCHEMA public")
    call_command("migrate", verbosity=0, interactive=False)


def make_units(
    communities_per_street: int,
    *,
    districts: int = DISTRICTS,
    streets_per_district: int = STREETS_PER_DISTRICT,
    departments: int = DEPARTMENTS,
) -> dict:
    """Districts → streets → communities, and top-level departments. bulk_create, then the path
    and depth exactly as campaign.services._set_path writes them: parent's path + own id + "/",
    depth = path.count("/") - 2."""
    from campaign.choices import UnitKind
    from campaign.models import Unit

    unit_table = table("campaign.Unit")

    def fix_paths(kind: str, top: bool) -> None:
        if top:
            sql(
                f"UPDATE {unit_table} SET path = '/' || id || '/', depth = 0 WHERE kind = %s",
                [kind],
            )
        else:
            sql(
                f"UPDATE {unit_table} c SET path = p.path || c.id || '/', depth = p.depth + 1 "
                f"FROM {unit_table} p WHERE c.parent_id = p.id AND c.kind = %s",
                [kind],
            )

    n_districts, n_departments = districts, departments
    districts = Unit.objects.bulk_create(
        [
            Unit(name=f"基准市第{d}区", short_name=f"第{d}区", code=f"B-D{d:02d}", kind=UnitKind.DISTRICT)
            for d in range(1, n_districts + 1)
        ]
    )
    fix_paths(UnitKind.DISTRICT, top=True)
    streets = Unit.objects.bulk_create(
        [
            Unit(
                name=f"{district.short_name}第{s}街道",
                short_name=f"{district.short_name}{s}街",
                code=f"{district.code}-S{s:02d}",
                kind=UnitKind.STREET,
                parent=district,
            )
            for district in districts
            for s in range(1, streets_per_district + 1)
        ]
    )
    fix_paths(UnitKind.STREET, top=False)
    Unit.objects.bulk_create(
        [
            Unit(
                name=f"{street.name}第{c}社区",
                short_name=f"{street.short_name}{c}社区",
                code=f"{street.code}-C{c:02d}",
                kind=UnitKind.COMMUNITY,
                parent=street,
            )
            for street in streets
            for c in range(1, communities_per_street + 1)
        ],
        batch_size=1000,
    )
    fix_paths(UnitKind.COMMUNITY, top=False)
    departments = Unit.objects.bulk_create(
        [
            Unit(name=f"基准市第{n}部门", short_name=f"市{n}局", code=f"B-DEPT{n:02d}", kind=UnitKind.DEPARTMENT)
            for n in range(1, n_departments + 1)
        ]
    )
    fix_paths(UnitKind.DEPARTMENT, top=True)
    return {"departments": [d.pk for d in departments]}


def make_reference(
    *,
    weeks: int,
    scale: float,
    mondays: list[datetime.date],
    districts: int = DISTRICTS,
    streets_per_district: int = STREETS_PER_DISTRICT,
    communities_per_street: int | None = None,
    departments: int = DEPARTMENTS,
    points: int | None = None,
) -> dict:
    """Users, units, campaign, indicators, check items, rounds and points. `scale` scales the
    communities per street and the points unless they are given."""
    import random

    from campaign.choices import CampaignLevel, Role
    from campaign.services import campaign_create, membership_create, user_create
    from indicators.choices import Method, SystemKind
    from indicators.models import Indicator
    from indicators.services import indicator_create, indicator_system_create, indicator_system_rebuild
    from inspections.choices import RoundKind, Severity
    from inspections.models import CheckItem, InspectionRound, PointType

    rng = random.Random(20261123)
    if communities_per_street is None:
        communities_per_street = max(1, round(COMMUNITIES_PER_STREET * scale))
    if points is None:
        points = max(1, round(POINTS * scale))

    office = user_create(username="bench_office", password="bench-pass-2026", full_name="基准创建办")
    membership_create(user=office, role=Role.OFFICE)
    inspector = user_create(username="bench_inspector", password="bench-pass-2026", full_name="基准督查员")
    membership_create(user=inspector, role=Role.INSPECTOR)

    units = make_units(
        communities_per_street, districts=districts, streets_per_district=streets_per_district, departments=departments
    )
    departments = units["departments"]

    # Point types: the 26 loaded by migration; each gets 1–2 default supervising departments.
    point_types = list(PointType.objects.order_by("order", "id"))
    assert len(point_types) == 26, f"expected the 26 migrated point types, found {len(point_types)}"
    for point_type in point_types:
        point_type.departments.set(rng.sample(departments, rng.choice((1, 2))))

    campaign = campaign_create(
        name=CAMPAIGN_NAME,
        level=CampaignLevel.NATIONAL,
        start_date=mondays[0] - datetime.timedelta(days=28),
        evaluation_date=mondays[-1] + datetime.timedelta(days=365),
        description="",
    )

    system = indicator_system_create(campaign=campaign, name="基准测评体系", kind=SystemKind.NATIONAL, year=2026)
    leaves = []
    for t in range(1, TOP_INDICATORS + 1):
        top = indicator_create(
            system=system,
            level=1,
            code=f"{t}",
            title=f"测评项目{t}",
            weight=Decimal(10),
            methods=[Method.FIELD],
            order=t,
            rebuild=False,
        )
        for g in range(1, GROUPS_PER_TOP + 1):
            group = indicator_create(
                system=system, level=2, parent=top, code=f"{t}.{g}", title=f"指标{t}.{g}", order=g, rebuild=False
            )
            for s in range(1, LEAVES_PER_GROUP + 1):
                leaves.append(
                    indicator_create(
                        system=system,
                        level=4,
                        parent=group,
                        code=f"{t}.{g}.{s}",
                        title=f"测评标准{t}.{g}.{s}",
                        text=f"测评标准{t}.{g}.{s}的内容",
                        order=s,
                        rebuild=False,
                    )
                )
    indicator_system_rebuild(system=system)
    assert Indicator.objects.filter(system=system, is_leaf=True).count() == len(leaves)

    items = []
    for point_type in point_types:
        for n in range(1, ITEMS_PER_POINT_TYPE + 1):
            per = rng.choice((Decimal("0.5"), Decimal("1"), Decimal("2")))
            items.append(
                CheckItem(
                    point_type=point_type,
                    indicator=rng.choice(leaves),
                    text=f"{point_type.name}检查内容{n}",
                    counting_rule="每处扣分，扣完为止",
                    per_occurrence=per,
                    cap=per * rng.choice((2, 3, 4, 5)),
                    severity=Severity.SEVERE if rng.random() < 0.1 else Severity.NORMAL,
                    order=n,
                )
            )
    items = CheckItem.objects.bulk_create(items)
    through = CheckItem.departments.through
    item_departments = []
    for item in items:
        if rng.random() < 0.3:  # the rest fall back to the point's departments
            item_departments += [
                through(checkitem_id=item.pk, unit_id=u) for u in rng.sample(departments, rng.choice((1, 1, 2)))
            ]
    through.objects.bulk_create(item_departments)

    rounds = InspectionRound.objects.bulk_create(
        [
            InspectionRound(
                campaign=campaign,
                name=f"{iso_week(monday)} 周评比",
                kind=RoundKind.WEEKLY,
                start_date=monday,
                end_date=monday + datetime.timedelta(days=6),
                created_by=office,
            )
            for monday in mondays
        ]
    )
    InspectionRound.inspectors.through.objects.bulk_create(
        [InspectionRound.inspectors.through(inspectionround_id=r.pk, user_id=inspector.pk) for r in rounds]
    )
    make_points(points=points, departments=departments)
    return {
        "campaign": campaign,
        "office": office,
        "inspector": inspector,
        "rounds": rounds,
        "points": points,
    }


def make_points(*, points: int, departments: list[int]) -> None:
    """Points spread over the communities (round robin over a shuffled order), one of the 26 types
    each; 1–2 supervising departments: the type's first default one, and half the time another."""
    from campaign.choices import UnitKind

    point_table, unit_table = table("inspections.Point"), table("campaign.Unit")
    pt_table, pt_own, pt_unit = m2m_table("inspections.PointType", "departments")
    pd_table, pd_own, pd_unit = m2m_table("inspections.Point", "departments")
    sql("SELECT setseed(0.2026)")
    sql(
        f"""
        INSERT INTO {point_table}
            (name, point_type_id, address, latitude, longitude, unit_id, sponsor_id,
             contact_name, contact_phone, key_point, active)
        SELECT '基准点位' || g, pt.ids[1 + (g * 7) %% array_length(pt.ids, 1)],
               '基准市某路' || g || '号', NULL, NULL,
               c.ids[1 + (g * 7919) %% array_length(c.ids, 1)], NULL, '', '', g %% 10 = 0, true
        FROM generate_series(1, %s) g,
             (SELECT array_agg(id ORDER BY id) ids FROM inspections_pointtype) pt,
             (SELECT array_agg(id ORDER BY id) ids FROM {unit_table} WHERE kind = %s) c
        """,
        [points, UnitKind.COMMUNITY],
    )
    sql(
        f"""
        INSERT INTO {pd_table} ({pd_own}, {pd_unit})
        SELECT p.id, (SELECT min(d.{pt_unit}) FROM {pt_table} d WHERE d.{pt_own} = p.point_type_id)
        FROM {point_table} p
        """
    )
    sql(
        f"""
        INSERT INTO {pd_table} ({pd_own}, {pd_unit})
        SELECT x.id, x.dept FROM (
            SELECT p.id, (%s::int[])[1 + floor(random() * %s)::int] AS dept, random() AS r
            FROM {point_table} p
        ) x
        WHERE x.r < 0.5
          AND NOT EXISTS (SELECT 1 FROM {pd_table} e WHERE e.{pd_own} = x.id AND e.{pd_unit} = x.dept)
        """,
        [departments, len(departments)],
    )


def make_facts(*, campaign, office, inspector, rounds, mondays) -> None:
    """Inspections, observations, charges, problems, problem events — server side, INSERT … SELECT.

    One inspection with one observation per point per week; the check item drawn among the
    point type's; 8 % 不合格 (1–3 occurrences), 2 % 严重不合格; deduction, loss and score exactly
    as inspections.scoring.score_observation computes them. Charges exactly as charged_units: the
    community, street and district of the point (territorial), then the check item's departments,
    else the point's (department)."""
    unit_table = table("campaign.Unit")
    point_table = table("inspections.Point")
    item_table = table("inspections.CheckItem")
    inspection_table = table("inspections.Inspection")
    observation_table = table("inspections.Observation")
    charge_table = table("inspections.Charge")
    problem_table = table("inspections.Problem")
    event_table = table("accountability.ProblemEvent")
    ci_table, ci_own, ci_unit = m2m_table("inspections.CheckItem", "departments")
    pd_table, pd_own, pd_unit = m2m_table("inspections.Point", "departments")

    def step(label: str, statement: str, params=None) -> None:
        started = time.perf_counter()
        rows = sql(statement, params)
        log(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.1f}s")

    def chunked_step(label: str, statement: str, params: dict) -> None:
        """The same INSERT … SELECT over the staged facts, FACT_CHUNK_WEEKS weeks at a time (ids
        are in week order, so the rows land in the same order), with a progress line per chunk."""
        started, total = time.perf_counter(), 0
        per_chunk = FACT_CHUNK_WEEKS * len(bench_points_ids)
        last = base + len(rounds) * len(bench_points_ids)
        for lo in range(base, last, per_chunk):
            hi = min(lo + per_chunk, last)
            total += sql(statement.format(chunk="f.id > %(lo)s AND f.id <= %(hi)s"), params | {"lo": lo, "hi": hi})
            log(
                f"  {label}: {total:,} rows, weeks {(lo - base) // len(bench_points_ids) + 1}–"
                f"{(hi - base) // len(bench_points_ids)} of {len(rounds)}, {time.perf_counter() - started:.1f}s"
            )

    # Bulk load: no per-row FK triggers (the rows are built from existing ids); the constraints
    # themselves stay. The big fact tables' plain indexes (those backing no constraint) are dropped
    # for the load and built again after it, which is several times faster than maintaining them
    # row by row; the unique ones backing constraints stay and check every row.
    sql("SET session_replication_role = replica")
    # (Not the problems': the rebound step below reads them through their indexes.)
    fact_tables = [inspection_table, observation_table, charge_table]
    plain_indexes = fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))
        ORDER BY i.tablename, i.indexname
        """,
        [fact_tables],
    )
    for name, _definition in plain_indexes:
        sql(f'DROP INDEX "{name}"')
    sql("SET max_parallel_workers_per_gather = 0")  # one plan, so setseed makes the draws repeatable
    sql("SELECT setseed(0.1123)")
    sql("DROP TABLE IF EXISTS bench_weeks, bench_items, bench_points, bench_facts")
    sql("CREATE TEMP TABLE bench_weeks (idx int, round_id int, start_ts timestamptz)")
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_weeks VALUES (%s, %s, %s)",
            [
                (i, r.pk, datetime.datetime.combine(monday, datetime.time.min, tzinfo=SHANGHAI))
                for i, (r, monday) in enumerate(zip(rounds, mondays, strict=True))
            ],
        )
    sql(
        f"""
        CREATE TEMP TABLE bench_items AS
        SELECT point_type_id, id AS check_item_id, indicator_id, per_occurrence, cap, severity, text,
               (row_number() OVER w - 1)::int AS idx, count(*) OVER (PARTITION BY point_type_id) AS n
        FROM {item_table} WHERE active WINDOW w AS (PARTITION BY point_type_id ORDER BY id)
        """
    )
    sql(
        f"""
        CREATE TEMP TABLE bench_points AS
        SELECT p.id AS point_id, p.name AS point_name, p.point_type_id, p.unit_id AS community_id,
               split_part(u.path, '/', 2)::int AS district_id, split_part(u.path, '/', 3)::int AS street_id,
               (SELECT min(d.{pd_unit}) FROM {pd_table} d WHERE d.{pd_own} = p.id) AS first_department
        FROM {point_table} p JOIN {unit_table} u ON u.id = p.unit_id
        """
    )
    base = fetch(f"SELECT coalesce(max(id), 0) FROM {observation_table}")[0][0]
    base = max(base, fetch(f"SELECT coalesce(max(id), 0) FROM {inspection_table}")[0][0])
    step(
        "staging draws",
        """
        CREATE TEMP TABLE bench_facts AS
        WITH draws AS MATERIALIZED (
            SELECT w.idx AS week_idx, w.round_id, w.start_ts, bp.*,
                   random() AS r_item, random() AS r_result, random() AS r_occ, random() AS r_day,
                   random() AS r_hour, random() AS r_status, random() AS r_handler, random() AS r_close,
                   random() AS r_event
            FROM bench_weeks w CROSS JOIN bench_points bp
        ), judged AS (
            SELECT d.*, i.check_item_id, i.indicator_id, i.per_occurrence, i.cap, i.severity AS item_severity,
                   i.text AS item_text,
                   CASE WHEN d.r_result < 0.02 THEN 'severe' WHEN d.r_result < 0.10 THEN 'fail' ELSE 'pass' END
                       AS result,
                   CASE WHEN d.r_result < 0.10 THEN 1 + floor(d.r_occ * 3)::int ELSE 0 END AS occurrences,
                   d.start_ts + make_interval(days => floor(d.r_day * 7)::int)
                       + interval '8 hours' + d.r_hour * interval '10 hours' AS observed_at
            FROM draws d JOIN bench_items i
              ON i.point_type_id = d.point_type_id AND i.idx = floor(d.r_item * i.n)::int
        ), scored AS (
            SELECT j.*,
                   CASE j.result WHEN 'pass' THEN 0::numeric WHEN 'severe' THEN j.cap
                        ELSE least(j.occurrences * j.per_occurrence, j.cap) END AS deduction
            FROM judged j
        )
        SELECT %s + row_number() OVER (ORDER BY week_idx, observed_at, point_id) AS id, s.*,
               round(s.deduction / s.cap, 6) AS loss, 1 - round(s.deduction / s.cap, 6) AS score
        FROM scored s
        """,
        [base],
    )
    sql("CREATE INDEX ON bench_facts (id)")
    sql("ANALYZE bench_facts")
    bench_points_ids = fetch("SELECT point_id FROM bench_points")
    chunked_step(
        "inspections",
        f"""
        INSERT INTO {inspection_table}
            (id, round_id, point_id, inspector_id, client_uuid, started_at, submitted_at, latitude, longitude,
             distance_m, far_from_point, note, supersedes_id, correction_reason, current)
        SELECT id, round_id, point_id, %(inspector)s, gen_random_uuid(), observed_at - interval '10 minutes',
               observed_at + interval '5 minutes', NULL, NULL, NULL, false, '', NULL, '', true
        FROM bench_facts f WHERE {{chunk}} ORDER BY id
        """,
        {"inspector": inspector.pk},
    )
    chunked_step(
        "observations",
        f"""
        INSERT INTO {observation_table}
            (id, inspection_id, campaign_id, check_item_id, indicator_id, point_id, result, occurrences, note,
             deduction, loss, score, observed_at, current, deduction_given)
        SELECT id, id, %(campaign)s, check_item_id, indicator_id, point_id, result, occurrences, '',
               deduction, loss, score, observed_at, true, false
        FROM bench_facts f WHERE {{chunk}} ORDER BY id
        """,
        {"campaign": campaign.pk},
    )
    for name in (inspection_table, observation_table):
        sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
    chunked_step(
        "charges",
        f"""
        INSERT INTO {charge_table} (observation_id, unit_id, kind)
        SELECT id, unit_id, kind FROM (
            SELECT f.id, t.unit_id, 'territorial' AS kind, t.ord
            FROM bench_facts f CROSS JOIN LATERAL
                 (VALUES (f.district_id, 1), (f.street_id, 2), (f.community_id, 3)) t(unit_id, ord)
            WHERE {{chunk}}
            UNION ALL
            SELECT f.id, d.{ci_unit}, 'department', 4 FROM bench_facts f
            JOIN {ci_table} d ON d.{ci_own} = f.check_item_id
            WHERE {{chunk}}
            UNION ALL
            SELECT f.id, d.{pd_unit}, 'department', 4 FROM bench_facts f
            JOIN {pd_table} d ON d.{pd_own} = f.point_id
            WHERE {{chunk}} AND NOT EXISTS (SELECT 1 FROM {ci_table} x WHERE x.{ci_own} = f.check_item_id)
        ) c ORDER BY id, ord, unit_id
        """,
        {},
    )
    # Problems: one per failing observation. 5 % void (before assignment, no handler), 25 % open
    # (assigned / rectifying), 70 % closed — 85 % of those before the deadline, 15 % 1–5 days after
    # it; a closure that would lie in the future stays open (rectifying). Handler: the point's
    # street 60 %, else its first supervising department. Deadline: found + 5 days.
    step(
        "problems",
        f"""
        INSERT INTO {problem_table}
            (campaign_id, source, status, point_id, check_item_id, indicator_id, observation_id, unit_id,
             description, severity, deduction, found_at, created_by_id, created_at, handler_id, deadline,
             original_deadline, rework_count, shelved, shelved_until, pending_request, requested_deadline,
             request_reason, closed_at, rebound_of_id, version)
        SELECT %(campaign)s, 'inspection',
               CASE WHEN planned = 'closed' AND planned_close > now() THEN 'rectifying' ELSE planned END,
               point_id, check_item_id, indicator_id, id, community_id,
               point_name || '：' || item_text,
               CASE WHEN result = 'severe' THEN 'severe' ELSE item_severity END,
               deduction, observed_at, %(inspector)s, observed_at + interval '5 minutes',
               CASE WHEN planned = 'void' THEN NULL WHEN r_handler < 0.6 THEN street_id ELSE first_department END,
               deadline, deadline,
               CASE WHEN reworked THEN 1 ELSE 0 END, false, NULL, '', NULL, '',
               CASE WHEN planned = 'closed' AND planned_close <= now() THEN planned_close END, NULL,
               CASE WHEN planned = 'void' THEN 1 WHEN planned = 'closed' AND planned_close <= now() THEN 3 ELSE 1 END
        FROM (
            SELECT f.*, due AS deadline,
                   CASE WHEN f.r_status < 0.05 THEN 'void' WHEN f.r_status < 0.175 THEN 'assigned'
                        WHEN f.r_status < 0.30 THEN 'rectifying' ELSE 'closed' END AS planned,
                   CASE WHEN f.r_close < 0.85
                        THEN f.observed_at + interval '1 hour' + (f.r_close / 0.85) * interval '4 days'
                        ELSE (due + 1 + floor((f.r_close - 0.85) / 0.15 * 5)::int)::timestamp AT TIME ZONE
                             'Asia/Shanghai' + interval '10 hours' END AS planned_close,
                   f.r_status >= 0.05 AND f.r_event < 0.12 AND f.observed_at + interval '2 days' < now() AS reworked
            FROM bench_facts f,
                 LATERAL (SELECT (f.observed_at AT TIME ZONE 'Asia/Shanghai')::date + 5 AS due) d
            WHERE f.result <> 'pass'
        ) p ORDER BY id
        """,
        {"campaign": campaign.pk, "inspector": inspector.pk},
    )
    # Rebounds by the real rule (_open_or_attach_problem): the same item at the same point closed
    # within REBOUND_WINDOW_DAYS before this one was found.
    step(
        "rebound links",
        f"""
        UPDATE {problem_table} p SET rebound_of_id = (
            SELECT q.id FROM {problem_table} q
            WHERE q.point_id = p.point_id AND q.check_item_id = p.check_item_id AND q.status = 'closed'
              AND q.closed_at >= p.found_at - make_interval(days => %s) AND q.closed_at <= p.found_at
            ORDER BY q.closed_at DESC LIMIT 1)
        WHERE p.campaign_id = %s AND EXISTS (
            SELECT 1 FROM {problem_table} q
            WHERE q.point_id = p.point_id AND q.check_item_id = p.check_item_id AND q.status = 'closed'
              AND q.closed_at >= p.found_at - make_interval(days => %s) AND q.closed_at <= p.found_at)
        """,
        [settings.REBOUND_WINDOW_DAYS, campaign.pk, settings.REBOUND_WINDOW_DAYS],
    )
    # Events: 交办 (or 作废) an hour after finding, a 返工 (reject) two days after for ~12 %, the
    # 销号 (approve) at closing.
    step(
        "problem events",
        f"""
        INSERT INTO {event_table}
            (problem_id, action, actor_id, role, unit_id, from_status, to_status, note, changes, at)
        SELECT p.id, e.action, %(office)s, 'office', NULL, e.from_status, e.to_status, '', '{{}}'::jsonb, e.at
        FROM {problem_table} p CROSS JOIN LATERAL (VALUES
            (CASE WHEN p.status = 'void' THEN 'void' ELSE 'assign' END, 'new',
             CASE WHEN p.status = 'void' THEN 'void' ELSE 'assigned' END, p.found_at + interval '1 hour', true),
            ('reject', 'reviewing', 'rectifying', p.found_at + interval '2 days', p.rework_count > 0),
            ('approve', 'reviewing', 'closed', p.closed_at, p.status = 'closed')
        ) e(action, from_status, to_status, at, wanted)
        WHERE p.campaign_id = %(campaign)s AND e.wanted
        ORDER BY e.at, p.id
        """,
        {"office": office.pk, "campaign": campaign.pk},
    )
    sql("SET session_replication_role = DEFAULT")
    sql("RESET max_parallel_workers_per_gather")
    sql("SET maintenance_work_mem = '256MB'")
    started = time.perf_counter()
    for _name, definition in plain_indexes:
        sql(definition)
    log(f"  {len(plain_indexes)} indexes of the fact tables built again: {time.perf_counter() - started:.1f}s")
    sql("RESET maintenance_work_mem")
    sql("DROP TABLE IF EXISTS bench_weeks, bench_items, bench_points, bench_facts")


def full_shape(scale: float, shape: dict | None = None) -> dict:
    """The city's shape: districts, streets per district, communities per street, departments and
    points; `scale` scales the communities and the points unless `shape` names them."""
    full = {
        "districts": DISTRICTS,
        "streets_per_district": STREETS_PER_DISTRICT,
        "communities_per_street": max(1, round(COMMUNITIES_PER_STREET * scale)),
        "departments": DEPARTMENTS,
        "points": max(1, round(POINTS * scale)),
    }
    full.update(shape or {})
    return full


def generate(
    *, weeks: int, scale: float, shape: dict | None = None, reset: bool = True, vacuum: bool = True
) -> tuple[object, str, float]:
    """Generate the data set (see the module docstring). `reset=False` writes into the current
    schema as it is (the bench command's smoke test, inside a test database); `vacuum=False` runs
    ANALYZE instead of VACUUM ANALYZE (which cannot run inside a transaction)."""
    from campaign.models import Campaign

    started = time.perf_counter()
    if reset:
        reset_database()
    shape = full_shape(scale, shape)
    last_monday = last_complete_monday()
    mondays = [last_monday - datetime.timedelta(days=7 * back) for back in range(weeks - 1, -1, -1)]
    log(
        f"generating a city at scale {scale} ({shape}): {weeks} weeks, {iso_week(mondays[0])} … {iso_week(mondays[-1])}"
    )
    with transaction.atomic():
        t0 = time.perf_counter()
        ref = make_reference(weeks=weeks, scale=scale, mondays=mondays, **shape)
        log(
            f"  reference data (units, campaign, indicators, check items, rounds, points): "
            f"{time.perf_counter() - t0:.1f}s"
        )
        make_facts(
            campaign=ref["campaign"],
            office=ref["office"],
            inspector=ref["inspector"],
            rounds=ref["rounds"],
            mondays=mondays,
        )
    t0 = time.perf_counter()
    sql("VACUUM ANALYZE" if vacuum else "ANALYZE")
    log(f"  {'VACUUM ANALYZE' if vacuum else 'ANALYZE'}: {time.perf_counter() - t0:.1f}s")
    seconds = time.perf_counter() - started
    week = iso_week(mondays[-1])
    Campaign.objects.filter(pk=ref["campaign"].pk).update(
        description=MARKER
        + json.dumps(
            {
                "weeks": weeks,
                "scale": scale,
                "shape": shape,
                "last_week": week,
                "generated_at": datetime.datetime.now(SHANGHAI).isoformat(timespec="seconds"),
                "seconds": round(seconds, 1),
            }
        )
    )
    log(f"generation done in {seconds:.1f}s")
    return Campaign.objects.get(pk=ref["campaign"].pk), week, seconds


def existing(*, weeks: int, scale: float, shape: dict | None = None):
    """The generated campaign and its last week, when a data set of this shape is present."""
    from django.db.utils import ProgrammingError

    from campaign.models import Campaign

    try:
        campaign = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
    except ProgrammingError:  # not migrated yet
        return None
    if campaign is None or not campaign.description.startswith(MARKER):
        return None
    meta = json.loads(campaign.description[len(MARKER) :])
    found = meta.get("shape") or full_shape(float(meta.get("scale", 1.0)))
    if meta.get("weeks") != weeks or found != full_shape(scale, shape):
        log(f"existing data set has weeks={meta.get('weeks')} shape={found}: regenerating")
        return None
    return campaign, meta


def row_counts() -> dict[str, int]:
    tables = sorted(
        {model._meta.db_table for model in apps.get_models(include_auto_created=True) if model._meta.managed}
    )
    counts = {}
    for name in tables:
        counts[name] = fetch(f'SELECT count(*) FROM "{name}"')[0][0]
    return counts


# --- the benchmark -------------------------------------------------------------------------------


def week_bounds(week: str):
    year, number = int(week[:4]), int(week[-2:])
    monday = datetime.date.fromisocalendar(year, number, 1)
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=SHANGHAI)
    return start, start + datetime.timedelta(days=7), monday, monday + datetime.timedelta(days=6)


def floor_queries(campaign_id: int, week: str) -> dict[str, tuple[str, list]]:
    """Hand-written SQL: just what the roll-up must read. Observation aggregates per charged unit,
    problem counts per located unit (and per handler), reworks per located unit, the city row."""
    start, end, monday, sunday = week_bounds(week)
    # Observations by their own campaign column (+ observed_at), as the roll-up reads them.
    o, c = table("inspections.Observation"), table("inspections.Charge")
    p, e = table("inspections.Problem"), table("accountability.ProblemEvent")
    observations = f"""
        SELECT c.unit_id, count(*), count(*) FILTER (WHERE o.result <> 'pass'),
               coalesce(sum(o.deduction), 0), avg(o.score)
        FROM {o} o JOIN {c} c ON c.observation_id = o.id
        WHERE o.current AND o.campaign_id = %(campaign)s AND o.observed_at >= %(start)s AND o.observed_at < %(end)s
        GROUP BY c.unit_id
    """
    metric_filters = """
               count(*) FILTER (WHERE {p}.found_at >= %(start)s AND {p}.found_at < %(end)s),
               count(*) FILTER (WHERE {p}.deadline BETWEEN %(monday)s AND %(sunday)s AND NOT {p}.shelved),
               count(*) FILTER (WHERE {p}.deadline BETWEEN %(monday)s AND %(sunday)s AND NOT {p}.shelved
                                  AND {p}.closed_at IS NOT NULL
                                  AND ({p}.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= {p}.deadline),
               count(*) FILTER (WHERE {p}.found_at < %(end)s AND NOT {p}.shelved AND {p}.deadline <= %(sunday)s
                                  AND ({p}.closed_at IS NULL OR {p}.closed_at >= %(end)s)),
               count(*) FILTER (WHERE {p}.found_at >= %(start)s AND {p}.found_at < %(end)s
                                  AND {p}.rebound_of_id IS NOT NULL)
    """
    problems = f"""
        SELECT {{key}}, {metric_filters.format(p="p")}
        FROM {p} p WHERE p.campaign_id = %(campaign)s AND p.status <> 'void'
        GROUP BY {{key}}
    """
    reworks = f"""
        SELECT p.unit_id, count(*) FROM {e} e JOIN {p} p ON p.id = e.problem_id
        WHERE e.action = 'reject' AND e.at >= %(start)s AND e.at < %(end)s AND p.campaign_id = %(campaign)s
        GROUP BY p.unit_id
    """
    city = f"""
        SELECT count(*), count(*) FILTER (WHERE o.result <> 'pass'), coalesce(sum(o.deduction), 0), avg(o.score)
        FROM {o} o
        WHERE o.current AND o.campaign_id = %(campaign)s AND o.observed_at >= %(start)s AND o.observed_at < %(end)s
    """
    params = {"campaign": campaign_id, "start": start, "end": end, "monday": monday, "sunday": sunday}
    return {
        "observations per charged unit": (observations, params),
        "problems per located unit": (problems.format(key="p.unit_id"), params),
        "problems per handler": (problems.format(key="p.handler_id"), params),
        "reworks per located unit": (reworks, params),
        "city row": (city, params),
    }


def set_based_query(campaign_id: int, week: str) -> tuple[str, dict]:
    """For reference (not the floor): every metric of every ranked unit in one set-based
    statement — observations grouped by charged unit; each problem expanded once to the ancestors
    (and itself) of its located unit and of its handler (UNION: counted once when both fall in one
    subtree), then grouped. Same semantics as the roll-up's correlated `path LIKE` subqueries."""
    start, end, monday, sunday = week_bounds(week)
    # Observations by their own campaign column (+ observed_at), as the roll-up reads them.
    o, c = table("inspections.Observation"), table("inspections.Charge")
    p, e, u = table("inspections.Problem"), table("accountability.ProblemEvent"), table("campaign.Unit")
    statement = f"""
    WITH obs AS (
        SELECT c.unit_id, count(*) AS observations, count(*) FILTER (WHERE o.result <> 'pass') AS failing,
               coalesce(sum(o.deduction), 0) AS deduction, avg(o.score) AS score_rate
        FROM {o} o JOIN {c} c ON c.observation_id = o.id
        WHERE o.current AND o.campaign_id = %(campaign)s AND o.observed_at >= %(start)s AND o.observed_at < %(end)s
        GROUP BY c.unit_id
    ), prob AS (
        SELECT p.id, p.found_at, p.deadline, p.shelved, p.closed_at, p.rebound_of_id, lu.path AS upath, hu.path AS hpath
        FROM {p} p JOIN {u} lu ON lu.id = p.unit_id LEFT JOIN {u} hu ON hu.id = p.handler_id
        WHERE p.campaign_id = %(campaign)s AND p.status <> 'void'
    ), expanded AS (
        SELECT a.unit_id, prob.* FROM prob CROSS JOIN LATERAL (
            SELECT x::int AS unit_id FROM unnest(string_to_array(trim(both '/' from prob.upath), '/')) x
            UNION
            SELECT x::int FROM unnest(string_to_array(trim(both '/' from coalesce(prob.hpath, '')), '/')) x
            WHERE x <> ''
        ) a
    ), pm AS (
        SELECT unit_id,
               count(*) FILTER (WHERE found_at >= %(start)s AND found_at < %(end)s) AS opened,
               count(*) FILTER (WHERE deadline BETWEEN %(monday)s AND %(sunday)s AND NOT shelved) AS due,
               count(*) FILTER (WHERE deadline BETWEEN %(monday)s AND %(sunday)s AND NOT shelved
                                  AND closed_at IS NOT NULL
                                  AND (closed_at AT TIME ZONE 'Asia/Shanghai')::date <= deadline) AS on_time,
               count(*) FILTER (WHERE found_at < %(end)s AND NOT shelved AND deadline <= %(sunday)s
                                  AND (closed_at IS NULL OR closed_at >= %(end)s)) AS overdue,
               count(*) FILTER (WHERE found_at >= %(start)s AND found_at < %(end)s
                                  AND rebound_of_id IS NOT NULL) AS rebounds
        FROM expanded GROUP BY unit_id
    ), rw AS (
        SELECT a.unit_id, count(*) AS reworks
        FROM {e} e JOIN {p} p ON p.id = e.problem_id JOIN {u} lu ON lu.id = p.unit_id
        LEFT JOIN {u} hu ON hu.id = p.handler_id
        CROSS JOIN LATERAL (
            SELECT x::int AS unit_id FROM unnest(string_to_array(trim(both '/' from lu.path), '/')) x
            UNION
            SELECT x::int FROM unnest(string_to_array(trim(both '/' from coalesce(hu.path, '')), '/')) x
            WHERE x <> ''
        ) a
        WHERE e.action = 'reject' AND e.at >= %(start)s AND e.at < %(end)s AND p.campaign_id = %(campaign)s
        GROUP BY a.unit_id
    )
    SELECT un.id, coalesce(obs.observations, 0), coalesce(obs.failing, 0), coalesce(obs.deduction, 0),
           round(obs.score_rate, 6), coalesce(pm.opened, 0), coalesce(pm.due, 0), coalesce(pm.on_time, 0),
           coalesce(pm.overdue, 0), coalesce(pm.rebounds, 0), coalesce(rw.reworks, 0)
    FROM {u} un LEFT JOIN obs ON obs.unit_id = un.id LEFT JOIN pm ON pm.unit_id = un.id
    LEFT JOIN rw ON rw.unit_id = un.id
    WHERE un.kind IN ('district', 'street', 'community', 'department') AND (un.active OR obs.unit_id IS NOT NULL)
    """
    return statement, {"campaign": campaign_id, "start": start, "end": end, "monday": monday, "sunday": sunday}


def timed(statement: str, params, repeat: int) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = len(fetch(statement, params))
        times.append(time.perf_counter() - started)
    return times, rows


def rollup_source() -> dict:
    path = BASE_DIR / "accountability" / "rollup.py"
    data = path.read_bytes()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "accountability/rollup.py"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    ).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True)
    return {
        "sha256": hashlib.sha256(data).hexdigest()[:16],
        "mtime": datetime.datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI).isoformat(timespec="seconds"),
        "git_head": head.stdout.strip(),
        "modified_vs_head": bool(dirty),
    }


def explain(statement: str) -> tuple[str, float | None]:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured SELECT, inside a transaction that is rolled back."""
    with transaction.atomic():
        rows = fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        transaction.set_rollback(True)
    text = "\n".join(row[0] for row in rows)
    total = next(
        (float(line.split(":")[1].split()[0]) for line in text.splitlines() if line.startswith("Execution Time")), None
    )
    return text, total


def compare(campaign_id: int, version, week: str) -> dict:
    """The roll-up's rows against the set-based hand-written equivalent."""
    from accountability.models import UnitWeekScore

    statement, params = set_based_query(campaign_id, week)
    mine = {row[0]: row[1:] for row in fetch(statement, params)}
    fields = (
        "observations",
        "failing_observations",
        "deduction_points",
        "score_rate",
        "problems_opened",
        "problems_due",
        "closed_on_time",
        "overdue_open",
        "rebounds",
        "rework_count",
    )
    theirs = {
        row[0]: row[1:]
        for row in UnitWeekScore.objects.filter(rollup=version, unit__isnull=False).values_list("unit_id", *fields)
    }
    differing = []
    for unit_id in set(mine) | set(theirs):
        a, b = mine.get(unit_id), theirs.get(unit_id)
        if a is None or b is None:
            differing.append((unit_id, "missing in " + ("hand-written" if a is None else "roll-up")))
            continue
        diffs = [
            f"{name}: roll-up {y} vs hand {x}"
            for name, x, y in zip(fields, a, b, strict=True)
            if (Decimal(str(x)) if x is not None else None) != (Decimal(str(y)) if y is not None else None)
        ]
        if diffs:
            differing.append((unit_id, "; ".join(diffs)))
    return {"units_compared": len(set(mine) | set(theirs)), "differing": len(differing), "examples": differing[:5]}


def load_rollup(rev: str | None):
    """The roll-up module to measure: the working tree's, or accountability/rollup.py as it was at a
    git revision (loaded from a temporary copy as a sibling module, so the repository is untouched)."""
    import importlib.util
    import tempfile

    if not rev:
        from accountability import rollup

        return rollup, rollup_source()
    text = subprocess.run(
        ["git", "show", f"{rev}:accountability/rollup.py"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.strip()
    copy = Path(tempfile.mkdtemp(prefix="rollup-bench-")) / f"rollup_{commit}.py"
    copy.write_text(text, encoding="utf-8")
    name = f"accountability._bench_rollup_{commit}"
    spec = importlib.util.spec_from_file_location(name, copy)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, {
        "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "git_rev": commit,
        "note": f"accountability/rollup.py as of {commit}, not the working tree",
    }


def phase_breakdown(rollup, campaign, week: str) -> dict[str, float]:
    """One extra, untimed run with every function of the roll-up module wrapped in a timer
    (inclusive wall seconds per function; nested calls count in their callers too)."""
    import functools
    import inspect

    spent: dict[str, float] = {}
    originals = {}
    for name, function in list(vars(rollup).items()):
        if inspect.isfunction(function) and function.__module__ == rollup.__name__ and name != "rollup_compute":
            originals[name] = function

            def wrapper(*args, __f=function, __name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return __f(*args, **kwargs)
                finally:
                    spent[__name] = spent.get(__name, 0.0) + time.perf_counter() - started

            setattr(rollup, name, functools.wraps(function)(wrapper))
    try:
        started = time.perf_counter()
        rollup.rollup_compute(campaign=campaign, week=week)
        spent["rollup_compute (total)"] = time.perf_counter() - started
    finally:
        for name, function in originals.items():
            setattr(rollup, name, function)
    return {name: round(seconds, 3) for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])}


def benchmark(*, campaign, week: str, runs: int, do_explain: bool, rev: str | None = None) -> dict:
    from accountability.models import RollupVersion

    rollup, source = load_rollup(rev)
    log(f"benchmarking {rollup.__name__}.rollup_compute(week={week}); source {source}")
    RollupVersion.objects.filter(campaign=campaign, week=week).delete()
    results = {"week": week, "rollup_source": source, "runs": []}
    slowest_select = None
    version = None
    for n in range(1, runs + 1):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            version, outcome = rollup.rollup_compute(campaign=campaign, week=week)
            seconds = time.perf_counter() - started
        queries = captured.captured_queries
        top = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]
        sql_seconds = sum(float(q["time"]) for q in queries)
        results["runs"].append(
            {
                "run": n,
                "outcome": outcome,
                "seconds": round(seconds, 3),
                "sql_seconds": round(sql_seconds, 3),
                "queries": len(queries),
                "rows": version.rows,
                "slowest_queries": [{"seconds": float(q["time"]), "sql": q["sql"][:160]} for q in top],
            }
        )
        log(
            f"  run {n}: {outcome}, {seconds:.2f}s wall ({sql_seconds:.2f}s in SQL), {len(queries)} queries, "
            f"{version.rows} rows; slowest query {float(top[0]['time']):.2f}s"
        )
        if slowest_select is None:
            selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
            if selects:
                slowest_select = max(selects, key=lambda q: float(q["time"]))
    results["rollup_median_seconds"] = round(statistics.median(r["seconds"] for r in results["runs"]), 3)
    results["rollup_median_sql_seconds"] = round(statistics.median(r["sql_seconds"] for r in results["runs"]), 3)
    results["sql_seconds_note"] = (
        "sum of the statement times Django records; rows fetched later from a server-side cursor "
        "(QuerySet.iterator()) are not in it"
    )
    results["phases"] = phase_breakdown(rollup, campaign, week)
    log("  where a recompute spends its time (one extra run, inclusive wall seconds per function):")
    for name, seconds in results["phases"].items():
        log(f"    {name:32s} {seconds:8.3f}s")

    results["floor"] = {}
    total = []
    for label, (statement, params) in floor_queries(campaign.pk, week).items():
        times, rows = timed(statement, params, 3)
        results["floor"][label] = {"median_seconds": round(statistics.median(times), 3), "rows": rows}
        total.append(statistics.median(times))
        log(f"  floor · {label}: {statistics.median(times):.3f}s ({rows} rows)")
    results["floor_total_median_seconds"] = round(sum(total), 3)
    log(f"  floor total: {sum(total):.3f}s")

    statement, params = set_based_query(campaign.pk, week)
    times, rows = timed(statement, params, 3)
    results["set_based"] = {"median_seconds": round(statistics.median(times), 3), "rows": rows}
    log(f"  set-based equivalent of every metric: {statistics.median(times):.3f}s ({rows} rows)")
    results["check_against_rollup"] = compare(campaign.pk, version, week)
    log(
        f"  check: {results['check_against_rollup']['differing']} of "
        f"{results['check_against_rollup']['units_compared']} units differ from the roll-up's rows"
    )

    if do_explain and slowest_select is not None:
        text, total_ms = explain(slowest_select["sql"])
        stamp = datetime.datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        plan_path = RESULTS_DIR / f"explain-{stamp}.txt"
        plan_path.write_text(slowest_select["sql"] + "\n\n" + text + "\n", encoding="utf-8")
        results["explain"] = {
            "captured_seconds": float(slowest_select["time"]),
            "execution_ms": total_ms,
            "plan_file": str(plan_path.relative_to(BASE_DIR)),
        }
        log(f"  EXPLAIN ANALYZE of the slowest SELECT of run 1: {total_ms} ms → {plan_path.relative_to(BASE_DIR)}")
    return results


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    pg = {
        name: fetch(f"SHOW {name}")[0][0]
        for name in (
            "server_version",
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "jit",
            "max_parallel_workers_per_gather",
            "random_page_cost",
        )
    }
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        ),
        "postgresql": pg,
        "python": sys.version.split()[0],
        "django": django.get_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reuse", action="store_true", help="keep an existing data set of this --weeks/--scale")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    parser.add_argument(
        "--rollup-rev",
        metavar="REV",
        help="measure accountability/rollup.py as of this git revision instead of the working tree's",
    )
    args = parser.parse_args()
    guard()
    started_at = datetime.datetime.now(SHANGHAI)
    found = existing(weeks=args.weeks, scale=args.scale) if args.reuse else None
    if found:
        campaign, meta = found
        week, generation_seconds = meta["last_week"], None
        log(f"reusing the data set generated {meta['generated_at']} ({meta['seconds']}s); last week {week}")
    else:
        campaign, week, generation_seconds = generate(weeks=args.weeks, scale=args.scale)
        meta = json.loads(campaign.description[len(MARKER) :])
    counts = row_counts()
    log("row counts:")
    for name, count in counts.items():
        print(f"    {name:45s} {count:>12,}")
    results = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": machine(),
        "data_set": meta,
        "generation_seconds_this_run": None if generation_seconds is None else round(generation_seconds, 1),
        "row_counts": counts,
    }
    results.update(
        benchmark(campaign=campaign, week=week, runs=args.runs, do_explain=args.explain, rev=args.rollup_rev)
    )
    results["finished_at"] = datetime.datetime.now(SHANGHAI).isoformat(timespec="seconds")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"rollup-{started_at:%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    log(f"results → {out.relative_to(BASE_DIR)}")
    keys = ("rollup_median_seconds", "rollup_median_sql_seconds", "floor_total_median_seconds")
    print(json.dumps({k: results[k] for k in keys}, indent=2))


if __name__ == "__main__":
    main()
