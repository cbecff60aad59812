"""Navigation by role, the current campaign and its countdown on every page."""

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from .selectors import campaign_current, campaign_days_left, scope_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    items = [("首页", reverse("home"))]
    campaign = campaign_current()
    if campaign:
        items.append(("创建活动", campaign.get_absolute_url()))
    items.append(("单位", reverse("unit-tree")))
    if scope.is_office:
        items += [("成员与角色", reverse("membership-list")), ("后台任务", reverse("jobrun-list"))]
    for path in settings.CAMPAIGN_NAV_PROVIDERS:
        items += import_string(path)(user)
    if scope.is_office:
        items.append(("API 文档", reverse("api-docs")))
    banners = [text for path in settings.CAMPAIGN_BANNER_PROVIDERS for text in import_string(path)(user)]
    return {
        "banners": banners,
        "nav_items": items,
        "scope": scope,
        "current_campaign": campaign,
        "days_left": campaign_days_left(campaign=campaign) if campaign else None,
        "role_label": _role_label(scope),
    }


def _role_label(scope) -> str:
    from .choices import Role

    return "、".join(Role(role).label for role in sorted(scope.roles)) or ("管理员" if scope.is_superuser else "")
