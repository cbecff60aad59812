"""Forms of the 测评体系 pages. They only read input; the services validate and write."""

from __future__ import annotations

from django import forms

from campaign.forms import DateInput
from campaign.models import Campaign, Unit

from .choices import Method, SystemKind
from .models import Indicator, IndicatorSystem, NegativeListItem

MATERIAL_ACCEPT = ".pdf,.docx,.xlsx,.jpg,.jpeg,.png"
MATERIAL_HINT = (
    "可上传 PDF、Word (.docx)、Excel (.xlsx)、JPG、PNG，可一次选择多个文件；类型按文件内容检查，改扩展名无效。"
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple>; each checked by the service, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": MATERIAL_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def unit_label(unit: Unit) -> str:
    return ("　" * unit.depth) + unit.name


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return unit_label(obj)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return unit_label(obj)


class IndicatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.title}".strip()


# --- Systems and indicators ------------------------------------------------------------------


class SystemForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label="创建活动",
        queryset=Campaign.objects.order_by("-active", "evaluation_date"),
        help_text="创建活动的第一个测评体系即为当前使用的体系；再新建的体系不会替换它，需在体系页面点击“设为当前体系”。",
    )
    name = forms.CharField(label="名称", max_length=200, help_text="如：全国文明城市测评体系（2026年版）")
    kind = forms.ChoiceField(label="类别", choices=SystemKind.choices, initial=SystemKind.NATIONAL)
    year = forms.IntegerField(label="版本年份", min_value=2000, max_value=2100)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class IndicatorForm(forms.Form):
    code = forms.CharField(label="编号", max_length=30, required=False, help_text="如 Ⅲ-57、1)")
    title = forms.CharField(label="名称", max_length=300)
    text = forms.CharField(label="测评标准内容", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    weight = forms.DecimalField(
        label="分值",
        required=False,
        min_value=0,
        max_digits=7,
        decimal_places=2,
        help_text="留空则取下级分值之和。",
    )
    methods = forms.MultipleChoiceField(
        label="测评方法",
        choices=Method.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="不选则沿用上级的测评方法。",
    )
    requirements = forms.CharField(label="材料要求", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    point_types = forms.CharField(label="适用点位", max_length=500, required=False)
    deadline = forms.DateField(label="完成时限", required=False, widget=DateInput())
    veto = forms.BooleanField(label="一票否决", required=False)


class IndicatorUnitsForm(forms.Form):
    lead = UnitMultipleChoiceField(
        label="牵头单位",
        queryset=Unit.objects.filter(active=True).order_by("path"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="留空则继承上级指标的牵头单位。按住 Ctrl（苹果电脑为 ⌘）可多选。",
    )
    responsible = UnitMultipleChoiceField(
        label="责任单位",
        queryset=Unit.objects.filter(active=True).order_by("path"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="留空则继承上级指标的责任单位。",
    )


# --- Materials --------------------------------------------------------------------------------


class MaterialUploadForm(forms.Form):
    """A liaison's first submission: the indicator and unit come preselected from the 任务单 row."""

    indicator = IndicatorChoiceField(label="测评指标", queryset=Indicator.objects.none())
    unit = UnitChoiceField(label="报送单位", queryset=Unit.objects.none())
    description = forms.CharField(
        label="材料说明",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="简要说明材料内容，如：2026年公益广告宣传工作方案及现场照片。",
    )
    files = MultipleFileField(label="文件", required=False, help_text=MATERIAL_HINT)

    def __init__(self, *args, indicators=None, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if indicators is not None:
            self.fields["indicator"].queryset = indicators
        if units is not None:
            self.fields["unit"].queryset = units


class MaterialResubmitForm(forms.Form):
    """Complete a pending material or resubmit a returned one: new files, replacements, a new description.

    A replacement field `replace_<file id>` is added per current file; the old file stays as a
    previous version."""

    description = forms.CharField(label="材料说明", widget=forms.Textarea(attrs={"rows": 3}))
    files = MultipleFileField(label="新增文件", required=False, help_text=MATERIAL_HINT)

    def __init__(self, *args, current_files=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.replaceable = []
        for record in current_files:
            name = f"replace_{record.pk}"
            self.fields[name] = forms.FileField(
                label=f"替换“{record.original_name}”",
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": MATERIAL_ACCEPT}),
            )
            self.replaceable.append((record, name))

    def replacements(self) -> dict:
        return {record.pk: self.cleaned_data[name] for record, name in self.replaceable if self.cleaned_data.get(name)}


class MaterialReturnForm(forms.Form):
    reason = forms.CharField(
        label="退回原因",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "退回时请填写原因。"},
        help_text="写明缺什么、怎么改，联络员会在任务单和材料页看到。",
    )


# --- Negative list and risk events ------------------------------------------------------------


class NegativeItemForm(forms.Form):
    system = forms.ModelChoiceField(label="测评体系", queryset=IndicatorSystem.objects.select_related("campaign"))
    code = forms.CharField(label="编号", max_length=30, required=False)
    title = forms.CharField(label="事项", max_length=300)
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    veto = forms.BooleanField(label="一票否决", required=False)


class NegativeItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'【一票否决】' if obj.veto else ''}{obj}"


class RiskEventForm(forms.Form):
    item = NegativeItemChoiceField(
        label="负面清单事项",
        queryset=NegativeListItem.objects.select_related("system").order_by("system", "order", "id"),
    )
    unit = UnitChoiceField(label="涉及单位", queryset=Unit.objects.filter(active=True).order_by("path"))
    occurred_on = forms.DateField(label="发生日期", widget=DateInput())
    description = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 4}))


class RiskResolveForm(forms.Form):
    resolution = forms.CharField(
        label="处置情况",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写处置情况。"},
    )
