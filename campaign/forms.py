"""Forms of the shared kernel. They only read input; the services validate and write."""

from django import forms
from django.contrib.auth import get_user_model

from .choices import PhaseKind, Role, UnitKind
from .models import Campaign, Unit
from .services import CAMPAIGN_FIELDS


class DateInput(forms.DateInput):
    """A browser date picker; it needs ISO dates, whatever the locale formats dates as."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format=format)


class UnitForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    short_name = forms.CharField(label="简称", max_length=50, required=False)
    code = forms.CharField(label="编码", max_length=50)
    kind = forms.ChoiceField(
        label="类型",
        choices=UnitKind.choices,
        help_text="部门的上级为区县（或区县下的部门）时即为区直部门，按活动的“区直部门排名”规则排名。",
    )
    parent = forms.ModelChoiceField(label="上级单位", queryset=Unit.objects.order_by("path"), required=False)
    active = forms.BooleanField(label="启用", required=False, initial=True)
    leader_name = forms.CharField(label="主要负责人", max_length=50, required=False)
    liaison_name = forms.CharField(label="联络员", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=50, required=False)


class UnitContactsForm(forms.Form):
    leader_name = forms.CharField(label="主要负责人", max_length=50, required=False)
    liaison_name = forms.CharField(label="联络员", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=50, required=False)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = list(CAMPAIGN_FIELDS)  # every field campaign_update accepts, in that order
        widgets = {
            "start_date": DateInput(),
            "evaluation_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def validate_unique(self):
        """The service checks; a ModelForm must not write or pre-empt it."""


class PhasesForm(forms.Form):
    """One row per phase; a phase left blank is not part of the campaign."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in PhaseKind.choices:
            self.fields[f"{kind}_start"] = forms.DateField(label=f"{label} 开始", required=False, widget=DateInput())
            self.fields[f"{kind}_end"] = forms.DateField(label=f"{label} 结束", required=False, widget=DateInput())
            self.fields[f"{kind}_note"] = forms.CharField(label=f"{label} 工作重点", required=False, max_length=200)

    def clean(self):
        data = super().clean()
        self.phases = []
        for kind, label in PhaseKind.choices:
            start, end, note = data.get(f"{kind}_start"), data.get(f"{kind}_end"), data.get(f"{kind}_note") or ""
            if start and end:
                self.phases.append((kind, start, end, note))
            elif start or end:
                self.add_error(f"{kind}_end" if start else f"{kind}_start", f"{label}的开始和结束日期需同时填写。")
        return data


class MembershipForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, help_text="已有账号直接填用户名；新账号同时填写姓名和初始密码。"
    )
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    password = forms.CharField(
        label="初始密码", required=False, widget=forms.PasswordInput(render_value=False), min_length=8
    )
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    unit = forms.ModelChoiceField(
        label="所属单位",
        queryset=Unit.objects.filter(active=True).order_by("path"),
        required=False,
        help_text="单位联络员必填；其可见范围为该单位及其下级。",
    )

    def clean(self):
        data = super().clean()
        username = data.get("username")
        if username and not get_user_model().objects.filter(username=username).exists() and not data.get("password"):
            self.add_error("password", "新账号需要设置初始密码（至少 8 位）。")
        return data


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    """People picked by their names (the login only for an account without one)."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class WorkGroupForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    duties = forms.CharField(label="职责", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    leaders = PersonMultipleChoiceField(
        label="牵头领导",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    units = forms.ModelMultipleChoiceField(
        label="成员单位",
        queryset=Unit.objects.filter(active=True).order_by("path"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    order = forms.IntegerField(label="排序", min_value=0, initial=0)
