"""How a background job (JobRun) reads on a page: its name and its result in Chinese, never the raw
name or key. The names are the JOB_TASKS keys plus the beat's own runs; an unknown name or key reads
as a generic phrase (a new job shows as 后台任务 until it is named here), never as its code."""

from __future__ import annotations

from campaign.weeks import week_label

JOB_LABELS = {
    "weekly_rollup": "周评比计算",
    "bulletin_render": "周通报生成",
    "meeting_render": "调度会材料生成",
    "import": "导入",
    "worker_check": "后台任务节点检查",
    "reminders_send": "整改提醒发送",
}
UNKNOWN_JOB = "后台任务"

RESULT_LABELS = {
    # the roll-up
    "version": "版本记录",
    "number": "版本",
    "rows": "行数",
    "outcome": "结果",
    # the 周通报
    "week": "周次",
    "pdf_bytes": "PDF 字节数",
    "xlsx_bytes": "Excel 字节数",
    # imports
    "dry_run": "仅预览",
    "created": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "errors": "错误行",
    "summary": "摘要",
    "warnings": "提示",
    # the worker check
    "units": "单位数",
    "campaigns": "创建活动数",
    "worker": "执行节点",
    # reminders
    "sent": "已发送",
    "due_soon": "即将到期",
    "due_today": "当日到期",
    "overdue": "已超期",
    "escalated": "上报创建办",
    "commitments_due_soon": "承诺事项即将到期",
    "commitments_overdue": "承诺事项已逾期",
}
HIDDEN_RESULTS = {"detail"}  # a private storage path: for the page that reads it, not for people
OUTCOMES = {
    "created": "已生成草稿",
    "recomputed": "已重算草稿",
    "new_version": "已生成新版本草稿",
    "unchanged": "与已发布版本相同",
}
UNKNOWN_RESULT = "其他结果"


def job_label(name: str) -> str:
    return JOB_LABELS.get(name, UNKNOWN_JOB)


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "outcome":
        return OUTCOMES.get(value, UNKNOWN_RESULT)
    if key == "week":
        return week_label(value)
    if key == "number":
        return f"第{value}版"
    if isinstance(value, dict | list):
        return "…"
    return str(value)


def job_error_text(error: str) -> str:
    """A failed run's error as the job list shows it: the services' errors are Chinese already; an
    unexpected exception (its repr, English) reads as a Chinese note — the raw text stays on the run
    (后台管理 › 后台任务记录) for whoever investigates."""
    if not error or any("\u4e00" <= ch <= "\u9fff" for ch in error):
        return error
    return "运行出错（程序异常，技术详情见后台管理的后台任务记录）"


def job_result_text(result: dict) -> str:
    """'结果：已生成草稿、行数：12、版本：第1版' — keys in Chinese, unknown keys as 其他结果."""
    parts = []
    for key, value in (result or {}).items():
        if key in HIDDEN_RESULTS:
            continue
        parts.append(f"{RESULT_LABELS.get(key, UNKNOWN_RESULT)}：{_value(key, value)}")
    return "、".join(parts)
