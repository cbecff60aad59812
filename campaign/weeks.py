"""How an ISO week is SHOWN: '2026-W48' → '第48周（11月24日—11月30日）'.

The ISO code ('2026-W48') stays in URLs, query strings, form values and the API; every page, PDF and
workbook shows the label. Labels are computed from the code alone (no database), so a list of weeks
costs no query.

The year: a week of the current ISO year reads '第48周（…）'; a week of any other year carries its
year, '2025年第52周（12月22日—12月28日）'. A page that lists weeks of two years (a picker in January,
a trend across the new year) therefore tells them apart without a rule of its own. A week spanning
two months or two years names both months: '第1周（12月29日—1月4日）'.
"""

from __future__ import annotations

import datetime
import re

from django.utils import timezone

WEEK_CODE = re.compile(r"^(\d{4})-W(\d{2})$")


def _parse(code: str) -> tuple[int, int, datetime.date] | None:
    match = WEEK_CODE.match(str(code or ""))
    if not match:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    try:
        monday = datetime.date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    return year, number, monday


def _this_year(today: datetime.date | None) -> int:
    return (today or timezone.localdate()).isocalendar()[0]


def week_span(monday: datetime.date) -> str:
    """The week's days: '11月24日—11月30日'."""
    sunday = monday + datetime.timedelta(days=6)
    return f"{monday.month}月{monday.day}日—{sunday.month}月{sunday.day}日"


def week_label(code: str, *, today: datetime.date | None = None) -> str:
    """'2026-W48' → '第48周（11月24日—11月30日）' (with '2025年' before a week of another year).
    A value that is not a week code is returned as it is."""
    parsed = _parse(code)
    if parsed is None:
        return str(code or "")
    year, number, monday = parsed
    prefix = "" if year == _this_year(today) else f"{year}年"
    return f"{prefix}第{number}周（{week_span(monday)}）"


def week_short(code: str, *, today: datetime.date | None = None) -> str:
    """The short form for chart axes and tight cells: '第48周' ('2025年第52周' for another year)."""
    parsed = _parse(code)
    if parsed is None:
        return str(code or "")
    year, number, _ = parsed
    prefix = "" if year == _this_year(today) else f"{year}年"
    return f"{prefix}第{number}周"


def week_code(day: datetime.date) -> str:
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_options(
    *, since: datetime.date | None = None, today: datetime.date | None = None, limit: int = 104, keep: str = ""
) -> list[tuple[str, str]]:
    """(code, label) of the ISO weeks from this one back to the one holding `since` (at most `limit`),
    newest first — a week picker that reads 第48周（11月24日—11月30日） whatever the browser's
    language or support for `<input type="week">`. `keep`: a chosen week outside that range is added."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    codes = []
    while len(codes) < limit and (since is None or monday + datetime.timedelta(days=6) >= since):
        codes.append(week_code(monday))
        monday -= datetime.timedelta(days=7)
    if keep and _parse(keep) and keep not in codes:
        codes.append(keep)
        codes.sort(reverse=True)
    return [(code, week_label(code, today=today)) for code in codes]
