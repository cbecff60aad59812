"""Navigation items of the 测评体系 for the kernel's menu (settings.CAMPAIGN_NAV_PROVIDERS)."""

from django.urls import reverse

from campaign.selectors import scope_for


def nav_items(user) -> list[tuple]:
    scope = scope_for(user)
    items = [("测评体系", reverse("indicator-system-list"))]
    if scope.is_liaison:
        items.append(("任务单", reverse("task-list-mine")))
    items.append(("申报材料", reverse("material-list")))
    if scope.is_office or scope.is_leader:
        items.append(("负面清单", reverse("negative-list"), "管理" if scope.is_office else None))
    return items
