"""FilterSets of the 测评体系 app, shared by the HTML lists and the API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from campaign.filters import YES_NO_ALL, FilterSet, _unit_choices

from .choices import Level, MaterialStatus, Method, RiskStatus
from .models import Assignment, Indicator, IndicatorMethod, IndicatorSystem, Material, RiskEvent


def _system_choices():
    return [("", "全部")] + [(s.pk, s.name) for s in IndicatorSystem.objects.only("pk", "name")]


class IndicatorFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")
    system = django_filters.NumberFilter(field_name="system_id", label="测评体系", widget=forms.Select)
    level = django_filters.ChoiceFilter(choices=Level.choices, label="层级")
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级指标")
    unit = django_filters.NumberFilter(
        method="filter_unit", label="单位", help_text="牵头或责任单位（含从上级继承）", widget=forms.Select
    )
    method = django_filters.ChoiceFilter(choices=Method.choices, method="filter_method", label="测评方法")

    class Meta:
        model = Indicator
        fields = ["q", "system", "level", "parent", "unit", "method"]

    def prepare_form(self) -> None:
        """Fill the drop-downs for an HTML page (two queries); the API never pays for it."""
        self.form.fields["system"].widget.choices = _system_choices()
        self.form.fields["unit"].widget.choices = _unit_choices()

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value) | Q(text__icontains=value))

    def filter_unit(self, queryset, name, value):
        # Inherited assignments are stored rows too, so one EXISTS covers own and inherited.
        return queryset.filter(Exists(Assignment.objects.filter(indicator=OuterRef("pk"), unit_id=value)))

    def filter_method(self, queryset, name, value):
        return queryset.filter(Exists(IndicatorMethod.objects.filter(indicator=OuterRef("pk"), method=value)))


class MaterialFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")
    status = django_filters.ChoiceFilter(choices=MaterialStatus.choices, label="状态")
    system = django_filters.NumberFilter(field_name="indicator__system_id", label="测评体系", widget=forms.Select)
    unit = django_filters.NumberFilter(field_name="unit_id", label="报送单位", widget=forms.Select)
    indicator = django_filters.NumberFilter(field_name="indicator_id", label="测评指标")

    class Meta:
        model = Material
        fields = ["q", "status", "system", "unit", "indicator"]

    def prepare_form(self) -> None:
        self.form.fields["system"].widget.choices = _system_choices()
        self.form.fields["unit"].widget.choices = _unit_choices()

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(description__icontains=value)
            | Q(indicator__code__icontains=value)
            | Q(indicator__title__icontains=value)
            | Q(unit__name__icontains=value)
        )


class RiskEventFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=RiskStatus.choices, label="状态")
    system = django_filters.NumberFilter(field_name="item__system_id", label="测评体系", widget=forms.Select)
    item = django_filters.NumberFilter(field_name="item_id", label="负面清单事项")
    unit = django_filters.NumberFilter(field_name="unit_id", label="涉及单位", widget=forms.Select)
    veto = django_filters.BooleanFilter(
        field_name="item__veto", label="一票否决", widget=forms.Select(choices=YES_NO_ALL)
    )

    class Meta:
        model = RiskEvent
        fields = ["status", "system", "item", "unit", "veto"]

    def prepare_form(self) -> None:
        self.form.fields["system"].widget.choices = _system_choices()
        self.form.fields["unit"].widget.choices = _unit_choices()
