"""The leaders' dashboard (/dashboard/) and the leader widgets on the home page.

Everything here is read in SQL with a fixed number of queries whatever the number of units,
observations or weeks: the published weekly roll-ups (trend, ranking, 红黑榜), one aggregate over
the observations (the indicators losing most points), one count of overdue problems, the open
一票否决 events, and the evaluation score forecast.

The forecast (预计测评得分, out of 100) is the campaign's three method shares applied to the best
evidence there is for each, and says so when there is none — it never fills a gap with a guess:

    网上申报  share_declaration × the approved share, by weight, of the indicators scored from
              declaration materials (网上申报 / 材料审核), as the completeness board computes it;
    实地考察  share_field × the field score rate of the last 4 published weeks: the current
              observations of those weeks grouped by 测评项目 (the indicator's top level), the
              mean score per 测评项目 weighted by its 分值 (effective_weight) and normalised over
              the 测评项目 observed;
    问卷调查  share_survey × the mean over districts of each district's latest 满意率.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaign import weeks as week_text
from campaign.models import Campaign
from campaign.selectors import campaign_current, campaign_days_left, campaign_phase_on, scope_for
from indicators.models import Indicator
from indicators.selectors import completeness_by_project, open_veto_events, system_current
from inspections.choices import Result
from inspections.models import Observation, Problem
from inspections.selectors import overdue_q

from .choices import RANKED_POPULATIONS, BoardList, Population, VersionStatus
from .models import RollupVersion, SurveyResult, UnitWeekScore
from .survey_views import selected_campaign
from .surveys import plain

TREND_WEEKS = 12
FORECAST_WEEKS = 4
LOSS_WEEKS = 4
TOP_LOSSES = 10
HOME_LOSSES = 5
HUNDRED = Decimal(100)


def short_week(week: str) -> str:
    """'2026-W47' → '第47周' (campaign/weeks.py: the year before a week of another year)."""
    return week_text.week_short(week)


def week_span(version: RollupVersion) -> str:
    return week_text.week_span(version.week_start)


def _week_window(version: RollupVersion) -> Q:
    """Observations of a roll-up's week: [Monday 00:00, next Monday 00:00) in the city's time."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(version.week_start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(version.week_end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return Q(observed_at__gte=start, observed_at__lt=end)


# ---------------------------------------------------------------- forecast


@dataclass
class ForecastPart:
    """One method's part of the forecast: `rate` in 0–1, None with `note` saying why."""

    key: str
    label: str
    share: int
    rate: Decimal | None
    note: str
    detail: list[dict] = field(default_factory=list)

    @property
    def points(self) -> Decimal | None:
        return None if self.rate is None else Decimal(self.share) * self.rate

    @property
    def percent(self) -> Decimal | None:
        return None if self.rate is None else self.rate * HUNDRED


@dataclass
class Forecast:
    parts: list[ForecastPart]
    # The campaign's open 一票否决 events ([{"id", "unit", "title", "occurred_on"}]): any one of
    # them means no title, whatever the score.
    vetoes: list[dict] = field(default_factory=list)

    @property
    def title(self) -> str:
        """What the forecast says of the title: "no" while a veto event is open (a veto outranks
        every score), else "by_score" (the score decides; this forecast does not know the line)."""
        return "no" if self.vetoes else "by_score"

    @property
    def title_text(self) -> str:
        if self.vetoes:
            named = "；".join(
                f"{veto['unit']} · {veto['title']}（{veto['occurred_on']:%Y年%m月%d日}）" for veto in self.vetoes
            )
            return f"一票否决风险：{named}。未解决前，无论得分多少都不能获得称号。"
        return "没有未解决的一票否决事项：称号取决于测评得分。"

    @property
    def total(self) -> Decimal | None:
        """The forecast out of 100, only when every part with a share has a number."""
        if any(part.rate is None and part.share for part in self.parts):
            return None
        return sum((part.points or Decimal(0) for part in self.parts), Decimal(0))

    @property
    def known_points(self) -> Decimal:
        return sum((part.points for part in self.parts if part.points is not None), Decimal(0))

    @property
    def known_share(self) -> int:
        return sum(part.share for part in self.parts if part.rate is not None)

    @property
    def missing(self) -> list[str]:
        return [part.label for part in self.parts if part.rate is None and part.share]

    def part(self, key: str) -> ForecastPart:
        return next(part for part in self.parts if part.key == key)


