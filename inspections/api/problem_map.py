"""`GET /api/v1/problem-map/`: where the problems are (问题地图), compact, for the points map's 问题
layer and the 大屏. Read through `inspections.problem_map.problem_map_data` (two queries whatever
the size); scoped like the problem list; bad filters are 400 in the shared error shape."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import check_query_params

from ..problem_map import PROBLEM_MAP_LIMIT, ProblemMapForm, problem_map_data


class ProblemMapStatusSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="状态代码；overdue 表示超期（叠加在未办结状态之上）")
    label = serializers.CharField()
    colour = serializers.CharField(help_text="地图上的颜色，如 #4263eb")


class ProblemMapSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(allow_null=True, help_text="创建活动编号；null 表示全部创建活动")
    fields = serializers.ListField(child=serializers.CharField(), help_text="每行的列：id, lat, lng, status, overdue")
    problems = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="每个问题一行：[编号, 纬度, 经度, 状态代码, 是否超期(0/1)]，按发现时间由新到旧",
    )
    count = serializers.IntegerField(help_text="本次返回的问题数")
    located = serializers.IntegerField(help_text="有位置（问题自身或其点位的经纬度）的问题总数")
    unlocated = serializers.IntegerField(help_text="没有位置、未在地图上显示的问题数")
    truncated = serializers.BooleanField(help_text=f"有位置的问题超过 {PROBLEM_MAP_LIMIT} 个时为 true，只返回最新的")
    limit = serializers.IntegerField()
    statuses = ProblemMapStatusSerializer(many=True)


class ProblemMapView(APIView):
    """The problems found in a period with their positions: its own latitude/longitude, else its
    point's. At most 20,000 (the newest) as arrays; `truncated` when there are more. Everyone signed
    in reads the problems the problem list shows them (a liaison its own). Void problems are left out."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", str, description="创建活动编号；缺省为当前创建活动；all = 全部"),
            OpenApiParameter("week", str, description="发现时间所在 ISO 周，如 2026-W47"),
            OpenApiParameter("since", str, description="发现日期起（含），如 2026-11-23"),
            OpenApiParameter("until", str, description="发现日期止（含）"),
            OpenApiParameter("district", int, description="单位编号：属地为该单位及其下级的问题"),
            OpenApiParameter("category", int, description="公众问题类别编号：其对应的测评细则或点位类别"),
            OpenApiParameter("point_type", int, description="点位类别编号"),
            OpenApiParameter("status", str, enum=["open", "closed", "overdue"], description="未办结/已销号/超期"),
            OpenApiParameter("overdue", str, enum=["1", "0"], description="1 = 只看超期"),
        ],
        responses=ProblemMapSerializer,
    )
    def get(self, request):
        form = ProblemMapForm(request.query_params)
        check_query_params(request, form.fields)
        if not form.is_valid():
            raise exceptions.ValidationError({name: list(errors) for name, errors in form.errors.items()})
        return Response(problem_map_data(user=request.user, filters=form.cleaned_data))
