"""Home-page widgets of the field-inspection app (registered in CAMPAIGN_HOME_WIDGETS).

Slot "inspections" (inspectors): their open rounds and the points still to visit.
Slot "rounds" (office and leaders): this week's rounds and how much of them has been covered.
Both read the current campaign only (`campaign_current()`: the header's choice).
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone

from campaign.selectors import campaign_current, scope_for

from .models import Inspection, InspectionRound, Problem
from .selectors import iso_week_bounds, iso_week_of, round_list, week_label


def _coverage(rounds: list[InspectionRound]) -> None:
    """Set `point_total` and `visited` on each round: two aggregate queries whatever the number of
    rounds or their points (never a row per point: a city round lists 20,000)."""
    ids = [r.pk for r in rounds]
    through = InspectionRound.points.through.objects
    totals = dict(
        through.filter(inspectionround_id__in=ids)
        .values("inspectionround_id")
        .annotate(n=Count("pk"))
        .values_list("inspectionround_id", "n")
    )
    listed = through.filter(inspectionround_id=OuterRef("round_id"), point_id=OuterRef("point_id"))
    visited = dict(
        Inspection.objects.filter(round_id__in=ids, current=True)
        .filter(Exists(listed))
        .values("round_id")
        .annotate(n=Count("point_id", distinct=True))
        .values_list("round_id", "n")
    )
    for round_ in rounds:
        round_.point_total = totals.get(round_.pk, 0)
        round_.visited = visited.get(round_.pk, 0)
        round_.to_visit = round_.point_total - round_.visited
        round_.coverage = round(100 * round_.visited / round_.point_total) if round_.point_total else 0


def home_widgets(request) -> dict[str, str]:
    user = request.user
    scope = scope_for(user)
    widgets: dict[str, str] = {}
    today = timezone.localdate()
    campaign = campaign_current()
    if scope.is_inspector:
        rounds = list(
            round_list(user=user, counts=False, campaign=campaign)
            .filter(start_date__lte=today, end_date__gte=today)
            .order_by("end_date", "id")
        )
        _coverage(rounds)
        widgets["inspections"] = render_to_string(
            "inspections/_widget_inspections.html",
            {"rounds": rounds, "to_visit": sum(r.to_visit for r in rounds)},
            request=request,
        )
    if scope.is_office or scope.is_leader:
        week = iso_week_of(today)
        start, end = iso_week_bounds(week)
        last = (end - datetime.timedelta(days=1)).date()
        rounds = list(
            round_list(user=user, counts=False, campaign=campaign)
            .filter(start_date__lte=last, end_date__gte=start.date())
            .order_by("start_date", "id")
        )
        _coverage(rounds)
        total = sum(r.point_total for r in rounds)
        visited = sum(r.visited for r in rounds)
        widgets["rounds"] = render_to_string(
            "inspections/_widget_rounds.html",
            {
                "rounds": rounds,
                "week_label": week_label(week),
                "week": week,
                "campaign": campaign,
                "total": total,
                "visited": visited,
                "coverage": round(100 * visited / total) if total else 0,
                "problems": Problem.objects.filter(campaign=campaign, found_at__gte=start, found_at__lt=end).count(),
                "can_manage": scope.is_office,
            },
            request=request,
        )
    return widgets
