"""Reusable reads of the shared kernel: who a user is, what they may see, and the unit tree."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.lookups import StartsWith
from django.utils import timezone

from .choices import Role
from .models import Campaign, Membership, Phase, Unit
from .selection import current_selection


@dataclass(frozen=True)
class Scope:
    """What one user may see and do, computed once per request from their memberships."""

    user_id: int | None
    roles: frozenset[str]
    liaison_units: tuple[Unit, ...] = field(default_factory=tuple)
    is_superuser: bool = False

    @property
    def is_office(self) -> bool:
        return self.is_superuser or Role.OFFICE in self.roles

    @property
    def is_leader(self) -> bool:
        return Role.LEADER in self.roles

    @property
    def is_inspector(self) -> bool:
        return Role.INSPECTOR in self.roles

    @property
    def is_liaison(self) -> bool:
        return Role.LIAISON in self.roles

    @property
    def sees_everything(self) -> bool:
        """Office, leaders and inspectors read the whole city; a liaison reads its subtrees."""
        return self.is_office or self.is_leader or self.is_inspector

    @property
    def read_only(self) -> bool:
        """A leader (with no other working role) reads everything and changes nothing."""
        return not (self.is_office or self.is_inspector or self.is_liaison)

    @cached_property
    def liaison_paths(self) -> tuple[str, ...]:
        return tuple(unit.path for unit in self.liaison_units)

    def unit_q(self, prefix: str = "") -> Q:
        """A filter on a unit relation (`prefix` such as "handler__") limited to this scope."""
        if self.sees_everything:
            return Q()
        if not self.liaison_paths:
            return Q(pk__in=[])
        condition = Q()
        for path in self.liaison_paths:
            condition |= Q(**{f"{prefix}path__startswith": path})
        return condition

    def covers(self, unit: Unit) -> bool:
        if self.sees_everything:
            return True
        return any(unit.path.startswith(path) for path in self.liaison_paths)

    @property
    def primary_role(self) -> str | None:
        for role in (Role.OFFICE, Role.LEADER, Role.INSPECTOR, Role.LIAISON):
            if role in self.roles:
                return role
        return Role.OFFICE if self.is_superuser else None


def scope_for(user) -> Scope:
    """The scope of a user; two queries at most, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return Scope(user_id=None, roles=frozenset())
    cached = getattr(user, "_campaign_scope", None)
    if cached is not None:
        return cached
    memberships = list(Membership.objects.filter(user=user).select_related("unit"))
    scope = Scope(
        user_id=user.pk,
        roles=frozenset(m.role for m in memberships),
        liaison_units=tuple(m.unit for m in memberships if m.role == Role.LIAISON and m.unit and m.unit.active),
        is_superuser=user.is_superuser,
    )
    user._campaign_scope = scope
    return scope


def unit_list(*, user=None) -> QuerySet[Unit]:
    """Units the user may see, with their parent joined."""
    queryset = Unit.objects.select_related("parent")
    if user is not None:
        queryset = queryset.filter(scope_for(user).unit_q())
    return queryset


def under_district_q() -> Exists:
    """For a unit row: whether a district lies above it (its path passes through a district's) —
    with kind department, a 区直部门. One correlated EXISTS on the path index, no per-row Python."""
    from .choices import UnitKind

    return Exists(Unit.objects.filter(StartsWith(OuterRef("path"), F("path")), kind=UnitKind.DISTRICT))


def with_kind_labels(queryset: QuerySet[Unit]) -> QuerySet[Unit]:
    """Units with `under_district` annotated, so `Unit.kind_label` ("区直部门") costs no query."""
    return queryset.annotate(under_district=under_district_q())


def unit_subtree(*, unit: Unit, include_self: bool = True) -> QuerySet[Unit]:
    """A unit and everything under it, in one query whatever the depth."""
    queryset = Unit.objects.filter(path__startswith=unit.path)
    if not include_self:
        queryset = queryset.exclude(pk=unit.pk)
    return queryset


def unit_ancestors(*, unit: Unit) -> QuerySet[Unit]:
    """The chain above a unit, root first, in one query."""
    return Unit.objects.filter(pk__in=unit.ancestor_ids).order_by("depth")


def unit_get_for_user(*, user, pk) -> Unit:
    """The unit if the user may see it; Unit.DoesNotExist otherwise (a view turns that into 404)."""
    return unit_list(user=user).get(pk=pk)


def campaign_choices() -> list[Campaign]:
    """Every campaign, the default first (active, evaluated soonest): the header's switcher. Read
    once per request and shared with `campaign_current`."""
    selection = current_selection()
    if selection is not None and selection.campaigns is not None:
        return selection.campaigns
    campaigns = list(Campaign.objects.order_by("-active", "evaluation_date", "id"))
    if selection is not None:
        selection.campaigns = campaigns
    return campaigns


def campaign_current() -> Campaign | None:
    """The campaign this request reads: the one it names (`?campaign=`) or the user picked in the
    switcher, else the active one evaluated soonest (see `campaign.selection`)."""
    selection = current_selection()
    if selection is None:
        return Campaign.objects.order_by("-active", "evaluation_date", "id").first()
    campaigns = campaign_choices()
    if selection.wanted_id is not None:
        for campaign in campaigns:
            if campaign.pk == selection.wanted_id:
                return campaign
    return campaigns[0] if campaigns else None


def campaign_from_param(raw: str | None) -> Campaign | None:
    """The campaign a `?campaign=` parameter names: blank → the current one, `all` → None (every
    campaign), an id → that campaign; anything else is a ValidationError naming it. Shared by the
    API lists and the forms that take the parameter."""
    from django.core.exceptions import ValidationError

    raw = (raw or "").strip()
    if not raw:
        return campaign_current()
    if raw == "all":
        return None
    campaign = next((c for c in campaign_choices() if str(c.pk) == raw), None)
    if campaign is None:
        raise ValidationError(f"创建活动（campaign）“{raw[:20]}”不存在。", code="invalid")
    return campaign


def campaign_phase_on(*, campaign: Campaign, day: datetime.date | None = None) -> Phase | None:
    """The phase whose date range contains the day (today by default)."""
    day = day or timezone.localdate()
    return campaign.phases.filter(start_date__lte=day, end_date__gte=day).order_by("start_date").first()


def campaign_days_left(*, campaign: Campaign, day: datetime.date | None = None) -> int:
    """Days to the evaluation date (the 倒计时); negative once it has passed."""
    day = day or timezone.localdate()
    return (campaign.evaluation_date - day).days


def unit_kind_counts(queryset: QuerySet[Unit]) -> list[tuple[str, str, int]]:
    """(kind, label, count) per unit kind in the queryset, one GROUP BY query; the departments with
    a district above them are counted apart as 区直部门 (their kind stays department: the list's filter)."""
    from .choices import UnitKind

    counts: dict[tuple[str, bool], int] = {}
    grouped = queryset.order_by().annotate(under_district=under_district_q()).values_list("kind", "under_district")
    for kind, under_district, n in grouped.annotate(n=Count("id")).values_list("kind", "under_district", "n"):
        key = (kind, bool(under_district) and kind == UnitKind.DEPARTMENT)
        counts[key] = counts.get(key, 0) + n
    shown = []
    for kind, label in UnitKind.choices:
        for apart, apart_label in ((False, label), (True, "区直部门")):
            if counts.get((kind, apart)):
                shown.append((kind, apart_label, counts[(kind, apart)]))
    return shown
