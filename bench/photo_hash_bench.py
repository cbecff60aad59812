#!/usr/bin/env python
"""The near-duplicate photo lookup at 1 M photos, measured against its floor in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/photos_bench DEBUG=1 \\
        .venv/bin/python bench/photo_hash_bench.py [--photos 1000000] [--probes 200] [--runs 3]

Inserts `photos` synthetic Photo rows with random 64-bit perceptual hashes and their five chunks
(one INSERT … SELECT over generate_series: the chunks computed in SQL exactly as
`inspections.photo_checks.chunks` does), then, `runs` times:

- the floor: `probes` primary-key look-ups of the same table (`Photo.objects.only(...).get(pk=…)`);
- the lookup: `probes` calls of `photo_checks.near_duplicates` for hashes 3 bits away from a
  stored one (each must find it): one query on the chunk indexes (an OR of five equalities,
  bounded), then the exact Hamming distance in Python.

Prints the median of the runs of each, and the ratio, as JSON. Refuses to run unless the database
is PostgreSQL and its name ends with `_bench`; deletes the rows it inserted before returning.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

MARK = "bench-phash"


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


def insert(photos: int, user_id: int) -> None:
    """`photos` rows in one statement; the hash from two random 32-bit halves, the chunks by
    shifts and masks (13, 13, 13, 13, 12 bits, high first)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO inspections_photo (file, thumbnail, original_name, content_type, extension, size,
                width, height, sha256, uploaded_by_id, uploaded_at, phash,
                phash_0, phash_1, phash_2, phash_3, phash_4)
            SELECT 'bench.jpg', 'bench-thumb.jpg', %s, 'image/jpeg', '.jpg', 1, 1, 1,
                md5(g::text) || md5((g + 1)::text), %s, now(), h,
                (h >> 51) & 8191, (h >> 38) & 8191, (h >> 25) & 8191, (h >> 12) & 8191, h & 4095
            FROM (
                SELECT g, ((floor(random() * 4294967296)::bigint - 2147483648) << 32)
                          | floor(random() * 4294967296)::bigint AS h
                FROM generate_series(1, %s) AS g
            ) AS s
            """,
            [MARK, user_id, photos],
        )
        cursor.execute("ANALYZE inspections_photo")


def drop() -> None:
    """The rows this bench inserted (nothing refers to them): one DELETE, no per-row collection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inspections_photo WHERE original_name = %s", [MARK])


def run(*, photos: int, probes: int, runs: int) -> dict:
    import django

    django.setup()
    guard()
    from django.contrib.auth import get_user_model

    from inspections import photo_checks
    from inspections.models import Photo

    user, _ = get_user_model().objects.get_or_create(username="bench-photos")
    drop()
    try:
        started = time.perf_counter()
        insert(photos, user.pk)
        log(f"inserted {photos} photos in {time.perf_counter() - started:.1f} s")
        sample = list(Photo.objects.filter(original_name=MARK).order_by("?").values_list("pk", "phash")[:probes])
        rnd = random.Random(1)
        targets = []
        for pk, signed in sample:
            value = photo_checks.to_unsigned(signed)
            for bit in rnd.sample(range(64), 3):
                value ^= 1 << bit
            targets.append((pk, value))
        floor_times, lookup_times, candidates = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            for pk, _value in targets:
                Photo.objects.only("pk", "taken_at", "uploaded_at", "phash").get(pk=pk)
            floor_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for pk, value in targets:
                found = photo_checks.near_duplicates(value)
                assert any(row.pk == pk for _, row in found), "a stored hash 3 bits away was missed"
            lookup_times.append(time.perf_counter() - t0)
        for _pk, value in targets[:20]:
            candidates.append(Photo.objects.filter(photo_checks.near_candidates_q(value)).count())
        floor, lookup = statistics.median(floor_times), statistics.median(lookup_times)
        return {
            "photos": photos,
            "probes": probes,
            "floor_ms_per_lookup": round(floor / probes * 1000, 3),
            "lookup_ms_per_lookup": round(lookup / probes * 1000, 3),
            "ratio": round(lookup / floor, 2),
            "median_candidates": statistics.median(candidates),
        }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(photos=args.photos, probes=args.probes, runs=args.runs), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
