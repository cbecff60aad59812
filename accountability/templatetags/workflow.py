"""`{% problem_workflow problem request %}`: the rectification panel of a problem's page.

The inspections app's template loads this library by name, so inspections never imports
accountability in Python: the code dependency stays one-way."""

from __future__ import annotations

from django import template
from django.utils import timezone

from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.selectors import problem_sightings
from inspections.triage import can_read_reports

from ..calendar import working_days_between
from ..choices import Action as A
from ..models import ProblemEvent
from ..workflow import WORKING, allowed_actions, can_comment, default_deadline, default_handler

register = template.Library()

NEEDS_NOTE = {
    A.REJECT,
    A.VOID,
    A.SHELVE,
    A.REFUSE_REASSIGN,
    A.DENY_EXTENSION,
    A.REQUEST_REASSIGN,
    A.REQUEST_EXTENSION,
    A.SUBMIT,
}
# Optional notes: the office's closing note is the reply owed to the reports behind the problem.
MAY_NOTE = {A.APPROVE}
NEEDS_DATE = {
    A.REQUEST_EXTENSION: "延期到",
    A.GRANT_EXTENSION: "新的期限",
    A.SHELVE: "计划完成日期",
    A.ASSIGN: "整改期限",
}
DANGER = {A.REJECT, A.VOID, A.REFUSE_REASSIGN, A.DENY_EXTENSION}


@register.inclusion_tag("accountability/_problem_workflow.html")
def problem_workflow(problem, request):
    user = request.user
    today = timezone.localdate()
    events = list(
        ProblemEvent.objects.filter(problem=problem).select_related("actor", "unit").prefetch_related("photos")
    )
    submits = [e for e in events if e.action == A.SUBMIT]
    # The history: the loop's events and every sighting (a later failure of the same item at the
    # same point while open), merged by time; a sighting names its inspector and, where the user
    # may open it, links its inspection.
    sightings = problem_sightings(user=user, problem=problem) if problem.pk else []
    for event in events:
        event.entry = "event"
    for observation in sightings:
        observation.entry, observation.at = "sighting", observation.inspection.submitted_at
    # The public's reports accepted as or merged into this problem: sightings too (one query).
    reports = list(problem.reports.only("pk", "reference", "channel", "status", "submitted_at")) if problem.pk else []
    readable = can_read_reports(user)
    for report in reports:
        report.entry, report.at, report.readable = "report", report.submitted_at, readable
    timeline = sorted([*events, *sightings, *reports], key=lambda entry: entry.at)
    actions = allowed_actions(user, problem) if not scope_for(user).read_only else []
    units = None
    if {A.ASSIGN, A.REASSIGN} & set(actions):
        units = list(Unit.objects.filter(active=True).order_by("path").only("pk", "name", "depth"))
    forms = []
    for action in actions:
        form = {
            "action": action,
            "label": A(action).label,
            "note": action in NEEDS_NOTE or action in MAY_NOTE,
            "note_required": action in NEEDS_NOTE,
            "note_hint": "填写的说明将作为办理回复，告知反映问题的市民和12345热线。"
            if action == A.APPROVE and reports
            else "",
            "date_label": NEEDS_DATE.get(action),
            "date": None,
            "handler": action in (A.ASSIGN, A.REASSIGN),
            "co_handlers": action in (A.ASSIGN, A.REASSIGN),
            "photos": action == A.SUBMIT,
            "danger": action in DANGER,
        }
        if action == A.ASSIGN:
            form["handler_default"] = getattr(default_handler(problem), "pk", None)
            form["date"] = default_deadline(problem)
        elif action == A.REASSIGN:
            form["handler_default"] = problem.handler_id
        elif action == A.GRANT_EXTENSION:
            form["date"] = problem.requested_deadline
        forms.append(form)
    return {
        "problem": problem,
        "request": request,
        "events": events,
        "timeline": timeline,
        "before": list(problem.photos.all()),
        "after": list(submits[-1].photos.all()) if submits else [],
        "report": submits[-1] if submits else None,
        "co_handlers": list(problem.co_handlers.all()) if problem.pk else [],
        "overdue": bool(problem.deadline and problem.status in WORKING and problem.deadline < today),
        "forms": forms,
        # Every reader with a working role comments, below the history (not a transition).
        "can_comment": bool(problem.pk) and can_comment(user),
        "units": units,
        "actions": dict(A.choices),
    }


@register.filter
def action_label(value: str) -> str:
    try:
        return A(value).label
    except ValueError:
        return value


@register.simple_tag
def working_days_late(problem) -> int:
    """Working days past the deadline: until today for an open problem, until the day it was closed
    for a closed one; 0 when not late. One calendar query (the page's, not a list's)."""
    if not problem.deadline:
        return 0
    end = timezone.localtime(problem.closed_at).date() if problem.closed_at else timezone.localdate()
    if end <= problem.deadline:
        return 0
    return working_days_between(problem.deadline, end)
