"""Survey results (问卷调查): the districts' 知晓率, 支持率, 参与率 and 满意率, imported from the
survey company's spreadsheet, and the reads the survey page, the API and the dashboard share.

Rates are stored in percent (0–100). An import is all or nothing, every bad row is reported with
its spreadsheet row number, and rows are matched by (campaign, district, date), so importing the
same file again changes nothing.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    SheetRow,
    header_of,
    parse_sheet_date,
    read_table,
)
from campaign.lookups import UnitLookup
from campaign.models import Campaign, Unit
from campaign.permissions import can_manage
from campaign.selectors import Scope, scope_for

from .models import SurveyResult

# The four rates, in the order the page and the template show them.
RATE_FIELDS = ("awareness", "support", "participation", "satisfaction")
RATE_LABELS = {"awareness": "知晓率", "support": "支持率", "participation": "参与率", "satisfaction": "满意率"}

SURVEY_COLUMNS = [
    Column("unit", "区县", ("区县名称", "区(县)", "区县(市)", "地区", "单位"), required=True),
    Column("date", "调查日期", ("日期", "调查时间", "测评日期"), required=True),
    Column("awareness", "知晓率", ("知晓率(%)", "市民知晓率")),
    Column("support", "支持率", ("支持率(%)", "市民支持率")),
    Column("participation", "参与率", ("参与率(%)", "市民参与率")),
    Column("satisfaction", "满意率", ("满意率(%)", "满意度", "市民满意率", "市民满意度")),
    Column("sample_size", "样本量", ("样本数", "有效样本", "有效问卷", "问卷数")),
]

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class RateError(ValueError):
    pass


def parse_percent(text: str) -> Decimal | None:
    """A rate as offices write it, in percent: "86.5", "86.5%" and 0.865 (a percent-formatted
    Excel cell reads as a fraction) all mean 86.5. A number up to 1 without a % sign is taken as a
    fraction. Blank → None; RateError (Chinese) for anything else or outside 0–100."""
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    has_sign = text.endswith("%")
    number = text[:-1] if has_sign else text
    if not _NUMBER.match(number):
        raise RateError(f"“{text}”不是有效的百分比，请填写如 86.5 或 86.5%。")
    try:
        value = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already checked the shape
        raise RateError(f"“{text}”不是有效的百分比，请填写如 86.5 或 86.5%。") from exc
    if not has_sign and Decimal(0) <= value <= 1:
        value *= HUNDRED
    if value < 0 or value > HUNDRED:
        raise RateError(f"“{text}”超出范围，比率应在 0–100% 之间。")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_sample_size(text: str) -> int | None:
    text = (text or "").strip().replace(",", "").replace("，", "")
    if not text:
        return None
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(text.split(".")[0])
    raise RateError(f"样本量“{text}”应为不小于 0 的整数。")


def plain(value: Decimal | None) -> str:
    """A decimal as people write it: 85.00 → "85", 2.50 → "2.5"."""
    return "" if value is None else f"{Decimal(value).normalize():f}"


def _format_rate(value: Decimal | None) -> str:
    return "" if value is None else f"{plain(value)}%"


@dataclass
class _Planned:
    number: int
    unit: Unit
    date: datetime.date
    values: dict = field(default_factory=dict)


def survey_import(
    *,
    campaign: Campaign,
    user,
    file=None,
    rows: list[SheetRow] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import survey results for a campaign from a spreadsheet `file` (or rows already read):
    every row checked first, then all or nothing. The office only.

    Columns: 区县 (name, short name or code), 调查日期, 知晓率, 支持率, 参与率, 满意率 (at least one
    rate), 样本量 (optional). A row updates the result of the same district and date; a blank rate
    cell means the survey did not measure it."""
    if not can_manage(user):
        raise PermissionDenied("只有创建办可以导入问卷调查结果。")
    if rows is None:
        try:
            rows = read_table(file, columns=SURVEY_COLUMNS)
        except ImportFileError as exc:
            return exc.as_result(dry_run=dry_run)

    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    lookup = UnitLookup(Unit.objects.filter(active=True))
    today = timezone.localdate()
    planned: list[_Planned] = []
    first_row_of: dict[tuple[int, datetime.date], int] = {}
    for row in rows:
        if not any(row.get(column.key) for column in SURVEY_COLUMNS if column.key != "unit"):
            # The template lists every district to fill in: a district left blank was not surveyed.
            if row.get("unit"):
                result.warnings.append(RowError(row.number, "区县", row.get("unit"), "未填写调查结果，已跳过。"))
            continue
        row_ok = True
        unit_text = row.get("unit")
        unit = None
        if not unit_text:
            errors.append(RowError(row.number, "区县", "", "区县不能为空。"))
            row_ok = False
        else:
            unit, message = lookup.resolve(unit_text, kinds={UnitKind.DISTRICT})
            if unit is None:
                errors.append(RowError(row.number, "区县", unit_text, message))
                row_ok = False

        date_text = row.get("date")
        day = parse_sheet_date(date_text) if date_text else None
        if not date_text:
            errors.append(RowError(row.number, "调查日期", "", "调查日期不能为空。"))
            row_ok = False
        elif day is None:
            errors.append(
                RowError(
                    row.number, "调查日期", date_text, f"无法识别的日期“{date_text}”，请按 2026-10-01 的格式填写。"
                )
            )
            row_ok = False
        elif day > today:
            errors.append(RowError(row.number, "调查日期", date_text, "调查日期不能晚于今天。"))
            row_ok = False

        values: dict = {}
        for key in RATE_FIELDS:
            try:
                values[key] = parse_percent(row.get(key))
            except RateError as exc:
                errors.append(RowError(row.number, RATE_LABELS[key], row.get(key), f"{RATE_LABELS[key]}：{exc}"))
                row_ok = False
        try:
            values["sample_size"] = parse_sample_size(row.get("sample_size"))
        except RateError as exc:
            errors.append(RowError(row.number, "样本量", row.get("sample_size"), str(exc)))
            row_ok = False
        if row_ok and all(values[key] is None for key in RATE_FIELDS):
            errors.append(RowError(row.number, "满意率", "", "知晓率、支持率、参与率、满意率至少填写一项。"))
            row_ok = False

        if unit is not None and day is not None:
            key = (unit.pk, day)
            if key in first_row_of:
                errors.append(
                    RowError(
                        row.number,
                        "调查日期",
                        date_text,
                        f"{unit.display_name} {day.isoformat()} 的结果与第 {first_row_of[key]} 行重复。",
                    )
                )
                row_ok = False
            else:
                first_row_of[key] = row.number
        if row_ok:
            planned.append(_Planned(row.number, unit, day, values))

    existing = {}
    if planned:
        wanted = Q()
        for item in planned:
            wanted |= Q(unit=item.unit, date=item.date)
        existing = {(s.unit_id, s.date): s for s in SurveyResult.objects.filter(wanted, campaign=campaign)}

    creates: list[SurveyResult] = []
    updates: list[SurveyResult] = []
    now = timezone.now()
    for item in planned:
        label = f"{item.unit.display_name} {item.date.isoformat()}"
        current = existing.get((item.unit.pk, item.date))
        if current is None:
            result.rows.append(RowChange(item.number, "create", label))
            creates.append(SurveyResult(campaign=campaign, unit=item.unit, date=item.date, **item.values))
            continue
        changes = {}
        for key, value in item.values.items():
            old = getattr(current, key)
            if old != value:
                show = _format_rate if key in RATE_FIELDS else (lambda v: "" if v is None else str(v))
                changes[header_of(SURVEY_COLUMNS, key)] = (show(old), show(value))
                setattr(current, key, value)
        result.rows.append(RowChange(item.number, "update" if changes else "unchanged", label, changes))
        if changes:
            current.imported_at = now
            updates.append(current)

    errors.sort(key=lambda e: e.row or 0)
    if errors or dry_run:
        return result
    with transaction.atomic():
        SurveyResult.objects.bulk_create(creates)
        if updates:
            SurveyResult.objects.bulk_update(updates, [*RATE_FIELDS, "sample_size", "imported_at"])
    return result


