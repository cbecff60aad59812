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
    # 抽查复核 recorded 不属实: a closed problem goes back to 整改中 (返工), only from a pending recheck.
    RECHECK_FAIL = "recheck_fail", "抽查复核不属实（返工）"
    COMMENT = "comment", "留言"  # not a transition: a note on the history, the status unchanged


class Population(models.TextChoices):
    """Who is ranked against whom. `city` is the one citywide row of a week (no unit)."""

    DISTRICT = "district", "区县"
    STREET = "street", "街道乡镇"
    COMMUNITY = "community", "社区村"
    DEPARTMENT = "department", "市直部门"
    DISTRICT_DEPARTMENT = "district_department", "区直部门"
    CITY = "city", "全市"


RANKED_POPULATIONS = [
    Population.DISTRICT,
    Population.STREET,
    Population.COMMUNITY,
    Population.DEPARTMENT,
    Population.DISTRICT_DEPARTMENT,
]


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    SUPERSEDED = "superseded", "已被替换"


class BoardList(models.TextChoices):
    RED = "red", "红榜"
    BLACK = "black", "黑榜"


class CaseRule(models.TextChoices):
    """Why an accountability case was raised (谁丢分、谁领责)."""

    BLACK_LIST = "black_list", "上黑榜"
    OVERDUE = "overdue", "超期问题过多"
    REBOUND = "rebound", "问题反弹"
    VETO = "veto", "一票否决事项"
    RECHECK_FAILED = "recheck_failed", "抽查复核不属实"
    COMMITMENT_OVERDUE = "commitment_overdue", "承诺事项逾期"


class CaseLevel(models.TextChoices):
    """The ladder: first time on the 黑榜 a reminder, twice running an interview, three times 问责."""

    REMIND = "remind", "提醒"
    INTERVIEW = "interview", "分管领导约谈"
    ACCOUNT = "account", "建议问责"


class CaseStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    INTERVIEWED = "interviewed", "已约谈"
    NOTIFIED = "notified", "已通报"
    HELD = "held", "已问责"
    WITHDRAWN = "withdrawn", "撤销"


class BulletinKind(models.TextChoices):
    """The stored renderings of a published week's 周通报."""

    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel"


class BulletinStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RENDERING = "rendering", "生成中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class RecheckStatus(models.TextChoices):
    """The outcome of one 抽查复核 of a closed problem."""

    PENDING = "pending", "待复核"
    CONFIRMED = "confirmed", "属实"
    FAILED = "failed", "不属实"


class NotificationKind(models.TextChoices):
    """What a notification is about (accountability.notify). The in-app row is always written;
    a user's preferences and a unit's group robots choose which kinds they are pushed."""

    ASSIGNED = "assigned", "交办"
    RETURNED = "returned", "退回"
    APPROVED = "approved", "通过"
    CLOSED = "closed", "销号"
    REVIEW = "review", "待复查"
    REQUEST = "request", "申请"
    STATUS = "status", "状态变更"
    REMINDER = "reminder", "提醒"
    OVERDUE = "overdue", "超期"
    ESCALATED = "escalated", "升级"
    CASE = "case", "问责"
    APPEAL = "appeal", "申诉"
    OTHER = "other", "其他"


class ChannelKind(models.TextChoices):
    """Where a notification is pushed besides the in-app list."""

    EMAIL = "email", "邮件"
    SMS = "sms", "短信"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "失败"
    GIVEN_UP = "given_up", "放弃"


# The channels a unit's group robot may be (UnitChannel.kind).
ROBOT_KINDS = [
    (ChannelKind.WECOM.value, ChannelKind.WECOM.label),
    (ChannelKind.DINGTALK.value, ChannelKind.DINGTALK.label),
]


class CommitmentStatus(models.TextChoices):
    """A commitment's stored status; 逾期 is derived (open past its deadline), never stored."""

    OPEN = "open", "进行中"
    REPORTED = "reported", "已完成（待确认）"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已撤销"
