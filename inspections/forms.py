"""Forms of the field-inspection pages. They only read input; the services validate and write."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth import get_user_model

from campaign.choices import Role, UnitKind
from campaign.forms import DateInput
from campaign.models import Campaign, Unit

from .choices import ProblemSource, Result, RoundKind, Severity
from .models import CheckItem, Point, PointType

MAX_SEED = 2**63 - 1


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return ("　" * max(obj.depth - 1, 0)) + obj.name


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.short_name or obj.name


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username  # the name; the login only for an account without one


def point_units():
    """Where a point may belong: streets and communities — or a district, for a point the city's data
    places in no street (services._validate_point_unit) — in tree order."""
    return Unit.objects.filter(kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY], active=True).order_by(
        "path"
    )


def departments():
    return Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("path")


class PointForm(forms.Form):
    name = forms.CharField(label="名称", max_length=200)
    point_type = forms.ModelChoiceField(label="类别", queryset=PointType.objects.filter(active=True))
    unit = UnitChoiceField(label="所属社区或街道", queryset=point_units())
    address = forms.CharField(label="地址", max_length=300, required=False)
    latitude = forms.DecimalField(
        label="纬度",
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=-90,
        max_value=90,
        help_text="如 31.490000（WGS84）",
    )
    longitude = forms.DecimalField(
        label="经度",
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=-180,
        max_value=180,
        help_text="如 120.310000（WGS84）",
    )
    departments = UnitMultipleChoiceField(
        label="主管部门",
        queryset=departments(),
        required=False,
        help_text="新增时留空则采用该类别的默认主管部门。",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    sponsor = forms.ModelChoiceField(
        label="包保单位", queryset=Unit.objects.filter(active=True).order_by("path"), required=False
    )
    contact_name = forms.CharField(label="负责人", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=50, required=False)
    key_point = forms.BooleanField(label="重点点位", required=False)
    active = forms.BooleanField(label="启用", required=False, initial=True)

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", "经度和纬度需同时填写。")
        return data


class PointSelectMultiple(forms.SelectMultiple):
    """Options carry the point's type and district, so the page can filter the list by both."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        point = getattr(value, "instance", None)
        if point is not None:
            unit = point.unit
            district = unit.parent_id if unit.kind == UnitKind.STREET else getattr(unit.parent, "parent_id", None)
            option["attrs"].update({"data-type": point.point_type_id, "data-district": district or ""})
        return option


class PointMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.point_type.name} · {obj.unit.name}）"


def inspector_users():
    return (
        get_user_model()
        .objects.filter(memberships__role=Role.INSPECTOR, is_active=True)
        .distinct()
        .order_by("username")
    )


class QuotaMixin:
    """One number field per point type with active points: how many to draw in each district."""

    def add_quota_fields(self, point_types, initial_quota: dict | None = None) -> None:
        initial_quota = initial_quota or {}
        self.quota_fields = []
        for point_type in point_types:
            name = f"quota_{point_type.pk}"
            self.fields[name] = forms.IntegerField(
                label=point_type.name,
                required=False,
                min_value=0,
                max_value=1000,
                initial=initial_quota.get(str(point_type.pk)),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "0"}),
            )
            self.quota_fields.append((point_type, name))

    def quota(self) -> dict[int, int]:
        return {pt.pk: self.cleaned_data[name] for pt, name in self.quota_fields if self.cleaned_data.get(name)}

    def bound_quota_fields(self):
        return [self[name] for _pt, name in self.quota_fields]


