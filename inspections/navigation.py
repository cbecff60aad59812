"""Navigation items of the field-inspection app, by role (registered in CAMPAIGN_NAV_PROVIDERS)."""

from django.urls import reverse

from campaign.context_processors import NavLabel
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
    if scope.is_office or scope.is_leader:
        items.append((_reports_label(scope), reverse("report-list")))
    if scope.is_office:
        items.append(("测评细则", reverse("checkitem-list"), "管理"))
        items.append(("公众问题类别", reverse("publiccategory-list"), "管理"))
        items.append(("接口密钥", reverse("intakekey-list"), "管理"))
    return items


def _reports_label(scope) -> str | NavLabel:
    """群众反映, with the office's 待分拣 count (one COUNT on the queue index)."""
    if not scope.is_office:
        return "群众反映"
    from campaign.selectors import campaign_current

    from .triage import pending_count

    count = pending_count(campaign=campaign_current())
    return NavLabel("群众反映", count, title="{n} 条待分拣", testid="nav-badge-reports")
