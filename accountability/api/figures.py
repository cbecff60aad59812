"""Read-only figures for other screens (issue 13, item 9): what the 领导驾驶舱 shows, and one unit's
12-week trend as its ranking page shows it.

Nothing is computed here: both read through the page's own selectors (`accountability.dashboard`:
`_published`, `_trend`, `_ranking`, `forecast`, `top_losing_indicators`, `overdue_count`,
`campaign_veto_events`; `accountability.selectors.unit_trend`), so the API and the page cannot
disagree, and the dashboard answers in no more queries than the page.

Who reads what mirrors the pages: the dashboard is the office's and the leaders' (`/dashboard/`
refuses inspectors and liaisons with 403); a unit's trend is anyone's whose scope covers the unit
(office, leaders and inspectors every unit; a liaison its own subtree — elsewhere 404, as the unit
page answers)."""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import BIGINT, check_query_params
from campaign.models import Unit
from campaign.selectors import campaign_days_left, campaign_phase_on, scope_for
from inspections.selectors import iso_week_bounds, week_label

from .. import dashboard
from ..choices import BoardList
from ..models import RollupVersion
from ..selectors import unit_trend
from .rankings import _campaign


def _number(value) -> float | None:
    return None if value is None else float(value)


def _week(request) -> str | None:
    """The `week` query parameter, checked (ISO week, e.g. 2026-W47), or None."""
    week = request.query_params.get("week")
    if not week:
        return None
    try:
        iso_week_bounds(week)
    except ValueError as exc:
        raise exceptions.ValidationError({"week": [str(exc)]}) from None
    return week


# --- Response shapes (documented for clients and the schema fuzzer) -----------------------------------


class PhaseOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField(help_text="阶段名称，如 集中整治")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    note = serializers.CharField()


class TrendPointSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO 周，如 2026-W47")
    label = serializers.CharField(help_text="如 第47周")
    span = serializers.CharField(help_text="如 11月16日–11月22日")
    rate = serializers.FloatField(allow_null=True, help_text="全市得分率（%，一位小数）；无观测时为空")
    observations = serializers.IntegerField()


class RankedUnitSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(allow_null=True, help_text="正数为上升")
    score_rate = serializers.FloatField(allow_null=True, help_text="得分率（0–1）")
    composite = serializers.FloatField(allow_null=True, help_text="综合分")
    vetoed = serializers.BooleanField(help_text="一票否决")
    list = serializers.ChoiceField(choices=BoardList.choices, allow_null=True, help_text="红黑榜：red / black / 空")


class BoardSerializer(serializers.Serializer):
    population = serializers.CharField()
    population_label = serializers.CharField()
    red = RankedUnitSerializer(many=True)
    black = RankedUnitSerializer(many=True)
    red_total = serializers.IntegerField(help_text="红榜总人数（列出的最多 20 个）")
    black_total = serializers.IntegerField(help_text="黑榜总人数（列出的最多 20 个）")


class LossSerializer(serializers.Serializer):
    indicator = serializers.IntegerField()
    label = serializers.CharField(help_text="编号与名称，测评标准前加上级编号")
    lost = serializers.FloatField(help_text="失分（扣分合计）")
    failing = serializers.IntegerField()
    observations = serializers.IntegerField()


class VetoEventOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    title = serializers.CharField()
    occurred_on = serializers.DateField()


class ForecastPartSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="declaration / field / survey")
    label = serializers.CharField()
    share = serializers.IntegerField(help_text="满分中的占比（分）")
    rate = serializers.FloatField(allow_null=True, help_text="0–1；无数据时为空")
    points = serializers.FloatField(allow_null=True)
    note = serializers.CharField()


