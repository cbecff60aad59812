#!/usr/bin/env python
"""The 10,000-row points import at city scale, measured against its floor in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imports_bench DEBUG=1 \\
        .venv/bin/python bench/points_import_bench.py [--rows 10000] [--runs 3]

Needs the city data set of bench/rollup_bench.py in the database (its communities, departments and
the 26 point types). Builds an .xlsx in the layout of the 点位导入模板 with `rows` new points —
spread over the communities, every point type, a third with one or two departments by short name
(the others take their type's defaults), some with a 包保单位, coordinates, contacts and 重点点位 —
then, `runs` times, each on a fresh state (the imported points deleted in between, not timed):

- the floor: read the sheet (`campaign.importing.read_table`) and write the same rows with one
  bulk INSERT of the points and one of their department links, the FKs resolved from dicts;
- `points_import(dry_run=True)`: the preview;
- `points_import(dry_run=False)`: the real import;
- the same file again: a re-import that changes nothing.

`run_points_import(rows=, runs=)` returns one figure per measurement, `{name, median_s, floor_s,
ratio, queries}` (`manage.py bench` calls it). Refuses to run unless the database is PostgreSQL
and its name ends with `_bench`; deletes the points it imported before returning.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

NAME_PREFIX = "导入基准点位"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def guard() -> None:
    from django.conf import settings
    from django.db import connection

    name = str(settings.DATABASES["default"].get("NAME", ""))
    if connection.vendor != "postgresql" or not name.endswith("_bench"):
        raise RuntimeError(
            f"refusing to run: the database must be PostgreSQL and its name end with _bench "
            f"(got vendor={connection.vendor!r}, name={name!r})"
        )


def build_sheet(rows: int) -> bytes:
    """The import file: `rows` new points against the data set's units and point types."""
    from openpyxl import Workbook

    from campaign.choices import UnitKind
    from campaign.models import Unit
    from inspections.importing import POINT_COLUMNS
    from inspections.models import PointType

    communities = list(Unit.objects.filter(kind=UnitKind.COMMUNITY).order_by("code").values_list("code", flat=True))
    streets = list(Unit.objects.filter(kind=UnitKind.STREET).order_by("code").values_list("code", flat=True))
    departments = list(
        Unit.objects.filter(kind=UnitKind.DEPARTMENT)
        .exclude(short_name="")
        .order_by("code")
        .values_list("short_name", flat=True)
    )
    types = list(PointType.objects.filter(active=True).order_by("order", "id").values_list("name", flat=True))
    if not communities or not types or not departments:
        raise RuntimeError("no city data set here: run bench/rollup_bench.py (or manage.py bench) first")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("点位")
    sheet.append([column.header for column in POINT_COLUMNS])
    for i in range(rows):
        chosen = ""
        if i % 3 == 0:
            chosen = departments[i % len(departments)]
            if i % 2 == 0:
                chosen += "、" + departments[(i * 7 + 1) % len(departments)]
        sheet.append(
            [
                f"{NAME_PREFIX}{i:05d}",
                types[i % len(types)],
                f"基准市导入路{i}号",
                f"{120 + (i % 1000) / 1000:.6f}",
                f"{31 + (i // 1000) / 1000:.6f}",
                communities[(i * 7919) % len(communities)],
                chosen,
                streets[i % len(streets)] if i % 5 == 0 else "",
                f"负责人{i % 97}" if i % 2 == 0 else "",
                f"1380000{i:04d}" if i % 2 == 0 else "",
                "是" if i % 10 == 0 else "否",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cleanup() -> int:
    from inspections.models import Point

    deleted, _ = Point.objects.filter(name__startswith=NAME_PREFIX).delete()
    return deleted


def timed(call) -> tuple[float, int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        outcome = call()
        seconds = time.perf_counter() - started
    return seconds, len(queries), outcome


def floor_once(data: bytes) -> float:
    """Read the sheet and write its rows as one INSERT of points and one of their links: what any
    import of this file must at least do. The FKs come from dicts loaded beforehand (not timed)."""
    from django.core.files.base import ContentFile
    from django.db import transaction

    from campaign.importing import read_table
    from campaign.lookups import split_list
    from campaign.models import Unit
    from inspections.importing import POINT_COLUMNS
    from inspections.models import Point, PointType

    units = dict(Unit.objects.values_list("code", "pk"))
    by_short = dict(Unit.objects.exclude(short_name="").values_list("short_name", "pk"))
    types = {point_type.name: point_type for point_type in PointType.objects.prefetch_related("departments")}
    defaults = {point_type.pk: [d.pk for d in point_type.departments.all()] for point_type in types.values()}
    through = Point.departments.through
    started = time.perf_counter()
    rows = read_table(ContentFile(data, name="points.xlsx"), columns=POINT_COLUMNS)
    points, departments = [], []
    for row in rows:
        point_type = types[row.get("type")]
        points.append(
            Point(
                name=row.get("name"),
                point_type_id=point_type.pk,
                unit_id=units[row.get("unit")],
                address=row.get("address"),
                longitude=row.get("longitude") or None,
                latitude=row.get("latitude") or None,
                sponsor_id=units.get(row.get("sponsor")),
                contact_name=row.get("contact_name"),
                contact_phone=row.get("contact_phone"),
                key_point=row.get("key_point") == "是",
            )
        )
        departments.append([by_short[ref] for ref in split_list(row.get("departments"))] or defaults[point_type.pk])
    with transaction.atomic():
        Point.objects.bulk_create(points)
        through.objects.bulk_create(
            [
                through(point_id=point.pk, unit_id=unit_id)
                for point, unit_ids in zip(points, departments, strict=True)
                for unit_id in unit_ids
            ]
        )
    return time.perf_counter() - started


def _figure(name: str, samples: list[tuple[float, int]], floor: float) -> dict:
    median = statistics.median(seconds for seconds, _queries in samples)
    return {
        "name": name,
        "median_s": round(median, 3),
        "floor_s": round(floor, 3),
        "ratio": round(median / floor, 2) if floor else None,
        "queries": max(queries for _seconds, queries in samples),
        "runs_s": [round(seconds, 3) for seconds, _queries in samples],
    }


def run_points_import(*, rows: int = 10_000, runs: int = 3) -> list[dict]:
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from inspections.importing import points_import

    guard()
    log(f"points import: building a {rows:,}-row sheet")
    data = build_sheet(rows)
    if cleanup():
        log("  removed points left by an earlier run")
    floors, previews, imports, reimports = [], [], [], []

    def call(dry_run: bool):
        return lambda: points_import(file=ContentFile(data, name="点位导入.xlsx"), dry_run=dry_run)

    try:
        for run in range(1, runs + 1):
            floors.append(floor_once(data))
            cleanup()
            seconds, queries, result = timed(call(True))
            assert result.ok and result.created == rows, result.summary
            previews.append((seconds, queries))
            seconds, queries, result = timed(call(False))
            assert result.ok and result.created == rows, result.summary
            imports.append((seconds, queries))
            seconds, queries, result = timed(call(False))
            assert result.ok and result.unchanged == rows, result.summary
            reimports.append((seconds, queries))
            cleanup()
            log(
                f"  run {run}: floor {floors[-1]:.2f}s, dry run {previews[-1][0]:.2f}s, "
                f"import {imports[-1][0]:.2f}s, re-import {reimports[-1][0]:.2f}s"
            )
    finally:
        cleanup()
    floor = statistics.median(floors)
    size = "10k" if rows == 10_000 else f"{rows:,} rows"
    return [
        _figure(f"points import {size} dry run", previews, floor),
        _figure(f"points import {size}", imports, floor),
        _figure(f"points re-import {size} (no change)", reimports, floor),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        figures = run_points_import(rows=args.rows, runs=args.runs)
    except RuntimeError as exc:
        sys.exit(str(exc))
    print("| figure | median s | floor s | ratio | queries |\n|---|---|---|---|---|")
    for row in figures:
        print(f"| {row['name']} | {row['median_s']} | {row['floor_s']} | {row['ratio']} | {row['queries']} |")
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
