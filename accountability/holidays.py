"""The seeded working-day calendar: public holidays (休) and 调休 working weekend days (班).

2025 and 2026 follow the State Council General Office notices on the holiday arrangements
(国务院办公厅关于2025年/2026年部分节假日安排的通知). Weekend days inside a holiday are stored as 休
too, as offices' own sheets list them.

2027 has not been published by the State Council; only the fixed-date holidays are seeded, as an
ESTIMATE whose names end in "（预估）" (元旦 1月1日, 劳动节 5月1日–5日, 国庆节 10月1日–7日), with no
调休 working days. When the 2027 notice is published, re-import the year with
`manage.py import_calendar <file>`: the import matches by date and updates these rows in place
(an estimated day the notice does not list must then be deleted in the admin).

Kept as a plain list so that the data migration can import it without importing services.
"""

from __future__ import annotations

import datetime

OFF = "off"  # DayKind.OFF
WORK = "work"  # DayKind.WORK


def _days(first: str, last: str, kind: str, name: str) -> list[tuple[datetime.date, str, str]]:
    start, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    return [(start + datetime.timedelta(days=i), kind, name) for i in range((end - start).days + 1)]


def _day(day: str, kind: str, name: str) -> list[tuple[datetime.date, str, str]]:
    return _days(day, day, kind, name)


HOLIDAYS: list[tuple[datetime.date, str, str]] = [
    # 2025
    *_day("2025-01-01", OFF, "元旦"),
    *_day("2025-01-26", WORK, "春节"),  # Sunday
    *_days("2025-01-28", "2025-02-04", OFF, "春节"),
    *_day("2025-02-08", WORK, "春节"),  # Saturday
    *_days("2025-04-04", "2025-04-06", OFF, "清明节"),
    *_day("2025-04-27", WORK, "劳动节"),  # Sunday
    *_days("2025-05-01", "2025-05-05", OFF, "劳动节"),
    *_days("2025-05-31", "2025-06-02", OFF, "端午节"),
    *_day("2025-09-28", WORK, "国庆节、中秋节"),  # Sunday
    *_days("2025-10-01", "2025-10-08", OFF, "国庆节、中秋节"),
    *_day("2025-10-11", WORK, "国庆节、中秋节"),  # Saturday
    # 2026
    *_days("2026-01-01", "2026-01-03", OFF, "元旦"),
    *_day("2026-01-04", WORK, "元旦"),  # Sunday
    *_day("2026-02-14", WORK, "春节"),  # Saturday
    *_days("2026-02-15", "2026-02-23", OFF, "春节"),
    *_day("2026-02-28", WORK, "春节"),  # Saturday
    *_days("2026-04-04", "2026-04-06", OFF, "清明节"),
    *_days("2026-05-01", "2026-05-05", OFF, "劳动节"),
    *_day("2026-05-09", WORK, "劳动节"),  # Saturday
    *_days("2026-06-19", "2026-06-21", OFF, "端午节"),
    *_day("2026-09-20", WORK, "国庆节"),  # Sunday
    *_days("2026-09-25", "2026-09-27", OFF, "中秋节"),
    *_days("2026-10-01", "2026-10-07", OFF, "国庆节"),
    *_day("2026-10-10", WORK, "国庆节"),  # Saturday
    # 2027: an estimate until the State Council publishes the year (see the module docstring).
    *_day("2027-01-01", OFF, "元旦（预估）"),
    *_days("2027-05-01", "2027-05-05", OFF, "劳动节（预估）"),
    *_days("2027-10-01", "2027-10-07", OFF, "国庆节（预估）"),
]

SEEDED_YEARS = (2025, 2026, 2027)
