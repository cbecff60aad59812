"""FilterSets shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q

from .choices import UnitKind
from .models import Campaign, JobRun, Membership, Unit


class UnitFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label="类型")
    parent = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="上级单位")
    within = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_within", label="所辖范围", help_text="该单位及其全部下级"
    )
    active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = Unit
        fields = ["q", "kind", "parent", "within", "active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(code__icontains=value))

    def filter_within(self, queryset, name, value):
        return queryset.filter(path__startswith=value.path) if value else queryset


class CampaignFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")

    class Meta:
        model = Campaign
        fields = ["q", "level", "active"]


class MembershipFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")

    class Meta:
        model = Membership
        fields = ["q", "role", "unit"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(user__username__icontains=value) | Q(user__first_name__icontains=value) | Q(unit__name__icontains=value)
        )


class JobRunFilterSet(django_filters.FilterSet):
    class Meta:
        model = JobRun
        fields = ["name", "status"]
