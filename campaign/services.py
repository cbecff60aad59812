"""Writes of the shared kernel. Views, the API, admin, imports and commands all call these."""

from __future__ import annotations

import datetime
import difflib
import logging
import socket
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import DO_NOTHING, F, ProtectedError, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from .choices import JobStatus, PhaseKind, Role, UnitKind
from .importing import Column, ImportFileError, ImportResult, RowChange, RowError, SheetRow, header_of, read_table
from .models import Campaign, JobRun, Membership, Phase, Unit, WorkGroup

logger = logging.getLogger(__name__)

User = get_user_model()

# Which kinds of unit may sit directly under which (None: at the top of the tree).
ALLOWED_PARENT_KINDS: dict[str, set] = {
    UnitKind.DISTRICT: {None, UnitKind.OTHER},
    UnitKind.STREET: {UnitKind.DISTRICT},
    UnitKind.COMMUNITY: {UnitKind.STREET},
    # A department under a district is a 区直部门: charged, ranked and scoped like a city one.
    UnitKind.DEPARTMENT: {None, UnitKind.DISTRICT, UnitKind.DEPARTMENT, UnitKind.OTHER},
    UnitKind.OTHER: {None, UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT, UnitKind.OTHER},
}

UNIT_CONTACT_FIELDS = ("leader_name", "liaison_name", "phone")
UNIT_FIELDS = ("name", "short_name", "code", "kind", "parent", "active", *UNIT_CONTACT_FIELDS)


def _parent_kind_error(kind: str, parent_kind: str | None) -> str | None:
    if parent_kind in ALLOWED_PARENT_KINDS[kind]:
        return None
    kind_label = UnitKind(kind).label
    if parent_kind is None:
        allowed = "、".join(UnitKind(k).label for k in ALLOWED_PARENT_KINDS[kind] if k)
        return f"{kind_label}必须有上级单位（{allowed}）。"
    allowed = "、".join(UnitKind(k).label for k in ALLOWED_PARENT_KINDS[kind] if k) or "无"
    return f"{kind_label}的上级不能是{UnitKind(parent_kind).label}，应为：{allowed}。"


# --- Units -----------------------------------------------------------------------------------


def _validate_unit(*, unit: Unit | None, kind: str, parent: Unit | None, code: str) -> None:
    errors: dict[str, str] = {}
    message = _parent_kind_error(kind, parent.kind if parent else None)
    if message:
        errors["parent"] = message
    if unit is not None and unit.pk and parent is not None and parent.path.startswith(unit.path):
        errors["parent"] = "上级单位不能是该单位自己或它的下级单位。"
    duplicate = Unit.objects.filter(code=code)
    if unit is not None and unit.pk:
        duplicate = duplicate.exclude(pk=unit.pk)
    if duplicate.exists():
        errors["code"] = f"编码“{code}”已被其他单位使用。"
    if errors:
        raise ValidationError(errors)


def _path_of(unit_id: int | None) -> str:
    """The stored path of a unit, read fresh: an in-memory parent may predate a move in this transaction."""
    if unit_id is None:
        return "/"
    return Unit.objects.values_list("path", flat=True).get(pk=unit_id)


def _set_path(unit: Unit) -> None:
    unit.path = f"{_path_of(unit.parent_id)}{unit.pk}/"
    unit.depth = unit.path.count("/") - 2
    Unit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)