class ForecastSerializer(serializers.Serializer):
    total = serializers.FloatField(allow_null=True, help_text="预计测评得分（满分 100）；缺任一部分时为空")
    known_points = serializers.FloatField()
    known_share = serializers.IntegerField()
    missing = serializers.ListField(child=serializers.CharField())
    title = serializers.ChoiceField(choices=[("no", "一票否决：不能获得称号"), ("by_score", "取决于得分")])
    title_text = serializers.CharField()
    parts = ForecastPartSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    campaign_name = serializers.CharField()
    days_left = serializers.IntegerField(help_text="距测评日的天数（倒计时）；已过为负数")
    phase = PhaseOutSerializer(allow_null=True)
    week = serializers.CharField(allow_null=True, help_text="所示的已发布周（ISO 周）；尚无发布时为空")
    week_label = serializers.CharField()
    trend = TrendPointSerializer(many=True, help_text="最近 12 个已发布周的全市得分率，从早到晚")
    districts = RankedUnitSerializer(many=True, help_text="该周区县排名")
    boards = BoardSerializer(many=True, help_text="该周各类别的红黑榜")
    losses = LossSerializer(many=True, help_text="近四周失分最多的测评标准（前 10）")
    loss_since = serializers.DateField()
    overdue = serializers.IntegerField(help_text="超期未整改的问题数")
    veto_events = VetoEventOutSerializer(many=True, help_text="未解决的一票否决事项")
    forecast = ForecastSerializer()


class UnitTrendPointSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO 周，如 2026-W47")
    week_label = serializers.CharField(help_text="如 第47周（11月16日–11月22日）")
    score_rate = serializers.FloatField(allow_null=True, help_text="得分率（0–1）")
    composite = serializers.FloatField(allow_null=True, help_text="综合分")
    rank = serializers.IntegerField(allow_null=True)
    list = serializers.ChoiceField(choices=BoardList.choices, allow_null=True, help_text="红黑榜：red / black / 空")
    vetoed = serializers.BooleanField()


class UnitTrendSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    campaign = serializers.IntegerField()
    weeks = UnitTrendPointSerializer(many=True, help_text="最近若干个已发布周，从早到晚")


def _ranked(row) -> dict:
    return {
        "unit": row.unit_id,
        "unit_name": row.unit.name,
        "rank": row.rank,
        "rank_change": row.rank_change,
        "score_rate": _number(row.score_rate),
        "composite": _number(row.composite),
        "vetoed": row.vetoed,
        "list": row.board or None,
    }


# --- The dashboard ------------------------------------------------------------------------------------


