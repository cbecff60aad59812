"""Reads of the 测评体系 app, computed in SQL."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaign.models import Unit
from campaign.selectors import campaign_current, scope_for

from .choices import AssignmentRole, MaterialStatus, RiskStatus
from .models import Assignment, Indicator, IndicatorSystem, Material, RiskEvent

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=4))


def _approved(indicator_ref: str = "pk", unit_ref: str | None = None) -> Exists:
    materials = Material.objects.filter(indicator=OuterRef(indicator_ref), status=MaterialStatus.APPROVED)
    if unit_ref:
        materials = materials.filter(unit=OuterRef(unit_ref))
    return Exists(materials)


def system_list(*, campaign=None) -> QuerySet[IndicatorSystem]:
    queryset = IndicatorSystem.objects.select_related("campaign").annotate(node_count=Count("indicators"))
    return queryset.filter(campaign=campaign) if campaign else queryset


def indicator_tree(*, system: IndicatorSystem) -> list[Indicator]:
    """Every node in tree order with methods, units and material progress under it.

    Four queries whatever the size: nodes with progress (correlated subqueries over the subtree),
    methods, own and inherited assignments with their units.
    """
    leaves = Indicator.objects.filter(system=OuterRef("system"), path__startswith=OuterRef("path"), is_declaration=True)
    total = leaves.values("system").annotate(n=Count("pk")).values("n")
    approved = leaves.filter(_approved()).values("system").annotate(n=Count("pk")).values("n")
    nodes = (
        Indicator.objects.filter(system=system)
        .annotate(
            declaration_total=Coalesce(Subquery(total), 0),
            declaration_approved=Coalesce(Subquery(approved), 0),
        )
        .prefetch_related(
            "method_rows",
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit").order_by("role", "unit__path")),
        )
        .order_by("path")
    )
    return list(nodes)


def indicator_get(*, pk) -> Indicator:
    return (
        Indicator.objects.select_related("system__campaign", "parent")
        .prefetch_related("method_rows", Prefetch("assignments", queryset=Assignment.objects.select_related("unit")))
        .get(pk=pk)
    )


def indicator_ancestors(*, indicator: Indicator) -> QuerySet[Indicator]:
    ids = [int(part.split(".")[1]) for part in indicator.path.strip("/").split("/")[:-1] if part]
    return Indicator.objects.filter(pk__in=ids).order_by("level")


def task_list(*, unit: Unit, system: IndicatorSystem | None = None) -> QuerySet[Assignment]:
    """A unit's 任务单: every indicator it leads or answers for — own assignments, and inherited
    ones on the leaves — with the unit's own material status."""
    own_material = Material.objects.filter(indicator=OuterRef("indicator"), unit=unit)
    rows = (
        Assignment.objects.filter(unit=unit)
        .filter(Q(inherited=False) | Q(indicator__is_leaf=True))
        .select_related("indicator__system", "indicator__parent")
        .prefetch_related("indicator__method_rows")
        .annotate(
            material_status=Subquery(own_material.values("status")[:1]),
            material_id=Subquery(own_material.values("pk")[:1]),
        )
        .order_by("indicator__system", "indicator__path", "role")
    )
    return rows.filter(indicator__system=system) if system else rows


def completeness_by_project(*, system: IndicatorSystem) -> list[dict]:
    """Per 测评项目: the share, by weight, of declaration indicators with approved material."""
    rows = (
        Indicator.objects.filter(system=system, is_declaration=True)
        .annotate(ok=_approved())
        .values("top")
        .annotate(
            total_weight=Coalesce(Sum("share_weight"), ZERO),
            approved_weight=Coalesce(Sum(Case(When(ok=True, then=F("share_weight")), default=ZERO)), ZERO),
            items=Count("pk"),
            approved_items=Count("pk", filter=Q(ok=True)),
            returned_items=Count("pk", filter=Q(materials__status=MaterialStatus.RETURNED), distinct=True),
        )
        .order_by("top__path")
        .values(
            "top",
            "top__code",
            "top__title",
            "total_weight",
            "approved_weight",
            "items",
            "approved_items",
            "returned_items",
        )
    )
    return [_with_rate(row) for row in rows]


def _dedup_assignments(system: IndicatorSystem) -> QuerySet[Assignment]:
    """One row per (unit, declaration indicator): the lead row, or the responsible row when the
    unit does not also lead it."""
    leads = Assignment.objects.filter(indicator=OuterRef("indicator"), unit=OuterRef("unit"), role=AssignmentRole.LEAD)
    return Assignment.objects.filter(indicator__system=system, indicator__is_declaration=True).filter(
        Q(role=AssignmentRole.LEAD) | ~Exists(leads)
    )


