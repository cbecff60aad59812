"""The 大屏 (command screen) for the 指挥部 wall: one cached payload and its full-screen page.

`screen_payload(campaign=…)` is what both the page (its first paint) and `GET /api/v1/command-screen/`
(every refresh) answer. It is cached per campaign in Django's cache for
`COMMAND_SCREEN_REFRESH_SECONDS` (default 60, from the environment): a wall of screens refreshing
every minute costs one computation a minute, and a warm read costs no query of its own. 0 turns
the cache off.

Nothing is computed twice: the blocks are read through the leaders' dashboard's own selectors
(`accountability.dashboard`: `_published`, `_trend`, `_ranking`, `overdue_count`,
`campaign_veto_events`; `campaign.selectors`: `campaign_phase_on`, `campaign_days_left`), so the
screen and the dashboard cannot disagree. What is new are the live counters, two aggregate
queries bounded to this ISO week (Monday 00:00 to now, the city's time):

- inspections: current inspections of the campaign's rounds submitted this week / today (a
  corrected record counts once, as its correction);
The map panel is the problem map component (`static/js/problem-map.js`, its JSON
`GET /api/v1/problem-map/`) over the problems found in the last `MAP_WEEKS` weeks.

- problems: problems of the campaign found this week / today (voided ones — a corrected record's
  — excluded), and those whose 销号 time falls this week / today (a problem reopened by 复核不属实
  has no 销号 time and is not counted).

A cold computation is a fixed number of queries whatever the size of the city (pinned in
tests/accountability/test_command_screen.py).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from campaign.models import Campaign
from campaign.selectors import campaign_days_left, campaign_phase_on, scope_for
from inspections.choices import ProblemStatus
from inspections.models import Inspection, Problem

from . import dashboard
from .survey_views import selected_campaign

CACHE_PREFIX = "command-screen"
SCREEN_BOARD_NAMES = 6  # names per 红榜 / 黑榜 and population on the wall; the dashboard has 20


def refresh_seconds() -> int:
    return max(0, int(getattr(settings, "COMMAND_SCREEN_REFRESH_SECONDS", 60)))


def cache_key(campaign_id: int) -> str:
    return f"{CACHE_PREFIX}:{campaign_id}"


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def live_counters(*, campaign: Campaign, today: datetime.date | None = None) -> dict:
    """Today's and this ISO week's inspections and problems found / closed: two aggregates, each
    bounded to the week by an indexed time column (submitted_at, found_at, closed_at)."""
    today = today or timezone.localdate()
    week_start = _day_start(today - datetime.timedelta(days=today.weekday()))
    day_start = _day_start(today)
    end = _day_start(today + datetime.timedelta(days=1))
    inspections = Inspection.objects.filter(
        round__campaign=campaign, current=True, submitted_at__gte=week_start, submitted_at__lt=end
    ).aggregate(week=Count("pk"), today=Count("pk", filter=Q(submitted_at__gte=day_start)))
    found_week = Q(found_at__gte=week_start, found_at__lt=end) & ~Q(status=ProblemStatus.VOID)
    closed_week = Q(closed_at__gte=week_start, closed_at__lt=end)
    problems = (
        Problem.objects.filter(campaign=campaign)
        .filter(found_week | closed_week)
        .aggregate(
            found_week=Count("pk", filter=found_week),
            found_today=Count("pk", filter=found_week & Q(found_at__gte=day_start)),
            closed_week=Count("pk", filter=closed_week),
            closed_today=Count("pk", filter=closed_week & Q(closed_at__gte=day_start)),
        )
    )
    return {
        "inspections_today": inspections["today"],
        "inspections_week": inspections["week"],
        "problems_found_today": problems["found_today"],
        "problems_found_week": problems["found_week"],
        "problems_closed_today": problems["closed_today"],
        "problems_closed_week": problems["closed_week"],
    }


def _ranked(row) -> dict:
    return {
        "unit": row.unit_id,
        "unit_name": row.unit.display_name,
        "rank": row.rank,
        "rank_change": row.rank_change,
        "score_rate": float(row.score_rate) * 100 if row.score_rate is not None else None,
        "composite": float(row.composite) if row.composite is not None else None,
        "vetoed": row.vetoed,
        "list": row.board or None,
    }


MAP_WEEKS = 4  # the problem map shows the problems found in this week and the three before


def _problem_map_url() -> str:
    """The problem map layer's JSON (inspections/problem_map.py), read by static/js/problem-map.js."""
    return reverse("inspections-api:problem-map")


def screen_data(*, campaign: Campaign) -> dict:
    """The screen's figures, uncached (see the module docstring): JSON-ready."""
    today = timezone.localdate()
    versions = dashboard._published(campaign, dashboard.TREND_WEEKS)
    phase = campaign_phase_on(campaign=campaign, day=today)
    vetoes = dashboard.campaign_veto_events(campaign)
    return {
        "campaign": campaign.pk,
        "campaign_name": campaign.name,
        "evaluation_date": campaign.evaluation_date.isoformat(),
        "days_left": campaign_days_left(campaign=campaign, day=today),
        "phase": {
            "kind": phase.kind,
            "label": phase.get_kind_display(),
            "start_date": phase.start_date.isoformat(),
            "end_date": phase.end_date.isoformat(),
        }
        if phase
        else None,
        **dashboard.ranking_figures(versions, ranked=_ranked, board_names=SCREEN_BOARD_NAMES),
        "counters": {**live_counters(campaign=campaign, today=today), "overdue": dashboard.overdue_count(campaign)},
        "veto_events": [
            {
                "id": event.pk,
                "unit": event.unit_id,
                "unit_name": event.unit.name,
                "title": event.item.title,
                "occurred_on": event.occurred_on.isoformat(),
            }
            for event in vetoes
        ],
        "problem_map_url": _problem_map_url(),
        "problem_map_since": (today - datetime.timedelta(days=today.weekday() + 7 * (MAP_WEEKS - 1))).isoformat(),
        "today": today.isoformat(),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "refresh_seconds": refresh_seconds(),
    }


def screen_payload(*, campaign: Campaign) -> dict:
    """`screen_data`, cached per campaign for COMMAND_SCREEN_REFRESH_SECONDS (0: not cached)."""
    ttl = refresh_seconds()
    if not ttl:
        return screen_data(campaign=campaign)
    key = cache_key(campaign.pk)
    data = cache.get(key)
    if data is None:
        data = screen_data(campaign=campaign)
        cache.set(key, data, ttl)
    return data


def can_see_screen(scope) -> bool:
    """The 大屏 shows what the 领导驾驶舱 shows: the office's and the leaders'."""
    return dashboard._can_see_dashboard(scope)


@login_required
def command_screen_view(request):
    """The full-screen 1920×1080 page; its data refreshes from the API without reloading."""
    if not can_see_screen(scope_for(request.user)):
        raise PermissionDenied("指挥大屏仅对领导和创建办开放。")
    campaign, _campaigns = selected_campaign(request)
    data = screen_payload(campaign=campaign) if campaign else None
    return render(
        request,
        "accountability/command_screen.html",
        {
            "title": "指挥大屏",
            "campaign": campaign,
            "screen": data,
            "refresh_seconds": refresh_seconds(),
            "api_url": reverse("screen-api:command-screen") + (f"?campaign={campaign.pk}" if campaign else ""),
            "map_options": {
                "tileUrl": getattr(settings, "MAP_TILE_URL", "") or "",
                "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or "",
                "campaign": campaign.pk if campaign else None,
            },
        },
    )
