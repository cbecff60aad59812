"""`GET /api/v1/command-screen/`: the 大屏's one JSON (issue 16 item 3), cached per campaign for
`COMMAND_SCREEN_REFRESH_SECONDS`. The office and leaders only (others 403), as the page and the
领导驾驶舱. The figures are computed in `accountability.command_screen` (see there)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import check_query_params
from campaign.selectors import scope_for

from .. import command_screen
from ..choices import BoardList
from .rankings import _campaign


class ScreenPhaseSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField(help_text="阶段名称，如 集中整治")
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class ScreenTrendPointSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO 周，如 2026-W47")
    label = serializers.CharField(help_text="如 第47周")
    span = serializers.CharField()
    rate = serializers.FloatField(allow_null=True, help_text="全市得分率（%，一位小数）；无观测时为空")
    observations = serializers.IntegerField()


class ScreenUnitSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField(help_text="简称，无简称时为全称")
    rank = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(allow_null=True, help_text="正数为上升")
    score_rate = serializers.FloatField(allow_null=True, help_text="得分率（%）")
    composite = serializers.FloatField(allow_null=True, help_text="综合分")
    vetoed = serializers.BooleanField(help_text="一票否决")
    list = serializers.ChoiceField(choices=BoardList.choices, allow_null=True, help_text="红黑榜：red / black / 空")


class ScreenBoardSerializer(serializers.Serializer):
    population = serializers.CharField()
    population_label = serializers.CharField()
    red = ScreenUnitSerializer(many=True, help_text="红榜，最多 6 个")
    black = ScreenUnitSerializer(many=True, help_text="黑榜，最多 6 个，否决的在前")
    red_total = serializers.IntegerField()
    black_total = serializers.IntegerField()


class ScreenCountersSerializer(serializers.Serializer):
    inspections_today = serializers.IntegerField(help_text="今日有效督查记录")
    inspections_week = serializers.IntegerField(help_text="本周（周一起）有效督查记录")
    problems_found_today = serializers.IntegerField()
    problems_found_week = serializers.IntegerField()
    problems_closed_today = serializers.IntegerField(help_text="今日销号")
    problems_closed_week = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="超期未整改的问题（与问题列表的超期筛选一致）")


class ScreenVetoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    title = serializers.CharField()
    occurred_on = serializers.DateField()


class CommandScreenSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    campaign_name = serializers.CharField()
    evaluation_date = serializers.DateField()
    days_left = serializers.IntegerField(help_text="距测评日的天数；已过为负数")
    phase = ScreenPhaseSerializer(allow_null=True)
    week = serializers.CharField(allow_null=True, help_text="最近发布的周；尚无发布时为空")
    week_label = serializers.CharField()
    trend = ScreenTrendPointSerializer(many=True, help_text="最近 12 个已发布周，从早到晚")
    districts = ScreenUnitSerializer(many=True, help_text="最近发布周的区县排名")
    boards = ScreenBoardSerializer(many=True)
    counters = ScreenCountersSerializer()
    veto_events = ScreenVetoSerializer(many=True, help_text="未解决的一票否决事项")
    problem_map_url = serializers.CharField(help_text="问题地图图层的数据地址（GET /api/v1/problem-map/）")
    problem_map_since = serializers.DateField(help_text="地图所示问题的发现日期起点（近四周）")
    today = serializers.DateField()
    generated_at = serializers.DateTimeField(help_text="数据计算时间（缓存内不变）")
    refresh_seconds = serializers.IntegerField(help_text="刷新间隔（秒），即缓存时长")


class CommandScreenView(APIView):
    """The 大屏's figures in one answer: countdown and phase, the citywide score-rate trend, the
    latest published week's district ranking and 红黑榜 (6 names a list), today's and this week's
    inspections and problems found / closed, the overdue count, the open 一票否决 events and the
    problem map layer's address. Cached per campaign for `refresh_seconds`. `campaign`: default the
    current one. Office and leaders only."""

    @extend_schema(
        parameters=[OpenApiParameter("campaign", int, description="创建活动；默认当前创建活动")],
        responses=CommandScreenSerializer,
    )
    def get(self, request):
        check_query_params(request, {"campaign"})
        if not command_screen.can_see_screen(scope_for(request.user)):
            raise exceptions.PermissionDenied("指挥大屏仅对领导和创建办开放。")
        campaign = _campaign(request)
        return Response(command_screen.screen_payload(campaign=campaign))
