"""Serializers of the 测评体系 API. Reads only: every write goes through indicators.services."""

import re

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaign.api.serializers import ModelSerializer, Serializer
from campaign.models import Campaign, Unit

from ..choices import AssignmentRole, Method
from ..models import Indicator, IndicatorSystem, Material, MaterialEvent, MaterialFile, NegativeListItem, RiskEvent

METHOD_ORDER = {value: index for index, value in enumerate(Method.values)}


class IndicatorSystemSerializer(ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    node_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = IndicatorSystem
        fields = [
            "id",
            "campaign",
            "name",
            "kind",
            "kind_display",
            "year",
            "note",
            "is_current",
            "node_count",
            "created_at",
        ]
        # Switching the current system is its own audited act: POST …/set-current/.
        read_only_fields = ["is_current", "created_at"]
        # Name uniqueness is checked by the service, with a Chinese message.
        validators = []

    def validate_campaign(self, value: Campaign) -> Campaign:
        if self.instance is not None and value.pk != self.instance.campaign_id:
            raise serializers.ValidationError("测评体系不能改挂到其他创建活动。")
        return value


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": Method.values}})
class MethodsField(serializers.ListField):
    """The node's own 测评方法 codes, read from the prefetched rows; a list of codes on write."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=Method.choices), **kwargs)

    def get_attribute(self, instance):
        return sorted((row.method for row in instance.method_rows.all()), key=METHOD_ORDER.get)


class IndicatorSerializer(ModelSerializer):
    """One node of the tree. Units are ids; `*_inherited` says they come from an ancestor."""

    system = serializers.PrimaryKeyRelatedField(queryset=IndicatorSystem.objects.all())
    parent = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.all(), allow_null=True, required=False)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    methods = MethodsField(required=False)
    lead_units = serializers.SerializerMethodField()
    responsible_units = serializers.SerializerMethodField()
    lead_inherited = serializers.SerializerMethodField()
    responsible_inherited = serializers.SerializerMethodField()

    # Where a node sits in the tree is fixed once created.
    FIXED = ("system", "parent", "level")

    class Meta:
        model = Indicator
        fields = [
            "id",
            "system",
            "parent",
            "level",
            "level_display",
            "code",
            "title",
            "text",
            "weight",
            "order",
            "veto",
            "requirements",
            "point_types",
            "deadline",
            "methods",
            "lead_units",
            "responsible_units",
            "lead_inherited",
            "responsible_inherited",
            "effective_weight",
            "children_weight",
            "share_weight",
            "is_leaf",
            "is_declaration",
        ]
        read_only_fields = [
            "effective_weight",
            "children_weight",
            "share_weight",
            "is_leaf",
            "is_declaration",
        ]
        # Code uniqueness is checked by the service, with a Chinese message.
        validators = []
        extra_kwargs = {"order": {"required": False}}

    def validate(self, attrs):
        if self.instance is not None:
            moved = {
                name: ["创建后不能修改所属体系、上级或层级。"]
                for name in self.FIXED
                if name in attrs and _pk(attrs[name]) != _pk(getattr(self.instance, name))
            }
            if moved:
                raise serializers.ValidationError(moved)
            for name in self.FIXED:
                attrs.pop(name, None)
        return attrs

    def _rows(self, obj, role: str) -> list:
        return [a for a in obj.assignments.all() if a.role == role]

    def get_lead_units(self, obj) -> list[int]:
        return [a.unit_id for a in self._rows(obj, AssignmentRole.LEAD)]

    def get_responsible_units(self, obj) -> list[int]:
        return [a.unit_id for a in self._rows(obj, AssignmentRole.RESPONSIBLE)]

    def get_lead_inherited(self, obj) -> bool:
        return any(a.inherited for a in self._rows(obj, AssignmentRole.LEAD))

    def get_responsible_inherited(self, obj) -> bool:
        return any(a.inherited for a in self._rows(obj, AssignmentRole.RESPONSIBLE))


def _pk(value):
    return getattr(value, "pk", value)


class IndicatorUnitsSerializer(Serializer):
    role = serializers.ChoiceField(choices=AssignmentRole.choices)
    units = serializers.PrimaryKeyRelatedField(many=True, queryset=Unit.objects.all(), allow_empty=True)


class MaterialFileSerializer(ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = MaterialFile
        fields = ["id", "name", "size", "content_type", "version", "current", "uploaded_at", "url"]

    def get_url(self, obj) -> str:
        path = reverse("indicators-api:material-file", args=[obj.material_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MaterialEventSerializer(ModelSerializer):
    action_display = serializers.CharField(source="get_action_display")
    actor = serializers.SerializerMethodField()

    class Meta:
        model = MaterialEvent
        fields = ["action", "action_display", "actor", "note", "status_after", "at"]

    def get_actor(self, obj) -> str:
        return obj.actor.get_full_name() or obj.actor.get_username()


class MaterialSerializer(ModelSerializer):
    system = serializers.IntegerField(source="indicator.system_id")
    indicator_label = serializers.CharField(source="indicator.label")
    unit_name = serializers.CharField(source="unit.name")
    status_display = serializers.CharField(source="get_status_display")
    files = MaterialFileSerializer(many=True)
    events = MaterialEventSerializer(many=True)

    class Meta:
        model = Material
        fields = [
            "id",
            "system",
            "indicator",
            "indicator_label",
            "unit",
            "unit_name",
            "description",
            "status",
            "status_display",
            "return_reason",
            "submitted_at",
            "reviewed_at",
            "files",
            "events",
        ]
        read_only_fields = fields


class MaterialSubmitSerializer(Serializer):
    """What a liaison sends (multipart). `unit` may be left out by a liaison of a single unit."""

    indicator = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.select_related("system"))
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # Checked by the service (size, content type) with Chinese messages naming the file.
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), required=False, default=list)
    extra_input_fields = ("files[]",)  # the form's other spelling of `files`, read by the view


class MaterialResubmitSerializer(Serializer):
    """A new description and/or new files; `replace_<file id>` fields replace a current file."""

    description = serializers.CharField(required=False, allow_blank=True)
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), required=False, default=list)
    extra_input_fields = ("files[]",)

    def is_extra_input(self, name: str) -> bool:
        return re.fullmatch(r"replace_\d+", name) is not None  # read by the view, file by file


class MaterialReviewSerializer(Serializer):
    action = serializers.ChoiceField(
        choices=[("approve", "通过"), ("return", "退回")],
        error_messages={"invalid_choice": "审核操作只能是 approve（通过）或 return（退回）。"},
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NegativeListItemSerializer(ModelSerializer):
    system = serializers.PrimaryKeyRelatedField(queryset=IndicatorSystem.objects.all())

    class Meta:
        model = NegativeListItem
        fields = ["id", "system", "code", "title", "description", "veto", "order"]
        validators = []
        extra_kwargs = {"order": {"required": False}}


class RiskEventSerializer(ModelSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=NegativeListItem.objects.all())
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    item_title = serializers.CharField(source="item.title", read_only=True)
    veto = serializers.BooleanField(source="item.veto", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = RiskEvent
        fields = [
            "id",
            "item",
            "item_title",
            "veto",
            "unit",
            "unit_name",
            "occurred_on",
            "description",
            "status",
            "status_display",
            "resolution",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = ["status", "resolution", "created_at", "resolved_at"]


class RiskEventResolveSerializer(Serializer):
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class ImportResultSerializer(Serializer):
    """The answer of an import (documentation only)."""

    detail = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
