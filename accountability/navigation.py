"""Navigation items of the rectification loop (registered in CAMPAIGN_NAV_PROVIDERS): the
office's queues, a liaison's 我的问题, 周评比 for everyone, the leaders' 驾驶舱, the 变更记录 (under
管理 for the office, in a leader's bar), and 通知 with the unread count as a badge (one COUNT)."""

from django.urls import reverse

from campaign.context_processors import NavLabel
from campaign.selectors import scope_for

from .notify import unread_count


def nav_items(user) -> list[tuple]:
    scope = scope_for(user)
    items: list[tuple] = []
    if scope.is_office:
        items += [("交办", reverse("problem-queue-assign")), ("复查", reverse("problem-queue-review"))]
    if scope.is_liaison:
        items.append(("我的问题", reverse("problem-mine")))
    items.append(("周评比", reverse("rankings")))
    if scope.is_office or scope.is_leader or scope.is_liaison:
        items.append(("承诺事项", reverse("commitment-list")))
    if scope.is_office or scope.is_leader:
        items.append(("驾驶舱", reverse("dashboard")))
    if scope.is_office:
        items.append(("问卷调查", reverse("survey-list"), "管理"))
        items.append(("变更记录", reverse("history-list"), "管理"))
    elif scope.is_leader:
        items.append(("变更记录", reverse("history-list")))
    items.append((NavLabel("通知", unread_count(user=user)), reverse("notification-list")))
    return items
