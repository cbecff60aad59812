"""接口密钥 API (the office only): `GET /api/v1/intake-keys/` lists the keys of the campaign
(`campaign`: an id, default the current campaign), newest first; `POST` issues one (`name`) and
answers its raw `key` — once: no later answer carries it; `POST /api/v1/intake-keys/{id}/revoke/`
deactivates one."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import UnknownQueryParams, check_query_params
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.people import display_name
from campaign.selectors import campaign_choices, campaign_current, scope_for

from ..intake_keys import NAME_MAX_LENGTH, intake_key_issue, intake_key_list, intake_key_revoke
from ..models import IntakeKey


class IntakeKeySerializer(serializers.ModelSerializer):
    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = IntakeKey
        fields = [
            "id",
            "campaign",
            "name",
            "prefix",
            "active",
            "created_by",
            "created_by_name",
            "created_at",
            "last_used_at",
        ]
        read_only_fields = fields

    def get_created_by_name(self, key) -> str:
        return display_name(key.created_by)


class IntakeKeyIssuedSerializer(IntakeKeySerializer):
    key = serializers.CharField(read_only=True, help_text="密钥原文：只在签发的应答中出现这一次，系统只保存其摘要。")

    class Meta(IntakeKeySerializer.Meta):
        fields = [*IntakeKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class IntakeKeyIssueSerializer(StrictSerializer):
    name = serializers.CharField(
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": "请填写密钥名称（如使用该密钥的系统名称）。",
            "blank": "请填写密钥名称（如使用该密钥的系统名称）。",
            "max_length": f"密钥名称不能超过 {NAME_MAX_LENGTH} 个字。",
        },
    )


CAMPAIGN_PARAM = OpenApiParameter("campaign", OpenApiTypes.STR, description="创建活动编号；缺省为当前创建活动")


def _office_only(request) -> None:
    if not scope_for(request.user).is_office:
        raise exceptions.PermissionDenied("只有创建办可以管理接口密钥。")


def _campaign(request):
    raw = (request.query_params.get("campaign") or "").strip()
    if not raw:
        return campaign_current()
    found = next((c for c in campaign_choices() if str(c.pk) == raw), None)
    if found is None:
        raise exceptions.ValidationError({"campaign": [f"创建活动（campaign）“{raw[:20]}”不存在。"]})
    return found


@extend_schema(parameters=[CAMPAIGN_PARAM])
class IntakeKeyListView(generics.ListAPIView):
    """The campaign's API keys (the office's), newest first; POST issues one: the answer carries the
    raw `key`, shown once."""

    serializer_class = IntakeKeySerializer
    extra_query_params = ("campaign",)
    filter_backends: list = [UnknownQueryParams]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IntakeKey.objects.none()
        _office_only(self.request)
        return intake_key_list(campaign=_campaign(self.request))

    @extend_schema(request=IntakeKeyIssueSerializer, responses={201: IntakeKeyIssuedSerializer})
    def post(self, request, *args, **kwargs):
        check_query_params(request, ("campaign",))
        _office_only(request)
        data = IntakeKeyIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = intake_key_issue(campaign=_campaign(request), name=data.validated_data["name"], user=request.user)
        key.key = raw
        response = Response(IntakeKeyIssuedSerializer(key).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class IntakeKeyRevokeView(APIView):
    """停用 a key (the office's): requests with it are refused from then on. Already revoked → 400."""

    @extend_schema(request=None, responses=IntakeKeySerializer)
    def post(self, request, pk: int):
        _office_only(request)
        key = get_object_or_404(IntakeKey, pk=pk)
        key = intake_key_revoke(key=key, user=request.user)
        key = IntakeKey.objects.select_related("created_by").get(pk=key.pk)
        return Response(IntakeKeySerializer(key).data)
