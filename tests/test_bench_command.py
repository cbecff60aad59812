"""`manage.py bench`: the guard (SQLite and databases not named *_bench are refused, nothing is
written) and, on PostgreSQL, the measuring code on a tiny city (no timings are asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from accountability.models import AccountabilityCase, RollupVersion
from bench import city_bench, pages_bench
from inspections.models import InspectionRound

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail the test if the command goes past its guard (creating a database, generating, writing)."""
    calls = []
    monkeypatch.setattr(city_bench, "ensure_database", lambda: calls.append("ensure_database"))
    monkeypatch.setattr(city_bench, "run", lambda **kwargs: calls.append("run"))
    return calls


def _files():
    return {path: path.stat().st_mtime_ns if path.exists() else None for path in (city_bench.LATEST, city_bench.DOCS)}


def test_refuses_sqlite_with_a_clear_message(monkeypatch, nothing_runs):
    monkeypatch.setattr(
        city_bench, "database_settings", lambda: {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x_bench"}
    )
    before = _files()
    with pytest.raises(CommandError) as refused:
        call_command("bench", "--scale", "city")
    assert "只能在 PostgreSQL 上运行" in str(refused.value)
    assert "PostgreSQL only" in str(refused.value)
    assert nothing_runs == []
    assert _files() == before


def test_refuses_a_database_not_named_bench(monkeypatch, nothing_runs):
    monkeypatch.setattr(
        city_bench, "database_settings", lambda: {"ENGINE": "django.db.backends.postgresql", "NAME": "chuangcheng"}
    )
    before = _files()
    with pytest.raises(CommandError) as refused:
        call_command("bench", "--scale", "megacity", "--reuse")
    assert "不以 _bench 结尾" in str(refused.value)
    assert "does not end in _bench" in str(refused.value)
    assert nothing_runs == []
    assert _files() == before


def test_accepts_a_bench_database_name():
    assert city_bench.check_database({"ENGINE": "django.db.backends.postgresql", "NAME": "x_bench"}) == "x_bench"


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [(None, "PostgreSQL only"), ("postgres://postgres@127.0.0.1:5432/chuangcheng", "does not end in _bench")],
)
def test_command_line_exits_non_zero(database_url, expected):
    """As a reviewer runs it: a non-zero exit and the message, before any connection is opened."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DEBUG"] = "1"
    if database_url:
        env["DATABASE_URL"] = database_url
    before = _files()
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--scale", "city"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert expected in done.stderr
    assert _files() == before


def test_docs_block_is_replaced_in_place(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\n<!-- bench:city -->\nold\n<!-- /bench:city -->\n\ntail\n", encoding="utf-8")
    city_bench.write_docs_block("city", "new table", doc)
    city_bench.write_docs_block("megacity", "mega", doc)
    text = doc.read_text(encoding="utf-8")
    assert "old" not in text
    assert "<!-- bench:city -->\nnew table\n<!-- /bench:city -->\n\ntail" in text
    assert text.rstrip().endswith("<!-- bench:megacity -->\nmega\n<!-- /bench:megacity -->")


def test_p95_and_markdown():
    assert city_bench.p95([1.0]) == 1.0
    assert city_bench.p95([float(n) for n in range(1, 11)]) == pytest.approx(9.55)
    row = city_bench.figure("page x", [0.1, 0.2, 0.3], 0.05, 7, with_p95=True)
    row["target"], row["met"] = city_bench.target_for(row)
    assert row["ratio"] == 4.0 and row["met"] is True
    table = city_bench.markdown([row, {"name": "submissions 8 clients", "error": "ImportError: no module"}])
    assert "| page x | 200 ms | 290 ms | 50 ms | 4.0 | 7 | p95 ≤ 300 ms | yes |" in table
    assert "error: ImportError" in table


def test_a_deep_page_must_cost_the_queries_of_page_1():
    rows = [
        city_bench.figure("page problems page 1", [0.1], 0.01, 11, with_p95=True),
        city_bench.figure("page problems page 1000", [0.1], 0.01, 12, with_p95=True),
    ]
    city_bench.deep_pages(rows)
    assert rows[1]["page_1_queries"] == 11
    target, met = city_bench.target_for(rows[1])
    assert "page 1" in target and met is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bench runs on PostgreSQL only")
@pytest.mark.django_db
def test_smoke_every_figure_has_the_keys(capsys):
    """The generator and every in-process measurement at a tiny scale, on the test database (the
    guard is the command's: this calls the internals)."""
    campaign, week, meta, _seconds = city_bench.prepare_data("smoke", reuse=False, reset=False, vacuum=False)
    assert meta["shape"]["departments"] == 4
    snapshot = city_bench.Snapshot(campaign)
    users_before = set(get_user_model().objects.values_list("username", flat=True))
    figures = city_bench.measure(campaign, week, runs=1, requests=1, parts=("rollup", "publish", "bulletin", "pages"))
    names = [row["name"] for row in figures]
    assert names[:2] == ["roll-up", "publish"]
    assert any(name.startswith("bulletin render") for name in names)
    assert "page 周通报 print page" in names
    assert {f"page rankings {population}" for population in ("district", "street", "community", "department")} <= set(
        names
    )
    for row in figures:
        assert row.get("error") is None, row
        assert set(city_bench.FIGURE_KEYS) <= set(row), row
        assert {"target", "met"} <= set(row)
        assert row["median_s"] > 0
        assert isinstance(row["queries"], int)
    rollup = figures[0]
    assert rollup["differing"] == 0 and rollup["units_compared"] > 0
    pages = [row for row in figures if row["name"].startswith("page ")]
    assert all(row["p95_s"] is not None and row["floor_s"] is not None for row in pages)

    # The clean-up leaves the data set as it was generated.
    assert city_bench.clean_up(snapshot, media_root=None) == []
    assert not RollupVersion.objects.filter(campaign=campaign).exists()
    assert not AccountabilityCase.objects.filter(campaign=campaign).exists()
    assert not InspectionRound.objects.filter(campaign=campaign, name=pages_bench.BIG_ROUND_NAME).exists()
    assert set(get_user_model().objects.values_list("username", flat=True)) == users_before
