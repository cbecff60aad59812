"""The observation list: where every number of a ranking ends, with the photos behind it.

`charged=<unit>` keeps the observations charged to exactly that unit (what its ranking row counts);
`unit=<unit>` those charged anywhere in its subtree. Scoped like every observation read."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Prefetch

from campaign.generic import Col, ObjectListView
from campaign.models import Unit
from campaign.selectors import campaign_current
from indicators.models import Indicator

from .filters import ObservationFilterSet
from .models import Charge, CheckItem, Photo, PointType
from .selectors import KeyPagePaginator, observation_list


class ObservationPageFilterSet(ObservationFilterSet):
    point_type = django_filters.ModelChoiceFilter(
        field_name="point__point_type", queryset=PointType.objects.all(), label="点位类别", empty_label="全部"
    )
    charged = django_filters.NumberFilter(method="filter_charged", label="计分单位（本级）", widget=forms.HiddenInput)
    failing = django_filters.BooleanFilter(method="filter_failing", label="只看不合格", widget=forms.HiddenInput)

    class Meta(ObservationFilterSet.Meta):
        fields = [*ObservationFilterSet.Meta.fields, "point_type", "charged", "failing"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The drop-downs need a label and an id: not every column of 260 check items and 160
        # indicators (their texts and requirements).
        self.filters["check_item"].queryset = CheckItem.objects.only("pk", "text", "point_type_id", "order")
        self.filters["indicator"].queryset = Indicator.objects.only("pk", "code", "title", "system_id", "path")

    def filter_charged(self, queryset, name, value):
        return queryset.filter(Exists(Charge.objects.filter(observation=OuterRef("pk"), unit_id=value)))

    def filter_failing(self, queryset, name, value):
        return queryset.exclude(result="pass") if value else queryset


class ObservationListView(ObjectListView):
    template_name = "inspections/observation_list.html"
    filterset_class = ObservationPageFilterSet
    title = "观测记录"
    export_name = "观测记录"
    paginator_class = KeyPagePaginator
    empty_message = "没有观测记录。督查员在“现场督查”页录入后显示。"
    columns = [
        Col("观测时间", "observed_at"),
        Col("点位", "point.name"),
        Col("点位类别", "point.point_type.name"),
        Col("测评标准", lambda o: f"{o.indicator.code} {o.indicator.title[:24]}"),
        Col("检查内容", "check_item.text"),
        Col("结果", "result"),
        Col("问题处数", "occurrences"),
        Col("扣分", "deduction"),
        Col("得分", lambda o: f"{o.score:.2f}"),
        Col("说明", "note"),
    ]

    def base_queryset(self):
        return (
            observation_list(user=self.request.user, campaign=campaign_current())
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.only("id", "observation_id")))
            .order_by("-observed_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        charged = self.request.GET.get("charged")
        if charged and charged.isdigit():
            context["charged_unit"] = Unit.objects.filter(pk=charged).first()
        return context
