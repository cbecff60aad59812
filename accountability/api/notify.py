"""The API of notifications' settings and channels: the user's own push preferences, the units'
group robots and the delivery log (both the office's). The user's notifications themselves are
in accountability.api.views (NotificationListView)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import UnknownQueryParams, check_query_params
from campaign.api.serializers import ModelSerializer as StrictModelSerializer
from campaign.models import Unit
from campaign.permissions import IsOffice

from .. import channels
from ..choices import ROBOT_KINDS, NotificationKind
from ..models import Delivery, NotificationPreference, UnitChannel
from ..notify import (
    preference_of,
    preference_update,
    unit_channel_create,
    unit_channel_test,
    unit_channel_update,
)
from ..notify_views import DeliveryFilterSet

KIND_CHOICES = NotificationKind.choices


class PreferenceSerializer(StrictModelSerializer):
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=KIND_CHOICES), required=False, help_text="为空表示全部类型"
    )

    class Meta:
        model = NotificationPreference
        fields = ["email", "sms", "kinds"]


class PreferenceView(APIView):
    """The signed-in user's push settings (e-mail, SMS, which kinds). PUT replaces them; SMS needs
    a phone on the user's profile. The in-app notification is written whatever they say."""

    filter_backends = [UnknownQueryParams]

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request):
        check_query_params(request, ())
        return Response(PreferenceSerializer(preference_of(request.user)).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request):
        data = PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        preference = preference_update(
            user=request.user,
            email=values.get("email", True),
            sms=values.get("sms", False),
            kinds=values.get("kinds", []),
        )
        return Response(PreferenceSerializer(preference).data)


class UnitChannelSerializer(StrictModelSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(active=True))
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    kind = serializers.ChoiceField(choices=ROBOT_KINDS)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    webhook_url = serializers.CharField(
        write_only=True, max_length=500, help_text="http(s) 地址；读取时只返回脱敏后的地址"
    )
    webhook = serializers.SerializerMethodField(help_text="脱敏后的 Webhook 地址")
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200, help_text="钉钉加签密钥；从不返回"
    )
    clear_secret = serializers.BooleanField(write_only=True, required=False, default=False)
    has_secret = serializers.SerializerMethodField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=KIND_CHOICES), required=False)

    class Meta:
        model = UnitChannel
        fields = [
            "id",
            "unit",
            "unit_name",
            "kind",
            "kind_display",
            "name",
            "webhook_url",
            "webhook",
            "secret",
            "clear_secret",
            "has_secret",
            "enabled",
            "kinds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_webhook(self, channel) -> str:
        return channels.mask_url(channel.webhook_url)

    def get_has_secret(self, channel) -> bool:
        return bool(channel.secret)


class UnitChannelListView(generics.ListCreateAPIView):
    """The units' group robots (企业微信 / 钉钉), the office's. POST adds one."""

    permission_classes = [IsOffice]
    serializer_class = UnitChannelSerializer
    filterset_fields = ["unit", "kind", "enabled"]
    search_fields: list = []
    ordering_fields = ["id"]

    def get_queryset(self):
        return UnitChannel.objects.select_related("unit").order_by("unit__path", "kind", "id")

    def create(self, request, *args, **kwargs):
        data = UnitChannelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = unit_channel_create(user=request.user, data=dict(data.validated_data))
        return Response(UnitChannelSerializer(channel).data, status=201)


class UnitChannelDetailView(generics.RetrieveAPIView):
    """One robot: GET, PATCH (fields given change; an empty secret keeps the stored one)."""

    permission_classes = [IsOffice]
    serializer_class = UnitChannelSerializer
    filter_backends = [UnknownQueryParams]

    def get_queryset(self):
        return UnitChannel.objects.select_related("unit")

    @extend_schema(request=UnitChannelSerializer(partial=True), responses=UnitChannelSerializer)
    def patch(self, request, *args, **kwargs):
        channel = self.get_object()
        data = UnitChannelSerializer(channel, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel = unit_channel_update(user=request.user, channel=channel, data=dict(data.validated_data))
        return Response(UnitChannelSerializer(channel).data)


class DeliverySerializer(serializers.ModelSerializer):
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "notification",
            "channel",
            "channel_display",
            "unit_channel",
            "kind",
            "kind_display",
            "target",
            "message",
            "status",
            "status_display",
            "attempts",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryListView(generics.ListAPIView):
    """The delivery log (the office's): each push, its status, attempts and last error; newest first."""

    permission_classes = [IsOffice]
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    search_fields: list = []
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Delivery.objects.order_by("-created_at", "-id")


class ChannelTestResultSerializer(serializers.Serializer):
    sent = serializers.BooleanField()
    delivery = DeliverySerializer()


class UnitChannelTestView(APIView):
    """发送测试消息: send a test message through the robot now and answer the outcome (recorded in
    the delivery log). A failing robot is an answer, not an error: `sent: false` and the reason."""

    permission_classes = [IsOffice]

    @extend_schema(request=None, responses=ChannelTestResultSerializer)
    def post(self, request, pk: int):
        channel = get_object_or_404(UnitChannel, pk=pk)
        delivery = unit_channel_test(user=request.user, channel=channel)
        return Response({"sent": delivery.status == "sent", "delivery": DeliverySerializer(delivery).data})