class DashboardView(APIView):
    """The 领导驾驶舱's figures (office and leaders; others 403): countdown and phase, the citywide
    score-rate trend of the last 12 published weeks, the week's district ranking and 红黑榜, the
    测评标准 losing most points over the last four weeks, the overdue count, the open 一票否决
    events and the score forecast. `campaign`: default the current one. `week`: a published ISO
    week read as the latest (trend, ranking, boards and the forecast's field part end there);
    default the latest published week. The countdown, phase, losses, overdue count and veto events
    are as of today."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, description="创建活动；默认当前创建活动"),
            OpenApiParameter("week", str, description="已发布的 ISO 周，如 2026-W47；默认最近发布的周"),
        ],
        responses=DashboardSerializer,
    )
    def get(self, request):
        check_query_params(request, {"campaign", "week"})
        scope = scope_for(request.user)
        if not dashboard._can_see_dashboard(scope):
            raise exceptions.PermissionDenied("领导驾驶舱仅对领导和创建办开放。")
        campaign = _campaign(request)
        week = _week(request)
        if week is None:
            versions = dashboard._published(campaign, dashboard.TREND_WEEKS)
        else:
            start = datetime.date.fromisocalendar(int(week[:4]), int(week[-2:]), 1)
            versions = list(
                RollupVersion.objects.filter(campaign=campaign, status="published", week_start__lte=start).order_by(
                    "-week_start"
                )[: dashboard.TREND_WEEKS]
            )
            if not versions or versions[0].week != week:
                raise exceptions.NotFound(f"{week_label(week)}的周评比尚未发布。")
        vetoes = dashboard.campaign_veto_events(campaign)
        since = dashboard.loss_window_start()
        losses = dashboard.top_losing_indicators(campaign=campaign, since=since)
        result = dashboard.forecast(campaign=campaign, versions=versions, vetoes=vetoes)
        phase = campaign_phase_on(campaign=campaign)
        data = {
            "campaign": campaign.pk,
            "campaign_name": campaign.name,
            "days_left": campaign_days_left(campaign=campaign),
            "phase": {
                "kind": phase.kind,
                "label": phase.get_kind_display(),
                "start_date": phase.start_date,
                "end_date": phase.end_date,
                "note": phase.note,
            }
            if phase
            else None,
            **dashboard.ranking_figures(versions, ranked=_ranked),
            "losses": [
                {
                    "indicator": row["indicator"],
                    "label": row["label"],
                    "lost": float(row["lost"]),
                    "failing": row["failing"],
                    "observations": row["observations"],
                }
                for row in losses
            ],
            "loss_since": since,
            "overdue": dashboard.overdue_count(campaign),
            "veto_events": [
                {
                    "id": event.pk,
                    "unit": event.unit_id,
                    "unit_name": event.unit.name,
                    "title": event.item.title,
                    "occurred_on": event.occurred_on,
                }
                for event in vetoes
            ],
            "forecast": {
                "total": _number(result.total),
                "known_points": float(result.known_points),
                "known_share": result.known_share,
                "missing": result.missing,
                "title": result.title,
                "title_text": result.title_text,
                "parts": [
                    {
                        "key": part.key,
                        "label": part.label,
                        "share": part.share,
                        "rate": _number(part.rate),
                        "points": _number(part.points),
                        "note": part.note,
                    }
                    for part in result.parts
                ],
            },
        }
        return Response(DashboardSerializer(data).data)


# --- A unit's trend -----------------------------------------------------------------------------------

MAX_WEEKS = 52


class UnitTrendView(APIView):
    """One unit's last `weeks` published weeks (default 12, at most 52), oldest first — what its
    ranking page's trend shows: week, label, 得分率, 综合分, rank, 红黑榜. Anyone whose scope
    covers the unit; a unit outside it is 404 (as on the page). `campaign`: default the current one."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, description="创建活动；默认当前创建活动"),
            OpenApiParameter("weeks", int, description="周数，1–52，默认 12"),
        ],
        responses=UnitTrendSerializer,
    )
    def get(self, request, pk: int):
        check_query_params(request, {"campaign", "weeks"})
        weeks = request.query_params.get("weeks", "12")
        if not str(weeks).isdigit() or not 1 <= int(weeks) <= MAX_WEEKS:
            raise exceptions.ValidationError({"weeks": [f"周数应为 1 到 {MAX_WEEKS} 之间的整数。"]})
        unit = get_object_or_404(Unit, pk=pk) if pk <= BIGINT else None
        if unit is None:
            raise exceptions.NotFound("未找到该单位，或您无权查看。")
        scope = scope_for(request.user)
        if not (scope.sees_everything or scope.covers(unit)):
            raise exceptions.NotFound("未找到该单位，或您无权查看。")
        campaign = _campaign(request)
        rows = unit_trend(unit=unit, campaign=campaign, weeks=int(weeks))
        data = {
            "unit": unit.pk,
            "unit_name": unit.name,
            "campaign": campaign.pk,
            "weeks": [
                {
                    "week": row.rollup.week,
                    "week_label": week_label(row.rollup.week),
                    "score_rate": _number(row.score_rate),
                    "composite": _number(row.composite),
                    "rank": row.rank,
                    "list": row.board or None,
                    "vetoed": row.vetoed,
                }
                for row in rows
            ],
        }
        return Response(UnitTrendSerializer(data).data)