@transaction.atomic
def unit_create(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Unit | None = None,
    short_name: str = "",
    active: bool = True,
    leader_name: str = "",
    liaison_name: str = "",
    phone: str = "",
) -> Unit:
    _validate_unit(unit=None, kind=kind, parent=parent, code=code)
    unit = Unit(
        name=name,
        code=code,
        kind=kind,
        parent=parent,
        short_name=short_name,
        active=active,
        leader_name=leader_name,
        liaison_name=liaison_name,
        phone=phone,
    )
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    _set_path(unit)
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, **fields) -> Unit:
    """Change a unit; moving it under another parent moves its whole subtree in one UPDATE."""
    unknown = set(fields) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown unit fields: {sorted(unknown)}")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    old_path = unit.path
    parent = fields.get("parent", unit.parent)
    _validate_unit(unit=unit, kind=fields.get("kind", unit.kind), parent=parent, code=fields.get("code", unit.code))
    if "kind" in fields and fields["kind"] != unit.kind:
        for child in unit.children.all():
            if _parent_kind_error(child.kind, fields["kind"]):
                raise ValidationError(
                    {"kind": f"下级单位“{child.name}”（{child.get_kind_display()}）不能挂在该类型之下。"}
                )
    for key, value in fields.items():
        setattr(unit, key, value)
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    if unit.parent_id != _parent_id_from_path(old_path):
        new_path = f"{_path_of(unit.parent_id)}{unit.pk}/"
        depth_shift = new_path.count("/") - old_path.count("/")
        Unit.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + depth_shift,
        )
        unit.refresh_from_db(fields=["path", "depth"])
    return unit


def _parent_id_from_path(path: str) -> int | None:
    parts = [p for p in path.strip("/").split("/") if p]
    return int(parts[-2]) if len(parts) > 1 else None


@transaction.atomic
def unit_contacts_update(*, unit: Unit, leader_name: str, liaison_name: str, phone: str) -> Unit:
    """The part of a unit its own liaison keeps current."""
    return unit_update(unit=unit, leader_name=leader_name, liaison_name=liaison_name, phone=phone)


@transaction.atomic
def unit_delete(*, unit: Unit) -> None:
    if unit.children.exists():
        raise ValidationError("该单位下还有下级单位，不能删除；可改为停用。")
    if unit.memberships.exists():
        raise ValidationError("该单位还有成员账号，不能删除；可改为停用。")
    unit.delete()


# --- Unit import -----------------------------------------------------------------------------

UNIT_COLUMNS = [
    Column("name", "名称", ("单位名称", "单位全称"), required=True),
    Column("short_name", "简称", ("单位简称",)),
    Column("code", "编码", ("单位编码", "代码"), required=True),
    Column("kind", "类型", ("单位类型", "类别"), required=True),
    Column("parent", "上级单位", ("上级", "所属单位", "上级单位编码")),
    Column("leader_name", "主要负责人", ("负责人",)),
    Column("liaison_name", "联络员", ()),
    Column("phone", "联系电话", ("电话", "手机")),
]

# What offices write in the 类型 column.
UNIT_KIND_LABELS = {
    UnitKind.DISTRICT: (
        "区",
        "县",
        "区县",
        "县区",
        "区(县)",
        "县(区)",
        "市辖区",
        "县级市",
        "开发区",
        "新区",
        "district",
    ),
    UnitKind.STREET: ("街道", "乡", "镇", "乡镇", "街道乡镇", "街道(乡镇)", "乡镇街道", "街道办事处", "street"),
    UnitKind.COMMUNITY: ("社区", "村", "社区村", "社区(村)", "村社区", "居委会", "村委会", "community"),
    UnitKind.DEPARTMENT: ("市直部门", "部门", "市直单位", "市级部门", "委办局", "department"),
    UnitKind.OTHER: ("其他", "其它", "other"),
}
# A department under a district (区直部门): kind department, with a district above it required.
DISTRICT_DEPARTMENT_LABELS = ("区直部门", "县直部门", "区县直部门", "区直单位", "县直单位", "区级部门", "县级部门")
_KIND_BY_LABEL = {label: kind for kind, labels in UNIT_KIND_LABELS.items() for label in labels}
_KIND_BY_LABEL.update(dict.fromkeys(DISTRICT_DEPARTMENT_LABELS, UnitKind.DEPARTMENT))


