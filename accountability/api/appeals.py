"""申诉 API: list and file appeals, read one, decide one. Scoped like problems: office and leaders
read every appeal, an inspector those of its rounds, a liaison those of its units (others 404).
Filing is a charged unit's liaison's, within the week's window; deciding is the office's or a
leader's of a work group over the unit. Refusals are the services' Chinese messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.exceptions import Conflict
from campaign.api.serializers import ModelSerializer as StrictModelSerializer
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.filters import FilterSet
from campaign.people import display_name
from inspections.models import Observation, Photo
from inspections.selectors import observation_list

from ..appeals import AppealConflict, appeal_decide, appeal_file, appeal_list, can_decide_appeal
from ..models import Appeal, AppealEvent, AppealStatus


class AppealEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = AppealEvent
        fields = ["action", "actor", "actor_name", "note", "at"]

    def get_actor_name(self, event) -> str:
        return display_name(event.actor)


class AppealSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    decision = serializers.SerializerMethodField()
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    events = AppealEventSerializer(many=True, read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "campaign",
            "week",
            "observation",
            "unit",
            "unit_name",
            "reason",
            "photos",
            "status",
            "status_label",
            "decision",
            "filed_by",
            "filed_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "version",
            "events",
        ]

    def get_decision(self, appeal) -> str | None:
        return {AppealStatus.GRANTED: "grant", AppealStatus.REJECTED: "reject"}.get(appeal.status)


class AppealFileSerializer(StrictModelSerializer):
    observation = serializers.PrimaryKeyRelatedField(
        queryset=Observation.objects.all(),
        error_messages={
            "does_not_exist": "观测记录不存在。",
            "required": "请指定观测记录。",
            "incorrect_type": "观测记录编号应为整数。",
        },
    )
    reason = serializers.CharField(allow_blank=True, max_length=2000, error_messages={"required": "请填写申诉理由。"})
    photos = serializers.PrimaryKeyRelatedField(
        queryset=Photo.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": "照片不存在。", "incorrect_type": "照片编号应为整数。"},
    )

    class Meta:
        model = Appeal
        fields = ["observation", "reason", "photos"]

    def validate_observation(self, observation):
        # An observation the user may not read is 不存在, as elsewhere (not a hint that it exists).
        user = self.context["request"].user
        if not observation_list(user=user, current_only=False).filter(pk=observation.pk).exists():
            raise serializers.ValidationError("观测记录不存在。")
        return observation


class AppealDecideSerializer(StrictSerializer):
    decision = serializers.ChoiceField(
        choices=[("grant", "撤销"), ("reject", "维持")],
        error_messages={
            "invalid_choice": "裁定结果应为 grant（撤销）或 reject（维持）。",
            "required": "请选择裁定结果。",
        },
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    version = serializers.IntegerField(required=False, min_value=0)


class AppealFilterSet(FilterSet):
    class Meta:
        model = Appeal
        fields = ["week", "status", "unit", "campaign"]


def _queryset(request):
    return appeal_list(user=request.user).prefetch_related("photos", "events__actor")


class AppealListView(generics.ListCreateAPIView):
    """Appeals the user may read, newest first (filters: week, status, unit, campaign); POST files one
    (`observation`, `reason`, `photos`: ids of the user's own uploads through the photos API)."""

    serializer_class = AppealSerializer
    filterset_class = AppealFilterSet
    search_fields = ["reason", "unit__name"]
    ordering_fields = ["filed_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appeal.objects.none()
        return _queryset(self.request).order_by("-filed_at", "-id")

    @extend_schema(request=AppealFileSerializer, responses={201: AppealSerializer})
    def post(self, request, *args, **kwargs):
        data = AppealFileSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            appeal = appeal_file(
                user=request.user,
                observation=values["observation"],
                reason=values.get("reason", ""),
                photos=values.get("photos") or (),
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        appeal = _queryset(request).get(pk=appeal.pk)
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealDetailView(generics.RetrieveAPIView):
    serializer_class = AppealSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appeal.objects.none()
        return _queryset(self.request)


class AppealDecideView(APIView):
    """Decide an appeal: `decision` grant (撤销: the observation stops counting, the week is
    recomputed) or reject (维持: `note` required); `version` (optional) the version the user saw.
    Decided already or changed since → 409; not a decider → 403; out of scope → 404."""

    @extend_schema(request=AppealDecideSerializer, responses=AppealSerializer)
    def post(self, request, pk: int):
        appeal = get_object_or_404(appeal_list(user=request.user), pk=pk)
        if not can_decide_appeal(user=request.user, appeal=appeal):
            raise exceptions.PermissionDenied("只有创建办或该单位所在工作组的牵头领导可以裁定申诉。")
        data = AppealDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            appeal = appeal_decide(
                user=request.user,
                appeal=appeal,
                decision=values["decision"],
                note=values.get("note", ""),
                expected_version=values.get("version"),
            )
        except AppealConflict as exc:
            raise Conflict(str(exc)) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        return Response(AppealSerializer(_queryset(request).get(pk=appeal.pk)).data)
