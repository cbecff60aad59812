"""Writes of the rectification loop besides the state machine (accountability.workflow):
reminders and notifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from campaign.choices import Role
from campaign.models import Membership
from inspections.choices import ProblemStatus
from inspections.models import Problem

from .calendar import add_working_days
from .models import Notification

# The states in which the handler still has to act.
HANDLER_STATES = (ProblemStatus.ASSIGNED, ProblemStatus.RECTIFYING)


def _liaisons_by_unit(unit_ids) -> dict[int, list[int]]:
    rows = Membership.objects.filter(role=Role.LIAISON, unit_id__in=unit_ids, user__is_active=True)
    by_unit: dict[int, list[int]] = {}
    for unit_id, user_id in rows.values_list("unit_id", "user_id"):
        by_unit.setdefault(unit_id, []).append(user_id)
    return by_unit


@transaction.atomic
def reminders_send(*, today: datetime.date | None = None) -> dict:
    """Remind handlers one working day before the deadline, on the day, and N days overdue;
    escalate long-overdue problems to the office. Each reminder is sent once, however often this
    runs (a notification's key is unique per user)."""
    today = today or timezone.localdate()
    tomorrow = add_working_days(today, 1)
    overdue_days = settings.REMINDER_OVERDUE_DAYS
    escalate_days = settings.REMINDER_ESCALATE_DAYS
    open_ = Problem.objects.filter(
        status__in=HANDLER_STATES, shelved=False, handler__isnull=False, deadline__isnull=False
    )
    plans: list[tuple[Problem, str, str, str]] = []  # (problem, audience, kind, message)
    for problem in open_.filter(deadline=tomorrow).only("pk", "handler_id", "deadline", "description"):
        plans.append(
            (
                problem,
                "handler",
                "due_soon",
                f"问题 #{problem.pk} 将于 {problem.deadline:%m月%d日} 到期：{problem.description[:40]}",
            )
        )
    for problem in open_.filter(deadline=today).only("pk", "handler_id", "deadline", "description"):
        plans.append((problem, "handler", "due_today", f"问题 #{problem.pk} 今天到期：{problem.description[:40]}"))
    for problem in open_.filter(deadline__lte=today - datetime.timedelta(days=overdue_days)).only(
        "pk", "handler_id", "deadline", "description"
    ):
        plans.append(
            (
                problem,
                "handler",
                "overdue",
                f"问题 #{problem.pk} 已超期（期限 {problem.deadline:%m月%d日}），请尽快整改：{problem.description[:40]}",
            )
        )
    for problem in (
        open_.filter(deadline__lte=today - datetime.timedelta(days=escalate_days))
        .select_related("handler")
        .only("pk", "handler__name", "deadline", "description")
    ):
        plans.append(
            (
                problem,
                "office",
                "escalate",
                f"问题 #{problem.pk} 超期 {(today - problem.deadline).days} 天未整改（{problem.handler.name}）：{problem.description[:40]}",
            )
        )

    liaisons = _liaisons_by_unit({p.handler_id for p, audience, _k, _m in plans if audience == "handler"})
    office = list(
        Membership.objects.filter(role=Role.OFFICE, user__is_active=True).values_list("user_id", flat=True).distinct()
    )
    wanted = []
    for problem, audience, kind, message in plans:
        users = liaisons.get(problem.handler_id, []) if audience == "handler" else office
        key = f"{kind}:{problem.pk}:{problem.deadline.isoformat()}"
        wanted += [
            Notification(user_id=user_id, problem_id=problem.pk, key=key, message=message[:300]) for user_id in users
        ]
    existing = set(Notification.objects.filter(key__in={n.key for n in wanted}).values_list("user_id", "key"))
    new = [n for n in wanted if (n.user_id, n.key) not in existing]
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    _email(new)
    return {
        "sent": len(new),
        "due_soon": sum(1 for p in plans if p[2] == "due_soon"),
        "due_today": sum(1 for p in plans if p[2] == "due_today"),
        "overdue": sum(1 for p in plans if p[2] == "overdue"),
        "escalated": sum(1 for p in plans if p[2] == "escalate"),
    }


def _email(notifications: list[Notification]) -> None:
    """Also by e-mail, when a real mail backend is configured and the user has an address."""
    if not notifications or settings.EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend")):
        return
    emails = dict(
        get_user_model()
        .objects.filter(pk__in={n.user_id for n in notifications})
        .exclude(email="")
        .values_list("pk", "email")
    )
    messages = [
        ("创城指挥平台提醒", n.message, settings.DEFAULT_FROM_EMAIL, [emails[n.user_id]])
        for n in notifications
        if n.user_id in emails
    ]
    if messages:
        send_mass_mail(messages, fail_silently=True)


def notification_mark_read(*, user, ids=None) -> int:
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
