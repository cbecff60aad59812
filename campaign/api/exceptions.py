"""One JSON error shape for every 4xx: {"code", "detail" (Chinese), "fields"?: {field: [messages]}}."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

MESSAGES = {
    status.HTTP_400_BAD_REQUEST: "提交的数据有误，请检查后重试。",
    status.HTTP_401_UNAUTHORIZED: "请先登录。",
    status.HTTP_403_FORBIDDEN: "您没有执行该操作的权限。",
    status.HTTP_404_NOT_FOUND: "未找到该对象，或您无权查看。",
    status.HTTP_405_METHOD_NOT_ALLOWED: "不支持该请求方法。",
    status.HTTP_409_CONFLICT: "该对象已被他人修改，请刷新后重试。",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "不支持的请求格式。",
    status.HTTP_429_TOO_MANY_REQUESTS: "请求过于频繁，请稍后再试。",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = MESSAGES[status.HTTP_409_CONFLICT]
    default_code = "conflict"


class InUse(Conflict):
    """A delete refused because other records still refer to the object."""

    default_code = "protected"


def _in_use(exc: ProtectedError | RestrictedError) -> InUse:
    """A service's own Chinese reason, else the kinds of record that still refer to the object."""
    message = str(exc.args[0]) if exc.args else ""
    if message and not message.isascii():
        return InUse(message)
    kinds = sorted({str(obj._meta.verbose_name) for obj in (exc.args[1] if len(exc.args) > 1 else ())})
    return InUse(f"仍有{'、'.join(kinds) or '其他记录'}引用该对象，不能删除；可改为停用。")


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        exc = _in_use(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Keep a service's own reason ("只有创建办可以…"); a bare PermissionDenied gets the default.
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    body = {"code": getattr(exc, "default_code", "error"), "detail": MESSAGES.get(response.status_code, "请求失败。")}
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        body["code"] = "invalid"
        body["fields"] = fields
        first = next(iter(fields.values()), None)
        while isinstance(first, (list, dict)) and first:
            first = first[0] if isinstance(first, list) else next(iter(first.values()))
        if first:
            body["detail"] = str(first)
    elif isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        body["code"] = codes if isinstance(codes, str) else body["code"]
        # DRF's stock wording is terse ("未找到。"); ours says what to do. Keep specific messages.
        if str(detail) != str(getattr(exc, "default_detail", "")) or response.status_code not in MESSAGES:
            body["detail"] = str(detail)
    return Response(body, status=response.status_code, headers=_headers(response))


def _headers(response) -> dict:
    return {k: v for k, v in response.items() if k.lower() in {"www-authenticate", "retry-after", "allow"}}


def import_error_response(result) -> Response:
    """An import refused for row errors: the common shape plus created/updated/unchanged/errors."""
    body = {"code": "import_invalid", "detail": result.summary, **result.as_dict()}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)
