"""Reads of the weekly roll-up: which version of a week is the one to show, and its rows."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet, Sum

from campaign.selectors import scope_for
from inspections.choices import Result
from inspections.selectors import iso_week_bounds, observation_list, week_label

from .choices import VersionStatus
from .models import AccountabilityCase, RollupVersion, UnitWeekScore


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
    """A population's rows of a version: ranked first by rank, then the vetoed (一票否决, at the
    bottom of the ranking), then 样本不足 by name."""
    return (
        UnitWeekScore.objects.filter(rollup=version, population=population)
        .select_related("unit")
        .order_by(
            F("rank").asc(nulls_last=True), F("vetoed").desc(), F("composite").desc(nulls_last=True), "unit__path"
        )
    )


def city_row(*, version: RollupVersion) -> UnitWeekScore | None:
    return UnitWeekScore.objects.filter(rollup=version, unit__isnull=True).first()


def case_list(user) -> QuerySet[AccountabilityCase]:
    """Cases the user may read: office and leaders all, a liaison its units' (and below)."""
    scope = scope_for(user)
    cases = AccountabilityCase.objects.select_related("unit")
    if scope.is_office or scope.is_leader:
        return cases
    if scope.is_liaison:
        return cases.filter(scope.unit_q("unit__"))
    return cases.none()


def week_choices(*, campaign, office: bool) -> list[tuple[str, str, str]]:
    """(week, label, status) of every computed week the user may open, newest first: for a week
    with both, its published version; the office also sees drafts."""
    versions = RollupVersion.objects.filter(campaign=campaign).exclude(status=VersionStatus.SUPERSEDED)
    if not office:
        versions = versions.filter(status=VersionStatus.PUBLISHED)
    seen: dict[str, str] = {}
    for week, status in versions.order_by("-week_start", "-number").values_list("week", "status"):
        seen.setdefault(week, status)
        if status == VersionStatus.PUBLISHED:
            seen[week] = status
    return [(week, week_label(week), status) for week, status in seen.items()]


def unit_trend(*, unit, campaign, weeks: int = 12) -> list[UnitWeekScore]:
    """The unit's rows of the last `weeks` published weeks, oldest first."""
    rows = (
        UnitWeekScore.objects.filter(unit=unit, rollup__campaign=campaign, rollup__status=VersionStatus.PUBLISHED)
        .select_related("rollup")
        .order_by("-rollup__week_start")[:weeks]
    )
    return list(rows)[::-1]


def unit_week_losses(*, user, unit, campaign, week: str) -> dict[str, list[dict]]:
    """Where a unit lost points in a week, from the observations charged to it (the ones its
    ranking row counts), within what the user may see: by 测评标准, by point type, and the check
    items failed most. Three aggregate queries."""
    start, end = iso_week_bounds(week)
    observations = (
        observation_list(user=user)
        .filter(charges__unit=unit, campaign=campaign, observed_at__gte=start, observed_at__lt=end)
        .order_by()
    )
    failing = ~Q(result=Result.PASS)
    totals = {"n": Count("pk"), "failing": Count("pk", filter=failing), "points": Sum("deduction")}
    return {
        "by_indicator": list(
            observations.values("indicator", "indicator__code", "indicator__title")
            .annotate(**totals)
            .filter(failing__gt=0)
            .order_by("-points", "indicator__code")[:15]
        ),
        "by_type": list(
            observations.values("point__point_type", "point__point_type__name")
            .annotate(**totals)
            .order_by("-points", "point__point_type__name")
        ),
        "items": list(
            observations.filter(failing)
            .values("check_item", "check_item__text", "check_item__point_type__name")
            .annotate(failing=Count("pk"), points=Sum("deduction"))
            .order_by("-failing", "-points")[:10]
        ),
    }


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
