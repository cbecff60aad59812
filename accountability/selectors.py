"""Reads of the weekly roll-up: which version of a week is the one to show, and its rows."""

from __future__ import annotations

from django.db.models import F, QuerySet

from .choices import VersionStatus
from .models import RollupVersion, UnitWeekScore


def week_versions(*, campaign, week: str) -> QuerySet[RollupVersion]:
    """Every version of a week, newest first."""
    return RollupVersion.objects.filter(campaign=campaign, week=week).order_by("-number")


def published_version(*, campaign, week: str) -> RollupVersion | None:
    return RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.PUBLISHED).first()


def draft_version(*, campaign, week: str) -> RollupVersion | None:
    return RollupVersion.objects.filter(campaign=campaign, week=week, status=VersionStatus.DRAFT).first()


def shown_version(*, campaign, week: str, office: bool = False) -> RollupVersion | None:
    """What a page shows for a week: the published version; the office also sees a draft of a
    week that was never published."""
    published = published_version(campaign=campaign, week=week)
    if published or not office:
        return published
    return draft_version(campaign=campaign, week=week)


def published_versions(*, campaign, limit: int | None = None) -> QuerySet[RollupVersion]:
    """Published weeks, newest first (`limit` of them when given)."""
    queryset = RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED).order_by("-week_start")
    return queryset[:limit] if limit else queryset


def latest_published(*, campaign) -> RollupVersion | None:
    return published_versions(campaign=campaign).first()


def ranking_rows(*, version: RollupVersion, population: str) -> QuerySet[UnitWeekScore]:
    """A population's rows of a version: ranked first by rank, then 样本不足 by name."""
    return (
        UnitWeekScore.objects.filter(rollup=version, population=population)
        .select_related("unit")
        .order_by(F("rank").asc(nulls_last=True), F("composite").desc(nulls_last=True), "unit__path")
    )


def city_row(*, version: RollupVersion) -> UnitWeekScore | None:
    return UnitWeekScore.objects.filter(rollup=version, unit__isnull=True).first()


# --- The weekly bulletin (周通报) ----------------------------------------------------------------


def bulletin_version(*, campaign_id: int, week: str) -> RollupVersion | None:
    """The published version of a week with its campaign joined, or None (draft, superseded or unknown)."""
    return (
        RollupVersion.objects.select_related("campaign", "published_by")
        .filter(campaign_id=campaign_id, week=week, status=VersionStatus.PUBLISHED)
        .first()
    )


def bulletin_versions() -> QuerySet[RollupVersion]:
    """Every published week of every campaign, newest first, with the citywide score rate and
    problem count beside each (one query)."""
    from django.db.models import OuterRef, Subquery

    city = UnitWeekScore.objects.filter(rollup=OuterRef("pk"), unit__isnull=True)
    return (
        RollupVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("campaign")
        .annotate(
            city_score_rate=Subquery(city.values("score_rate")[:1]),
            city_problems_opened=Subquery(city.values("problems_opened")[:1]),
            city_overdue_open=Subquery(city.values("overdue_open")[:1]),
        )
        .order_by("-campaign__active", "campaign__name", "campaign_id", "-week_start")
    )
