"""Error pages in Chinese; API paths get the JSON error shape instead."""

from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有权限访问该页面。"
    if _wants_json(request):
        return JsonResponse({"code": "permission_denied", "detail": message}, status=403)
    return render(request, "errors/403.html", {"message": message}, status=403)


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "detail": "未找到该对象，或您无权查看。"}, status=404)
    return render(request, "errors/404.html", status=404)
