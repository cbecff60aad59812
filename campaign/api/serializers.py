from django.contrib.auth import get_user_model
from rest_framework import serializers

from ..models import Campaign, Phase, Unit, WorkGroup
from ..selectors import campaign_days_left, campaign_phase_on


class PhaseSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Phase
        fields = ["id", "kind", "kind_display", "start_date", "end_date", "note"]


class CampaignSerializer(serializers.ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    current_phase = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "level",
            "level_display",
            "start_date",
            "evaluation_date",
            "description",
            "share_declaration",
            "share_field",
            "share_survey",
            "active",
            "phases",
            "current_phase",
            "days_left",
        ]

    def get_current_phase(self, obj) -> str | None:
        phase = campaign_phase_on(campaign=obj)
        return phase.kind if phase else None

    def get_days_left(self, obj) -> int:
        return campaign_days_left(campaign=obj)


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Unit
        fields = [
            "id",
            "name",
            "short_name",
            "code",
            "kind",
            "kind_display",
            "parent",
            "depth",
            "active",
            "leader_name",
            "liaison_name",
            "phone",
        ]
        read_only_fields = ["depth"]
        # Code uniqueness is checked by the service, with a Chinese message.
        extra_kwargs = {"code": {"validators": []}}


class UnitContactsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["leader_name", "liaison_name", "phone"]


class WorkGroupSerializer(serializers.ModelSerializer):
    leaders = serializers.PrimaryKeyRelatedField(many=True, queryset=get_user_model().objects.all())
    units = serializers.PrimaryKeyRelatedField(many=True, queryset=Unit.objects.all())

    class Meta:
        model = WorkGroup
        fields = ["id", "campaign", "name", "duties", "leaders", "units", "order"]


class ImportUploadSerializer(serializers.Serializer):
    # An empty file reaches the importer, which answers in the import error shape.
    file = serializers.FileField(allow_empty_file=True, error_messages={"required": "请上传文件（字段 file）。"})
    dry_run = serializers.BooleanField(default=False)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(error_messages={"required": "请填写用户名。", "blank": "请填写用户名。"})
    password = serializers.CharField(
        error_messages={"required": "请填写密码。", "blank": "请填写密码。"}, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
