"""OpenAPI post-processing: the error answers every operation can give, documented once.

drf-spectacular documents each operation's success only. Every operation can also answer the
shared error shape (campaign/api/exceptions.py): 400 for a malformed body or query, 401 without
credentials, 403 for a role that may not, 404 outside the user's scope, 409 for a conflict, 429
when throttled. Declaring them here keeps clients (and the schema fuzzer in tests/fuzz) honest:
an undocumented status is a finding, a documented refusal is not."""

from __future__ import annotations

import re

ERROR_SCHEMA_NAME = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "统一的错误格式：code（机器可读）、detail（中文说明）、fields（按字段列出的错误，仅校验错误）。",
    "properties": {
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": True,
            "description": "字段名 → 错误信息列表（嵌套对象按其字段）。未知的字段或查询参数也在此列出。",
        },
    },
    "required": ["code", "detail"],
}

ERRORS = {
    "400": "请求的数据或查询参数有误（含未知的字段或查询参数）",
    "401": "未登录或凭据无效",
    "403": "无权执行该操作",
    "404": "对象不存在或不在您的查看范围内",
    "405": "不支持该请求方法",
    "409": "冲突：对象已被他人修改，或仍被其他记录引用而不能删除",
    "415": "不支持的请求格式",
    "429": "请求过于频繁或账号已被锁定",
}


def document_errors(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: add the shared error responses to every operation that does not
    document its own answer for that status."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA_NAME, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result


# --- Tags: one per app, so Swagger UI (/api/docs/) groups the operations as the product does ----------

# The app a view's module belongs to → its tag (in the order Swagger UI lists them). The kernel
# names no higher app's code: the mapping is by module name only.
APP_TAGS: dict[str, tuple[str, str]] = {
    "campaign": ("基础（单位、人员、创建活动）", "登录令牌、单位、人员与角色、创建活动及其阶段、工作组、后台任务。"),
    "indicators": ("测评体系", "测评体系与任务分解表、指标、申报材料、负面清单与一票否决事项。"),
    "inspections": ("实地督查", "点位类型、点位、检查项、督查批次、检查记录、观测、照片、问题与第三方测评结果。"),
    "accountability": (
        "整改与评比",
        "问题整改流转、提醒、节假日、周评比与问责、驾驶舱数字、问卷调查、周通报、变更记录。",
    ),
}
TAGS = [name for name, _description in APP_TAGS.values()]
_PARAMETER = re.compile(r"{[^}]*}")


def _app_of(callback) -> str:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback
    return view.__module__.split(".")[0]


def tag_by_app(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: every operation gets exactly one tag, its view's app's (declared
    with a description in the schema's `tags`), replacing drf-spectacular's default (the first
    path segment). An operation of an app not in APP_TAGS is an error here, not an untagged entry."""
    # The schema names path parameters its own way ({pk} → {id}): matched with the names left out.
    apps = {
        (_PARAMETER.sub("{}", path), method.lower()): _app_of(callback)
        for path, _regex, method, callback in generator.endpoints or []
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method not in {"get", "post", "put", "patch", "delete"}:
                continue
            app = apps.get((_PARAMETER.sub("{}", path), method))
            if app not in APP_TAGS:
                raise ValueError(f"{method.upper()} {path}: no API tag for app {app!r} (campaign/api/schema.py)")
            operation["tags"] = [APP_TAGS[app][0]]
    result["tags"] = [{"name": name, "description": description} for name, description in APP_TAGS.values()]
    return result
