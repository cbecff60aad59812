"""Who may do what. One place, used by the UI views and the API alike."""

from rest_framework import permissions

from .models import Unit
from .selectors import scope_for


def can_manage(user) -> bool:
    """The office (创建办) runs the campaign: it creates and changes reference data."""
    return scope_for(user).is_office


def can_edit_unit_contacts(user, unit: Unit) -> bool:
    """The office, or a liaison of the unit or a unit above it, keeps its contacts current."""
    scope = scope_for(user)
    return scope.is_office or (scope.is_liaison and any(unit.path.startswith(p) for p in scope.liaison_paths))


class IsOfficeOrReadOnly(permissions.BasePermission):
    """Everyone signed in reads (within their scope); only the office writes."""

    message = "只有创建办可以修改。"

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_manage(request.user)


class IsOffice(permissions.BasePermission):
    message = "只有创建办可以执行该操作。"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and can_manage(request.user))
