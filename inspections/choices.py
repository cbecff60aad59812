"""Enumerations of the field-inspection app."""

from django.db import models


class RoundKind(models.TextChoices):
    ROUTINE = "routine", "日常督查"
    UNANNOUNCED = "unannounced", "暗访"
    WEEKLY = "weekly", "周评比"
    MOCK = "mock", "模拟测评"
    THIRD_PARTY = "third_party", "第三方测评"
    SUPERIOR = "superior", "上级测评"


class Result(models.TextChoices):
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"
    SEVERE = "severe", "严重不合格"


class Severity(models.TextChoices):
    NORMAL = "normal", "一般"
    SEVERE = "severe", "严重"


class ChargeKind(models.TextChoices):
    TERRITORIAL = "territorial", "属地"
    DEPARTMENT = "department", "行业主管"


class ProblemStatus(models.TextChoices):
    """The states of a problem. The workflow that moves them lives in the accountability app."""

    NEW = "new", "待交办"
    ASSIGNED = "assigned", "待签收"
    RECTIFYING = "rectifying", "整改中"
    REVIEWING = "reviewing", "待复查"
    CLOSED = "closed", "已销号"
    VOID = "void", "已作废"


class ProblemSource(models.TextChoices):
    INSPECTION = "inspection", "督查发现"
    LEADER = "leader", "领导交办"
    HOTLINE = "hotline", "12345转办"
    CITIZEN = "citizen", "市民随手拍"
    SUPERIOR = "superior", "上级通报"


# The 26 national point types (点位类别) and the departments that usually supervise them (条),
# by the short names of the demo city; a real city edits both.
NATIONAL_POINT_TYPES = [
    ("新时代文明实践中心", ["市委宣传部", "市文明办"]),
    ("政务大厅", ["市政务办"]),
    ("银行网点", ["市商务局"]),
    ("窗口单位", ["市政务办"]),
    ("公交站点", ["市交通运输局"]),
    ("公交车", ["市交通运输局"]),
    ("出租车", ["市交通运输局"]),
    ("室外公共厕所", ["市城管局"]),
    ("公共广场", ["市城管局"]),
    ("宾馆酒店", ["市文广旅局", "市市场监管局"]),
    ("公园", ["市园林局"]),
    ("社区", ["市民政局"]),
    ("建筑工地", ["市住建局"]),
    ("景区景点", ["市文广旅局"]),
    ("中小学校", ["市教育局"]),
    ("商场超市", ["市商务局", "市市场监管局"]),
    ("医院", ["市卫健委"]),
    ("公共文化设施", ["市文广旅局"]),
    ("主要交通路口", ["市公安局交警支队"]),
    ("背街小巷", ["市城管局"]),
    ("商业大街", ["市商务局", "市城管局"]),
    ("主次干道", ["市城管局", "市公安局交警支队"]),
    ("城乡接合部", ["市城管局", "市农业农村局"]),
    ("集贸(农贸)市场", ["市市场监管局", "市商务局"]),
    ("小区", ["市住建局"]),
    ("乡镇", ["市农业农村局"]),
]


class ReportChannel(models.TextChoices):
    """Where a report from outside the campaign office came in."""

    CITIZEN = "citizen", "市民随手拍"
    HOTLINE = "hotline", "12345热线"
    OPEN311 = "open311", "Open311接口"


class ReportStatus(models.TextChoices):
    """Triage of a report (分拣). Once accepted or merged, what the citizen sees follows the problem."""

    PENDING = "pending", "待分拣"
    ACCEPTED = "accepted", "已受理"
    MERGED = "merged", "已合并"
    REJECTED = "rejected", "不予受理"
