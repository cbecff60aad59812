"""Who may touch the 测评体系 and its materials."""

from campaign.models import Unit, WorkGroup
from campaign.selectors import scope_for

from .models import Assignment, Indicator, Material


def unit_owns_indicator(*, unit: Unit, indicator: Indicator) -> bool:
    """The unit leads or is responsible for the indicator, its own or inherited."""
    return Assignment.objects.filter(indicator=indicator, unit=unit).exists()


def can_review_material(*, user, material: Material) -> bool:
    """The office; or a leading official of a work group of the material's campaign whose member
    units include the material's unit or a unit above it."""
    scope = scope_for(user)
    if scope.is_office:
        return True
    if not user.is_authenticated:
        return False
    return WorkGroup.objects.filter(
        campaign_id=material.indicator.system.campaign_id,
        leaders=user,
        units__pk__in=[*material.unit.ancestor_ids, material.unit.pk],
    ).exists()


def can_submit_for(*, user, unit: Unit) -> bool:
    scope = scope_for(user)
    return scope.is_liaison and scope.covers(unit)
