"""The daily pages at city scale: what `manage.py bench` times (see bench/rollup_bench.py for the data).

- `ensure_round_with_points(campaign, n_points, n_inspections)` adds, when missing, one round of the
  current ISO week with a point list of `n_points` points and `n_inspections` current inspections in
  it (plain SQL, a second or two): the generator's weekly rounds have no point lists, and the office
  home's round widget and the points list's round drop-down are only tested by a big one.
- `page_targets(campaign, week)` lists every page a user opens daily, as `{name, url, user,
  main_sql_hint}` dicts on that data set; `user` is a username of the data set.

Also runnable by itself against a `*_bench` database to time the pages through the test client:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pages_bench DEBUG=1 .venv/bin/python bench/pages_bench.py
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

BIG_ROUND_NAME = "基准大批次"
OFFICE, INSPECTOR, LEADER, LIAISON = "bench_office", "bench_inspector", "bench_leader", "bench_liaison"


def _week_monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def ensure_users() -> dict[str, str]:
    """The bench's leader and a street liaison (the generator makes only the office and an inspector)."""
    from django.contrib.auth import get_user_model

    from campaign.choices import Role, UnitKind
    from campaign.models import Unit
    from campaign.services import membership_create, user_create

    users = get_user_model().objects
    if not users.filter(username=LEADER).exists():
        membership_create(
            user=user_create(username=LEADER, password="bench-pass-2026", full_name="基准领导"), role=Role.LEADER
        )
    if not users.filter(username=LIAISON).exists():
        street = Unit.objects.filter(kind=UnitKind.STREET).order_by("path").first()
        membership_create(
            user=user_create(username=LIAISON, password="bench-pass-2026", full_name="基准联络员"),
            role=Role.LIAISON,
            unit=street,
        )
    return {"office": OFFICE, "inspector": INSPECTOR, "leader": LEADER, "liaison": LIAISON}


