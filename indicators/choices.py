"""Enumerations of the 测评体系 app."""

from django.db import models


class SystemKind(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCIAL = "provincial", "省级"
    COUNTY = "county", "县级"
    LOCAL = "local", "本地"


class Level(models.IntegerChoices):
    PROJECT = 1, "测评项目"
    INDICATOR = 2, "指标名称"
    CONTENT = 3, "测评内容"
    STANDARD = 4, "测评标准"


class Method(models.TextChoices):
    ONLINE = "online", "网上申报"
    REVIEW = "review", "材料审核"
    FIELD = "field", "实地考察"
    SURVEY = "survey", "问卷调查"
    WEB = "web", "网络调查"
    DATA = "data", "数据采集"


# Indicators scored from uploaded evidence (网上申报 / 材料审核): the completeness board counts these.
DECLARATION_METHODS = (Method.ONLINE, Method.REVIEW)


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "牵头单位"
    RESPONSIBLE = "responsible", "责任单位"


class MaterialStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "通过"
    RETURNED = "returned", "退回"


class MaterialAction(models.TextChoices):
    SUBMIT = "submit", "提交"
    RESUBMIT = "resubmit", "重新提交"
    APPROVE = "approve", "审核通过"
    RETURN = "return", "退回"


class RiskStatus(models.TextChoices):
    OPEN = "open", "未解决"
    RESOLVED = "resolved", "已解决"
