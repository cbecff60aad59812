"""Writes of the 测评体系 app: the tree and its derived fields, assignments, materials, negative list."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from campaign.audit import history_record
from campaign.files import document_problem
from campaign.importing import megabytes
from campaign.models import Campaign, Unit
from campaign.selectors import scope_for

from .choices import DECLARATION_METHODS, AssignmentRole, MaterialAction, MaterialStatus, RiskStatus
from .models import (
    Assignment,
    Indicator,
    IndicatorMethod,
    IndicatorSystem,
    Material,
    MaterialEvent,
    MaterialFile,
    NegativeListItem,
    RiskEvent,
)
from .permissions import can_review_material, unit_owns_indicator
from .signals import veto_events_changed

# --- Systems and the tree ---------------------------------------------------------------------


@transaction.atomic
def indicator_system_create(*, campaign: Campaign, name: str, kind: str, year: int, note: str = "") -> IndicatorSystem:
    """A new edition. It becomes the campaign's current system only when the campaign has none:
    creating (or importing into) next year's empty edition must not change what the forecast,
    the board and the tasks read — switching is the office's explicit, audited act
    (`system_set_current`)."""
    # The campaign row lock serialises this with a concurrent create or switch (one current each).
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    if IndicatorSystem.objects.filter(campaign=campaign, name=name).exists():
        raise ValidationError({"name": f"该创建活动下已有名为“{name}”的测评体系。"})
    has_current = IndicatorSystem.objects.filter(campaign=campaign, is_current=True).exists()
    system = IndicatorSystem(campaign=campaign, name=name, kind=kind, year=year, note=note, is_current=not has_current)
    system.full_clean()
    system.save()
    return system


SET_CURRENT_REASON = "设为当前测评体系"


@transaction.atomic
def system_set_current(*, user, system: IndicatorSystem) -> IndicatorSystem:
    """Make the system the one its campaign is scored against (forecast, board, tasks): the office
    only, never on an archived campaign. The campaign's previous current system is unset first
    (one current per campaign, a database constraint), each save recorded in
    `IndicatorSystem.history` with the user and the reason, so who switched it and when, from
    which edition to which, can be read back. Setting the current one again writes nothing."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以设定当前测评体系。")
    campaign = Campaign.objects.select_for_update().get(pk=system.campaign_id)
    if not campaign.active:
        raise ValidationError(
            {"campaign": f"创建活动“{campaign.name}”已归档（已结束），不能更换当前测评体系；已有体系仍可查看。"}
        )
    system = IndicatorSystem.objects.select_related("campaign").get(pk=system.pk)
    if system.is_current:
        return system
    # A service may run outside a request (shell, task): the user is named on each row explicitly
    # rather than left to simple-history's request middleware (which an API token never reaches).
    for previous in IndicatorSystem.objects.filter(campaign=campaign, is_current=True):
        previous.is_current = False
        previous._history_user, previous._change_reason = user, SET_CURRENT_REASON
        previous.save(update_fields=["is_current"])
    system.is_current = True
    system._history_user, system._change_reason = user, SET_CURRENT_REASON
    system.save(update_fields=["is_current"])
    return system


@transaction.atomic
def indicator_system_update(
    *, system: IndicatorSystem, name: str, kind: str, year: int, note: str = ""
) -> IndicatorSystem:
    if IndicatorSystem.objects.filter(campaign=system.campaign, name=name).exclude(pk=system.pk).exists():
        raise ValidationError({"name": f"该创建活动下已有名为“{name}”的测评体系。"})
    system.name, system.kind, system.year, system.note = name, kind, year, note
    system.full_clean()
    system.save()
    return system


