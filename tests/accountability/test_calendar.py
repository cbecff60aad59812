"""The working-day calendar (accountability.calendar): arithmetic across 国庆, 春节 and 调休
weekends, the one-query property, the spreadsheet import and the idempotent seed.

A transactional test elsewhere may flush tables, so every test that relies on seeded rows seeds
them itself (calendar_seed is idempotent)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from accountability.calendar import (
    add_working_days,
    calendar_import,
    calendar_seed,
    is_working_day,
    load_overrides,
    working_days_between,
)
from accountability.choices import DayKind
from accountability.holidays import HOLIDAYS
from accountability.models import CalendarDay
from campaign.importing import parse_sheet_date
from tests.campaign.xlsx import make_xlsx, upload

pytestmark = pytest.mark.django_db


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def seeded(db):
    calendar_seed()


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 国庆 2026: 10-01…10-07 off, 10-10 (Sat) is a 调休 working day.
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 2, "2026-10-09"),
        ("2026-10-09", 1, "2026-10-10"),  # Friday + 1 → the 调休 Saturday
        ("2026-10-09", 2, "2026-10-12"),  # …then Sunday is off again
        ("2026-10-03", 1, "2026-10-08"),  # assigned during the holiday
        ("2026-09-18", 1, "2026-09-20"),  # Friday + 1 → 调休 Sunday before 国庆
        ("2026-09-24", 1, "2026-09-28"),  # 中秋 09-25…09-27
        ("2026-09-30", 5, "2026-10-13"),  # 10-08, 09, 10(Sat 班), 12, 13
        # 春节 2026: 02-15…02-23 off, 02-14 and 02-28 (Sat) worked.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-13", 3, "2026-02-25"),
        ("2026-02-27", 1, "2026-02-28"),
        ("2026-02-27", 2, "2026-03-02"),
        # 国庆中秋 2025: 10-01…10-08 off, 09-28 (Sun) and 10-11 (Sat) worked.
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-30", 1, "2025-10-09"),
        # A plain weekend.
        ("2026-03-13", 1, "2026-03-16"),  # Friday → Monday
        ("2026-03-14", 1, "2026-03-16"),  # Saturday → Monday
        ("2026-03-09", 5, "2026-03-16"),  # Monday + 5 → next Monday
        ("2026-03-09", 10, "2026-03-23"),
        # n = 0 is the day itself, working or not.
        ("2026-10-01", 0, "2026-10-01"),
        ("2026-03-14", 0, "2026-03-14"),
        # Backwards.
        ("2026-10-08", -1, "2026-09-30"),
        ("2026-10-12", -1, "2026-10-10"),
        ("2026-03-16", -1, "2026-03-13"),
    ],
)
def test_add_working_days(seeded, start, n, expected):
    assert add_working_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-09-30", "2026-10-08", 1),
        ("2026-09-30", "2026-10-07", 0),  # the whole holiday: no working day
        ("2026-09-30", "2026-10-10", 3),  # 10-08, 10-09, 10-10 (调休 Saturday)
        ("2026-09-30", "2026-10-11", 3),
        ("2026-02-13", "2026-02-24", 2),  # 02-14 (Sat 班), 02-24
        ("2026-03-13", "2026-03-16", 1),  # plain weekend
        ("2026-03-09", "2026-03-16", 5),
        ("2026-03-16", "2026-03-16", 0),
    ],
)
def test_working_days_between_is_antisymmetric(seeded, start, end, expected):
    assert working_days_between(d(start), d(end)) == expected
    assert working_days_between(d(end), d(start)) == -expected


@pytest.mark.parametrize(("start", "n"), [("2026-09-30", 1), ("2026-02-13", 3), ("2026-03-09", 7), ("2025-12-31", 40)])
def test_between_inverts_add(seeded, start, n):
    end = add_working_days(d(start), n)
    assert working_days_between(d(start), end) == n


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-10-01", False),  # holiday on a Thursday
        ("2026-10-10", True),  # 调休 Saturday
        ("2026-10-11", False),  # ordinary Sunday
        ("2026-10-12", True),  # ordinary Monday
        ("2026-02-14", True),
        ("2026-02-21", False),  # Saturday inside 春节, stored as 休
    ],
)
def test_is_working_day(seeded, day, working):
    assert is_working_day(d(day)) is working
    assert is_working_day(d(day), overrides=load_overrides(d("2026-01-01"), d("2026-12-31"))) is working


def test_without_calendar_rows_only_weekdays_work(db):
    CalendarDay.objects.all().delete()
    assert add_working_days(d("2026-09-30"), 1) == d("2026-10-01")
    assert add_working_days(d("2026-10-09"), 1) == d("2026-10-12")
    assert working_days_between(d("2026-10-02"), d("2026-10-05")) == 1


def test_each_call_is_one_query(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert add_working_days(d("2026-01-01"), 200) > d("2026-10-01")
    with django_assert_num_queries(1):
        assert working_days_between(d("2026-01-01"), d("2026-12-31")) > 200
    with django_assert_num_queries(1):
        assert working_days_between(d("2026-12-31"), d("2026-01-01")) < -200
    with django_assert_num_queries(0):
        assert add_working_days(d("2026-01-01"), 0) == d("2026-01-01")
        is_working_day(d("2026-10-01"), overrides={})


def test_a_calendar_far_denser_than_any_year_still_answers(db):
    """The window is sized for real calendars; a pathological one costs another query, not a wrong answer."""
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d("2030-01-01") + datetime.timedelta(days=i), kind=DayKind.OFF) for i in range(100)]
    )
    assert add_working_days(d("2029-12-31"), 1) == d("2030-04-11")
    assert add_working_days(d("2030-04-11"), -1) == d("2029-12-31")


# ---------------------------------------------------------------- seed


def test_seed_is_idempotent_and_keeps_imported_rows(db):
    CalendarDay.objects.all().delete()
    CalendarDay.objects.create(date=d("2027-10-01"), kind=DayKind.OFF, name="国庆节")
    assert calendar_seed() == len(HOLIDAYS) - 1
    assert calendar_seed() == 0
    assert CalendarDay.objects.count() == len(HOLIDAYS)
    assert CalendarDay.objects.get(date=d("2027-10-01")).name == "国庆节"


def test_seed_data_is_consistent():
    dates = [day for day, _, _ in HOLIDAYS]
    assert len(dates) == len(set(dates))
    for day, kind, name in HOLIDAYS:
        assert kind in DayKind.values
        assert name
        if kind == DayKind.WORK:
            assert day.weekday() >= 5, day  # a 调休 working day is always a weekend day
        if day.year == 2027:
            assert name.endswith("（预估）") and kind == DayKind.OFF
    assert {day.year for day in dates} == {2025, 2026, 2027}


# ---------------------------------------------------------------- import

HEADER = ["日期", "类型", "名称"]


def run(rows, *, dry_run=False, header=HEADER, name="calendar.xlsx"):
    return calendar_import(file=upload(name, make_xlsx([header, *rows])), dry_run=dry_run)


def snapshot():
    return list(CalendarDay.objects.order_by("date").values_list("date", "kind", "name"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-01", "2026-10-01"),
        ("2026/10/1", "2026-10-01"),
        ("2026.10.1", "2026-10-01"),
        ("2026年10月1日", "2026-10-01"),
        ("2026 年 10 月 1 日", "2026-10-01"),
        ("2026-10-01 00:00:00", "2026-10-01"),
        ("20261001", "2026-10-01"),
        ("46296", "2026-10-01"),  # an Excel date serial
        ("2026-02-30", None),
        ("10月1日", None),
        ("明天", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_sheet_date(text) == (d(expected) if expected else None)


def test_import_happy_path_then_reimport_is_unchanged(db):
    CalendarDay.objects.all().delete()
    rows = [
        ["2028-01-01", "休", "元旦"],
        ["2028/1/29", "班", "春节"],
        ["2028年1月30日", "放假", "春节"],
        [datetime.datetime(2028, 1, 31), "节假日", "春节"],  # a real Excel date cell
        ["2028-02-12", "调休上班", ""],
        ["2028-10-14", "上班", "国庆节"],
    ]
    preview = run(rows, dry_run=True)
    assert preview.ok and preview.created == 6
    assert CalendarDay.objects.count() == 0

    result = run(rows)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    assert snapshot() == [
        (d("2028-01-01"), DayKind.OFF, "元旦"),
        (d("2028-01-29"), DayKind.WORK, "春节"),
        (d("2028-01-30"), DayKind.OFF, "春节"),
        (d("2028-01-31"), DayKind.OFF, "春节"),
        (d("2028-02-12"), DayKind.WORK, ""),
        (d("2028-10-14"), DayKind.WORK, "国庆节"),
    ]
    assert add_working_days(d("2028-01-28"), 1) == d("2028-01-29")

    again = run(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_import_updates_the_2027_estimate_in_place(db):
    calendar_seed()
    before = CalendarDay.objects.count()
    result = run([["2027-10-01", "休", "国庆节"], ["2027-10-09", "班", "国庆节"]])
    assert result.ok
    assert (result.created, result.updated) == (1, 1)
    assert result.rows[0].changes == {"名称": ("国庆节（预估）", "国庆节")}
    assert CalendarDay.objects.count() == before + 1
    assert CalendarDay.objects.get(date=d("2027-10-01")).name == "国庆节"


def test_import_reports_kind_change(db):
    CalendarDay.objects.all().delete()
    CalendarDay.objects.create(date=d("2028-05-06"), kind=DayKind.OFF, name="劳动节")
    result = run([["2028-05-06", "班", "劳动节"]])
    assert result.ok and result.updated == 1
    assert result.rows[0].changes == {"类型": ("休", "班")}
    assert CalendarDay.objects.get(date=d("2028-05-06")).kind == DayKind.WORK


def test_import_csv_in_gb18030(db):
    CalendarDay.objects.all().delete()
    data = "日期,类型,名称\n2028-01-01,休,元旦\n".encode("gb18030")
    result = calendar_import(file=upload("calendar.csv", data), dry_run=False)
    assert result.ok and result.created == 1


@pytest.mark.parametrize(
    ("bad_row", "column", "value", "fragment"),
    [
        (["2028-13-01", "休", "元旦"], "日期", "2028-13-01", "无法识别的日期"),
        (["明年元旦", "休", "元旦"], "日期", "明年元旦", "无法识别的日期"),
        (["", "休", "元旦"], "日期", "", "日期不能为空"),
        (["2028-01-02", "调休", "元旦"], "类型", "调休", "无法识别的类型"),
        (["2028-01-02", "", "元旦"], "类型", "", "类型不能为空"),
        (["2028/1/1", "休", "元旦"], "日期", "2028/1/1", "与第 2 行重复"),
        (["2028-01-02", "休", "节" * 51], "名称", "节" * 51, "不能超过 50 个字"),
    ],
)
def test_each_bad_row_is_reported_with_its_row_number_and_nothing_is_written(db, bad_row, column, value, fragment):
    calendar_seed()
    before = snapshot()
    rows = [["2028-01-01", "休", "元旦"], ["2027-10-01", "休", "国庆节"], bad_row, ["2028-01-03", "休", "元旦"]]
    for dry_run in (True, False):
        result = run(rows, dry_run=dry_run)
        assert not result.ok
        assert [(e.row, e.column, e.value) for e in result.errors] == [(4, column, value)]
        assert fragment in result.errors[0].message
        assert "未写入任何数据" in result.summary
    assert snapshot() == before


def test_import_missing_header_is_a_file_error(db):
    result = run([["2028-01-01", "元旦"]], header=["日期", "名称"])
    assert not result.ok and result.errors[0].row is None
    assert "类型" in result.errors[0].message


def test_management_command(db, tmp_path):
    CalendarDay.objects.all().delete()
    path = tmp_path / "calendar.xlsx"
    path.write_bytes(make_xlsx([HEADER, ["2028-01-01", "休", "元旦"]]))
    out = io.StringIO()
    call_command("import_calendar", str(path), "--dry-run", stdout=out)
    assert "预览：将新增 1 条" in out.getvalue()
    assert CalendarDay.objects.count() == 0
    call_command("import_calendar", str(path), stdout=out)
    assert CalendarDay.objects.get(date=d("2028-01-01")).name == "元旦"
