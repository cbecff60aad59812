"""Serializers of the field-inspection API. Explicit fields; writes are done by the services."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from campaign.api.serializers import ImportUploadSerializer, ModelSerializer, Serializer
from campaign.choices import Role
from campaign.models import Campaign, Unit
from indicators.models import Indicator, IndicatorSystem

from ..choices import ProblemSource, ProblemStatus, Severity
from ..models import CheckItem, Inspection, InspectionRound, Observation, Photo, Point, PointType, Problem, Report
from ..selectors import inspection_list

SIX_PLACES = Decimal("0.000001")


def _pk_messages(label: str, field: str) -> dict:
    return {
        "required": f"请指定{label}（{field}）。",
        "null": f"请指定{label}（{field}）。",
        "does_not_exist": f"{label} {{pk_value}} 不存在。",
        "incorrect_type": f"{label}应为编号（整数）。",
    }


class CoordinateField(serializers.DecimalField):
    """A latitude or longitude. Phones send many decimals: round to 6 places rather than refuse."""

    def __init__(self, *, label: str, bound: int, **kwargs):
        self.bound = Decimal(bound)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": f"{label}应为数字。",
                "min_value": f"{label}应在 -{bound} 到 {bound} 之间。",
                "max_value": f"{label}应在 -{bound} 到 {bound} 之间。",
                "max_string_length": f"{label}应为数字。",
            },
        )
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=Decimal(-bound),
            max_value=Decimal(bound),
            rounding=ROUND_HALF_UP,
            label=label,
            **kwargs,
        )

    def validate_precision(self, value):
        # Range first: quantizing 1e20 to six places overflows the decimal context
        # (decimal.InvalidOperation, once a 500); the range validators run only after this.
        if abs(value) > self.bound:
            self.fail("max_value", max_value=self.bound)
        return value.quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


def latitude_field(**kwargs) -> CoordinateField:
    return CoordinateField(label="纬度", bound=90, **kwargs)


def longitude_field(**kwargs) -> CoordinateField:
    return CoordinateField(label="经度", bound=180, **kwargs)


def _photo_url(name: str, photo_id: int, request) -> str | None:
    """The access-checked page view serving the photo. The page views ("photo-file",
    "photo-thumb") live in inspections/urls.py; until they are routed this answers None."""
    try:
        path = reverse(name, args=[photo_id])
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(path) if request is not None else path


# --- Reference data ---------------------------------------------------------------------------


class PointTypeSerializer(ModelSerializer):
    name = serializers.CharField(
        max_length=50,
        validators=[UniqueValidator(queryset=PointType.objects.all(), message="已有同名的点位类别。")],
        error_messages={"required": "请填写名称。", "blank": "请填写名称。", "max_length": "名称不能超过 50 个字。"},
    )
    departments = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Unit.objects.all(), error_messages=_pk_messages("单位", "departments")
    )

    class Meta:
        model = PointType
        fields = ["id", "name", "category", "order", "national", "active", "departments"]
        read_only_fields = ["national"]


class PointSerializer(ModelSerializer):
    point_type = serializers.PrimaryKeyRelatedField(
        queryset=PointType.objects.all(), error_messages=_pk_messages("点位类别", "point_type")
    )
    point_type_name = serializers.CharField(source="point_type.name", read_only=True)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), error_messages=_pk_messages("单位", "unit"))
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    departments = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Unit.objects.all(), error_messages=_pk_messages("主管部门", "departments")
    )
    sponsor = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, error_messages=_pk_messages("包保单位", "sponsor")
    )
    latitude = latitude_field(required=False, allow_null=True)
    longitude = longitude_field(required=False, allow_null=True)
    distance_m = serializers.SerializerMethodField(help_text="按 near 查询时到该点位的距离（米）")

    class Meta:
        model = Point
        fields = [
            "id",
            "name",
            "point_type",
            "point_type_name",
            "address",
            "latitude",
            "longitude",
            "unit",
            "unit_name",
            "departments",
            "sponsor",
            "contact_name",
            "contact_phone",
            "key_point",
            "active",
            "distance_m",
        ]
        # Uniqueness of name within type and unit is checked by the service, in Chinese.
        validators = []
        extra_kwargs = {"name": {"error_messages": {"required": "请填写名称。", "blank": "请填写名称。"}}}

    def get_distance_m(self, obj) -> int | None:
        return getattr(obj, "distance", None)

    def validate(self, attrs):
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            raise serializers.ValidationError({"latitude": ["经度和纬度需同时填写。"]})
        return attrs


class CheckItemSerializer(ModelSerializer):
    point_type = serializers.PrimaryKeyRelatedField(
        queryset=PointType.objects.all(), error_messages=_pk_messages("点位类别", "point_type")
    )
    indicator = serializers.PrimaryKeyRelatedField(
        queryset=Indicator.objects.all(), error_messages=_pk_messages("测评标准", "indicator")
    )
    indicator_code = serializers.CharField(source="indicator.code", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    departments = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Unit.objects.all(), error_messages=_pk_messages("责任部门", "departments")
    )
    order = serializers.IntegerField(required=False, min_value=0)
    deadline_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="整改时限（工作日，1–60）；null 则按严重程度的默认时限",
        error_messages={"invalid": "整改时限应为整数（工作日）。"},
    )

    class Meta:
        model = CheckItem
        fields = [
            "id",
            "point_type",
            "indicator",
            "indicator_code",
            "text",
            "counting_rule",
            "per_occurrence",
            "cap",
            "severity",
            "severity_display",
            "exemption_note",
            "departments",
            "order",
            "active",
            "deadline_days",
        ]
        validators = []  # the service checks uniqueness and the deadline's range, in Chinese
        extra_kwargs = {
            "text": {"error_messages": {"required": "请填写检查内容。", "blank": "请填写检查内容。"}},
            "per_occurrence": {"error_messages": {"required": "请填写每处扣分。", "invalid": "每处扣分应为数字。"}},
            "cap": {"error_messages": {"required": "请填写最高扣分。", "invalid": "最高扣分应为数字。"}},
        }

    def validate(self, attrs):
        item = self.instance
        if item is None:
            return attrs
        for key, label in (("point_type", "点位类别"), ("indicator", "测评标准")):
            if key in attrs and attrs[key] != getattr(item, key):
                raise serializers.ValidationError({key: [f"测评细则创建后不能修改{label}，请新建一条。"]})
        text = attrs.get("text")
        if (
            text is not None
            and text != item.text
            and CheckItem.objects.filter(point_type_id=item.point_type_id, indicator_id=item.indicator_id, text=text)
            .exclude(pk=item.pk)
            .exists()
        ):
            # check_item_update does not check this; without it the database refuses with a 500.
            raise serializers.ValidationError({"text": ["该点位类别下已有相同的检查内容。"]})
        return attrs


class CheckItemImportSerializer(Serializer):
    extra_input_fields = ("file", "dry_run")  # read by the shared import (run_import)
    system = serializers.PrimaryKeyRelatedField(
        queryset=IndicatorSystem.objects.all(), error_messages=_pk_messages("测评体系", "system")
    )


class PointImportUploadSerializer(ImportUploadSerializer):
    """Documented shape of the points import (file, dry_run)."""


class PointTypeImportUploadSerializer(ImportUploadSerializer):
    """Documented shape of the point types import (file, dry_run)."""


class CheckItemImportUploadSerializer(ImportUploadSerializer):
    """Documented shape of the check-items import (file, system, dry_run)."""

    system = serializers.IntegerField()


# --- Rounds -----------------------------------------------------------------------------------


def _inspectors():
    return get_user_model().objects.filter(memberships__role=Role.INSPECTOR).distinct()


class RoundSerializer(ModelSerializer):
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), error_messages=_pk_messages("创建活动", "campaign")
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    inspectors = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=_inspectors(),
        error_messages={
            **_pk_messages("督查员", "inspectors"),
            "does_not_exist": "用户 {pk_value} 不存在或不是督查员。",
        },
    )
    points = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Point.objects.all(), error_messages=_pk_messages("点位", "points")
    )
    point_count = serializers.IntegerField(read_only=True)
    inspection_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = InspectionRound
        fields = [
            "id",
            "campaign",
            "name",
            "kind",
            "kind_display",
            "start_date",
            "end_date",
            "inspectors",
            "points",
            "sample_seed",
            "sample_quota",
            "point_count",
            "inspection_count",
            "created_at",
        ]
        read_only_fields = ["sample_seed", "sample_quota", "created_at"]
        extra_kwargs = {
            "name": {"error_messages": {"required": "请填写名称。", "blank": "请填写名称。"}},
            "kind": {"error_messages": {"required": "请选择类型。", "invalid_choice": "未知的批次类型“{input}”。"}},
            "start_date": {
                "error_messages": {"required": "请填写开始日期。", "invalid": "开始日期格式应为 2026-11-16。"}
            },
            "end_date": {
                "error_messages": {"required": "请填写结束日期。", "invalid": "结束日期格式应为 2026-11-22。"}
            },
        }

    @property
    def _readable_fields(self):
        listed = self.context.get("round_point_ids") is not None
        return [field for field in super()._readable_fields if not (listed and field.field_name == "points")]

    def to_representation(self, instance):
        """With `round_point_ids` in the context ({round id: [point ids]}, read by the list in one
        query of pairs) the points are not read as Point rows: a 20,000-point round built 20,000
        model instances to print their ids (city bench: most of the rounds list's 1 s)."""
        data = super().to_representation(instance)
        point_ids = self.context.get("round_point_ids")
        if point_ids is None:
            return data
        return {
            name: point_ids.get(instance.pk, []) if name == "points" else data[name]
            for name in self.Meta.fields
            if name == "points" or name in data
        }


class RoundDrawSerializer(Serializer):
    quota = serializers.DictField(
        child=serializers.IntegerField(error_messages={"invalid": "抽取数量应为整数。"}),
        allow_empty=False,
        help_text="每类点位的抽取数量：{点位类别编号: 数量}",
        error_messages={
            "required": "请填写抽样配额 quota。",
            "empty": "请填写抽样配额 quota。",
            # DRF formats the message with str.format: the braces are doubled to stay literal.
            "not_a_dict": "quota 应为 {{点位类别编号: 数量}}。",
        },
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**63 - 1,
        error_messages={
            "invalid": "抽样种子应为整数。",
            "min_value": "抽样种子不能小于 0。",
            "max_value": "抽样种子过大。",
        },
    )

    def validate_quota(self, value: dict) -> dict[int, int]:
        quota = {}
        for key, count in value.items():
            try:
                quota[int(key)] = count
            except (TypeError, ValueError):
                raise serializers.ValidationError(f"“{key}”不是点位类别编号。") from None
        known = set(PointType.objects.filter(pk__in=quota).values_list("pk", flat=True))
        unknown = sorted(set(quota) - known)
        if unknown:
            raise serializers.ValidationError(f"点位类别 {'、'.join(map(str, unknown))} 不存在。")
        return quota


# --- Photos -----------------------------------------------------------------------------------


class PhotoUploadSerializer(Serializer):
    # Any file reaches the service, which checks the content and answers in Chinese.
    file = serializers.FileField(
        allow_empty_file=True,
        error_messages={
            "required": "请上传照片（字段 file）。",
            "invalid": "请上传照片（字段 file）。",
            "no_name": "请上传照片（字段 file）。",
        },
    )


class PhotoFlagSerializer(Serializer):
    """A doubt about a photo: its code, the reason in Chinese, and the earlier photo it repeats."""

    code = serializers.CharField()
    message = serializers.CharField()
    earlier_photo = serializers.IntegerField(source="earlier_photo_id", allow_null=True)


class PhotoSerializer(ModelSerializer):
    flags = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "width",
            "height",
            "taken_at",
            "exif_latitude",
            "exif_longitude",
            "url",
            "thumbnail_url",
            "flags",
        ]

    @extend_schema_field(PhotoFlagSerializer(many=True))
    def get_flags(self, obj) -> list:
        # Just uploaded: the flags the upload wrote; else the photo's (prefetch `flags` on lists).
        flags = getattr(obj, "new_flags", None)
        if flags is None:
            flags = obj.flags.all()
        return PhotoFlagSerializer(flags, many=True).data

    def get_url(self, obj) -> str | None:
        return _photo_url("photo-file", obj.pk, self.context.get("request"))

    def get_thumbnail_url(self, obj) -> str | None:
        return _photo_url("photo-thumb", obj.pk, self.context.get("request"))


