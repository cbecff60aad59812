"""Home-page widgets of the rectification loop (registered in CAMPAIGN_HOME_WIDGETS).

Slot "problems_office" (office and leaders): 待交办, 待复查 and 超期 counts with links.
Slot "problems_liaison" (liaisons): my open problems with their deadlines, overdue in red, and
apart the open problems charged to its units (本部门被计分: a department's 条 view).
Slot "rankings_office" (office): the latest week's state (draft or published), its district
ranking and the pending accountability cases, with links to compute, publish and print.

Every count reads the current campaign only (`campaign_current()`: the header's choice).
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from campaign.selectors import campaign_current, scope_for
from inspections.choices import ProblemStatus as S
from inspections.selectors import charged_q, is_department_liaison, overdue_q, problem_list, with_deadline_facts

from .views import mine_q
from .workflow import OPEN


def home_widgets(request) -> dict[str, str]:
    user = request.user
    scope = scope_for(user)
    today = timezone.localdate()
    campaign = campaign_current()
    widgets: dict[str, str] = {}
    if scope.is_office or scope.is_leader:
        # Every count is of open problems: only those are read, from the index of open problems
        # alone (status is never null and in the index), not every problem of all history.
        counts = (
            problem_list(user=user, campaign=campaign)
            .exclude(status__in=[S.CLOSED, S.VOID])
            .aggregate(
                new=Count("status", filter=Q(status=S.NEW)),
                reviewing=Count("status", filter=Q(status=S.REVIEWING)),
                overdue=Count("status", filter=overdue_q(today)),
            )
        )
        widgets["problems_office"] = render_to_string(
            "accountability/_widget_office.html", {"counts": counts, "can_act": scope.is_office}, request=request
        )
    if scope.is_office:
        widgets["rankings_office"] = _rankings_office(request, campaign)
    if scope.is_liaison:
        visible = problem_list(user=user, campaign=campaign)
        mine = visible.filter(mine_q(user), status__in=OPEN).order_by("deadline", "id")
        problems = list(with_deadline_facts(mine, today=today)[:8])
        # A department's 条 count: open problems it loses points for, whoever handles them (the
        # list's 本部门被计分 filter, open ones), with its overdue ones in the same aggregate.
        charged = (
            visible.filter(charged_q(user), status__in=OPEN).aggregate(
                total=Count("pk"), overdue=Count("pk", filter=overdue_q(today))
            )
            if is_department_liaison(user)
            else None
        )
        widgets["problems_liaison"] = render_to_string(
            "accountability/_widget_liaison.html",
            {
                "problems": problems,
                "total": mine.count(),  # always counted: the same queries with 3 or 3,000 open problems
                "overdue": mine.filter(overdue_q(today)).count(),
                "charged": charged,
            },
            request=request,
        )
    return widgets


def _rankings_office(request, campaign) -> str:
    from .choices import CaseStatus, Population, VersionStatus
    from .models import AccountabilityCase, RollupVersion
    from .selectors import ranking_rows

    # The week's ranking is the last published one; a draft (the week in progress included) is
    # named apart as waiting, never shown in its place.
    version = (
        RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED).order_by("-week_start").first()
        if campaign
        else None
    )
    waiting = (
        RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.DRAFT, number=1)
        .order_by("-week_start")
        .only("week", "number")
        .first()
        if campaign
        else None
    )
    rows = list(ranking_rows(version=version, population=Population.DISTRICT)[:5]) if version else []
    pending = AccountabilityCase.objects.filter(campaign=campaign, status=CaseStatus.PENDING).count() if campaign else 0
    # Published weeks that a later change recomputed: their new version waits to be checked.
    redrafted = (
        list(
            RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.DRAFT, number__gt=1)
            .order_by("-week_start")
            .values_list("week", flat=True)
        )
        if campaign
        else []
    )
    return render_to_string(
        "accountability/_widget_rankings_office.html",
        {
            "campaign": campaign,
            "version": version,
            "waiting": waiting,
            "rows": rows,
            "pending": pending,
            "redrafted": redrafted,
        },
        request=request,
    )
