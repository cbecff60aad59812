"""Forms of the rectification pages: one transition of a problem, and the bulk 交办."""

from __future__ import annotations

from django import forms

from campaign.forms import DateInput
from campaign.models import Unit

from .choices import Action


def _units():
    return Unit.objects.filter(active=True).order_by("path")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{'　' * obj.depth}{obj.name}" if getattr(obj, "depth", None) else obj.name


class TransitionForm(forms.Form):
    """Every field any action may carry; which are required is decided by the state machine."""

    action = forms.ChoiceField(label="操作", choices=Action.choices)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    handler = UnitChoiceField(label="主办单位", queryset=Unit.objects.none(), required=False)
    co_handlers = forms.ModelMultipleChoiceField(label="协办单位", queryset=Unit.objects.none(), required=False)
    deadline = forms.DateField(label="日期", required=False, widget=DateInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = _units()
        self.fields["co_handlers"].queryset = _units()


class BulkAssignForm(forms.Form):
    """Several problems of the 交办 queue, one handler (or each its default) and one deadline (or each its default)."""

    problems = forms.TypedMultipleChoiceField(label="问题", coerce=int, choices=())
    handler = UnitChoiceField(
        label="主办单位", queryset=Unit.objects.none(), required=False, empty_label="按各问题的默认主办单位"
    )
    deadline = forms.DateField(label="整改期限", required=False, widget=DateInput)

    def __init__(self, *args, problem_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = _units()
        self.fields["problems"].choices = [(pk, pk) for pk in problem_ids]
        self.fields["problems"].error_messages["required"] = "请至少选择一个问题。"
        self.fields["problems"].error_messages["invalid_choice"] = "所选问题不在待交办队列中，请刷新后重试。"