def _normal_label(label: str) -> str:
    return unicodedata.normalize("NFKC", label).replace(" ", "")


def unit_kind_from_label(label: str) -> str | None:
    return _KIND_BY_LABEL.get(_normal_label(label))


def is_district_department_label(label: str) -> bool:
    return _normal_label(label or "") in DISTRICT_DEPARTMENT_LABELS


def closest_names(value: str, names: list[str], limit: int = 3) -> list[str]:
    return difflib.get_close_matches(value, names, n=limit, cutoff=0.4)


@dataclass
class _PlannedUnit:
    row: SheetRow
    code: str
    fields: dict
    parent_ref: str  # as written
    parent_code: str | None = None  # resolved code of the parent (existing or in the file)
    existing: Unit | None = None


def units_import(*, file, dry_run: bool) -> ImportResult:
    """Import units from an office's spreadsheet: every row checked first, then all or nothing."""
    try:
        rows = read_table(file, columns=UNIT_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)

    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    existing_by_code = {u.code: u for u in Unit.objects.all()}
    existing_by_name: dict[str, list[Unit]] = {}
    for unit in existing_by_code.values():
        for name in {unit.name, unit.short_name} - {""}:
            existing_by_name.setdefault(name, []).append(unit)

    planned: dict[str, _PlannedUnit] = {}
    first_row_of_code: dict[str, int] = {}
    file_names: dict[str, list[str]] = {}
    for row in rows:
        code, name, kind_label = row.get("code"), row.get("name"), row.get("kind")
        row_ok = True
        if not name:
            errors.append(RowError(row.number, "名称", "", "名称不能为空。"))
            row_ok = False
        if not code:
            errors.append(RowError(row.number, "编码", "", "编码不能为空。"))
            row_ok = False
        elif code in first_row_of_code:
            errors.append(RowError(row.number, "编码", code, f"编码“{code}”与第 {first_row_of_code[code]} 行重复。"))
            row_ok = False
        else:
            first_row_of_code[code] = row.number
        kind = unit_kind_from_label(kind_label)
        if kind is None:
            known = "、".join(("区", "县", "街道", "乡", "镇", "社区", "村", "市直部门", "区直部门", "部门", "其他"))
            message = "类型不能为空。" if not kind_label else f"无法识别的类型“{kind_label}”，可填写：{known}。"
            errors.append(RowError(row.number, "类型", kind_label, message))
            row_ok = False
        if not row_ok:
            continue
        fields = {
            "name": name,
            "short_name": row.get("short_name"),
            "code": code,
            "kind": kind,
            "leader_name": row.get("leader_name"),
            "liaison_name": row.get("liaison_name"),
            "phone": row.get("phone"),
        }
        for key in ("name", "short_name", "code", "leader_name", "liaison_name", "phone"):
            limit = Unit._meta.get_field(key).max_length
            if len(fields[key]) > limit:
                header = next(c.header for c in UNIT_COLUMNS if c.key == key)
                errors.append(RowError(row.number, header, fields[key], f"{header}不能超过 {limit} 个字。"))
        planned[code] = _PlannedUnit(
            row=row, code=code, fields=fields, parent_ref=row.get("parent"), existing=existing_by_code.get(code)
        )
        for written in {name, fields["short_name"]} - {""}:
            file_names.setdefault(written, []).append(code)

    # Resolve parents: by code first, then by name or short name, in the file or in the database.
    all_names = sorted(set(existing_by_name) | set(file_names))
    for plan in planned.values():
        ref = plan.parent_ref
        if not ref:
            continue
        if ref in planned or ref in existing_by_code:
            plan.parent_code = ref
            continue
        candidates = set(file_names.get(ref, [])) | {u.code for u in existing_by_name.get(ref, [])}
        if candidates == {plan.code}:
            plan.parent_code = plan.code  # reported below as "its own parent"
            continue
        candidates.discard(plan.code)
        if len(candidates) == 1:
            plan.parent_code = candidates.pop()
        elif len(candidates) > 1:
            errors.append(RowError(plan.row.number, "上级单位", ref, f"有多个单位叫“{ref}”，请改填上级单位的编码。"))
        else:
            hint = closest_names(ref, all_names)
            suffix = f"相近的单位：{'、'.join(hint)}。" if hint else "请先导入或新建该单位，或填写其编码。"
            errors.append(RowError(plan.row.number, "上级单位", ref, f"找不到上级单位“{ref}”。{suffix}"))

    def kind_of(code: str) -> str:
        return planned[code].fields["kind"] if code in planned else existing_by_code[code].kind

    existing_code_by_pk = {u.pk: c for c, u in existing_by_code.items()}

    def parent_code_fast(code: str) -> str | None:
        if code in planned:
            return planned[code].parent_code
        parent_id = existing_by_code[code].parent_id
        return existing_code_by_pk.get(parent_id) if parent_id else None

    for plan in planned.values():
        if plan.parent_ref and plan.parent_code is None:
            continue  # already reported
        if plan.parent_code == plan.code:
            errors.append(RowError(plan.row.number, "上级单位", plan.parent_ref, "上级单位不能是它自己。"))
            continue
        message = _parent_kind_error(plan.fields["kind"], kind_of(plan.parent_code) if plan.parent_code else None)
        if message:
            errors.append(
                RowError(
                    plan.row.number,
                    "上级单位" if plan.parent_ref else "类型",
                    plan.parent_ref or plan.row.get("kind"),
                    message,
                )
            )
            continue
        # A chain that comes back to the unit itself is a cycle.
        seen, cursor, cycle, under_district = {plan.code}, plan.parent_code, False, False
        while cursor is not None:
            if cursor in seen:
                errors.append(
                    RowError(plan.row.number, "上级单位", plan.parent_ref, "上级关系形成了循环，请检查上级单位。")
                )
                cycle = True
                break
            seen.add(cursor)
            under_district = under_district or kind_of(cursor) == UnitKind.DISTRICT
            cursor = parent_code_fast(cursor)
        if not cycle and not under_district and is_district_department_label(plan.row.get("kind")):
            errors.append(
                RowError(
                    plan.row.number,
                    "上级单位" if plan.parent_ref else "类型",
                    plan.parent_ref or plan.row.get("kind"),
                    "区直部门的上级须为区县（或区县下的部门）；市直部门请填写类型“市直部门”。",
                )
            )

    # A new kind must still accept the children the file leaves under the unit.
    children_by_parent: dict[int, list[Unit]] = {}
    for unit in existing_by_code.values():
        if unit.parent_id:
            children_by_parent.setdefault(unit.parent_id, []).append(unit)
    for plan in planned.values():
        if plan.existing is None or plan.existing.kind == plan.fields["kind"]:
            continue
        for child in children_by_parent.get(plan.existing.pk, []):
            if child.code in planned:
                continue  # checked on its own row
            if _parent_kind_error(child.kind, plan.fields["kind"]):
                message = (
                    f"改为{UnitKind(plan.fields['kind']).label}后，现有下级单位“{child.name}”"
                    f"（{child.get_kind_display()}）不能挂在其下。"
                )
                errors.append(RowError(plan.row.number, "类型", plan.row.get("kind"), message))
                break

    # What would change.
    for plan in planned.values():
        label = f"{plan.fields['name']}（{plan.code}）"
        if plan.existing is None:
            result.rows.append(RowChange(plan.row.number, "create", label))
            continue
        changes = {}
        for key, value in plan.fields.items():
            old = getattr(plan.existing, key)
            if (old or "") != value:
                if key == "kind":
                    old, value = UnitKind(old).label, UnitKind(value).label
                changes[header_of(UNIT_COLUMNS, key)] = (str(old or ""), value)
        old_parent = existing_code_by_pk.get(plan.existing.parent_id) if plan.existing.parent_id else None
        if old_parent != plan.parent_code:
            changes["上级单位"] = (old_parent or "", plan.parent_code or "")
        result.rows.append(RowChange(plan.row.number, "update" if changes else "unchanged", label, changes))

    result.errors.sort(key=lambda e: e.row or 0)
    if result.errors or dry_run:
        return result
    _units_apply(planned=planned, result=result)
    return result


