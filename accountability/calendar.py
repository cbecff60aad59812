"""Working-day arithmetic on the Chinese calendar, and its import and seed.

A day is a working day by its weekday (Monday–Friday) unless a CalendarDay says otherwise: a
public holiday on a weekday (休) or a 调休 weekend day that is worked (班). The rows are data,
imported per year from the offices' spreadsheet; 2025–2027 are seeded (accountability/holidays.py).

Every function loads the CalendarDay rows of the range it needs in one query, never one per day.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from campaign.audit import history_record
from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    header_of,
    parse_sheet_date,
    read_table,
)

from .choices import DayKind
from .holidays import HOLIDAYS
from .models import CalendarDay

Overrides = dict[datetime.date, str]  # date → DayKind value

ONE_DAY = datetime.timedelta(days=1)


def load_overrides(first: datetime.date, last: datetime.date) -> Overrides:
    """The CalendarDay kinds from `first` to `last` inclusive, in one query."""
    if last < first:
        first, last = last, first
    return dict(CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind"))


def is_working_day(day: datetime.date, *, overrides: Overrides | None = None) -> bool:
    """Mon–Fri unless marked 休; Sat/Sun only when marked 班. Pass `overrides` (from
    load_overrides) when asking about many days; without it this costs one query."""
    if overrides is None:
        overrides = load_overrides(day, day)
    kind = overrides.get(day)
    if kind == DayKind.OFF:
        return False
    if kind == DayKind.WORK:
        return True
    return day.weekday() < 5


def _window(n: int) -> int:
    """Calendar days that surely hold `n` working days: weekends take under 2 in 7, and no run of
    holidays in a year is as long as the 31-day margin."""
    return abs(n) * 2 + 31


def add_working_days(start: datetime.date, n: int) -> datetime.date:
    """The n-th working day after `start` (before it when n is negative); n=0 returns `start`.

    `start` itself never counts, so a problem assigned on a holiday with a limit of 1 is due on
    the first working day after it."""
    if n == 0:
        return start
    step = ONE_DAY if n > 0 else -ONE_DAY
    remaining = abs(n)
    day = start
    span = datetime.timedelta(days=_window(n))
    edge = start + (span if n > 0 else -span)
    overrides = load_overrides(start, edge)
    while True:
        day += step
        if day == edge + step:  # pathological calendar: load the next window (not reached in practice)
            edge = day + (span if n > 0 else -span)
            overrides = load_overrides(day, edge)
        if is_working_day(day, overrides=overrides):
            remaining -= 1
            if remaining == 0:
                return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days in (start, end]; negative (the count in (end, start]) when end is before start.
    So add_working_days(start, working_days_between(start, end)) ≤ end, equal when end works."""
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    overrides = load_overrides(start + ONE_DAY, end)
    count = 0
    day = start + ONE_DAY
    while day <= end:
        if is_working_day(day, overrides=overrides):
            count += 1
        day += ONE_DAY
    return count


# ---------------------------------------------------------------- import

CALENDAR_COLUMNS = [
    Column("date", "日期", ("日子", "公历日期"), required=True),
    Column("kind", "类型", ("休/班", "安排", "放假/上班", "性质"), required=True),
    Column("name", "名称", ("节日", "节假日", "节日名称", "节假日名称", "假日名称")),
]

# What offices write in the 类型 column.
KIND_LABELS = {
    "休": DayKind.OFF,
    "放假": DayKind.OFF,
    "节假日": DayKind.OFF,
    "班": DayKind.WORK,
    "上班": DayKind.WORK,
    "调休上班": DayKind.WORK,
}


def calendar_import(*, file, dry_run: bool) -> ImportResult:
    """Import holidays and 调休 working days: every row checked first, then all or nothing.
    Rows are matched by date; days missing from the file are left as they are."""
    try:
        rows = read_table(file, columns=CALENDAR_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)

    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    name_limit = CalendarDay._meta.get_field("name").max_length
    planned: list[tuple[int, datetime.date, str, str]] = []
    first_row_of_date: dict[datetime.date, int] = {}
    for row in rows:
        date_text, kind_text, name = row.get("date"), row.get("kind"), row.get("name")
        row_ok = True
        day = parse_sheet_date(date_text) if date_text else None
        if not date_text:
            errors.append(RowError(row.number, "日期", "", "日期不能为空。"))
            row_ok = False
        elif day is None:
            errors.append(
                RowError(row.number, "日期", date_text, f"无法识别的日期“{date_text}”，请按 2026-10-01 的格式填写。")
            )
            row_ok = False
        elif day in first_row_of_date:
            errors.append(
                RowError(
                    row.number, "日期", date_text, f"日期 {day.isoformat()} 与第 {first_row_of_date[day]} 行重复。"
                )
            )
            row_ok = False
        else:
            first_row_of_date[day] = row.number
        kind = KIND_LABELS.get(kind_text.replace(" ", ""))
        if kind is None:
            known = "、".join(KIND_LABELS)
            message = "类型不能为空。" if not kind_text else f"无法识别的类型“{kind_text}”，可填写：{known}。"
            errors.append(RowError(row.number, "类型", kind_text, message))
            row_ok = False
        if len(name) > name_limit:
            errors.append(RowError(row.number, "名称", name, f"名称不能超过 {name_limit} 个字。"))
            row_ok = False
        if row_ok:
            planned.append((row.number, day, kind, name))

    existing = {d.date: d for d in CalendarDay.objects.filter(date__in=[p[1] for p in planned])} if planned else {}
    creates: list[CalendarDay] = []
    updates: list[CalendarDay] = []
    for number, day, kind, name in planned:
        label = f"{day.isoformat()} {DayKind(kind).label} {name}".rstrip()
        current = existing.get(day)
        if current is None:
            result.rows.append(RowChange(number, "create", label))
            creates.append(CalendarDay(date=day, kind=kind, name=name))
            continue
        changes = {}
        if current.kind != kind:
            changes[header_of(CALENDAR_COLUMNS, "kind")] = (DayKind(current.kind).label, DayKind(kind).label)
        if current.name != name:
            changes[header_of(CALENDAR_COLUMNS, "name")] = (current.name, name)
        result.rows.append(RowChange(number, "update" if changes else "unchanged", label, changes))
        if changes:
            current.kind, current.name = kind, name
            updates.append(current)

    errors.sort(key=lambda e: e.row or 0)
    if errors or dry_run:
        return result
    with transaction.atomic():
        CalendarDay.objects.bulk_create(creates)
        if updates:
            CalendarDay.objects.bulk_update(updates, ["kind", "name"])
        # Bulk writes send no signal: the changed days' history rows, in bulk too.
        history_record(CalendarDay, creates, change="+")
        history_record(CalendarDay, updates)
    return result


def calendar_seed() -> int:
    """Create the seeded days (2025–2027) that are missing; days already present — imported or
    edited — are left as they are. Returns how many were created."""
    existing = set(CalendarDay.objects.filter(date__in=[d for d, _, _ in HOLIDAYS]).values_list("date", flat=True))
    missing = [CalendarDay(date=day, kind=kind, name=name) for day, kind, name in HOLIDAYS if day not in existing]
    CalendarDay.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