def _declaration_part(campaign: Campaign) -> ForecastPart:
    share = campaign.share_declaration
    system = system_current(campaign=campaign)
    if system is None:
        note = "暂无数据：本活动还没有测评体系。创建办在“测评体系”中导入任务分解表后显示。"
        return ForecastPart("declaration", "网上申报", share, None, note)
    projects = completeness_by_project(system=system)
    total = sum((row["total_weight"] for row in projects), Decimal(0))
    approved = sum((row["approved_weight"] for row in projects), Decimal(0))
    if not total:
        note = f"暂无数据：“{system.name}”中没有带分值的网上申报或材料审核类指标。"
        return ForecastPart("declaration", "网上申报", share, None, note)
    items = sum(row["items"] for row in projects)
    approved_items = sum(row["approved_items"] for row in projects)
    note = (
        f"“{system.name}”中网上申报、材料审核类指标 {items} 项，已审核通过 {approved_items} 项；"
        f"按分值计通过 {plain(approved)} / {plain(total)}。"
    )
    return ForecastPart("declaration", "网上申报", share, approved / total, note)


def _field_part(campaign: Campaign, versions: list[RollupVersion]) -> ForecastPart:
    share = campaign.share_field
    weeks = versions[:FORECAST_WEEKS]
    if not weeks:
        note = "暂无数据：还没有发布的周评比。创建办在“周评比”页计算并发布后显示。"
        return ForecastPart("field", "实地考察", share, None, note)
    window = Q()
    for version in weeks:
        window |= _week_window(version)
    # Summed per 测评项目 id alone, then the few 测评项目 read in order: grouping by their texts in the
    # same statement sorted the four weeks' observations on disk (city bench: 0.23 s).
    sums = {
        row["indicator__top"]: row
        for row in Observation.objects.filter(window, current=True, appeal_granted=False, campaign=campaign)
        .values("indicator__top")
        .annotate(score_sum=Sum("score"), n=Count("pk"))
        .order_by()
    }
    rows = [
        {
            **sums[top.pk],
            "indicator__top__code": top.code,
            "indicator__top__title": top.title,
            "indicator__top__effective_weight": top.effective_weight,
        }
        for top in Indicator.objects.filter(pk__in=[pk for pk in sums if pk is not None])
        .only("pk", "code", "title", "effective_weight", "path")
        .order_by("path")
    ]
    labels = "、".join(short_week(v.week) for v in reversed(weeks))
    if not rows:
        note = f"暂无数据：最近发布的{labels}没有有效的督查观测。"
        return ForecastPart("field", "实地考察", share, None, note)
    detail = []
    weighted = Decimal(0)
    weights = Decimal(0)
    for row in rows:
        rate = Decimal(row["score_sum"]) / row["n"]
        weight = row["indicator__top__effective_weight"]
        detail.append(
            {
                "code": row["indicator__top__code"],
                "title": row["indicator__top__title"],
                "weight": weight,
                "weight_text": plain(weight) if weight is not None else "未设",
                "observations": row["n"],
                "rate": rate,
                "percent": rate * HUNDRED,
            }
        )
        if weight:
            weighted += weight * rate
            weights += weight
    observations = sum(row["n"] for row in rows)
    if not weights:
        note = f"暂无数据：{labels}观测到的测评项目都没有分值，无法加权。"
        return ForecastPart("field", "实地考察", share, None, note, detail)
    note = (
        f"{labels}共 {observations} 条有效观测，覆盖 {len(rows)} 个测评项目；"
        "各测评项目的平均得分按其分值加权，只在观测到的测评项目间归一。"
    )
    return ForecastPart("field", "实地考察", share, weighted / weights, note, detail)


