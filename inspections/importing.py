"""Importing points (点位) and check items (测评细则) from offices' spreadsheets.

Same rules as every import: a preview lists every row error with the spreadsheet's row number;
the import is all or nothing; importing the same file again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from campaign.audit import history_record
from campaign.choices import UnitKind
from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    read_table,
    report_progress,
)
from campaign.lookups import UnitLookup
from indicators.models import Indicator, IndicatorSystem

from . import services
from .choices import Severity
from .models import CheckItem, Point, PointType

TRUE_WORDS = {"是", "Y", "y", "YES", "yes", "1", "√", "✓", "重点", "true", "TRUE"}
FALSE_WORDS = {"", "否", "N", "n", "NO", "no", "0", "×", "false", "FALSE"}


def _text(value) -> str:
    return "" if value is None else str(value)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def _point_type_lookup() -> dict[str, PointType]:
    """Active point types by what offices write for them (`_type_aliases`), with their default
    departments (two queries)."""
    return _type_aliases(list(PointType.objects.filter(active=True).prefetch_related("departments")))


def _chunks(values: list, size: int | None = None):
    """`values` in slices a backend accepts as one IN list (SQLite: 999 parameters; PostgreSQL: no limit)."""
    size = size or connection.features.max_query_params or 20_000
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- Points -----------------------------------------------------------------------------------

POINT_COLUMNS = [
    Column("name", "名称", ("点位名称",), required=True),
    Column("type", "类型", ("点位类型", "点位类别", "类别"), required=True),
    Column("address", "地址", ("详细地址",)),
    Column("longitude", "经度", ()),
    Column("latitude", "纬度", ()),
    Column("unit", "所属社区或街道", ("所属社区", "所属街道", "所属单位", "属地"), required=True),
    Column("departments", "主管部门", ("行业主管部门", "责任部门")),
    Column("sponsor", "包保单位", ()),
    Column("contact_name", "负责人", ("点位负责人",)),
    Column("contact_phone", "联系电话", ("电话",)),
    Column("key_point", "重点点位", ("是否重点",)),
]


# Point fields a re-import may change, with the header a preview names them by.
UPDATABLE_POINT_FIELDS = (
    ("address", "地址"),
    ("latitude", "纬度"),
    ("longitude", "经度"),
    ("sponsor", "包保单位"),
    ("contact_name", "负责人"),
    ("contact_phone", "联系电话"),
    ("key_point", "重点点位"),
)
# The model's own field rules (lengths, digits) are checked per row in memory; the foreign keys are
# resolved from the look-ups above, so their existence needs no query per row.
_POINT_FIELD_HEADERS = {"name": "名称", "address": "地址", "latitude": "纬度", "longitude": "经度"}
_POINT_FIELD_HEADERS |= {"contact_name": "负责人", "contact_phone": "联系电话"}
# Set by the importer itself (the foreign keys from the look-ups, the booleans from fixed words).
_POINT_FIELDS_CHECKED_ELSEWHERE = ["id", "point_type", "unit", "sponsor", "key_point", "active"]
WRITE_BATCH = 1000
PROGRESS_EVERY = 500


@dataclass
class _PointPlan:
    row: int
    point: Point  # unsaved, as the sheet says
    type_name: str
    departments: list
    existing: Point | None = None


def _point_row_errors(n: int, row, point: Point, unit) -> list[RowError]:
    """The service's rules for one point (points.services: unit kind, coordinates, field rules),
    checked in memory: the same messages point_create would raise, as row errors."""
    errors = []
    for check in (
        lambda: services._validate_point_unit(unit),
        lambda: services._validate_coordinates(point.latitude, point.longitude),
        lambda: point.clean_fields(exclude=_POINT_FIELDS_CHECKED_ELSEWHERE),
    ):
        try:
            check()
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                header = _POINT_FIELD_HEADERS.get(field_name, "所属社区或街道" if field_name == "unit" else field_name)
                key = next((c.key for c in POINT_COLUMNS if c.header == header), field_name)
                errors.extend(RowError(n, header, row.get(key), message) for message in messages)
    return errors


def _display(key: str, value, units_by_pk: dict) -> str:
    if key == "key_point":
        return "是" if value else "否"
    if key == "sponsor":
        return units_by_pk[value].name if value in units_by_pk else ""
    return str(value or "")


def _existing_points(identities: set[tuple]) -> tuple[dict[tuple, Point], dict[int, dict[int, int]]]:
    """The points the sheet names, by (name, type, unit), and their departments as
    {point id: {unit id: through-row id}}: a few queries whatever the number of rows."""
    names = sorted({identity[0] for identity in identities})
    existing = {}
    for chunk in _chunks(names):
        for point in Point.objects.filter(name__in=chunk):
            identity = (point.name, point.point_type_id, point.unit_id)
            if identity in identities:
                existing[identity] = point
    through = Point.departments.through
    departments: dict[int, dict[int, int]] = {point.pk: {} for point in existing.values()}
    for chunk in _chunks(sorted(departments)):
        for pk, point_id, unit_id in through.objects.filter(point_id__in=chunk).values_list(
            "pk", "point_id", "unit_id"
        ):
            departments[point_id][unit_id] = pk
    return existing, departments


def points_import(*, file, dry_run: bool) -> ImportResult:
    """Set-based: the sheet is read once, every look-up is a query or two for all rows (types,
    units, the points it names and their departments), each row is validated in memory by the
    service's rules, and the writes are bulk inserts and updates — the queries do not grow with
    the rows (beyond the backend's batch size)."""
    try:
        rows = read_table(file, columns=POINT_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    units = UnitLookup()
    units_by_pk = {unit.pk: unit for unit in units.by_code.values()}
    types = _point_type_lookup()
    default_departments = {t.pk: list(t.departments.all()) for t in types.values()}
    plans: list[_PointPlan] = []
    seen: dict[tuple, int] = {}
    total = len(rows)
    for index, row in enumerate(rows, start=1):
        if index % PROGRESS_EVERY == 0:
            report_progress("validate", index, total)
        n = row.number
        ok = True
        name = row.get("name")
        if not name:
            errors.append(RowError(n, "名称", "", "名称不能为空。"))
            ok = False
        point_type = types.get(row.get("type"))
        if point_type is None:
            errors.append(RowError(n, "类型", row.get("type"), f"未知的点位类型“{row.get('type')}”。"))
            ok = False
        # A district only when the city's data has no street for the point (services._validate_point_unit).
        unit, message = units.resolve(row.get("unit"), kinds={UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.DISTRICT})
        if unit is None:
            errors.append(
                RowError(
                    n, "所属社区或街道", row.get("unit"), message if row.get("unit") else "所属社区或街道不能为空。"
                )
            )
            ok = False
        # Several departments, any separator (、，,；; line breaks or spaces, as evaluators write them).
        departments, messages = units.resolve_many(row.get("departments"))
        for message in messages:
            errors.append(RowError(n, "主管部门", row.get("departments"), message))
            ok = False
        sponsor = None
        if row.get("sponsor"):
            sponsor, message = units.resolve(row.get("sponsor"))
            if sponsor is None:
                errors.append(RowError(n, "包保单位", row.get("sponsor"), message))
                ok = False
        coordinates = {}
        for key, header, low, high in (("longitude", "经度", -180, 180), ("latitude", "纬度", -90, 90)):
            text = row.get(key)
            value = _decimal(text) if text else None
            if text and (value is None or not low <= value <= high):
                errors.append(RowError(n, header, text, f"{header}应为 {low} 到 {high} 之间的数字。"))
                ok = False
            coordinates[key] = value.quantize(Decimal("0.000001")) if value is not None else None
        if (coordinates["longitude"] is None) != (coordinates["latitude"] is None):
            errors.append(RowError(n, "经度", row.get("longitude"), "经度和纬度需同时填写。"))
            ok = False
        key_text = row.get("key_point")
        if key_text not in TRUE_WORDS | FALSE_WORDS:
            errors.append(RowError(n, "重点点位", key_text, "重点点位请填写“是”或“否”。"))
            ok = False
        if not ok:
            continue
        point = Point(  # by ids: the related objects stay in the look-ups (no descriptor work per row)
            name=name,
            point_type_id=point_type.pk,
            unit_id=unit.pk,
            address=row.get("address"),
            latitude=coordinates["latitude"],
            longitude=coordinates["longitude"],
            sponsor_id=sponsor.pk if sponsor else None,
            contact_name=row.get("contact_name"),
            contact_phone=row.get("contact_phone"),
            key_point=key_text in TRUE_WORDS,
        )
        field_errors = _point_row_errors(n, row, point, unit)
        if field_errors:
            errors.extend(field_errors)
            continue
        identity = (name, point_type.pk, unit.pk)
        if identity in seen:
            errors.append(RowError(n, "名称", name, f"与第 {seen[identity]} 行重复（同一单位下同名同类点位）。"))
            continue
        seen[identity] = n
        plans.append(_PointPlan(n, point, point_type.name, departments or default_departments[point_type.pk]))
    report_progress("validate", total, total)

    existing, existing_departments = _existing_points(set(seen))
    to_create: list[_PointPlan] = []
    to_update: list[_PointPlan] = []
    for plan in plans:
        new = plan.point
        label = f"{new.name}（{plan.type_name}）"
        current = existing.get((new.name, new.point_type_id, new.unit_id))
        if current is None:
            result.rows.append(RowChange(plan.row, "create", label))
            to_create.append(plan)
            continue
        changes = {}
        for key, header in UPDATABLE_POINT_FIELDS:
            attname = "sponsor_id" if key == "sponsor" else key
            old, value = getattr(current, attname), getattr(new, attname)
            if (old or "") != (value or ""):
                changes[header] = (_display(key, old, units_by_pk), _display(key, value, units_by_pk))
        old_departments = existing_departments[current.pk]
        if set(old_departments) != {d.pk for d in plan.departments}:
            changes["主管部门"] = (
                "、".join(sorted(units_by_pk[pk].name for pk in old_departments if pk in units_by_pk)),
                "、".join(sorted(d.name for d in plan.departments)),
            )
        result.rows.append(RowChange(plan.row, "update" if changes else "unchanged", label, changes))
        if changes:
            for key, _header in UPDATABLE_POINT_FIELDS:
                attname = "sponsor_id" if key == "sponsor" else key
                setattr(current, attname, getattr(new, attname))
            plan.existing = current
            to_update.append(plan)
    if errors or dry_run:
        return result
    try:
        _points_write(to_create, to_update, existing_departments)
    except IntegrityError:
        # Someone else created one of these points between the look-up and the write.
        result.errors.append(RowError(None, "", "", "导入时点位数据已被他人修改，未写入任何数据。请重新预览后再导入。"))
    return result


def _points_write(to_create: list[_PointPlan], to_update: list[_PointPlan], existing_departments) -> None:
    """All or nothing: the new points in bulk, the changed ones in bulk, and their departments as
    bulk inserts and one delete of the through rows that go."""
    through = Point.departments.through
    total = len(to_create) + len(to_update)
    if not total:
        return
    report_progress("write", 0, total)
    with transaction.atomic():
        new_points = [plan.point for plan in to_create]
        for start in range(0, len(new_points), WRITE_BATCH):
            Point.objects.bulk_create(new_points[start : start + WRITE_BATCH])
            report_progress("write", start + len(new_points[start : start + WRITE_BATCH]), total)
        if any(point.pk is None for point in new_points):  # a backend that returns no ids from bulk inserts
            created = {}
            for chunk in _chunks(sorted({p.name for p in new_points})):
                for point in Point.objects.filter(name__in=chunk).only("pk", "name", "point_type_id", "unit_id"):
                    created[(point.name, point.point_type_id, point.unit_id)] = point.pk
            for point in new_points:
                point.pk = created[(point.name, point.point_type_id, point.unit_id)]
        changed = [plan.existing for plan in to_update]
        if changed:
            Point.objects.bulk_update(changed, [key for key, _header in UPDATABLE_POINT_FIELDS], batch_size=WRITE_BATCH)
        links, unlinks = [], []
        for plan in to_create:
            links += [through(point_id=plan.point.pk, unit_id=d.pk) for d in plan.departments]
        for plan in to_update:
            wanted = {d.pk for d in plan.departments}
            current = existing_departments[plan.existing.pk]
            unlinks += [row_id for unit_id, row_id in current.items() if unit_id not in wanted]
            links += [through(point_id=plan.existing.pk, unit_id=pk) for pk in sorted(wanted - set(current))]
        for chunk in _chunks(unlinks):
            through.objects.filter(pk__in=chunk).delete()
        through.objects.bulk_create(links, batch_size=WRITE_BATCH * 4)
        # Bulk writes send no signal: record the history rows (and their departments) in bulk too.
        history_record(Point, new_points, change="+")
        history_record(Point, changed)
        report_progress("write", total, total)


def points_export_rows(queryset) -> list[list[str]]:
    """Points in the import layout, for a round trip (departments written so that the import
    finds exactly them again)."""
    units = UnitLookup()
    rows = [[c.header for c in POINT_COLUMNS]]
    for point in queryset.select_related("point_type", "unit", "sponsor").prefetch_related("departments"):
        rows.append(
            [
                point.name,
                point.point_type.name,
                point.address,
                str(point.longitude) if point.longitude is not None else "",
                str(point.latitude) if point.latitude is not None else "",
                point.unit.code,
                units_label(point.departments.all(), units),
                point.sponsor.code if point.sponsor else "",
                point.contact_name,
                point.contact_phone,
                "是" if point.key_point else "否",
            ]
        )
    return rows


# --- Check items ------------------------------------------------------------------------------

CHECK_ITEM_COLUMNS = [
    Column("type", "点位类型", ("点位类别", "类型"), required=True),
    Column("indicator", "测评标准编码", ("标准编码", "指标编码", "测评标准"), required=True),
    Column("text", "检查内容", ("测评细则", "检查项"), required=True),
    Column("rule", "计分规则", ("扣分规则", "计分方法")),
    Column("per", "每处扣分", ("扣分",), required=True),
    Column("cap", "最高扣分", ("扣分上限",)),
    Column("severity", "严重程度", ()),
    Column("departments", "责任部门", ("主管部门",)),
    Column("note", "说明", ("备注", "豁免说明")),
    Column("deadline_days", "整改时限(工作日)", ("整改时限", "整改期限(工作日)", "整改期限", "时限")),
]
# What a re-import may change on an existing check item, with the header a preview names it by.
UPDATABLE_CHECK_ITEM_FIELDS = (
    ("per_occurrence", "每处扣分"),
    ("cap", "最高扣分"),
    ("counting_rule", "计分规则"),
    ("severity", "严重程度"),
    ("exemption_note", "说明"),
    ("deadline_days", "整改时限(工作日)"),
)
SEVERITY_WORDS = {"": Severity.NORMAL, "一般": Severity.NORMAL, "普通": Severity.NORMAL, "严重": Severity.SEVERE}


def _indicator_index(system: IndicatorSystem) -> tuple[dict[str, list[Indicator]], dict[int, Indicator]]:
    nodes = list(Indicator.objects.filter(system=system).only("pk", "code", "title", "parent_id", "level"))
    by_pk = {n.pk: n for n in nodes}
    index: dict[str, list[Indicator]] = {}
    for node in nodes:
        if node.code:
            index.setdefault(node.code, []).append(node)
    return index, by_pk


def _find_indicator(ref: str, index, by_pk) -> tuple[Indicator | None, str | None]:
    """A code unique in the system ("Ⅲ-57"), or a path of codes ("Ⅲ-57/1)") for codes that repeat."""
    parts = [p for p in ref.replace("／", "/").split("/") if p.strip()] if "/" in ref else ref.split()
    parts = [p.strip() for p in parts] or [ref]
    candidates = index.get(parts[-1], [])

    def matches(node: Indicator) -> bool:
        cursor = node
        for code in reversed(parts[:-1]):
            cursor = by_pk.get(cursor.parent_id)
            while cursor is not None and cursor.code != code:
                cursor = by_pk.get(cursor.parent_id)
            if cursor is None:
                return False
        return True

    found = [n for n in candidates if matches(n)]
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, f"测评体系中找不到编码“{ref}”。"
    return None, f"编码“{ref}”在测评体系中不唯一，请连同上级编码填写，如“Ⅲ-57/1)”。"


def _deadline_days(text: str) -> tuple[int | None, str | None]:
    """整改时限 in working days: blank → None (the default of the item's severity), else an integer
    from 1 to 60; (value, error message)."""
    if not text:
        return None, None
    message = (
        f"整改时限应为 {services.DEADLINE_DAYS_MIN} 到 {services.DEADLINE_DAYS_MAX} 之间的整数（工作日），"
        "留空则按严重程度的默认时限。"
    )
    if not re.fullmatch(r"[+-]?\d+", text):
        return None, message
    value = int(text)
    if not services.DEADLINE_DAYS_MIN <= value <= services.DEADLINE_DAYS_MAX:
        return None, message
    return value, None


def check_items_import(*, system: IndicatorSystem, file, dry_run: bool) -> ImportResult:
    try:
        rows = read_table(file, columns=CHECK_ITEM_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    types = _point_type_lookup()
    units = UnitLookup()
    index, by_pk = _indicator_index(system)
    existing = {
        (c.point_type_id, c.indicator_id, c.text): c
        for c in CheckItem.objects.filter(indicator__system=system).prefetch_related("departments")
    }
    plans, seen = [], {}
    for position, row in enumerate(rows, start=1):
        if position % PROGRESS_EVERY == 0:
            report_progress("validate", position, len(rows))
        n, ok = row.number, True
        point_type = types.get(row.get("type"))
        if point_type is None:
            errors.append(RowError(n, "点位类型", row.get("type"), f"未知的点位类型“{row.get('type')}”。"))
            ok = False
        indicator, message = _find_indicator(row.get("indicator"), index, by_pk)
        if indicator is None:
            errors.append(RowError(n, "测评标准编码", row.get("indicator"), message))
            ok = False
        text = row.get("text")
        if not text:
            errors.append(RowError(n, "检查内容", "", "检查内容不能为空。"))
            ok = False
        per = _decimal(row.get("per"))
        if per is None or per <= 0:
            errors.append(RowError(n, "每处扣分", row.get("per"), "每处扣分应为大于 0 的数字。"))
            ok = False
        cap = _decimal(row.get("cap")) if row.get("cap") else per
        if row.get("cap") and (cap is None or (per is not None and cap < per)):
            errors.append(RowError(n, "最高扣分", row.get("cap"), "最高扣分应为不小于每处扣分的数字。"))
            ok = False
        severity = SEVERITY_WORDS.get(row.get("severity"))
        if severity is None:
            errors.append(RowError(n, "严重程度", row.get("severity"), "严重程度请填写“一般”或“严重”。"))
            ok = False
        departments, messages = units.resolve_many(row.get("departments"))
        for message in messages:
            errors.append(RowError(n, "责任部门", row.get("departments"), message))
            ok = False
        deadline_days, message = _deadline_days(row.get("deadline_days"))
        if message:
            errors.append(RowError(n, "整改时限(工作日)", row.get("deadline_days"), message))
            ok = False
        if not ok:
            continue
        identity = (point_type.pk, indicator.pk, text)
        if identity in seen:
            errors.append(RowError(n, "检查内容", text, f"与第 {seen[identity]} 行重复。"))
            continue
        seen[identity] = n
        fields = {
            "point_type": point_type,
            "indicator": indicator,
            "text": text,
            "per_occurrence": per,
            "cap": cap,
            "counting_rule": row.get("rule"),
            "severity": severity,
            "exemption_note": row.get("note"),
        }
        if "deadline_days" in row.values:  # a sheet without the column leaves the limits as they are
            fields["deadline_days"] = deadline_days
        plans.append((n, fields, departments, existing.get(identity)))
    report_progress("validate", len(rows), len(rows))
    for n, fields, departments, current in plans:
        label = f"{fields['point_type'].name} · {fields['text']}"
        if current is None:
            result.rows.append(RowChange(n, "create", label))
            continue
        changes = {}
        for key, header in UPDATABLE_CHECK_ITEM_FIELDS:
            if key in fields and getattr(current, key) != fields[key]:
                changes[header] = (_text(getattr(current, key)), _text(fields[key]))
        if sorted(d.pk for d in current.departments.all()) != sorted(d.pk for d in departments):
            changes["责任部门"] = (
                "、".join(d.name for d in current.departments.all()),
                "、".join(d.name for d in departments),
            )
        result.rows.append(RowChange(n, "update" if changes else "unchanged", label, changes))
    if errors or dry_run:
        return result
    actions = {change.row: change.action for change in result.rows}
    report_progress("write", 0, len(plans))  # one service call a row, in one transaction
    with transaction.atomic():
        for n, fields, departments, current in plans:
            if actions[n] == "create":
                services.check_item_create(departments=departments, **fields)
            elif actions[n] == "update":
                services.check_item_update(
                    item=current,
                    departments=departments,
                    **{k: fields[k] for k, _header in UPDATABLE_CHECK_ITEM_FIELDS if k in fields},
                )
    return result


def indicator_ref(node: Indicator, index, by_pk) -> str:
    """The standard's code as the import resolves it: the code alone where it is unique in the
    system ("Ⅲ-57"), else with as many of its ancestors' codes as make it unique ("Ⅲ-57/1)")."""
    parts = [node.code]
    cursor = by_pk.get(node.parent_id)
    while True:
        ref = "/".join(parts)
        if _find_indicator(ref, index, by_pk)[0] == node or cursor is None:
            return ref
        if cursor.code:
            parts.insert(0, cursor.code)
        cursor = by_pk.get(cursor.parent_id)


def _amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def check_items_export_rows(queryset, *, system: IndicatorSystem) -> list[list[str]]:
    """The check items of `system` in the import layout, so that the sheet imports back into that
    system unchanged: the standard written as the import resolves it (with its parents' codes
    where its own code repeats, "Ⅲ-57/1)"), the departments as the import finds them again."""
    index, by_pk = _indicator_index(system)
    units = UnitLookup()
    rows = [[c.header for c in CHECK_ITEM_COLUMNS]]
    items = (
        queryset.filter(indicator__system=system)
        .select_related("point_type")
        .prefetch_related("departments")
        .order_by("point_type__order", "point_type_id", "order", "id")
    )
    for item in items:
        rows.append(
            [
                item.point_type.name,
                indicator_ref(by_pk[item.indicator_id], index, by_pk),
                item.text,
                item.counting_rule,
                _amount(item.per_occurrence),
                _amount(item.cap),
                item.get_severity_display(),
                units_label(item.departments.all(), units),
                item.exemption_note,
                "" if item.deadline_days is None else str(item.deadline_days),
            ]
        )
    return rows


# --- Point types ------------------------------------------------------------------------------

POINT_TYPE_COLUMNS = [
    Column("name", "名称", ("点位类别", "点位类型", "类别名称", "类别", "类型"), required=True),
    Column("category", "分类", ("类别分类", "大类")),
    Column("departments", "默认责任部门", ("默认主管部门", "责任部门", "主管部门", "行业主管部门")),
    Column("order", "排序", ("顺序",)),
    Column("active", "启用", ("是否启用",)),
]
ORDER_MAX = 32767  # PositiveSmallIntegerField
_NAME_MAX = PointType._meta.get_field("name").max_length
_CATEGORY_MAX = PointType._meta.get_field("category").max_length


def _type_aliases(types: list[PointType]) -> dict[str, PointType]:
    """Every point type (enabled or not) by what offices write for it: the name, the name without
    its brackets, and the market type's usual names — as the points import reads them."""
    by_name: dict[str, PointType] = {t.name: t for t in types}
    for point_type in types:
        by_name.setdefault(point_type.name.replace("(", "").replace(")", ""), point_type)
    market = by_name.get("集贸(农贸)市场")
    if market is not None:
        for alias in ("农贸市场", "集贸市场", "菜市场"):
            by_name.setdefault(alias, market)
    return by_name


def unit_label(unit, units: UnitLookup, *, kinds=None) -> str:
    """What to write for `unit` in a sheet so that the import finds exactly it again: its short
    name, else its name, else its code — the first that names it alone."""
    for label in (unit.short_name, unit.name):
        if label and units.resolve(label, kinds=kinds)[0] == unit:
            return label
    return unit.code


def units_label(departments, units: UnitLookup, *, kinds=None) -> str:
    return "、".join(unit_label(unit, units, kinds=kinds) for unit in departments)


@dataclass
class _TypePlan:
    row: int
    point_type: PointType  # the existing type changed in memory, or a new unsaved one
    departments: list | None  # None: keep the type's own
    new: bool


def point_types_import(*, file, dry_run: bool) -> ImportResult:
    """点位类别 from a sheet (名称, 分类, 默认责任部门, 排序, 启用). A row naming an existing type —
    national ones included — updates its 分类, default departments, order and 启用 (never its name
    or national flag); an unknown name becomes a local type. Types the sheet does not name are left
    as they are (never deleted). A blank 默认责任部门/排序/启用 keeps an existing type's own (a new
    type: none, after the last type, enabled). Set-based like the points import: the types, the
    units and the types' departments in a few queries, bulk writes, history recorded in bulk."""
    try:
        rows = read_table(file, columns=POINT_TYPE_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    units = UnitLookup()
    units_by_pk = {unit.pk: unit for unit in units.by_code.values()}
    types = list(PointType.objects.all())
    by_name = _type_aliases(types)
    through = PointType.departments.through
    current_departments: dict[int, dict[int, int]] = {t.pk: {} for t in types}
    for link_id, type_id, unit_id in through.objects.values_list("pk", "pointtype_id", "unit_id"):
        current_departments[type_id][unit_id] = link_id
    next_order = max((t.order for t in types), default=0) + 1
    department_kinds = {UnitKind.DEPARTMENT}
    plans: list[_TypePlan] = []
    seen: dict[str, int] = {}
    total = len(rows)
    for index, row in enumerate(rows, start=1):
        if index % PROGRESS_EVERY == 0:
            report_progress("validate", index, total)
        n, ok = row.number, True
        name = row.get("name")
        if not name:
            errors.append(RowError(n, "名称", "", "名称不能为空。"))
            ok = False
        elif len(name) > _NAME_MAX:
            errors.append(RowError(n, "名称", name, f"名称不能超过 {_NAME_MAX} 个字。"))
            ok = False
        category = row.get("category")
        if len(category) > _CATEGORY_MAX:
            errors.append(RowError(n, "分类", category, f"分类不能超过 {_CATEGORY_MAX} 个字。"))
            ok = False
        departments = None
        if row.get("departments"):
            departments, messages = units.resolve_many(row.get("departments"), kinds=department_kinds)
            for message in messages:
                errors.append(RowError(n, "默认责任部门", row.get("departments"), message))
                ok = False
        order = None
        if row.get("order"):
            text = row.get("order")
            if not re.fullmatch(r"\d+", text) or int(text) > ORDER_MAX:
                errors.append(RowError(n, "排序", text, f"排序应为 0 到 {ORDER_MAX} 之间的整数。"))
                ok = False
            else:
                order = int(text)
        active = None
        if row.get("active"):
            text = row.get("active")
            if text in TRUE_WORDS | {"启用"}:
                active = True
            elif text in FALSE_WORDS | {"停用"}:
                active = False
            else:
                errors.append(RowError(n, "启用", text, "启用请填写“是”或“否”。"))
                ok = False
        if not ok:
            continue
        existing = by_name.get(name)
        key = existing.name if existing is not None else name
        if key in seen:
            errors.append(RowError(n, "名称", name, f"与第 {seen[key]} 行是同一点位类别。"))
            continue
        seen[key] = n
        if existing is None:
            point_type = PointType(
                name=name,
                category=category,
                order=order if order is not None else next_order,
                active=True if active is None else active,
                national=False,
            )
            if order is None:
                next_order += 1
            plans.append(_TypePlan(n, point_type, departments or [], new=True))
            result.rows.append(RowChange(n, "create", name))
            continue
        changes = {}
        if existing.category != category:
            changes["分类"] = (existing.category, category)
            existing.category = category
        if order is not None and existing.order != order:
            changes["排序"] = (str(existing.order), str(order))
            existing.order = order
        if active is not None and existing.active != active:
            changes["启用"] = ("是" if existing.active else "否", "是" if active else "否")
            existing.active = active
        old = current_departments[existing.pk]
        if departments is not None and set(old) != {d.pk for d in departments}:
            changes["默认责任部门"] = (
                "、".join(sorted(units_by_pk[pk].name for pk in old if pk in units_by_pk)),
                "、".join(sorted(d.name for d in departments)),
            )
        else:
            departments = None  # unchanged: no link written
        label = f"{existing.name}（国家测评点位类别）" if existing.national else existing.name
        result.rows.append(RowChange(n, "update" if changes else "unchanged", label, changes))
        if changes:
            plans.append(_TypePlan(n, existing, departments, new=False))
    report_progress("validate", total, total)
    if errors or dry_run:
        return result
    try:
        _point_types_write(plans, current_departments)
    except IntegrityError:
        result.errors.append(RowError(None, "", "", "导入时点位类别已被他人修改，未写入任何数据。请重新预览后再导入。"))
    return result


def _point_types_write(plans: list[_TypePlan], current_departments: dict[int, dict[int, int]]) -> None:
    """All or nothing: new types in one INSERT, changed ones in one UPDATE, their departments as
    one DELETE and one INSERT of links, and their history rows in bulk."""
    if not plans:
        return
    through = PointType.departments.through
    report_progress("write", 0, len(plans))
    with transaction.atomic():
        created = [plan.point_type for plan in plans if plan.new]
        PointType.objects.bulk_create(created)
        if any(point_type.pk is None for point_type in created):  # a backend without RETURNING
            ids = dict(PointType.objects.filter(name__in=[t.name for t in created]).values_list("name", "pk"))
            for point_type in created:
                point_type.pk = ids[point_type.name]
        changed = [plan.point_type for plan in plans if not plan.new]
        if changed:
            PointType.objects.bulk_update(changed, ["category", "order", "active"])
        links, unlinks = [], []
        for plan in plans:
            if plan.departments is None:
                continue
            wanted = {d.pk for d in plan.departments}
            current = {} if plan.new else current_departments[plan.point_type.pk]
            unlinks += [link_id for unit_id, link_id in current.items() if unit_id not in wanted]
            links += [through(pointtype_id=plan.point_type.pk, unit_id=pk) for pk in sorted(wanted - set(current))]
        for chunk in _chunks(unlinks):
            through.objects.filter(pk__in=chunk).delete()
        through.objects.bulk_create(links, batch_size=WRITE_BATCH * 4)
        history_record(PointType, created, change="+")
        history_record(PointType, changed)
        report_progress("write", len(plans), len(plans))


def point_types_export_rows(queryset) -> list[list[str]]:
    """Point types in the import layout (名称, 分类, 默认责任部门, 排序, 启用), for a round trip:
    departments written so that the import finds exactly them again."""
    units = UnitLookup()
    rows = [[c.header for c in POINT_TYPE_COLUMNS]]
    for point_type in queryset.prefetch_related("departments"):
        departments = sorted(point_type.departments.all(), key=lambda unit: unit.path)
        rows.append(
            [
                point_type.name,
                point_type.category,
                units_label(departments, units, kinds={UnitKind.DEPARTMENT}),
                str(point_type.order),
                "是" if point_type.active else "否",
            ]
        )
    return rows


# The standards' look-up, for the demo and other importers that name standards as this one does.
indicator_index = _indicator_index
find_indicator = _find_indicator