@transaction.atomic
def _units_apply(*, planned: dict[str, _PlannedUnit], result: ImportResult) -> None:
    actions = {change.row: change.action for change in result.rows}
    done: dict[str, Unit] = {}

    def ensure(code: str) -> Unit:
        """Write a unit after its parent, so every path is known when it is set."""
        if code in done:
            return done[code]
        if code not in planned:
            return Unit.objects.get(code=code)
        plan = planned[code]
        parent = ensure(plan.parent_code) if plan.parent_code else None
        action = actions[plan.row.number]
        if action == "create":
            unit = unit_create(parent=parent, **plan.fields)
        elif action == "update":
            unit = unit_update(unit=plan.existing, parent=parent, **plan.fields)
        else:
            unit = plan.existing
        done[code] = unit
        return unit

    for code in planned:
        ensure(code)


# --- Campaigns -------------------------------------------------------------------------------

MEETING_OVERDUE_UNITS_MAX = 20  # a meeting hears a handful of units, not the whole city
CAMPAIGN_FIELDS = (
    "name",
    "level",
    "start_date",
    "evaluation_date",
    "description",
    "share_declaration",
    "share_field",
    "share_survey",
    "active",
    "weight_score",
    "weight_process",
    "min_sample",
    "board_mode",
    "board_k",
    "red_line",
    "black_line",
    "overdue_case_threshold",
    "district_departments",
    "appeal_working_days",
    "appeal_deadline_hour",
    "recheck_failed_raises_case",
    "commitment_overdue_raises_case",
    "meeting_overdue_units",
    "survey_target",
)