def _survey_part(campaign: Campaign) -> ForecastPart:
    share = campaign.share_survey
    measured = SurveyResult.objects.filter(campaign=campaign, satisfaction__isnull=False)
    latest_date = measured.filter(unit=OuterRef("unit")).order_by("-date").values("date")[:1]
    summary = measured.filter(date=Subquery(latest_date)).aggregate(total=Sum("satisfaction"), n=Count("pk"))
    if not summary["n"]:
        note = "暂无数据：还没有导入问卷调查结果。创建办在“问卷调查”页导入后显示。"
        return ForecastPart("survey", "问卷调查", share, None, note)
    mean = Decimal(summary["total"]) / summary["n"]
    note = f"{summary['n']} 个区县最近一次调查的满意率平均为 {mean.quantize(Decimal('0.1'))}%。"
    return ForecastPart("survey", "问卷调查", share, mean / HUNDRED, note)


def forecast(
    *, campaign: Campaign, versions: list[RollupVersion] | None = None, vetoes: list | None = None
) -> Forecast:
    """The evaluation score forecast and its three parts (see the module docstring), and the veto
    risk: the campaign's open 一票否决 events, each of which means no title. Four queries, one
    more without `versions` (published roll-ups, newest first), one more without `vetoes` (the
    campaign's open veto events, as `campaign_veto_events` reads them)."""
    if versions is None:
        versions = list(
            RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED).order_by("-week_start")[
                :FORECAST_WEEKS
            ]
        )
    vetoes = [
        {"id": event.pk, "unit": event.unit.name, "title": event.item.title, "occurred_on": event.occurred_on}
        for event in (campaign_veto_events(campaign) if vetoes is None else vetoes)
    ]
    return Forecast(
        [_declaration_part(campaign), _field_part(campaign, versions), _survey_part(campaign)], vetoes=vetoes
    )


# ---------------------------------------------------------------- the other blocks


def loss_window_start(today: datetime.date | None = None) -> datetime.date:
    """Monday of the week LOSS_WEEKS − 1 weeks before this one: this week and the three before."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7 * (LOSS_WEEKS - 1))


def top_losing_indicators(
    *, campaign: Campaign, since: datetime.date | None = None, limit: int = TOP_LOSSES
) -> list[dict]:
    """The indicators (测评标准) whose current observations since `since` lost most points: two
    queries. 失分 is the sum of the deductions; ties go to the larger normalised loss.

    The observations are aggregated per indicator id alone (a hash aggregate over the window's
    rows from the (campaign, observed_at) index), then the few indicators that lost points are
    read with their codes. Grouping by the indicators' texts in the same statement made
    PostgreSQL sort the whole window on disk (city bench: 0.48 s of a 0.75 s leader home)."""
    since = since or loss_window_start()
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_default_timezone())
    totals = {
        row["indicator"]: row
        for row in Observation.objects.filter(
            campaign=campaign, observed_at__gte=start, current=True, appeal_granted=False
        )
        .values("indicator")
        .annotate(
            lost=Sum("deduction"),
            loss=Sum("loss"),
            failing=Count("pk", filter=~Q(result=Result.PASS)),
            observations=Count("pk"),
        )
        .filter(lost__gt=0)
        .order_by()
    }
    indicators = (
        Indicator.objects.filter(pk__in=list(totals))
        .select_related("parent", "top")
        .only("pk", "code", "title", "path", "parent_id", "parent__code", "top_id", "top__code", "top__title")
    )
    ranked = sorted(indicators, key=lambda i: (-totals[i.pk]["lost"], -totals[i.pk]["loss"], i.path))[:limit]
    rows = [
        {
            **totals[indicator.pk],
            "indicator__code": indicator.code,
            "indicator__title": indicator.title,
            "indicator__parent_id": indicator.parent_id,
            "indicator__parent__code": indicator.parent.code if indicator.parent_id else None,
            "indicator__top_id": indicator.top_id,
            "indicator__top__code": indicator.top.code if indicator.top_id else None,
            "indicator__top__title": indicator.top.title if indicator.top_id else None,
        }
        for indicator in ranked
    ]
    problems = reverse("problem-list")
    for row in rows:
        # A 测评标准's code ("2)") repeats under every 测评内容: lead with the parent's ("Ⅲ-12 2)").
        parent = row["indicator__parent__code"] if row["indicator__parent_id"] != row["indicator__top_id"] else ""
        row["label"] = " ".join(part for part in (parent, row["indicator__code"], row["indicator__title"]) if part)
        row["lost_text"] = plain(row["lost"])
        row["url"] = f"{problems}?indicator={row['indicator']}"
    return rows


def overdue_count(campaign: Campaign | None) -> int:
    """The campaign's overdue problems: the count the linked list (`?campaign=…&overdue=true`,
    which reads that campaign's problems) shows."""
    problems = Problem.objects.filter(overdue_q())
    return problems.filter(campaign=campaign).count() if campaign is not None else problems.count()