class RoundForm(QuotaMixin, forms.Form):
    MODE_HAND, MODE_DRAW = "hand", "draw"

    campaign = forms.ModelChoiceField(label="创建活动", queryset=Campaign.objects.all())
    name = forms.CharField(label="名称", max_length=100, help_text="如：第47周督查")
    kind = forms.ChoiceField(label="类型", choices=RoundKind.choices)
    start_date = forms.DateField(label="开始日期", widget=DateInput())
    end_date = forms.DateField(label="结束日期", widget=DateInput())
    inspectors = UserMultipleChoiceField(
        label="督查员", queryset=inspector_users(), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    mode = forms.ChoiceField(
        label="点位来源",
        choices=[(MODE_HAND, "手工选择"), (MODE_DRAW, "按配额随机抽取")],
        initial=MODE_HAND,
        widget=forms.RadioSelect,
    )
    points = PointMultipleChoiceField(
        label="点位",
        required=False,
        queryset=Point.objects.filter(active=True).select_related("point_type", "unit__parent"),
        widget=PointSelectMultiple(attrs={"size": 12, "data-point-picker": "1"}),
    )
    seed = forms.IntegerField(
        label="随机种子",
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text="留空则随机生成；同一种子与配额可重现同一抽取结果。",
    )

    def __init__(self, *args, point_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_quota_fields(point_types)

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", "结束日期不能早于开始日期。")
        if data.get("mode") == self.MODE_DRAW and not self.quota():
            self.add_error(None, "按配额抽取时，请至少为一类点位填写抽取数量。")
        return data


class DrawForm(QuotaMixin, forms.Form):
    seed = forms.IntegerField(
        label="随机种子",
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text="留空则随机生成；填入已记录的种子可重现抽取结果。",
    )

    def __init__(self, *args, point_types=(), initial_quota=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_quota_fields(point_types, initial_quota)

    def clean(self):
        data = super().clean()
        if not self.quota():
            raise forms.ValidationError("请至少为一类点位填写每个区县的抽取数量。")
        return data


class CorrectionForm(forms.Form):
    """A full new set of observations for the same point, with the reason for the correction."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    correction_reason = forms.CharField(
        label="更正原因",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        error_messages={"required": "请填写更正原因。"},
    )
    note = forms.CharField(label="整体备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items: list[CheckItem] = (), previous: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        previous = previous or {}
        self.items = list(items)
        self.rows = []
        self.fields["client_uuid"].initial = uuid.uuid4()
        for item in self.items:
            old = previous.get(item.pk)
            prefix = f"item_{item.pk}"
            self.fields[f"{prefix}_result"] = forms.ChoiceField(
                label=item.text,
                choices=Result.choices,
                widget=forms.RadioSelect,
                initial=old.result if old else None,
                error_messages={"required": "请评定该项的结果。"},
            )
            self.fields[f"{prefix}_occurrences"] = forms.IntegerField(
                label="问题处数",
                min_value=0,
                max_value=100,
                required=False,
                initial=old.occurrences if old else 0,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.fields[f"{prefix}_note"] = forms.CharField(
                label="说明", required=False, max_length=1000, initial=old.note if old else ""
            )
            self.rows.append((item, prefix))

    def bound_rows(self):
        return [
            {
                "item": item,
                "result": self[f"{prefix}_result"],
                "occurrences": self[f"{prefix}_occurrences"],
                "note": self[f"{prefix}_note"],
                "photos_name": f"{prefix}_photos",
            }
            for item, prefix in self.rows
        ]

    def observations(self):
        from .services import ObservationInput

        return [
            ObservationInput(
                check_item=item.pk,
                result=self.cleaned_data[f"{prefix}_result"],
                occurrences=self.cleaned_data.get(f"{prefix}_occurrences") or 0,
                note=self.cleaned_data.get(f"{prefix}_note") or "",
            )
            for item, prefix in self.rows
        ]


# --- Problems the office registers ----------------------------------------------------------------


def territorial_units():
    """Where a problem may be located: districts, streets and communities, in tree order."""
    return Unit.objects.filter(kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY], active=True).order_by(
        "path"
    )


class PointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.point_type.name} · {obj.unit.name}）"


class CheckItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"【{obj.point_type.name}】{obj.text}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos from one file input (or the phone's camera); the service checks each one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files if f]


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; it needs ISO values, whatever the locale."""

    input_type = "datetime-local"

    def __init__(self, attrs=None, format="%Y-%m-%dT%H:%M"):
        super().__init__(attrs, format=format)


class ProblemForm(forms.Form):
    """A problem the office learnt of elsewhere: 领导交办, 12345转办, 市民随手拍, 上级通报."""

    source = forms.ChoiceField(
        label="来源",
        choices=[(value, label) for value, label in ProblemSource.choices if value != ProblemSource.INSPECTION],
        error_messages={"required": "请选择问题来源。", "invalid_choice": "请选择问题来源。"},
    )
    severity = forms.ChoiceField(label="严重程度", choices=Severity.choices, initial=Severity.NORMAL)
    description = forms.CharField(
        label="问题描述",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写问题描述。"},
    )
    unit = UnitChoiceField(
        label="属地单位",
        queryset=territorial_units(),
        required=False,
        empty_label="（按点位所在单位）",
        help_text="区县、街道或社区；选了点位可留空。",
    )
    point = PointChoiceField(
        label="点位",
        queryset=Point.objects.filter(active=True).select_related("point_type", "unit"),
        required=False,
        empty_label="（无）",
    )
    check_item = CheckItemChoiceField(
        label="测评细则",
        queryset=CheckItem.objects.filter(active=True)
        .select_related("point_type")
        .order_by("point_type__order", "point_type_id", "order", "id"),
        required=False,
        empty_label="（无）",
        help_text="须适用于所选点位的类别；测评标准随细则带出。",
    )
    found_at = forms.DateTimeField(
        label="发现时间",
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text="留空为现在。",
        error_messages={"invalid": "发现时间格式应为 2026-11-16 09:30。"},
    )
    campaign = forms.ModelChoiceField(
        label="创建活动", queryset=Campaign.objects.all(), error_messages={"required": "请选择创建活动。"}
    )
    photos = MultiplePhotoField(label="照片", required=False, help_text="可多选；JPG、PNG、WebP。")
