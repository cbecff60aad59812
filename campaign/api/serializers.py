from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import serializers
from rest_framework.utils.formatting import lazy_format

from ..models import Campaign, Phase, Unit, WorkGroup
from ..selectors import campaign_days_left, campaign_phase_on
from .filters import BIGINT

# Sent by Django's HTML forms (the browsable API); never a field of ours.
IGNORED_INPUT = frozenset({"csrfmiddlewaretoken"})


# Unknown fields in a body are a 400 naming them (issue 12: a PATCH with a misspelt field once
# answered 200 and changed nothing). Read-only fields a client echoes back (a GET body PUT again)
# are known and ignored, as DRF does; `extra_input_fields` names fields of the same body that
# another serializer of the view reads (an import's `system` beside its `file`). Nested
# serializers check their own objects: an unknown key in an observation line is named there.
# (Comments, not docstrings: drf-spectacular would show a base class's docstring on every
# serializer without its own.)
class StrictFieldsMixin:
    extra_input_fields: tuple[str, ...] = ()

    def is_extra_input(self, name: str) -> bool:
        """Whether a field named by a pattern (e.g. `replace_<id>`) is read by the view itself."""
        return False

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            _bound_integers(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = set(self.fields) | set(self.extra_input_fields) | IGNORED_INPUT
            unknown = [name for name in data if name not in known and not self.is_extra_input(str(name))]
            if unknown:
                writable = sorted(name for name, field in self.fields.items() if not field.read_only)
                listed = "、".join([*writable, *self.extra_input_fields]) or "无"
                raise serializers.ValidationError(
                    {str(name)[:50]: [f"未知的字段“{str(name)[:50]}”。可提交的字段：{listed}。"] for name in unknown}
                )
        return super().to_internal_value(data)


def _bound_integers(field) -> None:
    """An integer input (a list's items too) without bounds gets the bigint's: an id like 2**90 is
    a 400, not an OverflowError of the database driver (`pk__in=[2**90]` on SQLite, a 500)."""
    child = getattr(field, "child", None)
    if child is not None:
        _bound_integers(child)
    if not isinstance(field, serializers.IntegerField) or field.read_only:
        return
    if field.max_value is None:
        field.max_value = BIGINT
        message = lazy_format(field.error_messages["max_value"], max_value=BIGINT)
        field.validators.append(MaxValueValidator(BIGINT, message=message))
    if field.min_value is None:
        field.min_value = -BIGINT
        message = lazy_format(field.error_messages["min_value"], min_value=-BIGINT)
        field.validators.append(MinValueValidator(-BIGINT, message=message))


class Serializer(StrictFieldsMixin, serializers.Serializer):  # the API's base: unknown fields refused
    pass


class ModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):  # the same for model serializers
    pass


class PhaseSerializer(ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Phase
        fields = ["id", "kind", "kind_display", "start_date", "end_date", "note"]


class CampaignSerializer(ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    # 区直部门排名: the 评比规则 of where departments under a district are ranked.
    district_departments_display = serializers.CharField(source="get_district_departments_display", read_only=True)
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
            "district_departments",
            "district_departments_display",
            "appeal_working_days",
            "appeal_deadline_hour",
            "recheck_failed_raises_case",
            "commitment_overdue_raises_case",
            "meeting_overdue_units",
            "phases",
            "current_phase",
            "days_left",
        ]

    def get_current_phase(self, obj) -> str | None:
        phase = campaign_phase_on(campaign=obj)
        return phase.kind if phase else None

    def get_days_left(self, obj) -> int:
        return campaign_days_left(campaign=obj)


class UnitSerializer(ModelSerializer):
    # "区直部门" for a department under a district (the list annotates it: no query per row).
    kind_display = serializers.CharField(source="kind_label", read_only=True)
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


class UnitContactsSerializer(ModelSerializer):
    class Meta:
        model = Unit
        fields = ["leader_name", "liaison_name", "phone"]


class WorkGroupSerializer(ModelSerializer):
    leaders = serializers.PrimaryKeyRelatedField(many=True, queryset=get_user_model().objects.all())
    units = serializers.PrimaryKeyRelatedField(many=True, queryset=Unit.objects.all())

    class Meta:
        model = WorkGroup
        fields = ["id", "campaign", "name", "duties", "leaders", "units", "order"]


class ImportUploadSerializer(Serializer):
    # An empty file reaches the importer, which answers in the import error shape.
    file = serializers.FileField(allow_empty_file=True, error_messages={"required": "请上传文件（字段 file）。"})
    dry_run = serializers.BooleanField(default=False)


class TokenRequestSerializer(Serializer):
    username = serializers.CharField(error_messages={"required": "请填写用户名。", "blank": "请填写用户名。"})
    password = serializers.CharField(
        error_messages={"required": "请填写密码。", "blank": "请填写密码。"}, style={"input_type": "password"}
    )


class TokenSerializer(Serializer):
    token = serializers.CharField()