def campaign_veto_events(campaign: Campaign) -> list:
    return list(open_veto_events(campaign=campaign).order_by("occurred_on", "pk"))


def _trend(versions: list[RollupVersion]) -> dict:
    """The citywide score rate of the published weeks, oldest first (one query)."""
    rows = {
        row.rollup_id: row
        for row in UnitWeekScore.objects.filter(rollup__in=[v.pk for v in versions], unit__isnull=True).only(
            "rollup_id", "score_rate", "composite", "observations", "on_time_rate"
        )
    }
    points = []
    for version in reversed(versions):
        row = rows.get(version.pk)
        rate = row.score_rate if row else None
        points.append(
            {
                "week": version.week,
                "label": short_week(version.week),
                "span": week_span(version),
                "rate": float((rate * HUNDRED).quantize(Decimal("0.1"))) if rate is not None else None,
                "observations": row.observations if row else 0,
            }
        )
    return {"points": points, "has_data": any(p["rate"] is not None for p in points)}


BOARD_NAMES = 20  # names per 红榜 / 黑榜 on the dashboard; the ranking page and the 周通报 list them all


def _ranking(version: RollupVersion | None, *, boards: bool = True) -> tuple[list, list]:
    """The latest week's district ranking, and its 红黑榜 per population (one query): at most
    BOARD_NAMES names a list, with how many the list holds (a line rule can put 1,300 communities
    on one list: the city bench's dashboard built and printed all of them, 0.5 s). The leader
    home shows no 红黑榜 (`boards=False`) and reads the districts only."""
    if version is None:
        return [], []
    rows = UnitWeekScore.objects.filter(rollup=version).exclude(unit__isnull=True).select_related("unit")
    if boards:
        lists = [F("population"), F("board")]
        # The 黑榜 from the bottom up: the vetoed (no rank) first, then the lowest ranked.
        worst_first = Case(
            When(vetoed=True, then=Value(-1_000_000)),
            When(board=BoardList.BLACK, then=Value(0) - F("rank")),
            default=F("rank"),
            output_field=IntegerField(),
        )
        rows = rows.annotate(
            place=Window(RowNumber(), partition_by=lists, order_by=[worst_first.asc(), F("unit__path").asc()]),
            listed=Window(Count("pk"), partition_by=lists),
        ).filter(Q(population=Population.DISTRICT) | (~Q(board="") & Q(place__lte=BOARD_NAMES)))
    else:
        rows = rows.filter(population=Population.DISTRICT)
    rows = list(rows)
    for row in rows:
        row.score_pct = row.score_rate * HUNDRED if row.score_rate is not None else None
    districts = sorted(
        (r for r in rows if r.population == Population.DISTRICT),
        # Ranked first, then the vetoed (一票否决: at the bottom of the ranking), then 样本不足.
        key=lambda r: (r.rank is None, not r.vetoed, r.rank or 0, -(r.composite or 0), r.unit.path),
    )
    lists_ = []
    for population in RANKED_POPULATIONS if boards else []:
        red = sorted(
            (r for r in rows if r.population == population and r.board == BoardList.RED), key=lambda r: r.place
        )
        black = sorted(
            (r for r in rows if r.population == population and r.board == BoardList.BLACK), key=lambda r: r.place
        )
        if red or black:
            lists_.append(
                {
                    "population": Population(population).label,
                    "population_key": population,
                    "red": red,
                    "black": black,
                    "red_total": red[0].listed if red else 0,
                    "black_total": black[0].listed if black else 0,
                }
            )
    return districts, lists_


