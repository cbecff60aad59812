"""Navigation by role, the current campaign and its countdown on every page."""

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from .selectors import campaign_choices, campaign_current, campaign_days_left, scope_for

MORE = "管理"


class NavLabel(str):
    """A menu label with a count shown beside it as a badge (base.html reads `label.badge`,
    `label.badge_title` and `label.badge_testid`). Apps' navigation providers return it."""

    badge: int = 0
    badge_title: str = ""
    badge_testid: str = "nav-badge"

    def __new__(cls, text: str, badge: int = 0, *, title: str = "{n} 条未读", testid: str = "nav-badge"):
        label = super().__new__(cls, text)
        label.badge = badge
        label.badge_title = title.format(n=badge)
        label.badge_testid = testid
        return label


def navigation(request):
    """Computed once per request: the home page renders each widget with the request's context
    processors (seven renders; this ran its queries seven times)."""
    cached = getattr(request, "_navigation_context", None)
    if cached is not None:
        return cached
    context = _navigation(request)
    request._navigation_context = context
    return context


def _navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    # (label, url) items, or (label, url, MORE) for reference data that goes under "管理".
    items: list[tuple] = [("首页", reverse("home"))]
    campaign = campaign_current()
    for path in settings.CAMPAIGN_NAV_PROVIDERS:
        items += import_string(path)(user)
    more = MORE if scope.is_office else None
    if campaign:
        items.append(("创建活动", campaign.get_absolute_url(), more))
    items.append(("单位", reverse("unit-tree"), more))
    if scope.is_office:
        items += [
            ("成员与角色", reverse("membership-list"), MORE),
            ("后台任务", reverse("jobrun-list"), MORE),
            ("API 文档", reverse("api-docs"), MORE),
        ]
    nav_items = [(item[0], item[1]) for item in items if len(item) < 3 or item[2] is None]
    nav_more = [(item[0], item[1]) for item in items if len(item) == 3 and item[2] is not None]
    banners = [text for path in settings.CAMPAIGN_BANNER_PROVIDERS for text in import_string(path)(user)]
    return {
        "banners": banners,
        "nav_items": nav_items,
        "nav_more": nav_more,
        "scope": scope,
        "current_campaign": campaign,
        "campaign_choices": campaign_choices() if campaign else [],
        "days_left": campaign_days_left(campaign=campaign) if campaign else None,
        "role_label": _role_label(scope),
    }


def _role_label(scope) -> str:
    from .choices import Role

    return "、".join(Role(role).label for role in sorted(scope.roles)) or ("管理员" if scope.is_superuser else "")
