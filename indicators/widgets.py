"""Home-page widgets of the 测评体系 (settings.CAMPAIGN_HOME_WIDGETS): a liaison's 任务单 summary
and, for the office and leaders, the declaration completeness per 测评项目."""

from __future__ import annotations

from django.template.loader import render_to_string

from campaign.selectors import scope_for

from .selectors import completeness_by_project
from .views import decorate_task_rows, latest_system, percent, task_rows, task_summary

TASK_ROWS_SHOWN = 5
PROJECTS_SHOWN = 8


def home_widgets(request) -> dict[str, str]:
    scope = scope_for(request.user)
    widgets: dict[str, str] = {}
    if not (scope.is_liaison or scope.is_office or scope.is_leader):
        return widgets
    system = latest_system()
    if scope.is_liaison and scope.liaison_units:
        widgets["tasks"] = _tasks(request, system, scope.liaison_units)
    if scope.is_office or scope.is_leader:
        widgets["declaration"] = _declaration(request, system, scope)
    return widgets


def _tasks(request, system, units) -> str:
    unit = units[0]
    context = {"unit": unit, "other_units": units[1:], "system": system, "rows": [], "summary": {}}
    if system is not None:
        rows = task_rows(unit=unit, system=system)
        context["summary"] = task_summary(rows)
        context["rows"] = decorate_task_rows(rows[:TASK_ROWS_SHOWN], user=request.user, unit=unit)
        context["remaining"] = max(context["summary"]["total"] - len(context["rows"]), 0)
    return render_to_string("indicators/widget_tasks.html", context, request=request)


def _declaration(request, system, scope) -> str:
    context = {"system": system, "projects": [], "is_office": scope.is_office}
    if system is not None:
        projects = completeness_by_project(system=system)
        for row in projects:
            row["pct"] = percent(row["rate"])
        total = sum((row["total_weight"] for row in projects), 0)
        approved = sum((row["approved_weight"] for row in projects), 0)
        context.update(
            projects=projects[:PROJECTS_SHOWN],
            more=max(len(projects) - PROJECTS_SHOWN, 0),
            overall_pct=percent(approved / total) if total else None,
            returned=sum(row["returned_items"] for row in projects),
        )
    return render_to_string("indicators/widget_declaration.html", context, request=request)
