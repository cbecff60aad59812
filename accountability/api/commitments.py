"""承诺事项 API: list and record commitments, read and edit one, and its actions (report-done,
confirm, return, cancel). Scoped like problems: the office and leaders read every commitment, a
liaison those of its units' subtrees (others 404); an inspector none. Recording is the office's or a
leader's, editing and cancelling the office's, reporting done the unit's liaison's, confirming and
returning the office's or a leader's over the unit — never the unit's own liaison. Answers carry the
derived `is_overdue` and `days_overdue` (working days). Refusals are the services' Chinese messages;
a commitment changed since `version` is a 409."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.exceptions import Conflict
from campaign.api.filters import UnknownQueryParams, campaign_query_param
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.models import Unit
from campaign.people import display_name
from campaign.selectors import campaign_current, scope_for
from indicators.models import Indicator
from inspections.models import Photo

from ..choices import CommitmentStatus
from ..commitments import (
    OVERDUE,
    UNSET,
    CommitmentConflict,
    attach_days_overdue,
    commitment_cancel,
    commitment_confirm,
    commitment_create,
    commitment_list,
    commitment_report_done,
    commitment_return,
    commitment_update,
    filter_status,
    status_label,
)
from ..models import Commitment, CommitmentEvent


class CommitmentEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CommitmentEvent
        fields = ["action", "actor", "actor_name", "note", "photos", "changes", "at"]

    def get_actor_name(self, event) -> str:
        return display_name(event.actor)


class CommitmentSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    status_label = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(read_only=True)
    days_overdue = serializers.IntegerField(read_only=True)
    problems = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    events = CommitmentEventSerializer(many=True, read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "campaign",
            "unit",
            "unit_name",
            "week",
            "content",
            "due_date",
            "answerer",
            "problems",
            "indicator",
            "status",
            "status_label",
            "is_overdue",
            "days_overdue",
            "reported_at",
            "completed_at",
            "cancelled_at",
            "created_by",
            "created_at",
            "version",
            "events",
        ]

    def get_status_label(self, commitment) -> str:
        return status_label(commitment)


def _pk_field(model, name: str, *, many: bool = False, required: bool = False):
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.all(),
        many=many,
        required=required,
        allow_null=not many,
        error_messages={
            "does_not_exist": f"{name}不存在。",
            "incorrect_type": f"{name}编号应为整数。",
            "required": f"请选择{name}。",
            "null": f"请选择{name}。",
        },
    )


class CommitmentWriteSerializer(StrictSerializer):
    unit = _pk_field(Unit, "承诺单位")
    content = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    due_date = serializers.DateField(
        required=False, allow_null=True, error_messages={"invalid": "完成时限的日期格式应为 2026-12-31。"}
    )
    answerer = serializers.CharField(required=False, allow_blank=True, max_length=200)
    week = serializers.CharField(required=False, allow_blank=True, max_length=20)
    problems = serializers.ListField(
        child=serializers.IntegerField(error_messages={"invalid": "问题编号应为整数。"}),
        required=False,
        max_length=200,
    )
    indicator = _pk_field(Indicator, "关联指标")
    version = serializers.IntegerField(required=False, min_value=0)


class CommitmentActionSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    photos = serializers.PrimaryKeyRelatedField(
        queryset=Photo.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": "照片不存在。", "incorrect_type": "照片编号应为整数。"},
    )
    version = serializers.IntegerField(required=False, min_value=0)


def _queryset(request, campaign=None):
    return commitment_list(user=request.user, campaign=campaign).prefetch_related(
        "problems", "events__actor", "events__photos"
    )


def _answer(request, pk: int, code=status.HTTP_200_OK) -> Response:
    commitment = attach_days_overdue([_queryset(request).get(pk=pk)])[0]
    return Response(CommitmentSerializer(commitment).data, status=code)


LIST_PARAMETERS = [
    OpenApiParameter("campaign", str, description="创建活动编号；缺省为当前创建活动；all = 全部"),
    OpenApiParameter("unit", int, description="承诺单位编号"),
    OpenApiParameter(
        "status", str, description="open 进行中 / overdue 逾期 / reported 待确认 / done 已完成 / cancelled 已撤销"
    ),
    OpenApiParameter("week", str, description="调度会周次，如 2026-W48"),
    OpenApiParameter("due_from", str, description="完成时限不早于（YYYY-MM-DD）"),
    OpenApiParameter("due_to", str, description="完成时限不晚于（YYYY-MM-DD）"),
]


class CommitmentListView(generics.ListAPIView):
    """Commitments the user may read, by due date (filters: campaign, unit, status incl. overdue,
    week, due range); POST records one (office or leader): `unit`, `content`, `due_date`, and
    optionally `answerer`, `week`, `problems` (ids), `indicator`."""

    serializer_class = CommitmentSerializer
    # The filters are read in get_queryset; anything else in the query string is refused.
    filter_backends = [UnknownQueryParams]
    extra_query_params = ("campaign", "unit", "status", "week", "due_from", "due_to")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Commitment.objects.none()
        params = self.request.query_params
        rows = _queryset(self.request, campaign_query_param(self.request))
        status_value = params.get("status", "")
        if status_value and status_value not in {OVERDUE, *CommitmentStatus.values}:
            shown = "、".join([*CommitmentStatus.values, OVERDUE])
            raise exceptions.ValidationError({"status": [f"状态应为 {shown} 之一。"]})
        rows = filter_status(rows, status_value)
        unit = params.get("unit", "")
        if unit:
            if not unit.isdigit():
                raise exceptions.ValidationError({"unit": ["承诺单位编号应为整数。"]})
            rows = rows.filter(unit_id=int(unit))
        if params.get("week"):
            rows = rows.filter(week=params["week"].strip())
        for name, lookup in (("due_from", "due_date__gte"), ("due_to", "due_date__lte")):
            if params.get(name):
                field = serializers.DateField(error_messages={"invalid": "日期格式应为 2026-12-31。"})
                try:
                    rows = rows.filter(**{lookup: field.to_internal_value(params[name])})
                except serializers.ValidationError as exc:
                    raise exceptions.ValidationError({name: exc.detail}) from None
        return rows.order_by("due_date", "id")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return attach_days_overdue(page) if page is not None else page

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CommitmentWriteSerializer, responses={201: CommitmentSerializer})
    def post(self, request, *args, **kwargs):
        scope = scope_for(request.user)
        if not (scope.is_office or scope.is_leader):
            raise exceptions.PermissionDenied("只有创建办或领导可以登记承诺事项。")
        data = CommitmentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        campaign = campaign_query_param(request) or campaign_current()
        commitment = commitment_create(
            user=request.user,
            campaign=campaign,
            unit=values.get("unit"),
            content=values.get("content", ""),
            due_date=values.get("due_date"),
            answerer=values.get("answerer", ""),
            week=values.get("week", ""),
            problems=values.get("problems") or (),
            indicator=values.get("indicator"),
        )
        return _answer(request, commitment.pk, status.HTTP_201_CREATED)


class CommitmentDetailView(APIView):
    """One commitment with its events; PATCH edits it (the office; `version` optional)."""

    @extend_schema(responses=CommitmentSerializer)
    def get(self, request, pk: int):
        get_object_or_404(commitment_list(user=request.user), pk=pk)
        return _answer(request, pk)

    @extend_schema(request=CommitmentWriteSerializer, responses=CommitmentSerializer)
    def patch(self, request, pk: int):
        commitment = get_object_or_404(commitment_list(user=request.user), pk=pk)
        if not scope_for(request.user).is_office:
            raise exceptions.PermissionDenied("只有创建办可以修改承诺事项。")
        data = CommitmentWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "unit" in values and values["unit"] is not None and values["unit"].pk != commitment.unit_id:
            raise exceptions.ValidationError({"unit": ["承诺单位不能修改；如需更换，请撤销后重新登记。"]})
        try:
            commitment_update(
                user=request.user,
                commitment=commitment,
                expected_version=values.get("version"),
                **{
                    name: values.get(name, UNSET)
                    for name in ("content", "due_date", "answerer", "week", "problems", "indicator")
                },
            )
        except CommitmentConflict as exc:
            raise Conflict(str(exc)) from None
        return _answer(request, pk)


ACTIONS = {
    "report-done": lambda user, c, v: commitment_report_done(
        user=user, commitment=c, note=v.get("note", ""), photos=v.get("photos") or (), expected_version=v.get("version")
    ),
    "confirm": lambda user, c, v: commitment_confirm(
        user=user, commitment=c, note=v.get("note", ""), expected_version=v.get("version")
    ),
    "return": lambda user, c, v: commitment_return(
        user=user, commitment=c, note=v.get("note", ""), expected_version=v.get("version")
    ),
    "cancel": lambda user, c, v: commitment_cancel(
        user=user, commitment=c, reason=v.get("note", ""), expected_version=v.get("version")
    ),
}


class CommitmentActionView(APIView):
    """report-done (the unit's liaison: `note`, `photos` ids of own uploads), confirm / return (the
    office or a leader over the unit, not the unit's liaison; return needs `note`), cancel (the
    office; `note` the reason). Out of scope 404, not allowed 403, changed since `version` 409."""

    action_name = ""

    @extend_schema(request=CommitmentActionSerializer, responses=CommitmentSerializer)
    def post(self, request, pk: int):
        commitment = get_object_or_404(commitment_list(user=request.user), pk=pk)
        data = CommitmentActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ACTIONS[self.action_name](request.user, commitment, data.validated_data)
        except CommitmentConflict as exc:
            raise Conflict(str(exc)) from None
        return _answer(request, pk)
