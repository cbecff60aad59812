"""The 变更记录 API, read-only: `GET /api/v1/history/?model=checkitem&object=ID` (also `user`, `from`,
`to`), paginated like the other lists. The office and leaders only. Values are rendered as the page
shows them: decimals as stored ("2.00"), choices and booleans in Chinese (是/否), related objects and
departments by name (departments joined with "、"), dates ISO; `before`/`after` hold only the fields
that changed, keyed by field name, and `changes` lists them with their Chinese labels."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from campaign.api.filters import check_query_params
from campaign.api.pagination import PageNumberPagination

from ..history import SOURCES, HistoryFilterForm, change_entries, may_read_history, user_display

FIELD_NAMES = {"date_from": "from", "date_to": "to"}  # the form's names → the query's
PAGE_PARAMS = (PageNumberPagination.page_query_param, PageNumberPagination.page_size_query_param)


class HistoryUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user_display(user)


class HistoryFieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class HistoryEntrySerializer(serializers.Serializer):
    model = serializers.CharField(help_text="对象类型：" + "、".join(f"{k}（{s.label}）" for k, s in SOURCES.items()))
    model_label = serializers.CharField()
    object_id = serializers.IntegerField()
    object_repr = serializers.CharField()
    change = serializers.ChoiceField(choices=[("+", "新增"), ("~", "修改"), ("-", "删除")])
    change_label = serializers.CharField()
    user = HistoryUserSerializer(allow_null=True, help_text="操作人；系统写入（无请求用户）时为 null")
    changed_at = serializers.DateTimeField()
    before = serializers.DictField(child=serializers.CharField(allow_blank=True))
    after = serializers.DictField(child=serializers.CharField(allow_blank=True))
    changes = serializers.SerializerMethodField()
    reason = serializers.CharField(allow_blank=True)

    def get_changes(self, entry) -> list[dict]:
        return [
            {"field": name, "label": label, "before": entry.before.get(name, ""), "after": entry.after.get(name, "")}
            for name, label in entry.labels.items()
        ]


class HistoryView(APIView):
    """Every score-relevant change (check items, indicators and their methods and units, point
    types, points, campaign rules, the working-day calendar, memberships, inspection corrections),
    newest first: who, when, before and after."""

    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("model", OpenApiTypes.STR, enum=list(SOURCES), description="对象类型"),
            OpenApiParameter("object", OpenApiTypes.INT, description="对象编号（需同时指定 model）"),
            OpenApiParameter("user", OpenApiTypes.INT, description="操作人（用户编号）"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="开始日期（含）"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="结束日期（含）"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses=HistoryEntrySerializer(many=True),
    )
    def get(self, request):
        if not may_read_history(request.user):
            raise exceptions.PermissionDenied("变更记录仅对创建办和领导开放。")
        check_query_params(
            request, [*(FIELD_NAMES.get(name, name) for name in HistoryFilterForm.base_fields), *PAGE_PARAMS]
        )
        form = HistoryFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {FIELD_NAMES.get(name, name): list(errors) for name, errors in form.errors.items()}
            )
        paginator = self.pagination_class()
        keys = paginator.paginate_queryset(form.keys(), request, view=self)
        entries = change_entries(list(keys))
        return paginator.get_paginated_response(HistoryEntrySerializer(entries, many=True).data)
