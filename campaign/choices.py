"""Enumerations of the shared kernel. Labels are what the offices write."""

from django.db import models


class CampaignLevel(models.TextChoices):
    NATIONAL = "national", "全国文明城市"
    PROVINCIAL = "provincial", "省级文明城市"
    COUNTY = "county", "县级文明城市"
    HEALTH = "health", "国家卫生城市"
    OTHER = "other", "其他"


class PhaseKind(models.TextChoices):
    LAUNCH = "launch", "全面启动"
    RECTIFY = "rectify", "集中整治"
    CONSOLIDATE = "consolidate", "巩固提高"
    LONG_TERM = "long_term", "长效管理"


class UnitKind(models.TextChoices):
    DISTRICT = "district", "区县"
    STREET = "street", "街道乡镇"
    COMMUNITY = "community", "社区村"
    DEPARTMENT = "department", "市直部门"
    OTHER = "other", "其他"


class Role(models.TextChoices):
    OFFICE = "office", "创建办"
    INSPECTOR = "inspector", "督查员"
    LIAISON = "liaison", "单位联络员"
    LEADER = "leader", "领导"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"


class BoardMode(models.TextChoices):
    """How the 红黑榜 is drawn from a week's ranking."""

    RANK = "rank", "按名次（前 k 名红榜、后 k 名黑榜）"
    THRESHOLD = "threshold", "按分数线（红榜 ≥ 红线，黑榜 < 黑线）"


class DistrictDepartmentRanking(models.TextChoices):
    """Where the 区直部门 (departments under a district) are ranked: a campaign rule."""

    SEPARATE = "separate", "区直部门单独排名"
    WITH_CITY = "with_city", "与市直部门一起排名"