# --- Inspections and observations -------------------------------------------------------------


class ObservationInputSerializer(Serializer):
    """One line of an inspection. Only the types are checked here; the service checks the rest
    (applies to the point's type, result, occurrences 0–100, photos) with the line number."""

    check_item = serializers.IntegerField(
        error_messages={"required": "请指定检查项（check_item）。", "invalid": "检查项应为编号（整数）。"}
    )
    result = serializers.CharField(
        error_messages={"required": "请填写检查结果（result）。", "blank": "请填写检查结果（result）。"}
    )
    occurrences = serializers.IntegerField(default=0, error_messages={"invalid": "问题处数应为整数。"})
    note = serializers.CharField(
        default="", allow_blank=True, max_length=2000, error_messages={"max_length": "说明不能超过 2000 字。"}
    )
    photos = serializers.ListField(
        child=serializers.IntegerField(error_messages={"invalid": "照片应为编号（整数）。"}),
        default=list,
        error_messages={"not_a_list": "photos 应为照片编号的列表。"},
    )


class ReadableInspectionField(serializers.PrimaryKeyRelatedField):
    """Only a record the user may read can be corrected. The scoped query is built when a body
    names one, not for every submission."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is not None:
            return inspection_list(user=request.user)
        return super().get_queryset()


class InspectionCreateSerializer(Serializer):
    round = serializers.PrimaryKeyRelatedField(
        queryset=InspectionRound.objects.select_related("campaign"), error_messages=_pk_messages("督查批次", "round")
    )
    point = serializers.PrimaryKeyRelatedField(
        queryset=Point.objects.select_related("point_type", "unit"), error_messages=_pk_messages("点位", "point")
    )
    observations = ObservationInputSerializer(
        many=True,
        error_messages={
            "required": "请至少记录一项检查结果。",
            "not_a_list": "observations 应为检查结果的列表。",
        },
    )
    latitude = latitude_field(required=False, allow_null=True)
    longitude = longitude_field(required=False, allow_null=True)
    client_uuid = serializers.CharField(
        error_messages={
            "required": "请提供 client_uuid（客户端生成的 UUID，重试时不变）。",
            "blank": "请提供 client_uuid（客户端生成的 UUID，重试时不变）。",
        }
    )
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, error_messages={"invalid": "开始时间格式有误，应为 ISO 8601。"}
    )
    observed_at = serializers.DateTimeField(
        required=False, allow_null=True, error_messages={"invalid": "检查时间格式有误，应为 ISO 8601。"}
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    supersedes = ReadableInspectionField(
        queryset=Inspection.objects.all(),
        required=False,
        allow_null=True,
        error_messages=_pk_messages("被更正的记录", "supersedes"),
    )
    correction_reason = serializers.CharField(required=False, allow_blank=True, default="")


class ObservationInInspectionSerializer(ModelSerializer):
    result_display = serializers.CharField(source="get_result_display", read_only=True)
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    charged_units = serializers.SerializerMethodField()

    class Meta:
        model = Observation
        fields = [
            "id",
            "check_item",
            "indicator",
            "result",
            "result_display",
            "occurrences",
            "note",
            "deduction",
            "loss",
            "score",
            "photos",
            "charged_units",
        ]

    def get_charged_units(self, obj) -> list[int]:
        return sorted(charge.unit_id for charge in obj.charges.all())


class ProblemSummarySerializer(ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Problem
        fields = ["id", "status", "status_display", "observation", "unit", "severity", "deduction", "description"]


class InspectionSerializer(ModelSerializer):
    point_name = serializers.CharField(source="point.name", read_only=True)
    inspector_name = serializers.SerializerMethodField()
    observations = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = [
            "id",
            "round",
            "point",
            "point_name",
            "inspector",
            "inspector_name",
            "client_uuid",
            "started_at",
            "submitted_at",
            "latitude",
            "longitude",
            "distance_m",
            "far_from_point",
            "note",
            "current",
            "supersedes",
            "correction_reason",
            "observations",
            "problems",
        ]

    def get_inspector_name(self, obj) -> str:
        return obj.inspector.get_full_name() or obj.inspector.get_username()

    def _observations(self, obj) -> list[Observation]:
        # The view prefetches the observations the user may see as `visible_observations`.
        visible = getattr(obj, "visible_observations", None)
        return visible if visible is not None else list(obj.observations.all())

    @extend_schema_field(ObservationInInspectionSerializer(many=True))
    def get_observations(self, obj) -> list[dict]:
        return ObservationInInspectionSerializer(self._observations(obj), many=True, context=self.context).data

    @extend_schema_field(ProblemSummarySerializer(many=True))
    def get_problems(self, obj) -> list[dict]:
        covers = self.context.get("covers_unit", lambda unit: True)
        problems = []
        for observation in self._observations(obj):
            try:
                problem = observation.problem
            except Problem.DoesNotExist:
                continue
            if covers(problem.unit):
                problems.append(problem)
        return ProblemSummarySerializer(problems, many=True, context=self.context).data


class ObservationSerializer(ModelSerializer):
    charged_units = serializers.SerializerMethodField(help_text="计分单位编号（升序）")

    class Meta:
        model = Observation
        fields = [
            "id",
            "inspection",
            "point",
            "check_item",
            "indicator",
            "result",
            "occurrences",
            "deduction",
            "loss",
            "score",
            "charged_units",
            "observed_at",
        ]

    def get_charged_units(self, obj) -> list[int]:
        return sorted(charge.unit_id for charge in obj.charges.all())


# --- Problems ---------------------------------------------------------------------------------


class SightingSerializer(ModelSerializer):
    """A later failing observation of the same item at the same point while the problem was open:
    which observation, in which inspection, by whom and when it was submitted."""

    observation = serializers.IntegerField(source="pk", read_only=True)
    inspection = serializers.IntegerField(source="inspection_id", read_only=True)
    inspector = serializers.IntegerField(source="inspection.inspector_id", read_only=True)
    inspector_name = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="inspection.submitted_at", read_only=True)

    class Meta:
        model = Observation
        fields = ["observation", "inspection", "inspector", "inspector_name", "at"]

    def get_inspector_name(self, obj) -> str:
        inspector = obj.inspection.inspector
        return inspector.get_full_name() or inspector.get_username()


class ProblemReportSerializer(ModelSerializer):
    """A report of the public accepted as or merged into the problem (a sighting of it)."""

    channel_label = serializers.CharField(source="get_channel_display", read_only=True)

    class Meta:
        model = Report
        fields = ["reference", "channel", "channel_label", "status", "submitted_at"]
        read_only_fields = fields


class ProblemSerializer(ModelSerializer):
    """A problem and its workflow state (read-only; accountability's endpoints move it). `overdue`
    is computed from the row: open, not shelved, deadline before today (Asia/Shanghai)."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    co_handlers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    sightings = SightingSerializer(many=True, read_only=True, help_text="再次发现：观测、督查记录、督查员、时间")
    reports = ProblemReportSerializer(many=True, read_only=True, help_text="群众反映：受理或合并到本问题的反映")
    overdue = serializers.SerializerMethodField()
    days_overdue = serializers.SerializerMethodField(help_text="超期天数（日历日；未超期为 null）")
    closed_on_time = serializers.SerializerMethodField(help_text="已销号问题是否按期（其他为 null）")

    class Meta:
        model = Problem
        fields = [
            "id",
            "status",
            "status_display",
            "source",
            "point",
            "check_item",
            "indicator",
            "unit",
            "description",
            "severity",
            "deduction",
            "photos",
            "found_at",
            "handler",
            "co_handlers",
            "deadline",
            "original_deadline",
            "rework_count",
            "shelved",
            "shelved_until",
            "pending_request",
            "requested_deadline",
            "closed_at",
            "rebound_of",
            "sightings",
            "reports",
            "version",
            "overdue",
            "days_overdue",
            "closed_on_time",
        ]
        read_only_fields = fields

    def get_overdue(self, problem: Problem) -> bool:
        return bool(
            problem.deadline
            and not problem.shelved
            and problem.status not in (ProblemStatus.CLOSED, ProblemStatus.VOID)
            and problem.deadline < timezone.localdate()
        )

    def get_days_overdue(self, problem: Problem) -> int | None:
        """Calendar days past the deadline of an overdue problem (annotated by with_deadline_facts)."""
        overdue_by = getattr(problem, "overdue_by", None)
        return overdue_by.days if overdue_by is not None else None

    def get_closed_on_time(self, problem: Problem) -> bool | None:
        return getattr(problem, "closed_on_time", None)


class ProblemCreateSerializer(Serializer):
    """A problem the office registers (领导交办, 12345转办, 市民随手拍, 上级通报). Only the shapes are
    checked here; inspections.services.problem_create checks the rest, in Chinese. `photos` are
    ids from POST photos/; `campaign` defaults to the current one."""

    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, error_messages=_pk_messages("创建活动", "campaign")
    )
    # Every source, so the schema names one enum; the service refuses "inspection" in Chinese.
    source = serializers.ChoiceField(
        choices=ProblemSource.choices,
        help_text="leader 领导交办、hotline 12345转办、citizen 市民随手拍、superior 上级通报",
        error_messages={
            "required": "请选择问题来源（source）。",
            "invalid_choice": "问题来源“{input}”无效：可填 leader、hotline、citizen、superior。",
        },
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, error_messages=_pk_messages("属地单位", "unit")
    )
    point = serializers.PrimaryKeyRelatedField(
        queryset=Point.objects.select_related("point_type", "unit"),
        required=False,
        allow_null=True,
        error_messages=_pk_messages("点位", "point"),
    )
    check_item = serializers.PrimaryKeyRelatedField(
        queryset=CheckItem.objects.select_related("indicator"),
        required=False,
        allow_null=True,
        error_messages=_pk_messages("测评细则", "check_item"),
    )
    description = serializers.CharField(
        max_length=2000,
        error_messages={
            "required": "请填写问题描述（description）。",
            "blank": "请填写问题描述（description）。",
            "max_length": "问题描述不能超过 2000 字。",
        },
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        default=Severity.NORMAL,
        error_messages={"invalid_choice": "严重程度只能是 normal（一般）或 severe（严重）。"},
    )
    photos = serializers.ListField(
        child=serializers.IntegerField(error_messages={"invalid": "照片应为编号（整数）。"}),
        default=list,
        error_messages={"not_a_list": "photos 应为照片编号的列表。"},
    )
    found_at = serializers.DateTimeField(
        required=False, allow_null=True, error_messages={"invalid": "发现时间格式有误，应为 ISO 8601。"}
    )
