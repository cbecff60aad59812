"""第三方测评结果导入: the evaluation firm's sheet — one row per observation — into a round of kind
第三方测评, scored as given.

Each row names a point (by name; with its type and unit, or the name alone when unique), the
测评标准 (a code of the round's campaign's current indicator system, or code + number/title), the
扣分 as a value (or 合格/不合格/严重不合格 with 问题处数), the departments charged for it (any
separator, spaces included) and when it was observed (else the date picked in the form). Rows are
grouped into inspections by (point, day) and recorded through `inspection_submit` — its rules,
charging and problems (or none: an option) — one call per inspection, with a client_uuid derived
from the round, the point, the day, the group's content and the inspection it corrects: importing
the same sheet again changes nothing, a changed sheet supersedes the earlier inspection of that
(point, day). Set-based look-ups (types, units, indicators, check items, points and the round's
current inspections are read once for all rows); all or nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    parse_sheet_date,
    read_table,
    report_progress,
)
from campaign.lookups import UnitLookup
from campaign.selectors import scope_for
from indicators.selectors import system_current

from . import services
from .choices import Result, RoundKind
from .importing import _chunks, _find_indicator, _indicator_index, _point_type_lookup, _PointPlan, _points_write
from .importing import _decimal as _number
from .models import CheckItem, Inspection, InspectionRound, Observation, Point

CORRECTION_REASON = "第三方测评结果重新导入"
NAMESPACE = uuid.UUID("6f1d2c3e-9a4b-5c7d-8e0f-1a2b3c4d5e6f")

COLUMNS = [
    Column("point", "点位名称", ("点位", "点位名", "测评点位"), required=True),
    Column("type", "点位类型", ("点位类别", "类型", "类别")),
    Column("unit", "所在单位", ("所属单位", "街道", "社区", "所属街道", "所属社区", "所在街道", "所在社区", "属地")),
    Column("standard", "测评标准", ("测评标准编码", "标准编码", "指标编码", "测评标准及编码"), required=True),
    Column("text", "检查内容", ("细则", "测评细则", "细则序号")),
    Column("deduction", "扣分", ("扣分值", "失分")),
    Column("result", "结果", ("测评结果", "是否合格")),
    Column("occurrences", "问题处数", ("处数",)),
    Column("departments", "责任部门", ("主管部门", "责任单位")),
    Column("time", "检查时间", ("测评时间", "检查日期", "测评日期")),
    Column("note", "备注", ("问题描述", "说明")),
]
HEADERS = {c.key: c.header for c in COLUMNS}
RESULT_WORDS = {
    "合格": Result.PASS,
    "达标": Result.PASS,
    "不合格": Result.FAIL,
    "不达标": Result.FAIL,
    "严重不合格": Result.SEVERE,
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$")
DEFAULT_HOUR = 12  # a row with a date only is recorded at noon (or now, if that is later today)


@dataclass
class ThirdPartyResult(ImportResult):
    """An import's outcome, plus what it does to inspections and points."""

    new_inspections: int = 0
    corrected_inspections: int = 0
    unchanged_inspections: int = 0
    new_points: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.errors:
            return super().summary
        verb = "预览：将" if self.dry_run else "已"
        parts = [f"{verb}新增督查记录 {self.new_inspections} 次（观测 {self.created} 条）"]
        parts.append(f"更正 {self.corrected_inspections} 次（观测 {self.updated} 条）")
        if self.new_points:
            parts.append(f"新建点位 {len(self.new_points)} 个")
        parts.append(f"{self.unchanged_inspections} 次不变")
        return "，".join(parts) + "。"

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "new_inspections": self.new_inspections,
            "corrected_inspections": self.corrected_inspections,
            "unchanged_inspections": self.unchanged_inspections,
            "new_points": list(self.new_points),
        }


@dataclass
class _Row:
    number: int
    point_key: tuple  # ("id", pk) or ("new", name, type id, unit id)
    point_identity: tuple  # (name, type id, unit id) in both cases
    point_label: str
    item: CheckItem
    result: str
    deduction: Decimal | None
    occurrences: int
    departments: list | None
    moment: datetime.datetime
    note: str
    label: str

    def content(self) -> tuple:
        return (
            self.item.pk,
            self.result,
            "" if self.deduction is None else f"{self.deduction:.2f}",
            self.occurrences,
            None if self.departments is None else tuple(sorted(d.pk for d in self.departments)),
            self.note,
            self.moment.isoformat(),
        )


