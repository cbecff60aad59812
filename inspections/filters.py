"""FilterSets of the field-inspection app, shared by the HTML lists and the API.

They know nothing of DRF: a bad value is a form error (Chinese), which the API answers with 400
and a page shows next to the field. Units filter by subtree (the unit and everything under it).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from html import escape

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.safestring import mark_safe

from campaign.filters import YES_NO_ALL, FilterSet, _unit_choices
from campaign.forms import DateInput
from campaign.models import Unit
from indicators.models import Indicator, IndicatorSystem

from .choices import ProblemSource, ProblemStatus, Result, RoundKind, Severity
from .models import CheckItem, Inspection, InspectionRound, Observation, Point, PointType, Problem
from .selectors import (
    WEEK_COUNTS,
    charged_q,
    handled_q,
    iso_week_bounds,
    observations_charged_to,
    overdue_q,
    responsible_q,
    week_count_q,
)

# A liaison's two views of its problems: what its units handle (块/主办) and what they are charged
# for (条: a department loses points for failures at its points, whoever fixes them).
RELATIONS = [("handled", "本单位主办"), ("charged", "本部门被计分")]
OPEN_STATUSES = [ProblemStatus.NEW, ProblemStatus.ASSIGNED, ProblemStatus.RECTIFYING, ProblemStatus.REVIEWING]

NEAR_PATTERN = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*$")
NEAR_FORMAT_MESSAGE = "near 的格式应为“纬度,经度”，例如 31.5,120.3。"


def parse_near(value: str) -> tuple[float, float]:
    """'31.5,120.3' → (31.5, 120.3); forms.ValidationError (Chinese) when malformed or out of range."""
    match = NEAR_PATTERN.match(value or "")
    if not match:
        raise forms.ValidationError(NEAR_FORMAT_MESSAGE, code="invalid")
    try:
        latitude, longitude = Decimal(match.group(1)), Decimal(match.group(2))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise forms.ValidationError(NEAR_FORMAT_MESSAGE, code="invalid") from None
    if not -90 <= latitude <= 90:
        raise forms.ValidationError("near 的纬度应在 -90 到 90 之间。", code="invalid")
    if not -180 <= longitude <= 180:
        raise forms.ValidationError("near 的经度应在 -180 到 180 之间。", code="invalid")
    return float(latitude), float(longitude)


class NearField(forms.CharField):
    """A "latitude,longitude" pair; cleans to a (lat, lng) tuple of floats."""

    def clean(self, value):
        value = super().clean(value)
        return parse_near(value) if value else None


class WeekField(forms.CharField):
    """An ISO week such as 2026-W47; cleans to the string, checked against the calendar."""

    def clean(self, value):
        value = super().clean(value)
        if value:
            try:
                iso_week_bounds(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc), code="invalid") from None
        return value


class NearFilter(django_filters.CharFilter):
    field_class = NearField


class WeekFilter(django_filters.CharFilter):
    """A week filter; on a page the browser's week picker (its value the ISO code, as in the URL)."""

    field_class = WeekField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "week"}))
        super().__init__(*args, **kwargs)


def _subtree(queryset: QuerySet, unit_field: str, unit_id) -> QuerySet:
    """Rows whose `unit_field` lies in the subtree of the unit (one query, unknown id → nothing)."""
    path = Unit.objects.filter(pk=unit_id).values("path")[:1]
    return queryset.filter(**{f"{unit_field}__path__startswith": Subquery(path)})


def _in_week(queryset: QuerySet, field_name: str, week: str) -> QuerySet:
    start, end = iso_week_bounds(week)
    return queryset.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


class QuickSelect(forms.Select):
    """The same <select> as Django's, written in Python: Django renders every <option> through a
    template include, and a city's filter form has about 800 of them (330 units, 260 check items,
    160 indicators) — most of an observation or problem list's time at city scale."""

    def render(self, name, value, attrs=None, renderer=None):
        wanted = set(self.format_value(value))
        attributes = "".join(
            f" {escape(key)}" if item is True else f' {escape(key)}="{escape(str(item))}"'
            for key, item in self.build_attrs(self.attrs, attrs).items()
            if item is not False
        )
        parts = [f'<select name="{escape(name)}"{attributes}>']
        chosen = False
        for option_value, option_label in self.choices:
            grouped = isinstance(option_label, (list, tuple))
            if grouped:
                parts.append(f'<optgroup label="{escape(str(option_value))}">')
            for sub_value, sub_label in option_label if grouped else [(option_value, option_label)]:
                text = "" if sub_value is None else str(sub_value)
                selected = not chosen and text in wanted
                chosen = chosen or selected
                parts.append(
                    f'<option value="{escape(text)}"{" selected" if selected else ""}>{escape(str(sub_label))}</option>'
                )
            if grouped:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # every value and label is escaped above