def ranking_figures(versions: list[RollupVersion], *, ranked, board_names: int | None = None) -> dict:
    """The week, trend, district ranking and 红黑榜 of the newest of `versions` (newest first), as
    the 驾驶舱's figures API and the 大屏 answer them: `ranked(row)` shapes one ranking row;
    `board_names` cuts each list (its total stays)."""
    latest = versions[0] if versions else None
    districts, boards = _ranking(latest)
    return {
        "week": latest.week if latest else None,
        "week_label": f"{short_week(latest.week)}（{week_span(latest)}）" if latest else "",
        "trend": _trend(versions)["points"],
        "districts": [ranked(row) for row in districts],
        "boards": [
            {
                "population": board["population_key"],
                "population_label": board["population"],
                "red": [ranked(row) for row in board["red"][:board_names]],
                "black": [ranked(row) for row in board["black"][:board_names]],
                "red_total": board["red_total"],
                "black_total": board["black_total"],
            }
            for board in boards
        ],
    }


def _published(campaign: Campaign | None, limit: int) -> list[RollupVersion]:
    if campaign is None:
        return []
    return list(
        RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED).order_by("-week_start")[:limit]
    )


def _loss_context(campaign: Campaign | None, limit: int) -> dict:
    since = loss_window_start()
    return {
        "losses": top_losing_indicators(campaign=campaign, since=since, limit=limit) if campaign else [],
        "loss_since": since,
    }


def _risk_context(campaign: Campaign | None, vetoes: list | None = None) -> dict:
    return {
        "overdue": overdue_count(campaign),
        "overdue_url": f"{reverse('problem-list')}?campaign={campaign.pk}&overdue=true"
        if campaign
        else f"{reverse('problem-list')}?overdue=true",
        "vetoes": vetoes if vetoes is not None else campaign_veto_events(campaign) if campaign else [],
    }


def _can_see_dashboard(scope) -> bool:
    return scope.is_office or scope.is_leader


@login_required
def dashboard_view(request):
    """The leaders' dashboard: office and leaders only."""
    scope = scope_for(request.user)
    if not _can_see_dashboard(scope):
        raise PermissionDenied("领导驾驶舱仅对领导和创建办开放。")
    campaign, campaigns = selected_campaign(request)
    versions = _published(campaign, TREND_WEEKS)
    latest = versions[0] if versions else None
    districts, boards = _ranking(latest)
    vetoes = campaign_veto_events(campaign) if campaign else []
    context = {
        "title": "领导驾驶舱",
        "campaign": campaign,
        "campaigns": campaigns,
        "phase": campaign_phase_on(campaign=campaign) if campaign else None,
        "days_left": campaign_days_left(campaign=campaign) if campaign else None,
        "latest": latest,
        "latest_label": f"{short_week(latest.week)}（{week_span(latest)}）" if latest else "",
        "trend": _trend(versions),
        "districts": districts,
        "boards": boards,
        "forecast": forecast(campaign=campaign, versions=versions, vetoes=vetoes) if campaign else None,
        "forecast_weeks": FORECAST_WEEKS,
        "is_office": scope.is_office,
        **_loss_context(campaign, TOP_LOSSES),
        **_risk_context(campaign, vetoes),
    }
    return render(request, "accountability/dashboard.html", context)


def home_widgets(request) -> dict[str, str]:
    """The leader home's slots: leader_trend, leader_losses, leader_risks. The office's home has
    its own ranking widget, so it gets none of these (and pays no queries for them)."""
    scope = scope_for(request.user)
    if not scope.is_leader or scope.is_office:
        return {}
    campaign = campaign_current()
    versions = _published(campaign, TREND_WEEKS)
    latest = versions[0] if versions else None
    districts, _boards = _ranking(latest, boards=False)
    base = {"campaign": campaign}
    return {
        "leader_trend": render_to_string(
            "accountability/_widget_leader_trend.html",
            {
                **base,
                "latest": latest,
                "latest_label": f"{short_week(latest.week)}（{week_span(latest)}）" if latest else "",
                "trend": _trend(versions),
                "districts": districts,
            },
            request=request,
        ),
        "leader_losses": render_to_string(
            "accountability/_widget_leader_losses.html",
            {**base, **_loss_context(campaign, HOME_LOSSES)},
            request=request,
        ),
        "leader_risks": render_to_string(
            "accountability/_widget_leader_risks.html", {**base, **_risk_context(campaign)}, request=request
        ),
    }
