"""Demo survey results for 示范市: four surveys per district, a month apart and all in the past,
imported through the real importer. Every district improves; 北塘区 stays below the 85% target."""

from __future__ import annotations

import datetime

from django.utils import timezone

from campaign.importing import SheetRow

from .surveys import survey_import

# District short name → 满意率 of the four surveys, oldest first.
SATISFACTION = {
    "东湖区": (82.4, 84.9, 86.7, 88.3),
    "西山区": (80.1, 83.5, 85.2, 86.9),
    "南湖区": (84.0, 85.6, 87.1, 89.4),
    "北塘区": (78.2, 79.6, 81.3, 82.7),
    "滨江县": (79.5, 82.2, 84.8, 85.6),
}
# Each survey's other rates follow its 满意率: people know the campaign better than they join in.
OFFSETS = {"awareness": 6.8, "support": 8.1, "participation": -14.5}


def survey_dates(today: datetime.date) -> list[datetime.date]:
    """The 15th of each of the last four months before this one, oldest first."""
    dates = []
    year, month = today.year, today.month
    for _ in range(4):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        dates.append(datetime.date(year, month, 15))
    return list(reversed(dates))


def seed(context: dict) -> None:
    campaign = context["campaign"]
    office = context["users"]["office"]
    dates = survey_dates(timezone.localdate())
    rows = []
    number = 1
    for d_index, (district, rates) in enumerate(SATISFACTION.items()):
        for index, (day, satisfaction) in enumerate(zip(dates, rates, strict=True)):
            number += 1
            values = {
                "unit": district,
                "date": day.isoformat(),
                "satisfaction": f"{satisfaction:.1f}",
                "sample_size": str(560 + 20 * index + 37 * d_index),
            }
            for key, offset in OFFSETS.items():
                values[key] = f"{min(satisfaction + offset - index * 0.3, 99.5):.1f}"
            rows.append(SheetRow(number=number, values=values))
    result = survey_import(campaign=campaign, user=office, rows=rows)
    if not result.ok:  # pragma: no cover - the demo city always has these districts
        raise RuntimeError(f"demo surveys: {[e.message for e in result.errors]}")
