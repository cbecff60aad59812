"""Error pages in Chinese; API paths get the JSON error shape instead.

The pages say what happened without telling a reader whether an object it may not see exists (out
of scope is 404, never 403), and offer the way out: 首页, and the page the reader came from."""

import re

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import Resolver404
from django.utils.http import url_has_allowed_host_and_scheme

# The product's own messages are Chinese; Django's (e.g. "No Unit matches the given query.") name
# models and lookups, and a Resolver404 carries the route list: neither is shown.
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def _back_url(request) -> str:
    """The page the reader came from, when it is on this site and is not this page."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    if referer == request.build_absolute_uri():
        return ""
    return referer


def _reader_message(exception) -> str:
    if exception is None or isinstance(exception, Resolver404) or not exception.args:
        return ""
    message = exception.args[0]
    if not isinstance(message, str) or not _CHINESE.search(message) or "无权查看" in message:
        return ""  # "未找到该单位，或您无权查看。" only repeats what the page says
    return message


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有权限访问该页面。"
    if _wants_json(request):
        return JsonResponse({"code": "permission_denied", "detail": message}, status=403)
    context = {"message": message, "back_url": _back_url(request)}
    return render(request, "errors/403.html", context, status=403)


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "detail": "未找到该对象，或您无权查看。"}, status=404)
    context = {"reason": _reader_message(exception), "back_url": _back_url(request)}
    return render(request, "errors/404.html", context, status=404)