@transaction.atomic
def indicator_create(
    *,
    system: IndicatorSystem,
    level: int,
    title: str,
    parent: Indicator | None = None,
    code: str = "",
    text: str = "",
    weight: Decimal | None = None,
    methods: list[str] = (),
    order: int | None = None,
    veto: bool = False,
    requirements: str = "",
    point_types: str = "",
    deadline: datetime.date | None = None,
    rebuild: bool = True,
) -> Indicator:
    """Add one node. Imports pass rebuild=False and rebuild once at the end."""
    if parent is not None and parent.system_id != system.pk:
        raise ValidationError({"parent": "上级指标不属于该测评体系。"})
    if parent is not None and level <= parent.level:
        raise ValidationError({"level": "下级指标的层级必须低于上级。"})
    if weight is not None and weight < 0:
        raise ValidationError({"weight": "分值不能为负数。"})
    if code and Indicator.objects.filter(system=system, parent=parent, code=code).exists():
        raise ValidationError({"code": f"同一上级下已有编号“{code}”。"})
    if order is None:
        order = Indicator.objects.filter(system=system, parent=parent).count() + 1
    node = Indicator.objects.create(
        system=system,
        parent=parent,
        level=level,
        code=code,
        title=title,
        text=text,
        weight=weight,
        order=order,
        veto=veto,
        requirements=requirements,
        point_types=point_types,
        deadline=deadline,
    )
    indicator_set_methods(indicator=node, methods=methods)
    if rebuild:
        indicator_system_rebuild(system=system)
    return node


INDICATOR_FIELDS = ("code", "title", "text", "weight", "order", "veto", "requirements", "point_types", "deadline")


@transaction.atomic
def indicator_update(*, indicator: Indicator, rebuild: bool = True, **fields) -> Indicator:
    unknown = set(fields) - set(INDICATOR_FIELDS) - {"methods"}
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    methods = fields.pop("methods", None)
    if fields.get("weight") is not None and fields["weight"] < 0:
        raise ValidationError({"weight": "分值不能为负数。"})
    code = fields.get("code", indicator.code)
    if (
        code
        and Indicator.objects.filter(system=indicator.system_id, parent=indicator.parent_id, code=code)
        .exclude(pk=indicator.pk)
        .exists()
    ):
        raise ValidationError({"code": f"同一上级下已有编号“{code}”。"})
    for key, value in fields.items():
        setattr(indicator, key, value)
    indicator.save()
    if methods is not None:
        indicator_set_methods(indicator=indicator, methods=methods)
    if rebuild:
        indicator_system_rebuild(system=indicator.system)
    return indicator


def indicator_set_methods(*, indicator: Indicator, methods) -> None:
    wanted = list(dict.fromkeys(methods))
    IndicatorMethod.objects.filter(indicator=indicator).exclude(method__in=wanted).delete()
    have = set(IndicatorMethod.objects.filter(indicator=indicator).values_list("method", flat=True))
    created = IndicatorMethod.objects.bulk_create(
        [IndicatorMethod(indicator=indicator, method=m) for m in wanted if m not in have]
    )
    history_record(IndicatorMethod, created, change="+")  # bulk inserts send no signal


@transaction.atomic
def indicator_set_units(*, indicator: Indicator, role: str, units, rebuild: bool = True) -> None:
    """Set the units the office assigned to a node for one role (empty: inherit from above)."""
    wanted = {unit.pk for unit in units}
    Assignment.objects.filter(indicator=indicator, role=role).exclude(unit_id__in=wanted).delete()
    # An inherited row the office now names becomes its own: recorded as an assignment (history).
    adopted = list(Assignment.objects.filter(indicator=indicator, role=role, unit_id__in=wanted, inherited=True))
    Assignment.objects.filter(pk__in=[row.pk for row in adopted]).update(inherited=False)
    have = set(Assignment.objects.filter(indicator=indicator, role=role).values_list("unit_id", flat=True))
    created = Assignment.objects.bulk_create(
        [Assignment(indicator=indicator, unit_id=pk, role=role, inherited=False) for pk in wanted - have]
    )
    for row in adopted:
        row.inherited = False
    history_record(Assignment, adopted + created, change="+")  # bulk writes send no signal
    if rebuild:
        indicator_system_rebuild(system=indicator.system)


@transaction.atomic
def indicator_delete(*, indicator: Indicator) -> None:
    subtree = Indicator.objects.filter(system=indicator.system_id, path__startswith=indicator.path)
    if Material.objects.filter(indicator__in=subtree).exists():
        raise ValidationError("该指标（或其下级）已有申报材料，不能删除。")
    system = indicator.system
    indicator.delete()
    indicator_system_rebuild(system=system)