def completeness_by_unit(*, system: IndicatorSystem, units: QuerySet[Unit] | None = None) -> list[dict]:
    """Per unit: the share, by weight, of its declaration indicators with its own approved material."""
    own = Material.objects.filter(indicator=OuterRef("indicator"), unit=OuterRef("unit"))
    rows = _dedup_assignments(system).annotate(
        ok=Exists(own.filter(status=MaterialStatus.APPROVED)),
        returned=Exists(own.filter(status=MaterialStatus.RETURNED)),
        pending=Exists(own.filter(status=MaterialStatus.PENDING)),
    )
    if units is not None:
        rows = rows.filter(unit__in=units)
    rows = (
        rows.values("unit")
        .annotate(
            total_weight=Coalesce(Sum("indicator__share_weight"), ZERO),
            approved_weight=Coalesce(Sum(Case(When(ok=True, then=F("indicator__share_weight")), default=ZERO)), ZERO),
            items=Count("pk"),
            approved_items=Count("pk", filter=Q(ok=True)),
            pending_items=Count("pk", filter=Q(pending=True)),
            returned_items=Count("pk", filter=Q(returned=True)),
        )
        .order_by("unit__path")
        .values(
            "unit",
            "unit__name",
            "unit__kind",
            "total_weight",
            "approved_weight",
            "items",
            "approved_items",
            "pending_items",
            "returned_items",
        )
    )
    return [_with_rate(row) for row in rows]


def missing_materials(*, system: IndicatorSystem, unit: Unit | None = None) -> QuerySet[Assignment]:
    """Declaration indicators a unit answers for without approved material: not submitted,
    pending or returned (with the reason)."""
    own = Material.objects.filter(indicator=OuterRef("indicator"), unit=OuterRef("unit"))
    rows = (
        _dedup_assignments(system)
        .annotate(
            ok=Exists(own.filter(status=MaterialStatus.APPROVED)),
            material_status=Subquery(own.values("status")[:1]),
            return_reason=Subquery(own.values("return_reason")[:1]),
        )
        .filter(ok=False)
        .select_related("unit", "indicator")
        .order_by("unit__path", "indicator__path")
    )
    return rows.filter(unit=unit) if unit is not None else rows


def _with_rate(row: dict) -> dict:
    total = row["total_weight"] or Decimal(0)
    row["rate"] = (row["approved_weight"] / total) if total else None
    return row


def material_list(*, user) -> QuerySet[Material]:
    """Materials the user may see: all for office and leaders; a liaison its subtree's."""
    queryset = Material.objects.select_related("indicator__system", "unit", "submitted_by", "reviewed_by")
    return queryset.filter(scope_for(user).unit_q("unit__"))


def material_get_for_user(*, user, pk) -> Material:
    return material_list(user=user).prefetch_related("files", "events__actor").get(pk=pk)


def system_current(*, campaign) -> IndicatorSystem | None:
    """The indicator system the campaign is scored against now (forecast, board, tasks): the one
    marked current, else its newest edition."""
    return (
        IndicatorSystem.objects.filter(campaign=campaign).order_by("-is_current", "-year", "-id").first()
        if campaign is not None
        else None
    )


def open_veto_events(*, campaign=None) -> QuerySet[RiskEvent]:
    """Open 一票否决 events; of one campaign's indicator systems when given (an event belongs to a
    campaign through its negative-list item's system)."""
    events = RiskEvent.objects.filter(status=RiskStatus.OPEN, item__veto=True).select_related("item", "unit")
    return events.filter(item__system__campaign=campaign) if campaign is not None else events


def week_veto_events(*, campaign, monday: datetime.date, sunday: datetime.date) -> QuerySet[RiskEvent]:
    """The 一票否决 events of a campaign that were open at some time in the week [monday, sunday]:
    occurred on or before its Sunday, and still open or resolved on or after its Monday (so an
    event resolved during the week still vetoes that week, and not the next)."""
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=timezone.get_default_timezone())
    return (
        RiskEvent.objects.filter(item__veto=True, item__system__campaign=campaign, occurred_on__lte=sunday)
        .filter(Q(status=RiskStatus.OPEN) | Q(resolved_at__gte=start))
        .select_related("item", "unit")
        .order_by("occurred_on", "pk")
    )


def veto_banners(user) -> list[str]:
    """Red banners for office and leader pages: the open 一票否决 events of the campaign the
    request reads (`campaign_current()`), never another campaign's."""
    scope = scope_for(user)
    if not (scope.is_office or scope.is_leader):
        return []
    campaign = campaign_current()
    if campaign is None:
        return []
    return [
        f"一票否决风险：{event.unit.name} · {event.item.title}（{event.occurred_on:%Y年%m月%d日}，未解决）"
        for event in open_veto_events(campaign=campaign)[:5]
    ]
