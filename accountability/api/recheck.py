"""疑点 (flagged evidence) and 抽查复核 API. 疑点: `GET /api/v1/evidence-flags/` with the page's filters (week, unit,
code, kind; `campaign`: an id, `all`, default the current campaign). Office and leaders read every
flag, a liaison its units'; others 404. Query parameters are strict."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.exceptions import Conflict
from campaign.api.filters import UnknownQueryParams, campaign_query_param, check_query_params
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.people import display_name
from campaign.selectors import scope_for
from inspections.models import Photo, PhotoFlag

from ..choices import RecheckStatus
from ..models import Recheck, RecheckDraw
from ..recheck import (
    KIND_LABELS,
    EvidenceFlagFilterSet,
    RecheckConflict,
    can_read_rechecks,
    evidence_flag_list,
    evidence_kind,
    evidence_week,
    recheck_draw,
    recheck_draw_list,
    recheck_record,
)
from ..workflow import TransitionConflict


class EvidenceFlagSerializer(serializers.ModelSerializer):
    code_label = serializers.CharField(source="get_code_display", read_only=True)
    kind = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()
    week = serializers.SerializerMethodField()
    evidence_at = serializers.DateTimeField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    problem = serializers.IntegerField(source="problem_ref", read_only=True, allow_null=True)
    inspection = serializers.SerializerMethodField()

    class Meta:
        model = PhotoFlag
        fields = [
            "id",
            "photo",
            "code",
            "code_label",
            "message",
            "earlier_photo",
            "kind",
            "kind_label",
            "week",
            "evidence_at",
            "unit_name",
            "problem",
            "inspection",
        ]

    def get_kind(self, flag) -> str:
        return evidence_kind(flag)

    def get_kind_label(self, flag) -> str:
        return KIND_LABELS[evidence_kind(flag)]

    def get_week(self, flag) -> str:
        return evidence_week(flag)

    def get_inspection(self, flag) -> int | None:
        return flag.photo.observation.inspection_id if flag.photo.observation_id else None


CAMPAIGN_PARAM = OpenApiParameter(
    "campaign", OpenApiTypes.STR, description="创建活动编号；缺省为当前创建活动；all = 全部创建活动"
)


@extend_schema(parameters=[CAMPAIGN_PARAM])
class EvidenceFlagListView(generics.ListAPIView):
    """Flagged evidence photos (督查照片 / 整改照片), newest evidence first."""

    serializer_class = EvidenceFlagSerializer
    filterset_class = EvidenceFlagFilterSet
    extra_query_params = ("campaign",)
    ordering_fields: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PhotoFlag.objects.none()
        return evidence_flag_list(user=self.request.user, campaign=self._campaign())

    def _campaign(self):
        return campaign_query_param(self.request)


# --- 抽查复核 ----------------------------------------------------------------------------------


class RecheckSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    outcome = serializers.SerializerMethodField()
    district_name = serializers.CharField(source="district.name", read_only=True, default=None, allow_null=True)
    checker_name = serializers.SerializerMethodField()
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Recheck
        fields = [
            "id",
            "draw",
            "problem",
            "district",
            "district_name",
            "flagged",
            "status",
            "status_label",
            "outcome",
            "checker",
            "checker_name",
            "checked_at",
            "note",
            "photos",
            "version",
        ]

    def get_outcome(self, recheck) -> bool | None:
        return {RecheckStatus.CONFIRMED: True, RecheckStatus.FAILED: False}.get(recheck.status)

    def get_checker_name(self, recheck) -> str | None:
        return display_name(recheck.checker) if recheck.checker_id else None


class RecheckDrawSerializer(serializers.ModelSerializer):
    created_by_name = serializers.SerializerMethodField()
    rechecks = RecheckSerializer(many=True, read_only=True)

    class Meta:
        model = RecheckDraw
        fields = [
            "id",
            "campaign",
            "week_from",
            "week_to",
            "seed",
            "parameters",
            "created_by",
            "created_by_name",
            "created_at",
            "rechecks",
        ]

    def get_created_by_name(self, draw) -> str:
        return display_name(draw.created_by)


class RecheckDrawCreateSerializer(StrictSerializer):
    week_from = serializers.CharField(max_length=8, error_messages={"required": "请填写起始周（如 2026-W45）。"})
    week_to = serializers.CharField(max_length=8, error_messages={"required": "请填写截止周（如 2026-W46）。"})
    count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    percent = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100)
    per_district = serializers.BooleanField(required=False, default=False)
    flagged_first = serializers.BooleanField(required=False, default=False)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)


class RecheckRecordSerializer(StrictSerializer):
    outcome = serializers.BooleanField(
        error_messages={
            "required": "请选择复核结果（true 属实 / false 不属实）。",
            "invalid": "复核结果应为 true 或 false。",
        }
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    version = serializers.IntegerField(required=False, min_value=0)
    photos = serializers.PrimaryKeyRelatedField(
        queryset=Photo.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": "照片不存在。", "incorrect_type": "照片编号应为整数。"},
    )


def _readers_only(request) -> None:
    if not can_read_rechecks(request.user):
        raise exceptions.PermissionDenied("只有创建办和领导可以查看抽查复核。")


@extend_schema(parameters=[CAMPAIGN_PARAM])
class RecheckDrawListView(generics.ListCreateAPIView):
    """抽查复核 draws of the campaign (office and leaders), newest first, each with its rechecks; POST
    draws (the office's): `week_from`, `week_to`, `count` or `percent`, `per_district`,
    `flagged_first`, `seed` (optional: recorded either way)."""

    serializer_class = RecheckDrawSerializer
    extra_query_params = ("campaign",)
    filter_backends: list = [UnknownQueryParams]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RecheckDraw.objects.none()
        _readers_only(self.request)
        return recheck_draw_list(user=self.request.user, campaign=self._campaign()).prefetch_related(
            "rechecks__district", "rechecks__checker", "rechecks__photos"
        )

    _campaign = EvidenceFlagListView._campaign

    @extend_schema(request=RecheckDrawCreateSerializer, responses={201: RecheckDrawSerializer})
    def post(self, request, *args, **kwargs):
        check_query_params(request, ("campaign",))
        if not scope_for(request.user).is_office:
            raise exceptions.PermissionDenied("只有创建办可以抽取抽查复核的问题。")
        data = RecheckDrawCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = self._campaign()
        if campaign is None:
            raise exceptions.ValidationError({"campaign": ["请指定一个创建活动。"]})
        draw = recheck_draw(user=request.user, campaign=campaign, **data.validated_data)
        draw = RecheckDraw.objects.prefetch_related("rechecks__district", "rechecks__checker").get(pk=draw.pk)
        return Response(RecheckDrawSerializer(draw).data, status=status.HTTP_201_CREATED)


class RecheckRecordView(APIView):
    """Record a re-check (the office's): `outcome` true (属实) or false (不属实: `note` required; the
    problem is reopened as 返工), `version` (optional) the version seen, `photos` the user's uploads.
    Recorded already or changed since → 409."""

    @extend_schema(request=RecheckRecordSerializer, responses=RecheckSerializer)
    def post(self, request, pk: int):
        if not scope_for(request.user).is_office:
            raise exceptions.PermissionDenied("只有创建办可以记录抽查复核结果。")
        recheck = get_object_or_404(Recheck, pk=pk)
        data = RecheckRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            recheck = recheck_record(
                user=request.user,
                recheck=recheck,
                outcome=values["outcome"],
                note=values.get("note", ""),
                photos=values.get("photos") or (),
                expected_version=values.get("version"),
            )
        except RecheckConflict as exc:
            raise Conflict(str(exc)) from None
        except TransitionConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(RecheckSerializer(recheck).data)
