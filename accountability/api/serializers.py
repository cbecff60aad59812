"""Serializers of the rectification-loop API. Explicit fields; writes are done by the services."""

from __future__ import annotations

from rest_framework import serializers

from campaign.api.serializers import ModelSerializer, Serializer
from campaign.models import Unit
from inspections.api.serializers import ProblemSerializer

from ..choices import Action
from ..models import CalendarDay, Notification, ProblemEvent


class TransitionRequestSerializer(Serializer):
    action = serializers.ChoiceField(
        choices=Action.choices, error_messages={"invalid_choice": "未知的操作“{input}”。", "required": "请选择操作。"}
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    photos = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    handler = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "单位不存在。", "incorrect_type": "单位应为编号。"},
    )
    co_handlers = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(active=True),
        many=True,
        required=False,
        error_messages={"does_not_exist": "协办单位不存在或已停用。", "incorrect_type": "单位应为编号。"},
    )
    deadline = serializers.DateField(
        required=False, allow_null=True, error_messages={"invalid": "日期格式应为 2026-12-31。"}
    )
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class ProblemWithActionsSerializer(ProblemSerializer):
    """The problem as inspections renders it, plus what the requesting user may do next."""

    allowed_actions = serializers.SerializerMethodField()

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "allowed_actions"]
        read_only_fields = fields

    def get_allowed_actions(self, problem) -> list[str]:
        return self.context.get("allowed_actions", [])


class ProblemEventSerializer(ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ProblemEvent
        fields = [
            "id",
            "action",
            "action_display",
            "actor",
            "actor_name",
            "role",
            "from_status",
            "to_status",
            "note",
            "photos",
            "changes",
            "at",
        ]
        read_only_fields = fields

    def get_action_display(self, event) -> str:
        try:
            return Action(event.action).label
        except ValueError:
            return event.action

    def get_actor_name(self, event) -> str:
        return event.actor.get_full_name() or event.actor.get_username()


class NotificationSerializer(ModelSerializer):
    read = serializers.SerializerMethodField()
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    link = serializers.CharField(read_only=True, help_text="通知指向的页面：自身链接，否则问题页面")

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_display",
            "problem",
            "message",
            "url",
            "link",
            "campaign",
            "created_at",
            "read_at",
            "read",
        ]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationReadSerializer(Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_null=True)


class NotificationReadResultSerializer(Serializer):
    marked = serializers.IntegerField()


class CalendarDaySerializer(ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "kind_display", "name"]
        read_only_fields = fields
