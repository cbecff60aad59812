"""FilterSets shared by the HTML lists and the API."""

import django_filters
from django import forms
from django.db.models import Q, Subquery

from .choices import UnitKind
from .job_labels import JOB_LABELS
from .models import Campaign, JobRun, Membership, Unit

YES_NO_ALL = [("", "全部"), ("true", "是"), ("false", "否")]


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose auto-generated filters always carry their model field's Chinese label.

    django-filter names a filter from the model only once the instance sets `filter.model`; a form
    field built earlier on the class's filter (the API schema, a strict-query check) is cached
    without a label, deep-copied into every instance, and Django then shows the field's name
    ("Level"). Drop such a cached field so it is rebuilt with the label."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flt in self.filters.values():
            cached = flt.__dict__.get("_field")
            if cached is not None and cached.label is None and flt.label:
                del flt.__dict__["_field"]


def _unit_choices():
    """Units offered in filter drop-downs: districts, streets and departments (the lists a person
    picks from). Any unit id is accepted through the query string and the API."""
    rows = Unit.objects.filter(kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.DEPARTMENT], active=True)
    return [("", "全部")] + [
        (u.pk, ("　" * u.depth) + u.name) for u in rows.only("pk", "name", "depth").order_by("path")
    ]


class UnitFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label="类型")
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级单位", widget=forms.Select)
    within = django_filters.NumberFilter(
        method="filter_within", label="所辖范围", help_text="该单位及其全部下级", widget=forms.Select
    )
    active = django_filters.BooleanFilter(label="启用", widget=forms.Select(choices=YES_NO_ALL))

    class Meta:
        model = Unit
        fields = ["q", "kind", "parent", "within", "active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(code__icontains=value))

    def prepare_form(self) -> None:
        """Fill the drop-downs for an HTML page (one query); the API never pays for it."""
        choices = _unit_choices()
        for name in ("parent", "within"):
            self.form.fields[name].widget.choices = choices

    def filter_within(self, queryset, name, value):
        # One query: the subtree is every path that starts with the given unit's path.
        path = Unit.objects.filter(pk=value).values("path")[:1]
        return queryset.filter(path__startswith=Subquery(path))


class CampaignFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")
    active = django_filters.BooleanFilter(label="进行中", widget=forms.Select(choices=YES_NO_ALL))

    class Meta:
        model = Campaign
        fields = ["q", "level", "active"]


class MembershipFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")

    class Meta:
        model = Membership
        fields = ["q", "role", "unit"]

    def filter_q(self, queryset, name, value):
        """搜索 finds a person by login, name or mobile number, or by unit name."""
        return queryset.filter(
            Q(user__username__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__profile__phone__icontains=value)
            | Q(unit__name__icontains=value)
        )


class JobRunFilterSet(FilterSet):
    # The job's name picked by its Chinese label (campaign/job_labels.py), the code as the value.
    name = django_filters.ChoiceFilter(choices=list(JOB_LABELS.items()), label="任务", empty_label="全部")

    class Meta:
        model = JobRun
        fields = ["name", "status"]
