"""Enumerations of the rectification loop."""

from django.db import models


class DayKind(models.TextChoices):
    OFF = "off", "休"
    WORK = "work", "班"


class Action(models.TextChoices):
    ASSIGN = "assign", "交办"
    ACCEPT = "accept", "签收"
    SUBMIT = "submit", "提交整改报告"
    APPROVE = "approve", "复查通过（销号）"
    REJECT = "reject", "复查不通过（返工）"
    REQUEST_REASSIGN = "request_reassign", "申请改派"
    REASSIGN = "reassign", "改派"
    REFUSE_REASSIGN = "refuse_reassign", "驳回改派申请"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    GRANT_EXTENSION = "grant_extension", "同意延期"
    DENY_EXTENSION = "deny_extension", "驳回延期申请"
    SHELVE = "shelve", "挂账"
    RESUME = "resume", "恢复整改"
    VOID = "void", "作废"