def round_problems(round_: InspectionRound | None) -> str | None:
    """Why a round cannot take third-party results (None when it can)."""
    if round_ is None:
        return "请选择一个第三方测评批次。"
    if round_.kind != RoundKind.THIRD_PARTY:
        return f"批次“{round_.name}”的类型是{round_.get_kind_display()}，第三方测评结果只能导入类型为第三方测评的批次。"
    if not round_.campaign.active:
        return f"批次“{round_.name}”所属的创建活动“{round_.campaign.name}”已结束（归档），不能再导入。"
    return None


def _decimal(text: str) -> Decimal | None:
    """The imports' number (importing._decimal), finite only."""
    value = _number(text)
    return value if value is not None and value.is_finite() else None


def _moment(text: str, default_day: datetime.date | None) -> tuple[datetime.datetime | None, str | None]:
    """(aware moment, error). A date, or a date and time; blank → the form's date."""
    if not text:
        if default_day is None:
            return None, "请填写检查时间，或在导入页面选择测评日期。"
        return _at(default_day, None), None
    day = parse_sheet_date(text)
    if day is None:
        return None, f"无法识别的日期“{text}”，请填写如 2026-10-01 或 2026-10-01 09:30。"
    found = _TIME.search(text)
    clock = None
    if found and " " in text.strip() or (found and "T" in text):
        hour, minute, second = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None, f"无法识别的时间“{text}”。"
        clock = datetime.time(hour, minute, second)
        if clock == datetime.time(0, 0):  # an Excel date cell reads as "… 00:00:00": a date only
            clock = None
    return _at(day, clock), None


def _at(day: datetime.date, clock: datetime.time | None) -> datetime.datetime:
    tz = timezone.get_current_timezone()
    if clock is not None:
        return datetime.datetime.combine(day, clock, tzinfo=tz)
    moment = datetime.datetime.combine(day, datetime.time(DEFAULT_HOUR), tzinfo=tz)
    now = timezone.localtime()
    if day == now.date() and moment > now:
        moment = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
    return moment


def _find_standard(ref: str, index, by_pk) -> tuple:
    """A code of the system, a path of codes ("Ⅲ-57/1)", "Ⅲ-57 1)") — as the check-items import
    reads them — or a code followed by the standard's title ("Ⅲ-57 餐饮场所张贴宣传提示")."""
    indicator, message = _find_indicator(ref, index, by_pk)
    if indicator is not None or not ref:
        return indicator, message
    code, _, rest = ref.partition(" ")
    rest = rest.strip()
    if rest:
        found = [n for n in index.get(code, []) if n.title.replace(" ", "") == rest.replace(" ", "")]
        found += [
            n
            for n in by_pk.values()
            if n.parent_id is not None
            and by_pk.get(n.parent_id) in index.get(code, [])
            and (n.code == rest or n.title.replace(" ", "") == rest.replace(" ", ""))
        ]
        if len(found) == 1:
            return found[0], None
    return None, message


def _existing_points(names: list[str]) -> dict[str, list[Point]]:
    by_name: dict[str, list[Point]] = {}
    for chunk in _chunks(sorted(set(names))):
        for point in Point.objects.filter(name__in=chunk).select_related("point_type", "unit"):
            by_name.setdefault(point.name, []).append(point)
    return by_name