@transaction.atomic
def indicator_system_rebuild(*, system: IndicatorSystem) -> None:
    """Recompute every derived field of the tree and the inherited assignments.

    Runs after each change of structure, weights, methods or assignments: three reads, then
    bulk writes. Everything a page shows is then one SQL query away.
    """
    nodes = list(Indicator.objects.filter(system=system).order_by("level", "order", "id"))
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: (n.order, n.pk))
    methods: dict[int, set[str]] = defaultdict(set)
    for indicator_id, method in IndicatorMethod.objects.filter(indicator__system=system).values_list(
        "indicator_id", "method"
    ):
        methods[indicator_id].add(method)

    # Top-down: path, top, effective methods.
    effective_methods: dict[int, set[str]] = {}
    ordered: list[Indicator] = []

    def walk(node: Indicator, parent: Indicator | None) -> None:
        node.path = f"{parent.path if parent else '/'}{node.order:04d}.{node.pk}/"
        node.top_id = parent.top_id if parent else node.pk
        effective_methods[node.pk] = methods[node.pk] or (effective_methods[parent.pk] if parent else set())
        kids = children.get(node.pk, [])
        node.is_leaf = not kids
        node.is_declaration = node.is_leaf and bool(effective_methods[node.pk] & set(DECLARATION_METHODS))
        ordered.append(node)
        for kid in kids:
            walk(kid, node)

    for root in children.get(None, []):
        walk(root, None)

    # Bottom-up: weights.
    for node in reversed(ordered):
        kids = children.get(node.pk, [])
        weighted = [k.effective_weight for k in kids if k.effective_weight is not None]
        node.children_weight = sum(weighted, Decimal(0)) if weighted else None
        node.effective_weight = node.weight if node.weight is not None else node.children_weight

    # Top-down again: each leaf's share of the total (own weight, else an equal split of the
    # nearest weighted ancestor's weight among its leaves that have none of their own).
    leaves_under: dict[int, int] = {}
    for node in reversed(ordered):
        kids = children.get(node.pk, [])
        leaves_under[node.pk] = 1 if not kids else sum(leaves_under[k.pk] for k in kids)
    for node in ordered:
        node.share_weight = Decimal(0)

    def distribute(node: Indicator, amount: Decimal | None) -> None:
        kids = children.get(node.pk, [])
        if not kids:
            node.share_weight = (amount or Decimal(0)).quantize(Decimal("0.0001"))
            return
        unweighted = [k for k in kids if k.effective_weight is None]
        rest = None
        if amount is not None:
            rest = amount - sum((k.effective_weight for k in kids if k.effective_weight is not None), Decimal(0))
            rest = max(rest, Decimal(0))
        unweighted_leaves = sum(leaves_under[k.pk] for k in unweighted)
        for kid in kids:
            if kid.effective_weight is not None:
                distribute(kid, kid.effective_weight)
            elif rest is not None and unweighted_leaves:
                distribute(kid, rest * leaves_under[kid.pk] / unweighted_leaves)
            else:
                distribute(kid, None)

    for root in children.get(None, []):
        distribute(root, root.effective_weight)

    Indicator.objects.bulk_update(
        ordered,
        ["path", "top", "is_leaf", "is_declaration", "children_weight", "effective_weight", "share_weight"],
        batch_size=500,
    )

    # Inherited assignments: per role, a node with no own units takes its nearest ancestor's.
    own: dict[tuple[int, str], set[int]] = defaultdict(set)
    for indicator_id, unit_id, role in Assignment.objects.filter(indicator__system=system, inherited=False).values_list(
        "indicator_id", "unit_id", "role"
    ):
        own[(indicator_id, role)].add(unit_id)
    # Inherited rows are derived, not the office's act: deleted without signals (no history row
    # each, one DELETE) and recreated below by a bulk insert, which records none either.
    inherited = Assignment.objects.filter(indicator__system=system, inherited=True)
    inherited._raw_delete(inherited.db)
    inherited_rows = []
    for role in AssignmentRole.values:
        effective: dict[int, set[int]] = {}
        for node in ordered:
            mine = own.get((node.pk, role))
            if mine:
                effective[node.pk] = mine
            else:
                effective[node.pk] = effective.get(node.parent_id, set()) if node.parent_id else set()
                inherited_rows += [
                    Assignment(indicator_id=node.pk, unit_id=u, role=role, inherited=True) for u in effective[node.pk]
                ]
    Assignment.objects.bulk_create(inherited_rows, batch_size=1000)