def ensure_round_with_points(campaign, n_points: int = 20_000, n_inspections: int = 732):
    """The current week's big round: `n_points` points (the first by id) and `n_inspections` current
    inspections by the bench inspector at distinct points of it. Idempotent: an existing round of
    that name is returned as it is."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from inspections.models import Inspection, InspectionRound

    existing = InspectionRound.objects.filter(campaign=campaign, name=BIG_ROUND_NAME).first()
    if existing is not None:
        return existing
    users = get_user_model().objects
    office, inspector = users.get(username=OFFICE), users.get(username=INSPECTOR)
    monday = _week_monday(timezone.localdate())
    through_points = InspectionRound.points.through._meta.db_table
    inspection_table = Inspection._meta.db_table
    with transaction.atomic():
        round_ = InspectionRound.objects.create(
            campaign=campaign,
            name=BIG_ROUND_NAME,
            kind="weekly",
            start_date=monday,
            end_date=monday + datetime.timedelta(days=6),
            created_by=office,
        )
        round_.inspectors.add(inspector)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {through_points} (inspectionround_id, point_id) "
                f"SELECT %s, id FROM inspections_point ORDER BY id LIMIT %s",
                [round_.pk, n_points],
            )
            cursor.execute(
                f"""
                INSERT INTO {inspection_table}
                    (client_uuid, submitted_at, far_from_point, note, correction_reason, current,
                     inspector_id, round_id, point_id)
                SELECT md5(%s || p.point_id::text)::uuid, now(), false, '', '', true, %s, %s, p.point_id
                FROM {through_points} p WHERE p.inspectionround_id = %s ORDER BY p.point_id LIMIT %s
                """,
                [str(uuid.uuid4()), inspector.pk, round_.pk, round_.pk, n_inspections],
            )
            cursor.execute(f"ANALYZE {through_points}")
            cursor.execute(f"ANALYZE {inspection_table}")
    return round_


def page_targets(campaign, week: str) -> list[dict]:
    """Every page a user opens daily on the bench data set: name, url, user (a username), and where
    it applies the statement that dominates it (for the EXPLAIN ANALYZE floor)."""
    from django.urls import reverse

    from campaign.models import Unit
    from inspections.models import Problem

    users = ensure_users()
    district = Unit.objects.filter(kind="district").order_by("path").first()
    street = Unit.objects.filter(kind="street").order_by("path").first()
    community = Unit.objects.filter(kind="community").order_by("path").first()
    problem_pages = max(1, (Problem.objects.count() + 49) // 50)
    deep = min(problem_pages, 1000)
    rankings = reverse("rankings")
    observations = reverse("observation-list")
    targets = [
        {
            "name": "office home",
            "url": reverse("home"),
            "user": users["office"],
            "main_sql_hint": "round widget: point and visited counts of this week's rounds",
        },
        {
            "name": "leader home",
            "url": reverse("home"),
            "user": users["leader"],
            "main_sql_hint": "indicators losing most points since the loss window (observation campaign, observed_at)",
        },
        {
            "name": "dashboard",
            "url": reverse("dashboard"),
            "user": users["leader"],
            "main_sql_hint": "top_losing_indicators + forecast field part",
        },
    ]
    for population in ("district", "street", "community", "department"):
        targets.append(
            {
                "name": f"rankings {population}",
                "url": f"{rankings}?week={week}&population={population}",
                "user": users["leader"],
                "main_sql_hint": "UnitWeekScore rows of the published version",
            }
        )
    targets += [
        {
            "name": "unit page (district)",
            "url": f"{reverse('ranking-unit', args=[district.pk])}?week={week}",
            "user": users["leader"],
        },
        {
            "name": "unit page (community)",
            "url": f"{reverse('ranking-unit', args=[community.pk])}?week={week}",
            "user": users["leader"],
        },
        {
            "name": "problems page 1",
            "url": reverse("problem-list"),
            "user": users["office"],
            "main_sql_hint": "problem list ORDER BY found_at DESC, id DESC LIMIT 50",
        },
        {
            "name": f"problems page {deep}",
            "url": f"{reverse('problem-list')}?page={deep}",
            "user": users["office"],
            "main_sql_hint": "the same with OFFSET",
        },
        {"name": "problems liaison", "url": reverse("problem-list"), "user": users["liaison"]},
        {
            "name": "observations by unit and week",
            "url": f"{observations}?charged={street.pk}&week={week}",
            "user": users["leader"],
            "main_sql_hint": "observations of the week charged to the unit",
        },
        {
            "name": "observations by district subtree and week",
            "url": f"{observations}?unit={district.pk}&week={week}",
            "user": users["leader"],
        },
        {
            "name": "周通报 print page",
            "url": reverse("bulletin-page", args=[campaign.pk, week]),
            "user": users["office"],
            "main_sql_hint": "bulletin_data of the published version (the week must be published)",
        },
        {
            "name": "调度会材料 print page",
            "url": reverse("meeting-page", args=[campaign.pk, week]),
            "user": users["office"],
            "main_sql_hint": "meeting_pack_data: the called units, then each part for all of them at once",
        },
        {
            "name": "API meeting pack",
            "url": f"/api/v1/meeting-packs/{campaign.pk}/{week}/",
            "user": users["office"],
        },
        {"name": "points list", "url": reverse("point-list"), "user": users["office"]},
        {
            "name": "points map",
            "url": reverse("point-map"),
            "user": users["office"],
            "main_sql_hint": "every point with coordinates",
        },
        {"name": "API problems", "url": "/api/v1/problems/", "user": users["office"]},
        {"name": "API problems deep", "url": f"/api/v1/problems/?page={deep}", "user": users["office"]},
        {"name": "API observations week", "url": f"/api/v1/observations/?week={week}", "user": users["office"]},
        {"name": "API points", "url": "/api/v1/points/", "user": users["office"]},
        {"name": "API rounds", "url": "/api/v1/rounds/", "user": users["office"]},
        {"name": "API rankings", "url": f"/api/v1/rankings/?week={week}", "user": users["office"]},
        # Other daily lists and their deep pages (issue #10: "the API lists"; deep = page 1's queries).
        {"name": "liaison home", "url": reverse("home"), "user": users["liaison"]},
        {
            "name": "rankings community page 20",
            "url": f"{rankings}?week={week}&population=community&page=20",
            "user": users["leader"],
        },
        {"name": "cases", "url": reverse("case-list"), "user": users["leader"]},
        {"name": "observations week page 300", "url": f"{observations}?week={week}&page=300", "user": users["leader"]},
        {"name": "observations all, deep", "url": f"{observations}?page=9999", "user": users["leader"]},
        {"name": "points list deep", "url": f"{reverse('point-list')}?page=300", "user": users["office"]},
        {"name": "API observations deep", "url": "/api/v1/observations/?page=9999", "user": users["office"]},
        {"name": "API points deep", "url": "/api/v1/points/?page=400", "user": users["office"]},
        {"name": "API inspections", "url": "/api/v1/inspections/", "user": users["office"]},
        {"name": "API inspections deep", "url": "/api/v1/inspections/?page=9999", "user": users["office"]},
        {"name": "API problems liaison", "url": "/api/v1/problems/", "user": users["liaison"]},
        {
            "name": "API rankings community deep",
            "url": f"/api/v1/rankings/?week={week}&population=community&page=61",
            "user": users["office"],
        },
        {"name": "API accountability cases", "url": "/api/v1/accountability-cases/", "user": users["office"]},
        {"name": "API check items", "url": "/api/v1/check-items/", "user": users["office"]},
        {"name": "API units", "url": "/api/v1/units/", "user": users["office"]},
        {"name": "API notifications", "url": "/api/v1/notifications/", "user": users["liaison"]},
    ]
    return targets


def time_pages(campaign, week: str, runs: int = 5, only: str = "") -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects
    results = []
    for target in page_targets(campaign, week):
        if only and only not in target["name"]:
            continue
        client = Client()
        client.force_login(users.get(username=target["user"]))
        times, status, queries = [], None, 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(target["url"], HTTP_HOST="localhost")
                times.append(time.perf_counter() - started)
            status, queries = response.status_code, len(captured.captured_queries)
        row = {
            "name": target["name"],
            "status": status,
            "p50_ms": round(statistics.median(times) * 1000),
            "max_ms": round(max(times) * 1000),
            "queries": queries,
        }
        print(
            f"{row['name']:<45} {status} p50 {row['p50_ms']:>6} ms  max {row['max_ms']:>6} ms  {queries} q", flush=True
        )
        results.append(row)
    return results


def main() -> None:
    import argparse

    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.db import connection

    from campaign.models import Campaign

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("_bench"):
        sys.exit("refusing to run: a PostgreSQL database whose name ends with _bench is required")
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="")
    parser.add_argument("--week", default="")
    args = parser.parse_args()
    import json

    campaign = Campaign.objects.get(name="基准测试创建活动")
    meta = json.loads(campaign.description[len("bench:") :])
    ensure_round_with_points(campaign)
    time_pages(campaign, args.week or meta["last_week"], runs=args.runs, only=args.only)


if __name__ == "__main__":
    main()