def third_party_results_import(
    *,
    round_: InspectionRound,
    file,
    dry_run: bool,
    user,
    observed_on: datetime.date | None = None,
    create_points: bool = False,
    open_problems: bool = False,
) -> ThirdPartyResult:
    """Preview (dry_run) or import an evaluator's sheet into `round_`. See the module's docstring."""
    result = ThirdPartyResult(dry_run=dry_run)
    errors = result.errors
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以导入第三方测评结果。")
    problem = round_problems(round_)
    if problem:
        errors.append(RowError(None, "", "", problem))
        return result
    if observed_on is not None and not round_.start_date <= observed_on <= round_.end_date:
        errors.append(
            RowError(
                None,
                "测评日期",
                f"{observed_on:%Y-%m-%d}",
                f"测评日期应在批次日期 {round_.start_date:%Y-%m-%d} 至 {round_.end_date:%Y-%m-%d} 之内。",
            )
        )
        return result
    try:
        sheet = read_table(file, columns=COLUMNS)
    except ImportFileError as exc:
        errors.append(RowError(None, "", "", exc.message))
        return result
    if not any(key in sheet[0].values for key in ("deduction", "result")):
        errors.append(RowError(None, "", "", "未找到“扣分”或“结果”列：每行须填写扣分值，或合格/不合格。"))
        return result
    system = system_current(campaign=round_.campaign)
    if system is None:
        errors.append(RowError(None, "", "", f"创建活动“{round_.campaign.name}”还没有测评体系，请先导入测评体系。"))
        return result

    # The look-ups, once for all rows.
    types = _point_type_lookup()
    units = UnitLookup()
    index, by_pk = _indicator_index(system)
    items_of: dict[tuple[int, int], list[CheckItem]] = {}
    for item in CheckItem.objects.filter(indicator__system=system, active=True).order_by("order", "id"):
        items_of.setdefault((item.point_type_id, item.indicator_id), []).append(item)
    points_by_name = _existing_points([row.get("point") for row in sheet])
    now = timezone.now()

    rows: list[_Row] = []
    new_points: dict[tuple, _PointPlan] = {}
    total = len(sheet)
    for position, row in enumerate(sheet, start=1):
        if position % 500 == 0:
            report_progress("validate", position, total)
        n, row_errors = row.number, []

        def error(key, message, value=None, n=n, row=row, row_errors=row_errors):
            row_errors.append(RowError(n, HEADERS[key], row.get(key) if value is None else value, message))

        name = row.get("point")
        point_type = None
        if row.get("type"):
            point_type = types.get(row.get("type"))
            if point_type is None:
                error("type", f"未知的点位类型“{row.get('type')}”。")
        unit = None
        if row.get("unit"):
            unit, message = units.resolve(
                row.get("unit"), kinds={UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.DISTRICT}
            )
            if unit is None:
                error("unit", message)
        indicator, message = _find_standard(row.get("standard"), index, by_pk)
        if indicator is None:
            error("standard", message or "测评标准不能为空。")
        departments = None
        if row.get("departments"):
            departments, messages = units.resolve_many(row.get("departments"), kinds={UnitKind.DEPARTMENT})
            for message in messages:
                error("departments", message)
        moment, message = _moment(row.get("time"), observed_on)
        if message:
            error("time", message)
        elif not round_.start_date <= timezone.localtime(moment).date() <= round_.end_date:
            error(
                "time",
                f"检查时间应在批次“{round_.name}”的日期 {round_.start_date:%Y-%m-%d} 至 {round_.end_date:%Y-%m-%d} 之内。",
                value=row.get("time") or f"{observed_on:%Y-%m-%d}",
            )
        elif moment > now + datetime.timedelta(minutes=5):
            error("time", "检查时间不能晚于现在。")
        # The point: by name + type + unit, else by name alone when that is unique.
        point, point_key, point_label = None, None, name
        if not name:
            error("point", "点位名称不能为空。")
        elif not (row.get("type") and point_type is None) and not (row.get("unit") and unit is None):
            candidates = points_by_name.get(name, [])
            exact = [
                p
                for p in candidates
                if (point_type is None or p.point_type_id == point_type.pk) and (unit is None or p.unit_id == unit.pk)
            ]
            if len(exact) == 1:
                point = exact[0]
            elif len(exact) > 1:
                named = "、".join(f"{p.unit.name}的{p.point_type.name}" for p in exact[:5])
                error("point", f"有多个点位叫“{name}”：{named}，请填写点位类型和所在单位。")
            elif len(candidates) == 1 and point_type is not None and candidates[0].point_type_id == point_type.pk:
                point = candidates[0]  # the name is unique: the unit cell may name its street instead
            elif not create_points:
                error(
                    "point",
                    f"找不到点位“{name}”。如需随导入一并创建，请勾选“创建缺少的点位”（须填写点位类型和所在单位）。",
                )
            elif point_type is None or unit is None:
                error("point", f"点位“{name}”不存在：创建点位须填写点位类型和所在单位。")
            else:
                try:
                    services._validate_point_unit(unit)
                except ValidationError as exc:
                    error("unit", exc.message_dict["unit"][0])
                else:
                    point_key = ("new", name, point_type.pk, unit.pk)
                    point_label = f"{name}（{point_type.name}，{unit.name}）"
                    if point_key not in new_points:
                        new_points[point_key] = _PointPlan(
                            n, Point(name=name, point_type_id=point_type.pk, unit_id=unit.pk), point_type.name, []
                        )
                        new_points[point_key].departments = list(point_type.departments.all())
            if point is not None:
                point_key, point_label = ("id", point.pk), f"{point.name}（{point.point_type.name}，{point.unit.name}）"
                point_type = point.point_type
        # The check item of (point type, standard); the 检查内容 column picks one of several.
        item = None
        if point_type is not None and indicator is not None:
            items = items_of.get((point_type.pk, indicator.pk), [])
            pick = row.get("text")
            standard = f"{indicator.code} {indicator.title}".strip()
            if pick:
                chosen = [i for i in items if i.text == pick]
                if not chosen and pick.isdigit() and 1 <= int(pick) <= len(items):
                    chosen = [items[int(pick) - 1]]
                if len(chosen) == 1:
                    item = chosen[0]
                elif items:
                    error("text", f"“{point_type.name}”在测评标准“{standard}”下没有检查内容为“{pick}”的测评细则。")
            elif len(items) == 1:
                item = items[0]
            elif len(items) > 1:
                texts = "；".join(f"{k}. {i.text}" for k, i in enumerate(items[:5], start=1))
                error(
                    "text",
                    f"“{point_type.name}”在测评标准“{standard}”下有 {len(items)} 条测评细则，请在检查内容列填写其一：{texts}。",
                )
            if not items:
                error(
                    "standard", f"点位类型“{point_type.name}”在测评标准“{standard}”下没有测评细则，请先导入测评细则。"
                )
        # The result: a 扣分 value, or 合格/不合格/严重不合格 with 问题处数.
        deduction, result_word = None, row.get("result")
        outcome = RESULT_WORDS.get(result_word) if result_word else None
        if result_word and outcome is None:
            error("result", "结果请填写合格、不合格或严重不合格。")
        if row.get("deduction"):
            deduction = _decimal(row.get("deduction"))
            if deduction is None:
                error("deduction", "扣分应为数字。")
            elif deduction < 0:
                error("deduction", "扣分不能小于 0。")
            elif deduction != deduction.quantize(Decimal("0.01")):
                error("deduction", "扣分最多保留两位小数。")
            elif item is not None and deduction > item.cap:
                error("deduction", f"扣分 {deduction} 超过该测评细则的最高扣分 {item.cap.normalize():f}。")
            elif outcome == Result.PASS and deduction > 0:
                error("result", "结果为合格，扣分却不为 0。")
        elif outcome is None and not result_word:
            error("deduction", "请填写扣分，或在结果列填写合格/不合格。", value="")
        occurrences = 0
        if row.get("occurrences"):
            text = row.get("occurrences")
            if not text.isdigit() or int(text) > services.MAX_OCCURRENCES:
                error("occurrences", f"问题处数应为 0 到 {services.MAX_OCCURRENCES} 的整数。")
            else:
                occurrences = int(text)
        if row_errors:
            errors.extend(row_errors)
            continue
        if deduction is not None:
            result_value = Result.SEVERE if outcome == Result.SEVERE and deduction > 0 else Result.FAIL
            result_value = Result.PASS if deduction == 0 else result_value
        else:
            result_value = outcome
        shown = f"扣分 {deduction.normalize():f}" if deduction is not None else Result(result_value).label
        rows.append(
            _Row(
                number=n,
                point_key=point_key,
                point_identity=(point.name, point.point_type_id, point.unit_id) if point else point_key[1:],
                point_label=point_label,
                item=item,
                result=result_value,
                deduction=deduction,
                occurrences=occurrences,
                departments=departments,
                moment=moment,
                note=row.get("note"),
                label=f"{point_label} · {indicator.code} {item.text} · {shown}",
            )
        )
    report_progress("validate", total, total)

    # Inspections: one per (point, day); the same check item twice in one is an error.
    groups: dict[tuple, list[_Row]] = {}
    for line in rows:
        day = timezone.localtime(line.moment).date()
        group = groups.setdefault((line.point_key, day), [])
        twin = next((other for other in group if other.item.pk == line.item.pk), None)
        if twin is not None:
            errors.append(
                RowError(
                    line.number,
                    HEADERS["standard"],
                    line.item.text,
                    f"与第 {twin.number} 行重复：同一点位同一天的同一测评细则只能有一行。",
                )
            )
            continue
        group.append(line)
    result.new_points = [f"{plan.point.name}（{plan.type_name}）" for plan in new_points.values()]
    if errors:
        return result

    # The round's current inspections at these points, by (point, day), with the one each corrects.
    point_ids = sorted({key[1] for key, _day in groups if key[0] == "id"})
    current: dict[tuple, Inspection] = {}
    old_lines: dict[int, dict[int, tuple]] = {}
    for chunk in _chunks(point_ids):
        for observation in (
            Observation.objects.filter(inspection__round=round_, inspection__current=True, point_id__in=chunk)
            .select_related("inspection__supersedes")
            .order_by("inspection__submitted_at", "inspection_id")
        ):
            day = timezone.localtime(observation.observed_at).date()
            current[(("id", observation.point_id), day)] = observation.inspection
            old_lines.setdefault(observation.inspection_id, {})[observation.check_item_id] = (
                observation.deduction,
                observation.get_result_display(),
            )
    plans = []
    for (point_key, day), lines in groups.items():
        digest = hashlib.sha256(repr(sorted(line.content() for line in lines)).encode()).hexdigest()
        earlier = current.get((point_key, day))

        # The point by what names it (not its id, which a point created by this import has not yet).
        identity = lines[0].point_identity

        def client_uuid(predecessor, identity=identity, day=day, digest=digest) -> uuid.UUID:
            before = str(predecessor.client_uuid) if predecessor is not None else ""
            return uuid.uuid5(NAMESPACE, f"{round_.pk}|{identity}|{day:%Y-%m-%d}|{digest}|{before}")

        if earlier is not None and earlier.client_uuid == client_uuid(earlier.supersedes):
            result.unchanged_inspections += 1
            result.rows += [RowChange(line.number, "unchanged", line.label) for line in lines]
            continue
        if earlier is None:
            result.new_inspections += 1
            result.rows += [RowChange(line.number, "create", line.label) for line in lines]
        else:
            result.corrected_inspections += 1
            old = old_lines.get(earlier.pk, {})
            for line in lines:
                before = old.get(line.item.pk)
                label = Result(line.result).label
                now_text = f"{line.deduction:.2f}（{label}）" if line.deduction is not None else label
                changes = {"扣分/结果": (f"{before[0]:.2f}（{before[1]}）" if before else "（无）", now_text)}
                result.rows.append(RowChange(line.number, "update", line.label, changes))
        plans.append((point_key, day, lines, earlier, client_uuid(earlier)))
    result.rows.sort(key=lambda change: change.row)
    if dry_run or not plans:
        return result

    report_progress("write", 0, len(plans))
    try:
        with transaction.atomic():
            _write(round_=round_, user=user, plans=plans, new_points=new_points, open_problems=open_problems)
    except ValidationError as exc:
        number = exc.row if hasattr(exc, "row") else None
        for message in exc.messages or ["导入未完成，未写入任何数据。"]:
            errors.append(RowError(number, "", "", message))
    report_progress("write", len(plans), len(plans))
    return result


