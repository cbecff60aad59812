"""Navigation items of the field-inspection app, by role (registered in CAMPAIGN_NAV_PROVIDERS)."""

from django.urls import reverse

from campaign.selectors import scope_for


def nav_items(user) -> list[tuple]:
    scope = scope_for(user)
    items: list[tuple] = []
    if scope.is_inspector and not scope.is_office:
        items.append(("现场督查", reverse("inspection-record")))
    if scope.is_office or scope.is_leader or scope.is_inspector:
        items.append(("督查批次", reverse("round-list")))
    if scope.is_office or scope.is_leader or scope.is_inspector or scope.is_liaison:
        items.append(("点位", reverse("point-list")))
        items.append(("问题", reverse("problem-list")))
    if scope.is_office:
        items.append(("测评细则", reverse("checkitem-list"), "管理"))
    return items
