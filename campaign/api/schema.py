"""OpenAPI post-processing: the error answers every operation can give, documented once.

drf-spectacular documents each operation's success only. Every operation can also answer the
shared error shape (campaign/api/exceptions.py): 400 for a malformed body or query, 401 without
credentials, 403 for a role that may not, 404 outside the user's scope, 409 for a conflict, 429
when throttled. Declaring them here keeps clients (and the schema fuzzer in tests/fuzz) honest:
an undocumented status is a finding, a documented refusal is not."""

from __future__ import annotations

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