def quick_selects(form) -> None:
    """Render the form's plain drop-downs with QuickSelect (same HTML, no template per option)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            widget = QuickSelect.__new__(QuickSelect)
            widget.__dict__.update(field.widget.__dict__)
            field.widget = widget


class _UnitChoicesMixin:
    """Fill the unit drop-downs for an HTML page (one query); the API never pays for it."""

    unit_select_fields: tuple[str, ...] = ("unit",)

    def prepare_form(self) -> None:
        choices = _unit_choices()
        for name in self.unit_select_fields:
            self.form.fields[name].widget.choices = choices
        quick_selects(self.form)


class PointFilterSet(_UnitChoicesMixin, FilterSet):
    """`near` only keeps points that have coordinates: the caller orders them with
    selectors.points_near(queryset, latitude=…, longitude=…) (see parse_near)."""

    q = django_filters.CharFilter(method="filter_q", label="搜索")
    type = django_filters.ModelChoiceFilter(field_name="point_type", queryset=PointType.objects.all(), label="类别")
    unit = django_filters.NumberFilter(
        method="filter_unit", label="所属单位", help_text="该单位及其全部下级", widget=forms.Select
    )
    near = NearFilter(method="filter_near", label="附近", help_text="纬度,经度，如 31.5,120.3")
    round = django_filters.ModelChoiceFilter(
        field_name="rounds", queryset=InspectionRound.objects.all(), label="督查批次"
    )
    key_point = django_filters.BooleanFilter(label="重点点位", widget=forms.Select(choices=YES_NO_ALL))
    active = django_filters.BooleanFilter(label="启用", widget=forms.Select(choices=YES_NO_ALL))

    class Meta:
        model = Point
        fields = ["q", "type", "unit", "near", "round", "key_point", "active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))

    def filter_unit(self, queryset, name, value):
        return _subtree(queryset, "unit", value)

    def filter_near(self, queryset, name, value):
        return queryset.filter(latitude__isnull=False, longitude__isnull=False)


class CheckItemFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="搜索")
    point_type = django_filters.ModelChoiceFilter(queryset=PointType.objects.all(), label="点位类别")
    system = django_filters.ModelChoiceFilter(
        field_name="indicator__system", queryset=IndicatorSystem.objects.all(), label="测评体系"
    )
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label="严重程度")
    active = django_filters.BooleanFilter(label="启用", widget=forms.Select(choices=YES_NO_ALL))

    class Meta:
        model = CheckItem
        fields = ["q", "point_type", "system", "indicator", "severity", "active"]


class InspectionFilterSet(FilterSet):
    week = WeekFilter(method="filter_week", label="周次", help_text="如 2026-W47")

    class Meta:
        model = Inspection
        fields = ["round", "point", "inspector", "current", "far_from_point", "week"]

    def filter_week(self, queryset, name, value):
        return _in_week(queryset, "submitted_at", value)


class ObservationFilterSet(_UnitChoicesMixin, FilterSet):
    week = WeekFilter(method="filter_week", label="周次", help_text="如 2026-W47")
    round = django_filters.NumberFilter(field_name="inspection__round", label="督查批次")
    point = django_filters.NumberFilter(field_name="point", label="点位")
    unit = django_filters.NumberFilter(
        method="filter_unit", label="计分单位", help_text="计入该单位或其下级的观测", widget=forms.Select
    )
    result = django_filters.ChoiceFilter(choices=Result.choices, label="结果")

    class Meta:
        model = Observation
        fields = ["week", "round", "point", "unit", "result", "check_item", "indicator"]

    def filter_week(self, queryset, name, value):
        return _in_week(queryset, "observed_at", value)

    def filter_unit(self, queryset, name, value):
        return observations_charged_to(queryset, unit_id=value)


def _indicator_choices(selected=None) -> list:
    """The 测评项目 and 指标名称 of every system (grouped by system when there are several), indented
    by level, plus the chosen node when it is deeper: one query."""
    wanted = Q(level__lte=2)
    if selected is not None and str(selected).isdigit():
        wanted |= Q(pk=int(selected))
    nodes = list(
        Indicator.objects.filter(wanted)
        .select_related("system")
        .only("pk", "level", "code", "title", "system__name", "system__year")
        .order_by("-system__year", "system_id", "path")
    )
    groups: dict[int, tuple[str, list]] = {}
    for node in nodes:
        label = "　" * (node.level - 1) + f"{node.code} {node.title}".strip()
        groups.setdefault(node.system_id, (node.system.name, []))[1].append((node.pk, label))
    choices: list = [("", "全部")]
    if len(groups) > 1:
        choices += list(groups.values())
    else:
        choices += [option for _name, options in groups.values() for option in options]
    return choices


class ProblemFilterSet(_UnitChoicesMixin, FilterSet):
    """`unit` is the subtree of the located unit, the handler or a co-handler; `indicator` any node
    of the 测评体系 with everything under it (a 测评项目 takes in all its standards); `overdue=true`
    the open problems (not closed or void, not shelved) whose deadline is before today.
    `relation` is the liaison's own view: 本单位主办 (handled by or co-handled by its units) or
    本部门被计分 (its observation or a sighting charged to its units); a user who is no liaison has
    no units, so either reads nothing. `open=true` the problems not closed or void."""

    week = WeekFilter(method="filter_week", label="周次", help_text="按发现时间，如 2026-W47")
    relation = django_filters.ChoiceFilter(
        choices=RELATIONS, method="filter_relation", label="与本单位", help_text="本单位主办 / 本部门被计分"
    )
    status = django_filters.ChoiceFilter(choices=ProblemStatus.choices, label="状态")
    open = django_filters.BooleanFilter(method="filter_open", label="未办结", widget=forms.Select(choices=YES_NO_ALL))
    source = django_filters.ChoiceFilter(choices=ProblemSource.choices, label="来源")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label="严重程度")
    point = django_filters.NumberFilter(field_name="point", label="点位")
    round = django_filters.NumberFilter(field_name="observation__inspection__round", label="督查批次")
    unit = django_filters.NumberFilter(
        method="filter_unit", label="相关单位", help_text="属地、主办或协办为该单位及其下级", widget=forms.Select
    )
    handler = django_filters.NumberFilter(field_name="handler", label="主办单位", widget=forms.Select)
    point_type = django_filters.ModelChoiceFilter(
        field_name="point__point_type", queryset=PointType.objects.all(), label="点位类别", empty_label="全部"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="超期", widget=forms.Select(choices=YES_NO_ALL)
    )
    indicator = django_filters.NumberFilter(
        method="filter_indicator", label="测评指标", help_text="该指标及其全部下级", widget=forms.Select
    )
    # Where a ranking number leads: `responsible` (located in or handled by the unit's subtree, as the
    # ranking counts) and `counted` (one of WEEK_COUNTS) in `counted_week`.
    responsible = django_filters.NumberFilter(method="filter_responsible", label="责任单位", widget=forms.HiddenInput)
    counted = django_filters.ChoiceFilter(
        choices=list(WEEK_COUNTS.items()), method="filter_counted", label="评比口径", widget=forms.HiddenInput
    )
    counted_week = WeekFilter(method="filter_nothing", label="评比周次", widget=forms.HiddenInput)

    unit_select_fields = ("unit", "handler")

    class Meta:
        model = Problem
        fields = [
            "week",
            "relation",
            "status",
            "open",
            "source",
            "severity",
            "point",
            "round",
            "unit",
            "handler",
            "point_type",
            "overdue",
            "check_item",
            "indicator",
            "responsible",
            "counted",
            "counted_week",
        ]

    def filter_week(self, queryset, name, value):
        return _in_week(queryset, "found_at", value)

    def filter_relation(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if user is None:
            return queryset.none()
        return queryset.filter(handled_q(user) if value == "handled" else charged_q(user))

    def filter_open(self, queryset, name, value):
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)

    def filter_unit(self, queryset, name, value):
        path = Subquery(Unit.objects.filter(pk=value).values("path")[:1])
        co_handled = Problem.co_handlers.through.objects.filter(problem=OuterRef("pk"), unit__path__startswith=path)
        return queryset.filter(Q(unit__path__startswith=path) | Q(handler__path__startswith=path) | Exists(co_handled))

    def filter_responsible(self, queryset, name, value):
        unit = Unit.objects.filter(pk=value).only("pk", "path").first()
        return queryset.filter(responsible_q(unit)) if unit else queryset.none()

    def filter_counted(self, queryset, name, value):
        week = self.form.cleaned_data.get("counted_week")
        if not week:
            return queryset
        return queryset.exclude(status=ProblemStatus.VOID).filter(week_count_q(week)[value])

    def filter_nothing(self, queryset, name, value):
        return queryset  # read by filter_counted

    def filter_overdue(self, queryset, name, value):
        overdue = overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_indicator(self, queryset, name, value):
        path = Indicator.objects.filter(pk=value).values("path")[:1]
        return queryset.filter(indicator__path__startswith=Subquery(path))

    def prepare_form(self) -> None:
        super().prepare_form()
        if "indicator" in self.form.fields:
            self.form.fields["indicator"].widget.choices = _indicator_choices(self.form.data.get("indicator"))


class RoundFilterSet(FilterSet):
    """Rounds by name, kind, and the day they run on."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")
    kind = django_filters.ChoiceFilter(choices=RoundKind.choices, label="类型")
    on = django_filters.DateFilter(method="filter_on", label="进行日期", widget=DateInput())

    class Meta:
        model = InspectionRound
        fields = ["q", "kind", "on"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, end_date__gte=value)
