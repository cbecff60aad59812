"""The rectification loop's facts and reference data: every transition of a problem as an
immutable event, the working-day calendar, and in-app notifications."""

from django.conf import settings
from django.db import models

from campaign.models import Unit
from inspections.models import Photo, Problem

from .choices import DayKind


class ProblemEvent(models.Model):
    """One transition of a problem: who, in which role, when, from and to which status, the note,
    the evidence photos and the fields it changed. Never edited."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    role = models.CharField("身份", max_length=20)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作单位"
    )
    from_status = models.CharField("原状态", max_length=20)
    to_status = models.CharField("新状态", max_length=20)
    note = models.TextField("说明", blank=True)
    photos = models.ManyToManyField(Photo, blank=True, related_name="problem_events", verbose_name="照片")
    changes = models.JSONField("变更", default=dict, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "问题处置记录"
        verbose_name_plural = "问题处置记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.problem_id} {self.action} {self.from_status}→{self.to_status}"


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a public holiday on a weekday (休), or a 调休
    weekend day that is worked (班). Imported per year; every other day follows the weekday."""

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    name = models.CharField("名称", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class Notification(models.Model):
    """An in-app notification. `key` makes each reminder once-only however often a job runs."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=120)
    message = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]

    def __str__(self) -> str:
        return self.message