def _validate_campaign(campaign: Campaign) -> None:
    errors = {}
    if campaign.start_date and campaign.evaluation_date and campaign.evaluation_date < campaign.start_date:
        errors["evaluation_date"] = "测评日期不能早于启动日期。"
    total = (campaign.share_declaration or 0) + (campaign.share_field or 0) + (campaign.share_survey or 0)
    if total != 100:
        errors["share_survey"] = f"网上申报、实地考察、问卷调查三项占比之和应为 100，现为 {total}。"
    weights = (campaign.weight_score or 0) + (campaign.weight_process or 0)
    if weights != 100:
        errors["weight_process"] = f"得分率与按期整改率两项权重之和应为 100，现为 {weights}。"
    if (campaign.meeting_overdue_units or 0) > MEETING_OVERDUE_UNITS_MAX:
        errors["meeting_overdue_units"] = f"调度会材料另列的超期单位数不能超过 {MEETING_OVERDUE_UNITS_MAX} 个。"
    if campaign.red_line is not None and campaign.black_line is not None and campaign.black_line > campaign.red_line:
        errors["black_line"] = "黑榜线不能高于红榜线。"
    if campaign.survey_target is not None and not 0 <= campaign.survey_target <= 100:
        errors["survey_target"] = "满意率目标应在 0 到 100 之间。"
    if campaign.appeal_deadline_hour is not None and not 0 <= campaign.appeal_deadline_hour <= 23:
        errors["appeal_deadline_hour"] = "申诉截止时点应在 0 到 23 之间。"
    if campaign.appeal_working_days is not None and not 1 <= campaign.appeal_working_days <= 10:
        errors["appeal_working_days"] = "申诉期限应在 1 到 10 个工作日之间。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *, name: str, level: str, start_date: datetime.date, evaluation_date: datetime.date, **fields
) -> Campaign:
    campaign = Campaign(name=name, level=level, start_date=start_date, evaluation_date=evaluation_date, **fields)
    campaign.full_clean()
    _validate_campaign(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    for key, value in fields.items():
        setattr(campaign, key, value)
    campaign.full_clean()
    _validate_campaign(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_set_phases(
    *, campaign: Campaign, phases: list[tuple[str, datetime.date, datetime.date, str]]
) -> list[Phase]:
    """Replace the campaign's phases. They must follow each other without overlapping."""
    ordered = sorted(phases, key=lambda p: p[1])
    errors = []
    kinds = [p[0] for p in ordered]
    if len(set(kinds)) != len(kinds):
        errors.append("每个阶段只能出现一次。")
    for kind, start, end, _note in ordered:
        if end < start:
            errors.append(f"{PhaseKind(kind).label}的结束日期早于开始日期。")
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current[1] <= previous[2]:
            errors.append(f"{PhaseKind(previous[0]).label}与{PhaseKind(current[0]).label}的日期重叠。")
    if errors:
        raise ValidationError(errors)
    campaign.phases.all().delete()
    return [
        Phase.objects.create(campaign=campaign, kind=kind, start_date=start, end_date=end, note=note)
        for kind, start, end, note in ordered
    ]


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a campaign that nothing but its own phases refers to. Its work groups, systems,
    rounds and weeks would otherwise go with it (CASCADE) or stop the delete half-way (PROTECT,
    once a 500): refuse, naming what still refers to it, and point at archiving instead. Counted
    through the model's reverse relations, so the kernel names the higher apps' tables without
    importing them."""
    in_use = []
    for relation in Campaign._meta.related_objects:
        if not relation.one_to_many or relation.related_model is Phase or relation.on_delete is DO_NOTHING:
            continue  # phases belong to the campaign; history rows (DO_NOTHING) do not hold it
        count = relation.related_model._base_manager.filter(**{relation.field.name: campaign}).count()
        if count:
            in_use.append(f"{relation.related_model._meta.verbose_name} {count} 条")
    if in_use:
        raise ProtectedError(f"该创建活动还有{'、'.join(in_use)}，不能删除；可改为停用（归档）。", set())
    campaign.delete()


# --- People ----------------------------------------------------------------------------------


@transaction.atomic
def user_create(*, username: str, password: str, full_name: str = "", email: str = "") -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"用户名“{username}”已存在。"})
    user = User(username=username, first_name=full_name, email=email)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def membership_check(*, user, role: str, unit: Unit | None, exclude_pk: int | None = None) -> None:
    """A role the person may hold: a liaison names its unit; never the same role twice."""
    if role == Role.LIAISON and unit is None:
        raise ValidationError({"unit": "单位联络员必须指定所属单位。"})
    if Membership.objects.filter(user=user, role=role, unit=unit).exclude(pk=exclude_pk).exists():
        raise ValidationError({"role": "该用户已有这个角色。"})


def membership_is_last_office(membership: Membership) -> bool:
    """Whether this is the only 创建办 membership left (it can be neither removed nor changed)."""
    return (
        membership.role == Role.OFFICE
        and not Membership.objects.filter(role=Role.OFFICE).exclude(pk=membership.pk).exists()
    )


def membership_create(*, user, role: str, unit: Unit | None = None) -> Membership:
    membership_check(user=user, role=role, unit=unit)
    membership = Membership(user=user, role=role, unit=unit)
    membership.full_clean(validate_constraints=False)
    membership.save()
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    if membership_is_last_office(membership):
        raise ValidationError("这是最后一个创建办账号，不能移除。")
    membership.delete()


@transaction.atomic
def work_group_create(
    *, campaign: Campaign, name: str, duties: str = "", leaders=(), units=(), order: int = 0
) -> WorkGroup:
    if WorkGroup.objects.filter(campaign=campaign, name=name).exists():
        raise ValidationError({"name": f"工作组“{name}”已存在。"})
    group = WorkGroup.objects.create(campaign=campaign, name=name, duties=duties, order=order)
    group.leaders.set(leaders)
    group.units.set(units)
    return group


@transaction.atomic
def work_group_update(*, group: WorkGroup, name: str, duties: str, leaders, units, order: int) -> WorkGroup:
    if WorkGroup.objects.filter(campaign=group.campaign, name=name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": f"工作组“{name}”已存在。"})
    group.name, group.duties, group.order = name, duties, order
    group.save()
    group.leaders.set(leaders)
    group.units.set(units)
    return group


# --- Job runs --------------------------------------------------------------------------------


def job_run_create(*, name: str, params: dict | None = None, user=None) -> JobRun:
    return JobRun.objects.create(name=name, params=params or {}, created_by=user if user and user.pk else None)


def job_run_start(*, run: JobRun) -> JobRun:
    """Mark a run this process already owns as running (a scheduled job's fresh run, a render that
    claimed its files). A run that may be delivered twice is taken with job_run_claim instead."""
    run.status, run.started_at, run.worker = JobStatus.RUNNING, timezone.now(), socket.gethostname()
    run.attempts += 1
    run.save(update_fields=["status", "started_at", "worker", "attempts"])
    return run


def job_run_claim(*, run_id: int) -> JobRun | None:
    """Take a queued run for this worker, or None when it is not queued any more (done, failed,
    or running elsewhere). One conditional UPDATE: the outbox may hand a run over more than once
    (the sweeper's re-dispatch, the broker's redelivery after a lost worker), and only one
    delivery runs it — this is what keeps every job idempotent."""
    taken = JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), worker=socket.gethostname(), attempts=F("attempts") + 1
    )
    return JobRun.objects.filter(pk=run_id).first() if taken else None


def job_run_progress(*, run: JobRun, percent: int, rows_done: int = 0, rows_total: int | None = None, stage: str = ""):
    """Record how far a running job is (one UPDATE of its row; the page polls it). Progress is
    advice to the reader: a write that cannot take its lock now (SQLite's table lock while a page
    reads the row) is skipped, in its own savepoint, and never fails the job it reports on."""
    run.progress, run.rows_done, run.rows_total, run.stage = (
        max(0, min(int(percent), 100)),
        rows_done,
        rows_total,
        stage,
    )
    try:
        with transaction.atomic():
            JobRun.objects.filter(pk=run.pk).update(
                progress=run.progress, rows_done=rows_done, rows_total=rows_total, stage=stage
            )
    except OperationalError:
        logger.warning("progress of job run %s not recorded (the row was locked)", run.pk)
    return run


def job_run_finish(*, run: JobRun, result: dict | None = None, error: str = "") -> JobRun:
    run.status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
    run.result, run.error, run.finished_at = result or {}, error, timezone.now()
    fields = ["status", "result", "error", "finished_at"]
    if not error:
        run.progress = 100
        fields.append("progress")
    run.save(update_fields=fields)
    return run


def worker_check_run(*, run_id: int) -> dict:
    """Run on a worker: mark the run as done by this host, with what the worker sees in the database."""
    run = job_run_claim(run_id=run_id)
    if run is None:  # delivered twice: the first delivery ran it
        return JobRun.objects.filter(pk=run_id).values_list("result", flat=True).first() or {}
    result = {"units": Unit.objects.count(), "campaigns": Campaign.objects.count(), "worker": socket.gethostname()}
    job_run_finish(run=run, result=result)
    return result


def worker_check_enqueue(*, user=None) -> JobRun:
    """Queue a worker check once the surrounding transaction commits (through the jobs' outbox: a
    broker that is down leaves the run queued for the sweeper, never an error for the caller)."""
    from .jobs import job_enqueue

    return job_enqueue(job_run_create(name="worker_check", user=user))
