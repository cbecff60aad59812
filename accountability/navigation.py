"""Navigation items of the rectification loop (registered in CAMPAIGN_NAV_PROVIDERS): the
office's queues, a liaison's 我的问题, and 通知 with the unread count (the bell)."""

from django.urls import reverse

from campaign.selectors import scope_for

from .models import Notification


def nav_items(user) -> list[tuple]:
    scope = scope_for(user)
    items: list[tuple] = []
    if scope.is_office:
        items += [("交办", reverse("problem-queue-assign")), ("复查", reverse("problem-queue-review"))]
    if scope.is_liaison:
        items.append(("我的问题", reverse("problem-mine")))
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    items.append((f"通知 ({unread})" if unread else "通知", reverse("notification-list")))
    return items
