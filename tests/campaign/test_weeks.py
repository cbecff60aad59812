"""The Chinese week picker's options (campaign.weeks.week_options)."""

from __future__ import annotations

import datetime

from campaign.weeks import week_options


def test_week_options_run_from_this_week_back_to_the_start_in_chinese():
    today = datetime.date(2026, 12, 2)  # a Wednesday of 2026-W49
    options = week_options(since=datetime.date(2026, 11, 20), today=today)
    assert options == [
        ("2026-W49", "第49周（11月30日—12月6日）"),
        ("2026-W48", "第48周（11月23日—11月29日）"),
        ("2026-W47", "第47周（11月16日—11月22日）"),  # holds the start day
    ]
    assert len(week_options(today=today, limit=5)) == 5
    kept = week_options(since=datetime.date(2026, 11, 20), today=today, keep="2025-W52")
    assert kept[-1] == ("2025-W52", "2025年第52周（12月22日—12月28日）")
    assert week_options(since=datetime.date(2026, 11, 20), today=today, keep="2026-W99") == options