def _write(*, round_, user, plans, new_points, open_problems) -> None:
    """Inside the import's transaction: the missing points (in bulk), the rows' points added to the
    round, then one inspection_submit per (point, day)."""
    if new_points:
        _points_write(list(new_points.values()), [], {})
    point_of = {key: plan.point for key, plan in new_points.items()}
    needed = [key[1] for key, _day, _lines, _earlier, _uuid in plans if key[0] == "id"]
    points = {p.pk: p for chunk in _chunks(sorted(set(needed))) for p in Point.objects.filter(pk__in=chunk)}
    for key, pk in [(key, key[1]) for key, *_rest in plans if key[0] == "id"]:
        point_of[key] = points[pk]
    round_.points.add(*{point.pk for point in point_of.values()})
    for done, (point_key, _day, lines, earlier, client_uuid) in enumerate(plans, start=1):
        try:
            services.inspection_submit(
                user=user,
                round_=round_,
                point=point_of[point_key],
                observations=[
                    services.ObservationInput(
                        check_item=line.item.pk,
                        result=line.result,
                        occurrences=line.occurrences,
                        note=line.note,
                        deduction=line.deduction,
                        departments=line.departments,
                    )
                    for line in lines
                ],
                client_uuid=client_uuid,
                observed_at=min(line.moment for line in lines),
                supersedes=earlier,
                correction_reason=CORRECTION_REASON if earlier is not None else "",
                open_problems=open_problems,
            )
        except ValidationError as exc:
            exc.row = lines[0].number
            raise
        if done % 100 == 0:
            report_progress("write", done, len(plans))