# ---------------------------------------------------------------- reads


def survey_district_ids(scope: Scope) -> set[int] | None:
    """The districts whose survey results a user may read: None for all (office, leaders,
    inspectors); for a liaison the district its units lie in (the first id of a territorial
    path); nothing for a department's liaison."""
    if scope.sees_everything:
        return None
    return {int(path.strip("/").split("/")[0]) for path in scope.liaison_paths if path.strip("/")}


def survey_list(*, user, campaign: Campaign | None = None) -> QuerySet[SurveyResult]:
    """Survey results the user may read, with their district joined, newest first."""
    queryset = SurveyResult.objects.select_related("unit", "campaign").order_by("-date", "unit__path")
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    districts = survey_district_ids(scope_for(user))
    if districts is not None:
        queryset = queryset.filter(unit_id__in=districts, unit__kind=UnitKind.DISTRICT)
    return queryset


@dataclass
class SurveyPoint:
    date: datetime.date
    awareness: Decimal | None
    support: Decimal | None
    participation: Decimal | None
    satisfaction: Decimal | None
    sample_size: int | None


@dataclass
class DistrictSeries:
    """One district's surveys in date order; `latest` and `previous` are its last two."""

    unit_id: int
    name: str
    points: list[SurveyPoint]

    @property
    def latest(self) -> SurveyPoint:
        return self.points[-1]

    @property
    def previous(self) -> SurveyPoint | None:
        return self.points[-2] if len(self.points) > 1 else None


def survey_trend(*, campaign: Campaign, user=None, unit: Unit | None = None) -> list[DistrictSeries]:
    """Per district (in tree order) its survey results by date, in one query. With `user`, only
    the districts that user may read."""
    queryset = (
        survey_list(user=user, campaign=campaign)
        if user is not None
        else SurveyResult.objects.filter(campaign=campaign)
    )
    if unit is not None:
        queryset = queryset.filter(unit=unit)
    rows = queryset.order_by("unit__path", "date").values_list(
        "unit_id", "unit__short_name", "unit__name", "date", *RATE_FIELDS, "sample_size"
    )
    series: dict[int, DistrictSeries] = {}
    for unit_id, short, name, day, *rest in rows:
        entry = series.setdefault(unit_id, DistrictSeries(unit_id, short or name, []))
        entry.points.append(SurveyPoint(day, *rest))
    return list(series.values())
