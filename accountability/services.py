"""Writes of the rectification loop besides the state machine (accountability.workflow):
reminders and notifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inspections.choices import ProblemStatus
from inspections.models import Problem

from .calendar import add_working_days
from .choices import NotificationKind
from .models import Notification
from .notify import notification_list, notify_many, office_user_ids

# The states in which the handler still has to act.
HANDLER_STATES = (ProblemStatus.ASSIGNED, ProblemStatus.RECTIFYING)


@transaction.atomic
def reminders_send(*, today: datetime.date | None = None) -> dict:
    """Remind handlers one working day before the deadline, on the day, and N days overdue;
    escalate long-overdue problems to the office. Each reminder is sent once, however often this
    runs (a notification's key is unique per user). Written and pushed by accountability.notify."""
    today = today or timezone.localdate()
    tomorrow = add_working_days(today, 1)
    overdue_days = settings.REMINDER_OVERDUE_DAYS
    escalate_days = settings.REMINDER_ESCALATE_DAYS
    open_ = Problem.objects.filter(
        status__in=HANDLER_STATES, shelved=False, handler__isnull=False, deadline__isnull=False
    )
    plans: list[tuple[Problem, str, str, str]] = []  # (problem, audience, kind, message)
    for problem in open_.filter(deadline=tomorrow).only("pk", "handler_id", "deadline", "description", "campaign_id"):
        plans.append(
            (
                problem,
                "handler",
                "due_soon",
                f"问题 #{problem.pk} 将于 {problem.deadline:%m月%d日} 到期：{problem.description[:40]}",
            )
        )
    for problem in open_.filter(deadline=today).only("pk", "handler_id", "deadline", "description", "campaign_id"):
        plans.append((problem, "handler", "due_today", f"问题 #{problem.pk} 今天到期：{problem.description[:40]}"))
    for problem in open_.filter(deadline__lte=today - datetime.timedelta(days=overdue_days)).only(
        "pk", "handler_id", "deadline", "description", "campaign_id"
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
        .only("pk", "handler__name", "deadline", "description", "campaign_id")
    ):
        plans.append(
            (
                problem,
                "office",
                "escalate",
                f"问题 #{problem.pk} 超期 {(today - problem.deadline).days} 天未整改（{problem.handler.name}）：{problem.description[:40]}",
            )
        )

    kinds = {
        "due_soon": NotificationKind.REMINDER,
        "due_today": NotificationKind.REMINDER,
        "overdue": NotificationKind.OVERDUE,
        "escalate": NotificationKind.ESCALATED,
    }
    office = office_user_ids() if any(audience == "office" for _p, audience, _k, _m in plans) else []
    sent = notify_many(
        [
            {
                "units": [problem.handler_id] if audience == "handler" else None,
                "users": office if audience == "office" else None,
                "kind": kinds[kind],
                "message": message,
                "problem": problem.pk,
                "campaign": problem.campaign_id,
                "key": f"{kind}:{problem.pk}:{problem.deadline.isoformat()}",
            }
            for problem, audience, kind, message in plans
        ]
    )
    return {
        "sent": sent,
        "due_soon": sum(1 for p in plans if p[2] == "due_soon"),
        "due_today": sum(1 for p in plans if p[2] == "due_today"),
        "overdue": sum(1 for p in plans if p[2] == "overdue"),
        "escalated": sum(1 for p in plans if p[2] == "escalate"),
    }


def notification_mark_read(*, user, ids=None) -> int:
    """Mark the user's own notifications read: those of `ids`, else all those the list and the
    badge count (the current campaign's and those of none — another campaign's stay unread)."""
    if ids is not None:
        queryset = Notification.objects.filter(user=user, pk__in=ids)
    else:
        queryset = notification_list(user=user)
    return queryset.filter(read_at__isnull=True).update(read_at=timezone.now())
