"""Reminders: before the deadline, on the day, overdue, escalated — each sent once."""

import datetime

from django.utils import timezone

from accountability.calendar import add_working_days, calendar_seed
from accountability.choices import Action as A
from accountability.models import Notification
from accountability.services import notification_mark_read, reminders_send
from accountability.tasks import reminders_send_task
from campaign.models import JobRun
from inspections.models import Problem
from tests.accountability.test_workflow import act


def assign(problem, office, city, deadline):
    problem = act(
        office, problem, A.ASSIGN, handler=city.street_jia, deadline=timezone.localdate() + datetime.timedelta(days=30)
    )
    Problem.objects.filter(pk=problem.pk).update(deadline=deadline)  # as if assigned long ago
    return problem


def messages(user):
    """The user's reminders (the assignment's own notification, keyed on its event, left out)."""
    return sorted(
        Notification.objects.filter(user=user).exclude(key__startswith="event:").values_list("key", flat=True)
    )


def test_one_working_day_before_and_on_the_day(problem, office, city, liaison_jia, liaison_yi):
    calendar_seed()
    today = timezone.localdate()
    assign(problem, office, city, add_working_days(today, 1))
    assert reminders_send(today=today)["due_soon"] == 1
    assert [k.split(":")[0] for k in messages(liaison_jia)] == ["due_soon"]
    assert messages(liaison_yi) == []
    Problem.objects.filter(pk=problem.pk).update(deadline=today)
    reminders_send(today=today)
    assert [k.split(":")[0] for k in messages(liaison_jia)] == ["due_soon", "due_today"]


def test_each_reminder_is_sent_once(problem, office, city, liaison_jia):
    today = timezone.localdate()
    assign(problem, office, city, today - datetime.timedelta(days=10))
    first = reminders_send(today=today)
    again = reminders_send(today=today)
    assert (first["sent"], again["sent"]) == (2, 0)  # the liaison (overdue) and the office (escalated)
    assert [k.split(":")[0] for k in messages(liaison_jia)] == ["overdue"]
    assert [k.split(":")[0] for k in messages(office)] == ["escalate"]


def test_shelved_and_closed_problems_are_quiet(problem, office, city, liaison_jia):
    today = timezone.localdate()
    assign(problem, office, city, today)
    Problem.objects.filter(pk=problem.pk).update(shelved=True)
    assert reminders_send(today=today)["sent"] == 0


def test_the_task_records_its_run(problem, office, city, liaison_jia):
    assign(problem, office, city, timezone.localdate())
    result = reminders_send_task.delay().get()
    run = JobRun.objects.get(name="reminders_send")
    assert (run.status, run.result["sent"], result["due_today"]) == ("succeeded", 1, 1)


def test_mark_read(problem, office, city, liaison_jia):
    assign(problem, office, city, timezone.localdate())
    reminders_send()
    assert notification_mark_read(user=liaison_jia) == 2  # the assignment and the reminder
    assert not Notification.objects.filter(user=liaison_jia, read_at__isnull=True).exists()