# --- Declaration materials --------------------------------------------------------------------

ALLOWED_MATERIAL_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}


def sniff_material_type(data: bytes) -> str | None:
    """The file's real type from its content (never from its name): pdf, docx, xlsx, jpg or png."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def _validate_upload(upload) -> tuple[bytes, str]:
    limit = settings.MATERIAL_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"files": f"文件“{upload.name}”过大（{megabytes(upload.size)}），上限为 {megabytes(limit)}。"}
        )
    upload.seek(0)
    data = upload.read()
    if not data:
        raise ValidationError({"files": f"文件“{upload.name}”是空的。"})
    kind = sniff_material_type(data)
    if kind is None:
        raise ValidationError(
            {"files": f"文件“{upload.name}”的类型不受支持：只接受 PDF、Word (.docx)、Excel (.xlsx)、JPG、PNG。"}
        )
    problem = document_problem(data, kind)  # the whole file, not only its first bytes
    if problem:
        raise ValidationError({"files": f"文件“{upload.name}”{problem}"})
    return data, kind


def _store_file(
    *, material: Material, upload, data: bytes, kind: str, user, replaces: MaterialFile | None
) -> MaterialFile:
    from django.core.files.base import ContentFile

    version = replaces.version + 1 if replaces else 1
    if replaces is not None:
        MaterialFile.objects.filter(pk=replaces.pk).update(current=False)
    record = MaterialFile(
        material=material,
        original_name=upload.name[:255],
        content_type=ALLOWED_MATERIAL_TYPES[kind],
        size=len(data),
        version=version,
        replaces=replaces,
        current=True,
        uploaded_by=user,
    )
    record.file.save(upload.name, ContentFile(data), save=False)
    record.save()
    return record


@transaction.atomic
def material_submit(
    *, user, indicator: Indicator, unit: Unit, description: str, files=(), replace: dict | None = None
) -> Material:
    """A liaison submits (or, after a return, resubmits) its unit's material for an indicator.

    `files` are new uploads; `replace` maps an existing MaterialFile id to its new upload (the old
    file stays as a previous version). A pending material may be completed before review; an
    approved one is closed.
    """
    scope = scope_for(user)
    if not scope.is_liaison or not scope.covers(unit) or scope.read_only:
        raise PermissionDenied("只有本单位的联络员可以报送材料。")
    if not unit_owns_indicator(unit=unit, indicator=indicator):
        raise ValidationError({"indicator": "该指标不属于本单位的牵头或责任范围。"})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": "请填写材料说明。"})
    replace = replace or {}
    checked = [(upload, *_validate_upload(upload)) for upload in files]
    checked_replacements = [(file_id, upload, *_validate_upload(upload)) for file_id, upload in replace.items()]

    material = Material.objects.select_for_update().filter(indicator=indicator, unit=unit).first()
    now = timezone.now()
    if material is None:
        if not checked:
            raise ValidationError({"files": "请至少上传一个文件。"})
        material = Material.objects.create(
            indicator=indicator, unit=unit, description=description, submitted_by=user, submitted_at=now
        )
        action = MaterialAction.SUBMIT
    else:
        if material.status == MaterialStatus.APPROVED:
            raise ValidationError("该材料已审核通过，不能再修改；如需更新，请联系创建办。")
        action = MaterialAction.RESUBMIT if material.status == MaterialStatus.RETURNED else MaterialAction.SUBMIT
        if (
            action == MaterialAction.RESUBMIT
            and not checked
            and not checked_replacements
            and description == material.description
        ):
            raise ValidationError("重新提交前请修改说明或更新文件。")
        material.description, material.status = description, MaterialStatus.PENDING
        material.submitted_by, material.submitted_at = user, now
        material.save(update_fields=["description", "status", "submitted_by", "submitted_at"])
    for file_id, upload, data, kind in checked_replacements:
        old = material.files.filter(pk=file_id, current=True).first()
        if old is None:
            raise ValidationError({"files": "要替换的文件不存在或已被替换。"})
        _store_file(material=material, upload=upload, data=data, kind=kind, user=user, replaces=old)
    for upload, data, kind in checked:
        _store_file(material=material, upload=upload, data=data, kind=kind, user=user, replaces=None)
    MaterialEvent.objects.create(
        material=material, action=action, actor=user, note=description, status_after=MaterialStatus.PENDING
    )
    return material


@transaction.atomic
def material_review(*, user, material: Material, approve: bool, reason: str = "") -> Material:
    """The office, or a leader of a work group the unit belongs to, approves or returns a material."""
    material = Material.objects.select_for_update().select_related("indicator__system", "unit").get(pk=material.pk)
    if not can_review_material(user=user, material=material):
        raise PermissionDenied("只有创建办或该单位所属工作组的牵头领导可以审核。")
    if material.status != MaterialStatus.PENDING:
        raise ValidationError(f"该材料当前为“{material.get_status_display()}”，只有待审核的材料可以审核。")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": "退回时请填写原因。"})
    material.status = MaterialStatus.APPROVED if approve else MaterialStatus.RETURNED
    material.return_reason = "" if approve else reason
    material.reviewed_by, material.reviewed_at = user, timezone.now()
    material.save(update_fields=["status", "return_reason", "reviewed_by", "reviewed_at"])
    MaterialEvent.objects.create(
        material=material,
        action=MaterialAction.APPROVE if approve else MaterialAction.RETURN,
        actor=user,
        note=reason,
        status_after=material.status,
    )
    return material


# --- Negative list and risk events ------------------------------------------------------------


@transaction.atomic
def negative_item_create(
    *,
    system: IndicatorSystem,
    title: str,
    code: str = "",
    description: str = "",
    veto: bool = False,
    order: int | None = None,
) -> NegativeListItem:
    if NegativeListItem.objects.filter(system=system, title=title).exists():
        raise ValidationError({"title": f"负面清单中已有“{title}”。"})
    if order is None:
        order = NegativeListItem.objects.filter(system=system).count() + 1
    return NegativeListItem.objects.create(
        system=system, title=title, code=code, description=description, veto=veto, order=order
    )


@transaction.atomic
def risk_event_create(
    *, user, item: NegativeListItem, unit: Unit, occurred_on: datetime.date, description: str
) -> RiskEvent:
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以登记风险事件。")
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": "发生日期不能晚于今天。"})
    if not (description or "").strip():
        raise ValidationError({"description": "请填写情况说明。"})
    event = RiskEvent.objects.create(
        item=item, unit=unit, occurred_on=occurred_on, description=description.strip(), created_by=user
    )
    if item.veto:
        campaign_id = item.system.campaign_id
        days = (timezone.localdate() - occurred_on).days
        moments = [occurred_on + datetime.timedelta(days=offset) for offset in range(0, days + 1, 7)]
        moments.append(timezone.localdate())
        transaction.on_commit(
            lambda: veto_events_changed.send(
                sender=RiskEvent, campaign_id=campaign_id, moments=moments, reason=f"登记一票否决事件 #{event.pk}"
            )
        )
    return event


@transaction.atomic
def risk_event_resolve(*, user, event: RiskEvent, resolution: str) -> RiskEvent:
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以处置风险事件。")
    event = RiskEvent.objects.select_for_update().get(pk=event.pk)
    if event.status == RiskStatus.RESOLVED:
        raise ValidationError("该风险事件已解决。")
    if not (resolution or "").strip():
        raise ValidationError({"resolution": "请填写处置情况。"})
    event.status, event.resolution, event.resolved_at = RiskStatus.RESOLVED, resolution.strip(), timezone.now()
    event.save(update_fields=["status", "resolution", "resolved_at"])
    return event
