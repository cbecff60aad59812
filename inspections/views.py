"""Pages of the field-inspection app: points (list, map, page, import), check items, rounds and
their draw, the mobile recording page, inspections and their corrections, problems (list, page,
the office's 登记问题) and photos served only to those who may see them."""

from __future__ import annotations

import datetime
import io
import json
import uuid
from decimal import Decimal, InvalidOperation
from functools import partial

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views import View
from django.views.decorators.http import require_POST

from campaign.exporting import safe_row, workbook_bytes
from campaign.filters import YES_NO_ALL
from campaign.generic import (
    Col,
    ImportView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    apply_validation_error,
    xlsx_response,
)
from campaign.models import Unit
from campaign.selectors import campaign_current, scope_for
from campaign.weeks import week_label
from indicators.models import IndicatorSystem

from . import importing, services
from .choices import Result, RoundKind, Severity
from .filters import RELATIONS, CheckItemFilterSet, PointFilterSet, ProblemFilterSet, RoundFilterSet
from .forms import (
    CorrectionForm,
    DrawForm,
    PointForm,
    ProblemForm,
    RoundForm,
    UnitMultipleChoiceField,
    departments,
)
from .models import CheckItem, Inspection, InspectionRound, Photo, PointType, Problem
from .selectors import (
    WEEK_COUNTS,
    KeyPagePaginator,
    check_items_for,
    deadline_fact,
    inspection_list,
    is_department_liaison,
    observation_list,
    photo_visible_to,
    point_list,
    problem_charges,
    problem_list,
    round_list,
    with_deadline_facts,
)

# Colours of point types on the maps, in the order of the types.
TYPE_COLOURS = [
    "#1971c2",
    "#e03131",
    "#2f9e44",
    "#f08c00",
    "#7048e8",
    "#0c8599",
    "#e64980",
    "#5c940d",
    "#862e9c",
    "#868e96",
    "#a61e4d",
    "#364fc7",
    "#d9480f",
    "#212529",
]


def _forbid_unless(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _can_see_rounds(user) -> bool:
    scope = scope_for(user)
    return scope.is_office or scope.is_leader or scope.is_inspector


def _can_record(user) -> bool:
    scope = scope_for(user)
    return scope.is_office or scope.is_inspector


def _type_colours(types) -> dict[int, str]:
    return {t.pk: TYPE_COLOURS[index % len(TYPE_COLOURS)] for index, t in enumerate(types)}


class ChineseFilterLabelsMixin:
    """Drop-downs of the HTML filters read “全部” when nothing is chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flt in self.filters.values():
            if isinstance(flt, django_filters.ChoiceFilter):
                flt.extra["empty_label"] = "全部"


def score_label(value) -> str:
    """Decimal('0.50') → '0.5', Decimal('2.00') → '2'."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class InspectionListMixin:
    """The lists of this app use a template that keeps hidden filters (point, round) out of sight."""

    template_name = "generic/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["extra_actions"] = self.get_extra_actions()
        return context

    def get_extra_actions(self) -> list[tuple[str, str]]:
        return []


# --- Points -----------------------------------------------------------------------------------


class PointPageFilterSet(ChineseFilterLabelsMixin, PointFilterSet):
    """The point filters of the HTML pages: `near` is the API's; rounds offered are the user's."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters.pop("near", None)
        if request is not None and not _can_see_rounds(request.user):
            self.filters.pop("round", None)
        elif request is not None:
            self.filters["round"].queryset = round_list(user=request.user, counts=False).order_by("-start_date", "-id")


class PointListView(InspectionListMixin, ObjectListView):
    title = "点位"
    paginator_class = KeyPagePaginator
    filterset_class = PointPageFilterSet
    add_url_name = "point-create"
    import_url_name = "point-import"
    export_name = "点位"
    empty_message = "还没有点位。"
    empty_hint = "请通过“导入”上传点位清单（名称、类型、所属社区或街道、经纬度等）。"
    columns = [
        Col("名称", "name", link=True),
        Col("类别", "point_type.name"),
        Col("所属单位", "unit.name"),
        Col("上级单位", "unit.parent.name"),
        Col("地址", "address"),
        Col("重点", "key_point"),
        Col("启用", "active"),
    ]

    def base_queryset(self):
        return point_list(user=self.request.user)

    def get_extra_actions(self):
        query = self.request.GET.copy()
        query.pop("page", None)
        url = reverse("point-map") + (f"?{query.urlencode()}" if query else "")
        return [("地图", url), ("点位类别", reverse("pointtype-list"))]

    def export_xlsx(self):
        """The points in the import layout, so an export can be edited and imported back."""
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("点位")
        for row in importing.points_export_rows(self.get_queryset()):
            sheet.append(safe_row(sheet, row))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return xlsx_response(buffer.getvalue(), f"点位-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
def point_map(request):
    """Every visible point with coordinates as a coloured circle; tiles only when a tile URL is set."""
    queryset = point_list(user=request.user)
    filterset = PointPageFilterSet(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and filterset.is_valid():
        queryset = filterset.qs
    rows = list(
        queryset.filter(latitude__isnull=False, longitude__isnull=False).values_list(
            "pk", "name", "point_type_id", "latitude", "longitude", "unit__name"
        )
    )
    without = queryset.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True)).count()
    used = {row[2] for row in rows}
    types = [t for t in PointType.objects.all() if t.pk in used]
    colours = _type_colours(types)
    data = {
        "points": [[pk, name, type_id, float(lat), float(lng), unit] for pk, name, type_id, lat, lng, unit in rows],
        "types": {t.pk: {"name": t.name, "colour": colours[t.pk]} for t in types},
        "detailUrl": reverse("point-detail", args=[0]),
        "tileUrl": getattr(settings, "MAP_TILE_URL", "") or "",
        "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or "",
    }
    filterset.prepare_form()
    query = request.GET.copy()
    return render(
        request,
        "inspections/point_map.html",
        {
            "title": "点位地图",
            "filter": filterset,
            "map_data": data,
            "legend": [(t.name, colours[t.pk]) for t in types],
            "shown": len(rows),
            "without_coordinates": without,
            "list_url": reverse("point-list") + (f"?{query.urlencode()}" if query else ""),
            "filtered": any(v for v in request.GET.values()),
            "problem_layer": _problem_layer_choices(),
        },
    )


def _problem_layer_choices() -> dict:
    """The choices of the points map's 问题 layer form (its values go to /api/v1/problem-map/)."""
    from campaign.filters import _unit_choices
    from campaign.selectors import campaign_choices

    from .models import PublicCategory
    from .problem_map import STATUS_GROUPS
    from .selectors import iso_week_of

    campaign = campaign_current()
    categories = (
        list(PublicCategory.objects.filter(campaign=campaign, active=True).values_list("pk", "name"))
        if campaign is not None
        else []
    )
    # The weeks to pick from: this one and the 25 before it (the campaign's own, when it began later).
    today = timezone.localdate()
    first = campaign.start_date if campaign is not None else today - datetime.timedelta(weeks=25)
    weeks = []
    for back in range(26):
        day = today - datetime.timedelta(weeks=back)
        if day < first - datetime.timedelta(days=6):
            break
        code = iso_week_of(day)
        weeks.append((code, week_label(code)))
    return {
        "campaigns": [(c.pk, c.name) for c in campaign_choices()],
        "weeks": weeks,
        "campaign": campaign.pk if campaign is not None else None,
        "districts": _unit_choices()[1:],
        "categories": categories,
        "point_types": list(PointType.objects.order_by("order", "id").values_list("pk", "name")),
        "statuses": STATUS_GROUPS,
        "url": reverse("inspections-api:problem-map"),
        "detail_url": reverse("problem-detail", args=[0]),
    }


class PointDetailView(ObjectDetailView):
    template_name = "inspections/point_detail.html"

    def get_scoped_object(self, pk):
        return point_list(user=self.request.user).get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        point, user = self.object, self.request.user
        scope = scope_for(user)
        # A point serves every campaign: its inspections, rounds and problems are the current one's.
        campaign = campaign_current()
        inspections = list(
            inspection_list(user=user, campaign=campaign)
            .filter(point=point)
            .annotate(
                total_deduction=Sum("observations__deduction"),
                failed=Count("observations", filter=~Q(observations__result=Result.PASS)),
            )
            .order_by("-submitted_at", "-id")[:100]
        )
        today = timezone.localdate()
        rounds = (
            list(
                round_list(user=user, counts=False, campaign=campaign)
                .filter(points=point)
                .order_by("-start_date", "-id")[:20]
            )
            if (_can_see_rounds(user))
            else []
        )
        record_rounds = [
            r for r in rounds if r.start_date <= today <= r.end_date and (scope.is_office or scope.is_inspector)
        ]
        context.update(
            title=point.name,
            departments=point.departments.all(),
            inspections=inspections,
            problems=problem_list(user=user, campaign=campaign).filter(point=point).order_by("-found_at", "-id")[:100],
            rounds=rounds,
            record_round=record_rounds[0] if record_rounds else None,
            check_items=check_items_for(point_type_id=point.point_type_id),
            can_manage=scope.is_office,
            map_data={
                "points": [
                    [
                        point.pk,
                        point.name,
                        point.point_type_id,
                        float(point.latitude),
                        float(point.longitude),
                        point.unit.name,
                    ]
                ],
                "types": {point.point_type_id: {"name": point.point_type.name, "colour": TYPE_COLOURS[0]}},
                "detailUrl": reverse("point-detail", args=[0]),
                "tileUrl": getattr(settings, "MAP_TILE_URL", "") or "",
                "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or "",
                "zoom": 16,
            }
            if point.latitude is not None and point.longitude is not None
            else None,
        )
        return context


POINT_FORM_FIELDS = (
    "name",
    "point_type",
    "unit",
    "address",
    "latitude",
    "longitude",
    "sponsor",
    "contact_name",
    "contact_phone",
    "key_point",
    "active",
)


class PointCreateView(ObjectFormView):
    form_class = PointForm
    title = "新增点位"

    def get_initial(self):
        return {"active": True}

    def cancel_url(self):
        return reverse("point-list")

    def perform(self, form):
        data = dict(form.cleaned_data)
        departments = list(data.pop("departments")) or None
        return services.point_create(departments=departments, **data)


class PointEditView(ObjectFormView):
    form_class = PointForm
    title = "编辑点位"

    def load_object(self):
        return point_list(user=self.request.user).get(pk=self.kwargs["pk"])

    def get_initial(self):
        initial = {f: getattr(self.object, f) for f in POINT_FORM_FIELDS}
        initial["departments"] = list(self.object.departments.all())
        return initial

    def perform(self, form):
        data = dict(form.cleaned_data)
        departments = list(data.pop("departments"))
        return services.point_update(point=self.object, departments=departments, **data)


class PointImportView(ImportView):
    title = "导入点位"
    importer = staticmethod(importing.points_import)
    columns = importing.POINT_COLUMNS
    template_filename = "点位导入模板.xlsx"
    success_url_name = "point-list"
    help_text = (
        "类型填点位类别名称（如“集贸(农贸)市场”，也可写“农贸市场”）；所属社区或街道填名称、简称或编码；"
        "主管部门可填多个，用顿号或逗号分隔，留空则采用该类别的默认主管部门；经纬度为 WGS84 小数。"
        "同一单位下的同名同类点位视为同一点位：已有则更新，重复导入同一文件不会产生变化。"
    )
    sample_rows = [
        [
            "湖滨农贸市场",
            "集贸(农贸)市场",
            "湖滨路88号",
            "120.351200",
            "31.521300",
            "湖滨街道",
            "市市场监管局、市商务局",
            "",
            "王经理",
            "13800000000",
            "是",
        ],
        ["友谊新村", "小区", "友谊路12号", "120.348000", "31.515600", "DH-01-01", "", "", "", "", "否"],
    ]


# --- Point types ------------------------------------------------------------------------------


class PointTypeFilterSet(ChineseFilterLabelsMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")
    category = django_filters.ChoiceFilter(label="分类", choices=[])
    national = django_filters.BooleanFilter(label="国家测评点位类别", widget=forms.Select(choices=YES_NO_ALL))
    active = django_filters.BooleanFilter(label="启用", widget=forms.Select(choices=YES_NO_ALL))

    class Meta:
        model = PointType
        fields = ["q", "category", "national", "active"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        categories = PointType.objects.exclude(category="").order_by("category").values_list("category", flat=True)
        self.filters["category"].extra["choices"] = [(c, c) for c in categories.distinct()]


def _point_type_departments(point_type) -> str:
    return "、".join(d.short_name or d.name for d in point_type.departments.all())


class PointTypeListView(InspectionListMixin, ObjectListView):
    title = "点位类别"
    filterset_class = PointTypeFilterSet
    add_url_name = "pointtype-create"
    import_url_name = "pointtype-import"
    export_name = "点位类别"
    empty_message = "还没有点位类别。"
    empty_hint = "请通过“导入”上传点位类别（名称、分类、默认责任部门）。"
    columns = [
        Col("名称", "name", link=True),
        Col("分类", "category"),
        Col("默认责任部门", _point_type_departments),
        Col("排序", "order"),
        Col("国家测评点位类别", "national"),
        Col("启用", "active"),
    ]

    def base_queryset(self):
        return PointType.objects.prefetch_related("departments").order_by("order", "id")

    def get_extra_actions(self):
        return [("点位", reverse("point-list"))]

    def get_context_data(self, **kwargs):
        # The name links to the edit page for the office; others read the list only.
        can_edit = self.can_add()
        if not can_edit:
            self.columns = [Col("名称", "name"), *type(self).columns[1:]]
        context = super().get_context_data(**kwargs)
        if can_edit:
            for obj, _cells in context["rows"]:
                obj.get_absolute_url = partial(reverse, "pointtype-edit", args=[obj.pk])
        return context

    def export_xlsx(self):
        """The point types in the import layout, so that the export imports back unchanged."""
        rows = importing.point_types_export_rows(self.get_queryset())
        data = workbook_bytes(rows[0], rows[1:], title="点位类别")
        return xlsx_response(data, f"点位类别-{timezone.localdate():%Y%m%d}.xlsx")


class PointTypeForm(forms.Form):
    name = forms.CharField(label="名称", max_length=50)
    category = forms.CharField(
        label="分类", max_length=50, required=False, help_text="如：公共场所、窗口单位、交通站点"
    )
    departments = UnitMultipleChoiceField(
        label="默认责任部门",
        queryset=departments(),
        required=False,
        help_text="该类别点位默认的主管部门（条），导入点位时主管部门留空即采用。",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    order = forms.IntegerField(label="排序", min_value=0, max_value=importing.ORDER_MAX, initial=0)
    active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, national: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if national:  # a national type keeps its name
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "国家测评点位类别，名称不可修改。"


class _PointTypeFormView(ObjectFormView):
    """The add and edit pages of a point type: both go back to the list."""

    form_class = PointTypeForm

    def cancel_url(self):
        return reverse("pointtype-list")

    def get_success_url(self, result):
        return reverse("pointtype-list")


class PointTypeCreateView(_PointTypeFormView):
    title = "新增点位类别"

    def get_initial(self):
        return {"active": True, "order": PointType.objects.aggregate(n=Max("order"))["n"] or 0}

    def perform(self, form):
        return services.point_type_save(**form.cleaned_data)


class PointTypeEditView(_PointTypeFormView):
    title = "编辑点位类别"

    def load_object(self):
        return PointType.objects.get(pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"national": self.object.national}

    def get_initial(self):
        point_type = self.object
        return {
            "name": point_type.name,
            "category": point_type.category,
            "departments": list(point_type.departments.all()),
            "order": point_type.order,
            "active": point_type.active,
        }

    def perform(self, form):
        return services.point_type_save(point_type=self.object, **form.cleaned_data)


class PointTypeImportView(ImportView):
    title = "导入点位类别"
    importer = staticmethod(importing.point_types_import)
    columns = importing.POINT_TYPE_COLUMNS
    template_filename = "点位类别导入模板.xlsx"
    success_url_name = "pointtype-list"
    help_text = (
        "名称已有（含国家测评点位类别）则更新其分类、默认责任部门、排序和启用，名称和国家类别标记不变；"
        "名称没有则新增为本地点位类别。表中未列出的类别保持不变，不会删除。"
        "默认责任部门填部门名称、简称或编码，可填多个，用顿号、逗号、分号、换行或空格分隔；"
        "默认责任部门、排序、启用留空则保持原值（新类别：无默认部门、排在最后、启用）。"
        "重复导入同一文件不会产生变化。"
    )
    # Rows that import into the demo city as they are: a national type given its 分类, two local ones.
    sample_rows = [
        ["集贸(农贸)市场", "公共场所", "市市场监管局、市商务局", "", "是"],
        ["药店", "窗口单位", "市市场监管局 市卫健委", "", "是"],
        ["建成区河道", "城市环境", "市水利局", "", "是"],
    ]


# --- Check items ------------------------------------------------------------------------------


class CheckItemPageFilterSet(ChineseFilterLabelsMixin, CheckItemFilterSet):
    """The HTML filters: the standard is filtered through the API (the drop-down would be huge)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("indicator", None)


def _departments_label(item) -> str:
    return "、".join(d.short_name or d.name for d in item.departments.all())


class CheckItemListView(InspectionListMixin, ObjectListView):
    title = "测评细则"
    filterset_class = CheckItemPageFilterSet
    import_url_name = "checkitem-import"
    export_name = "测评细则"
    empty_message = "还没有测评细则。"
    empty_hint = "请通过“导入”上传各类点位的检查内容、计分规则和扣分标准。"
    columns = [
        Col("点位类别", "point_type.name"),
        Col("检查内容", "text"),
        Col("计分规则", "counting_rule"),
        Col("每处扣分", "per_occurrence"),
        Col("最高扣分", "cap"),
        Col("严重程度", "severity"),
        Col("测评标准", lambda item: f"{item.indicator.code} {item.indicator.title}".strip()),
        Col("责任部门", _departments_label),
        Col("整改时限(工作日)", "deadline_days"),
        Col("启用", "active"),
    ]

    def base_queryset(self):
        return (
            CheckItem.objects.select_related("point_type", "indicator")
            .prefetch_related("departments")
            .order_by("point_type__order", "point_type_id", "order", "id")
        )

    def export_system(self):
        """The one 测评体系 an export is for (an import reads one): the filtered one, else the
        current campaign's current system, else the newest."""
        queryset = self.get_queryset()
        if self.filterset is not None and self.filterset.is_bound and self.filterset.is_valid():
            chosen = self.filterset.form.cleaned_data.get("system")
            if chosen is not None:
                return chosen
        campaign = campaign_current()
        systems = IndicatorSystem.objects.filter(pk__in=queryset.values("indicator__system")).order_by(
            "-is_current", "-year", "-id"
        )
        return (systems.filter(campaign=campaign).first() if campaign else None) or systems.first()

    def export_xlsx(self):
        """The check items of one system in the import layout (the standard as the import resolves
        it, e.g. “Ⅲ-57/1)”), so that the export imports back unchanged."""
        system = self.export_system()
        rows = importing.check_items_export_rows(self.get_queryset(), system=system) if system else []
        headers = [c.header for c in importing.CHECK_ITEM_COLUMNS]
        data = workbook_bytes(headers, rows[1:], title="测评细则")
        name = f"测评细则-{system.name}" if system else "测评细则"
        return xlsx_response(data, f"{name}-{timezone.localdate():%Y%m%d}.xlsx")


class CheckItemImportView(ImportView):
    title = "导入测评细则"
    template_name = "inspections/checkitem_import.html"
    columns = importing.CHECK_ITEM_COLUMNS
    template_filename = "测评细则导入模板.xlsx"
    success_url_name = "checkitem-list"
    help_text = (
        "测评标准编码须是所选测评体系中的编码（编码重复时连同上级编码填写，如“Ⅲ-57/1)”）；最高扣分留空则等于每处扣分；"
        "严重程度填“一般”或“严重”；责任部门留空则计入点位的主管部门；"
        "整改时限填 1 到 60 的工作日数，留空则按严重程度的默认时限。"
    )
    # Standards of the demo city's current system, so that the template imports into it as it is.
    sample_rows = [
        [
            "集贸(农贸)市场",
            "Ⅲ-19/2)",
            "垃圾分类收集，日产日清",
            "每处扣0.5分",
            "0.5",
            "1",
            "一般",
            "市市场监管局",
            "",
            "5",
        ],
        [
            "小区",
            "Ⅲ-36/2)",
            "应急避难场所标识醒目",
            "未设置扣1分",
            "1",
            "1",
            "严重",
            "",
            "新建小区尚未验收的不查",
            "",
        ],
    ]

    def systems(self):
        return list(IndicatorSystem.objects.select_related("campaign").order_by("-year", "-id"))

    def selected_system(self):
        if not hasattr(self, "_system"):
            systems = self.systems()
            wanted = self.request.GET.get("system", "")
            chosen = next((s for s in systems if str(s.pk) == wanted), None)
            if chosen is None and systems:
                current = campaign_current()
                own = [s for s in systems if current and s.campaign_id == current.pk]
                chosen = next((s for s in own if s.is_current), None) or (own or systems)[0]
            self._system, self._systems = chosen, systems
        return self._system

    def context(self, **extra):
        system = self.selected_system()
        return super().context(system=system, systems=self._systems, **extra)

    def call_importer(self, file, dry_run):
        return importing.check_items_import(system=self.selected_system(), file=file, dry_run=dry_run)

    def post(self, request, *args, **kwargs):
        if self.selected_system() is None:
            return render(
                request,
                self.template_name,
                self.context(upload_error="还没有测评体系：请先导入测评体系，再导入测评细则。"),
                status=400,
            )
        return super().post(request, *args, **kwargs)


# --- Rounds -----------------------------------------------------------------------------------


class RoundPageFilterSet(ChineseFilterLabelsMixin, RoundFilterSet):
    pass


class RoundAccessMixin:
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _can_see_rounds(request.user):
            raise PermissionDenied("督查批次仅对创建办、领导和督查员开放。")
        return super().dispatch(request, *args, **kwargs)


class RoundListView(RoundAccessMixin, InspectionListMixin, ObjectListView):
    title = "督查批次"
    filterset_class = RoundPageFilterSet
    add_url_name = "round-create"
    export_name = "督查批次"
    empty_message = "还没有督查批次。"
    empty_hint = "点击“新增”安排一次督查：选定督查员，手工挑选点位或按配额随机抽取。"
    columns = [
        Col("名称", "name", link=True),
        Col("类型", "kind"),
        Col("开始日期", "start_date"),
        Col("结束日期", "end_date"),
        Col("点位数", "point_count"),
        Col("督查记录", "inspection_count"),
        Col("抽样种子", "sample_seed"),
    ]

    def base_queryset(self):
        return round_list(user=self.request.user, campaign=campaign_current()).order_by("-start_date", "-id")

    def get_extra_actions(self):
        return [("现场督查", reverse("inspection-record"))] if _can_record(self.request.user) else []


def _point_types_with_points():
    return list(
        PointType.objects.filter(active=True).annotate(n=Count("points", filter=Q(points__active=True))).filter(n__gt=0)
    )


def _districts():
    from campaign.choices import UnitKind

    return Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).order_by("path")


class RoundCreateView(ObjectFormView):
    form_class = RoundForm
    title = "新增督查批次"
    template_name = "inspections/round_form.html"

    def get_form_kwargs(self):
        return {"point_types": _point_types_with_points()}

    def get_initial(self):
        today = timezone.localdate()
        monday = today - datetime.timedelta(days=today.weekday())
        week = today.isocalendar()[1]
        return {
            "campaign": campaign_current(),
            "kind": RoundKind.WEEKLY,
            "name": f"第{week}周督查",
            "start_date": monday,
            "end_date": monday + datetime.timedelta(days=6),
            "mode": RoundForm.MODE_HAND,
        }

    def extra_context(self):
        return {"point_types": PointType.objects.filter(active=True), "districts": _districts()}

    def cancel_url(self):
        return reverse("round-list")

    @transaction.atomic
    def perform(self, form):
        data = form.cleaned_data
        draw = data["mode"] == RoundForm.MODE_DRAW
        round_ = services.round_create(
            user=self.request.user,
            campaign=data["campaign"],
            name=data["name"],
            kind=data["kind"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            inspectors=data["inspectors"],
            points=[] if draw else data["points"],
        )
        if draw:
            services.round_draw(user=self.request.user, round_=round_, quota=form.quota(), seed=data.get("seed"))
        return round_


def _round_context(request, round_, draw_form=None) -> dict:
    user = request.user
    scope = scope_for(user)
    points = list(
        round_.points.select_related("point_type", "unit__parent").order_by(
            "point_type__order", "point_type_id", "unit__path", "name"
        )
    )
    latest: dict[int, Inspection] = {}
    for inspection in (
        Inspection.objects.filter(round=round_, current=True).select_related("inspector").order_by("submitted_at", "id")
    ):
        latest[inspection.point_id] = inspection
    rows = [(point, latest.get(point.pk)) for point in points]
    visited = sum(1 for _p, i in rows if i is not None)
    types = {t.pk: t.name for t in PointType.objects.all()}
    quota = [(types.get(int(k), f"#{k}"), v) for k, v in (round_.sample_quota or {}).items() if str(k).isdigit()]
    if draw_form is None and scope.is_office:
        draw_form = DrawForm(point_types=_point_types_with_points(), initial_quota=round_.sample_quota)
    today = timezone.localdate()
    can_record = (scope.is_office or round_.inspectors.filter(pk=user.pk).exists()) and (
        round_.start_date <= today <= round_.end_date
    )
    inspections = (
        inspection_list(user=user)
        .filter(round=round_)
        .annotate(total_deduction=Sum("observations__deduction"))
        .order_by("-submitted_at", "-id")[:200]
    )
    return {
        "object": round_,
        "title": round_.name,
        "rows": rows,
        "visited": visited,
        "coverage": round(100 * visited / len(rows)) if rows else 0,
        "inspectors": round_.inspectors.order_by("username"),
        "quota": quota,
        "draw_form": draw_form if scope.is_office else None,
        "can_manage": scope.is_office,
        "can_record": can_record,
        "inspections": inspections,
        "problem_count": Problem.objects.filter(observation__inspection__round=round_).count(),
    }


class RoundDetailView(RoundAccessMixin, ObjectDetailView):
    template_name = "inspections/round_detail.html"

    def get_scoped_object(self, pk):
        return round_list(user=self.request.user).get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_round_context(self.request, self.object))
        return context


class RoundDrawView(LoginRequiredMixin, RoundAccessMixin, View):
    """Draw the round's points by quota per point type in every district, with a recorded seed."""

    def get_round(self):
        try:
            return round_list(user=self.request.user, counts=False).get(pk=self.kwargs["pk"])
        except ObjectDoesNotExist as exc:
            raise Http404("未找到该督查批次。") from exc

    def get(self, request, *args, **kwargs):
        return HttpResponseRedirect(reverse("round-detail", args=[self.get_round().pk]))

    def post(self, request, *args, **kwargs):
        round_ = self.get_round()
        _forbid_unless(scope_for(request.user).is_office, "只有创建办可以抽取点位。")
        form = DrawForm(request.POST, point_types=_point_types_with_points(), initial_quota=round_.sample_quota)
        if form.is_valid():
            try:
                points = services.round_draw(
                    user=request.user, round_=round_, quota=form.quota(), seed=form.cleaned_data.get("seed")
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                round_.refresh_from_db()
                messages.success(request, f"已按随机种子 {round_.sample_seed} 抽取 {len(points)} 个点位。")
                return HttpResponseRedirect(reverse("round-detail", args=[round_.pk]))
        return render(request, "inspections/round_detail.html", _round_context(request, round_, form), status=400)


# --- Recording an inspection ------------------------------------------------------------------


def _json_error(errors: dict[str, list[str]] | list[str], status: int = 400) -> JsonResponse:
    """{"ok": false, "errors": {field: [message]}, "messages": [message]}: the page shows `messages`,
    which are whole Chinese sentences (the services' and ours)."""
    if isinstance(errors, list):
        errors = {"__all__": errors}
    flat = [message for messages_ in errors.values() for message in messages_]
    return JsonResponse(
        {"ok": False, "errors": errors, "messages": flat}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _round_payload(round_, point_ids, visited) -> dict:
    return {
        "id": round_.pk,
        "name": round_.name,
        "kind": round_.get_kind_display(),
        "dates": f"{round_.start_date:%m月%d日}–{round_.end_date:%m月%d日}",
        "points": point_ids,
        "visited": sorted(visited),
    }


def _inspection_result(inspection: Inspection, created: bool, *, user) -> dict:
    """The done screen's answer: the observations, the problems they opened, and the failures that
    became a sighting of a problem already open (same item, same point), naming that problem —
    linked only if the recorder may read it (an inspector reads its own rounds' problems)."""
    observations = list(
        inspection.observations.select_related("check_item").order_by("check_item__order", "check_item_id")
    )
    problems = list(Problem.objects.filter(observation__inspection=inspection).order_by("id"))
    sighted = list(
        Problem.sightings.through.objects.filter(observation__inspection=inspection)
        .select_related("problem", "observation__check_item")
        .order_by("observation__check_item__order", "observation__check_item_id", "problem_id")
    )
    readable = (
        set(problem_list(user=user).filter(pk__in={s.problem_id for s in sighted}).values_list("pk", flat=True))
        if sighted
        else set()
    )
    total = sum((o.deduction for o in observations), Decimal(0))
    return {
        "ok": True,
        "created": created,
        "inspection": {
            "id": inspection.pk,
            "url": inspection.get_absolute_url(),
            "point": inspection.point.name,
            "round": inspection.round.name,
            "submitted_at": timezone.localtime(inspection.submitted_at).strftime("%Y-%m-%d %H:%M"),
            "distance_m": inspection.distance_m,
            "far_from_point": inspection.far_from_point,
        },
        "total_deduction": f"{total:.2f}",
        "observations": [
            {
                "check_item": o.check_item_id,
                "text": o.check_item.text,
                "result": o.result,
                "result_label": o.get_result_display(),
                "occurrences": o.occurrences,
                "deduction": f"{o.deduction:.2f}",
            }
            for o in observations
        ],
        "problems": [
            {
                "id": p.pk,
                "url": p.get_absolute_url(),
                "description": p.description,
                "deduction": f"{p.deduction:.2f}",
                "severity": p.get_severity_display(),
            }
            for p in problems
        ],
        "sightings": [
            {
                "observation": s.observation_id,
                "check_item": s.observation.check_item.text,
                "deduction": f"{s.observation.deduction:.2f}",
                "problem": s.problem_id,
                "description": s.problem.description,
                "status": s.problem.get_status_display(),
                "url": s.problem.get_absolute_url() if s.problem_id in readable else None,
            }
            for s in sighted
        ],
    }


def _int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _coordinate(value, low, high):
    if value in (None, ""):
        return None, False
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None, True
    if not number.is_finite() or not low <= number <= high:
        return None, True
    return number.quantize(Decimal("0.000001")), False


class InspectionRecordView(LoginRequiredMixin, View):
    """The mobile page: pick a point (nearest first), judge its check items, take photos, submit.
    GET renders the page with the user's open rounds; POST (JSON) submits one inspection."""

    template_name = "inspections/record.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.method == "POST":
                return _json_error(["登录已过期，请在新窗口重新登录后再提交；草稿已保存在本机。"], status=401)
            return self.handle_no_permission()
        _forbid_unless(_can_record(request.user), "只有督查员和创建办可以记录督查。")
        return super().dispatch(request, *args, **kwargs)

    def open_rounds(self):
        user, today = self.request.user, timezone.localdate()
        rounds = list(
            round_list(user=user, counts=False)
            .filter(start_date__lte=today, end_date__gte=today)
            .order_by("end_date", "id")
        )
        wanted = _int(self.request.GET.get("round"))
        if wanted and wanted not in {r.pk for r in rounds}:
            extra = round_list(user=user, counts=False).filter(pk=wanted).first()
            if extra is not None:
                rounds.insert(0, extra)
        return rounds

    def get(self, request, *args, **kwargs):
        rounds = self.open_rounds()
        round_ids = [r.pk for r in rounds]
        through = (
            InspectionRound.points.through.objects.filter(inspectionround_id__in=round_ids)
            .select_related("point__point_type", "point__unit")
            .order_by("point__point_type__order", "point__name", "point_id")
        )
        points: dict[int, dict] = {}
        per_round: dict[int, list[int]] = {pk: [] for pk in round_ids}
        for row in through:
            point = row.point
            per_round[row.inspectionround_id].append(point.pk)
            points.setdefault(
                point.pk,
                {
                    "id": point.pk,
                    "name": point.name,
                    "type": point.point_type.name,
                    "typeId": point.point_type_id,
                    "unit": point.unit.name,
                    "address": point.address,
                    "lat": float(point.latitude) if point.latitude is not None else None,
                    "lng": float(point.longitude) if point.longitude is not None else None,
                },
            )
        visited: dict[int, set[int]] = {pk: set() for pk in round_ids}
        for round_id, point_id in Inspection.objects.filter(round_id__in=round_ids, current=True).values_list(
            "round_id", "point_id"
        ):
            visited[round_id].add(point_id)
        type_ids = {p["typeId"] for p in points.values()}
        items = list(
            CheckItem.objects.filter(point_type_id__in=type_ids, active=True).order_by("point_type_id", "order", "id")
        )
        item_types = []
        by_type: dict[int, list[CheckItem]] = {}
        for item in items:
            item.per_label, item.cap_label = score_label(item.per_occurrence), score_label(item.cap)
            by_type.setdefault(item.point_type_id, []).append(item)
        for point_type in PointType.objects.filter(pk__in=type_ids):
            item_types.append((point_type, by_type.get(point_type.pk, [])))
        data = {
            "user": request.user.pk,
            "rounds": [_round_payload(r, per_round[r.pk], visited[r.pk]) for r in rounds],
            "points": points,
            "items": {str(t.pk): [i.pk for i in its] for t, its in item_types},
            "initial": {"round": _int(request.GET.get("round")), "point": _int(request.GET.get("point"))},
            "urls": {
                "submit": reverse("inspection-record"),
                "upload": reverse("inspection-photo-upload"),
                "record": reverse("inspection-record"),
                "login": reverse("login"),
            },
            "maxPhotoBytes": settings.PHOTO_MAX_BYTES,
        }
        return render(
            request,
            self.template_name,
            {
                "title": "现场督查",
                "rounds": rounds,
                "item_types": item_types,
                "record_data": data,
            },
        )

    def post(self, request, *args, **kwargs):
        user = request.user
        try:
            payload = json.loads(request.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            return _json_error(["提交的数据格式不正确，请刷新页面后重试。"])
        if not isinstance(payload, dict):
            return _json_error(["提交的数据格式不正确，请刷新页面后重试。"])
        try:
            client_uuid = uuid.UUID(str(payload.get("client_uuid", "")))
        except ValueError:
            return _json_error({"client_uuid": ["草稿编号无效，请刷新页面后重试。"]})
        existing = Inspection.objects.filter(client_uuid=client_uuid).select_related("point", "round").first()
        if existing is not None:
            if existing.inspector_id != user.pk:
                return _json_error({"client_uuid": ["该草稿编号已被使用，请清空草稿后重新记录。"]})
            return JsonResponse(
                _inspection_result(existing, False, user=user), json_dumps_params={"ensure_ascii": False}
            )

        errors: dict[str, list[str]] = {}
        round_id, point_id = _int(payload.get("round")), _int(payload.get("point"))
        round_ = round_list(user=user, counts=False).filter(pk=round_id).first() if round_id else None
        point = point_list(user=user).select_related("point_type").filter(pk=point_id).first() if point_id else None
        if round_ is None:
            errors.setdefault("round", []).append(
                "督查批次不存在，或您不是该批次的督查员。" if round_id else "请选择督查批次。"
            )
        if point is None:
            errors.setdefault("point", []).append("点位不存在或您无权查看。" if point_id else "请选择点位。")
        observations = []
        raw = payload.get("observations")
        if not isinstance(raw, list):
            raw = []
        for index, entry in enumerate(raw, start=1):
            if not isinstance(entry, dict):
                errors.setdefault("observations", []).append(f"第 {index} 项：数据格式不正确。")
                continue
            item_id, occurrences = _int(entry.get("check_item")), _int(entry.get("occurrences", 0) or 0)
            photos = entry.get("photos") or []
            photo_ids = [_int(p) for p in photos] if isinstance(photos, list) else [None]
            if item_id is None or occurrences is None or None in photo_ids:
                errors.setdefault("observations", []).append(f"第 {index} 项：检查项、问题处数或照片编号格式不正确。")
                continue
            note = str(entry.get("note") or "")[:2000]
            observations.append(
                services.ObservationInput(
                    check_item=item_id,
                    result=str(entry.get("result") or ""),
                    occurrences=occurrences,
                    note=note,
                    photos=photo_ids,
                )
            )
        if point is not None and not errors:
            expected = list(check_items_for(point_type_id=point.point_type_id))
            given = {o.check_item for o in observations}
            missing = [item for item in expected if item.pk not in given]
            if missing:
                texts = "；".join(item.text for item in missing[:3]) + ("等" if len(missing) > 3 else "")
                errors.setdefault("observations", []).append(f"还有 {len(missing)} 项检查未评定：{texts}。")
        latitude, bad_lat = _coordinate(payload.get("latitude"), -90, 90)
        longitude, bad_lng = _coordinate(payload.get("longitude"), -180, 180)
        if bad_lat or bad_lng:
            errors.setdefault("latitude", []).append("定位数据无效。")
        if (latitude is None) != (longitude is None):
            latitude = longitude = None
        started_at = None
        if isinstance(payload.get("started_at"), str):
            try:
                started_at = parse_datetime(payload["started_at"])
            except ValueError:
                started_at = None
            if started_at is not None and timezone.is_naive(started_at):
                started_at = timezone.make_aware(started_at)
            if started_at is not None and started_at > timezone.now():
                started_at = None
        if errors:
            return _json_error(errors)
        # The inspector was at the point when the draft was started: a draft submitted later keeps
        # that time, as long as it falls within the round.
        observed_at = None
        if started_at is not None and round_.start_date <= timezone.localtime(started_at).date() <= round_.end_date:
            observed_at = started_at
        try:
            inspection, created = services.inspection_submit(
                user=user,
                round_=round_,
                point=point,
                observations=observations,
                client_uuid=client_uuid,
                latitude=latitude,
                longitude=longitude,
                started_at=started_at,
                note=str(payload.get("note") or "")[:5000],
                observed_at=observed_at,
            )
        except ValidationError as exc:
            return _json_error(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
        except PermissionDenied as exc:
            return _json_error([str(exc) or "您没有记录该批次督查的权限。"], status=403)
        return JsonResponse(
            _inspection_result(inspection, created, user=user),
            status=201 if created else 200,
            json_dumps_params={"ensure_ascii": False},
        )


@require_POST
def photo_upload(request):
    """One field photo → {id, thumb_url, url}. Uploaded before the inspection that cites it."""
    if not request.user.is_authenticated:
        return _json_error(["登录已过期，请重新登录后再上传。"], status=401)
    upload = request.FILES.get("file")
    if upload is None:
        return _json_error({"file": ["请选择照片。"]})
    try:
        photo = services.photo_upload(user=request.user, file=upload)
    except ValidationError as exc:
        return _json_error(exc.message_dict if hasattr(exc, "error_dict") else {"file": exc.messages})
    except PermissionDenied as exc:
        return _json_error([str(exc)], status=403)
    return JsonResponse(
        {
            "id": photo.pk,
            "thumb_url": reverse("photo-thumb", args=[photo.pk]),
            "url": reverse("photo-file", args=[photo.pk]),
        },
        status=201,
    )


# --- Inspections ------------------------------------------------------------------------------


def _can_correct(user, inspection: Inspection) -> bool:
    scope = scope_for(user)
    return inspection.current and (scope.is_office or (scope.is_inspector and inspection.inspector_id == user.pk))


class InspectionDetailView(ObjectDetailView):
    template_name = "inspections/inspection_detail.html"

    def get_scoped_object(self, pk):
        return inspection_list(user=self.request.user).select_related("supersedes").get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        inspection, user = self.object, self.request.user
        observations = list(
            observation_list(user=user, current_only=False)
            .filter(inspection=inspection)
            .select_related("problem")
            .prefetch_related("photos")
            .order_by("check_item__order", "check_item_id")
        )
        for observation in observations:
            try:
                observation.opened_problem = observation.problem
            except ObjectDoesNotExist:
                observation.opened_problem = None
        # Failures that became a sighting of an open problem name it (linked where readable).
        sighted = list(
            Problem.sightings.through.objects.filter(observation__in=[o.pk for o in observations])
            .select_related("problem")
            .order_by("problem_id")
        )
        readable = (
            set(problem_list(user=user).filter(pk__in={s.problem_id for s in sighted}).values_list("pk", flat=True))
            if sighted
            else set()
        )
        by_observation: dict[int, list[Problem]] = {}
        for row in sighted:
            row.problem.readable = row.problem_id in readable
            by_observation.setdefault(row.observation_id, []).append(row.problem)
        for observation in observations:
            observation.sighted = by_observation.get(observation.pk, [])
        visible = inspection_list(user=user)
        superseded_by = visible.filter(supersedes=inspection).first()
        context.update(
            title=f"督查记录 · {inspection.point.name}",
            observations=observations,
            total_deduction=sum((o.deduction for o in observations), Decimal(0)),
            superseded_by=superseded_by,
            supersedes=inspection.supersedes
            if inspection.supersedes_id and visible.filter(pk=inspection.supersedes_id).exists()
            else None,
            can_correct=_can_correct(user, inspection),
        )
        return context


class InspectionCorrectView(ObjectFormView):
    """A correction: a full new set of observations for the same point and round, with a reason.
    The corrected record stops counting; its problems still waiting to be assigned are voided."""

    form_class = CorrectionForm
    template_name = "inspections/inspection_correct.html"
    title = "更正督查记录"

    def load_object(self):
        return inspection_list(user=self.request.user).get(pk=self.kwargs["pk"])

    def check_permission(self):
        _forbid_unless(self.object.current, "该记录已被更正，只能更正最新的有效记录。")
        _forbid_unless(_can_correct(self.request.user, self.object), "只有创建办或该记录的督查员可以更正督查记录。")

    def get_form_kwargs(self):
        previous = {o.check_item_id: o for o in self.object.observations.all()}
        items = list(check_items_for(point_type_id=self.object.point.point_type_id))
        for item in items:
            item.per_label, item.cap_label = score_label(item.per_occurrence), score_label(item.cap)
        return {"items": items, "previous": previous}

    def extra_context(self):
        return {"inspection": self.object}

    @transaction.atomic
    def perform(self, form):
        inspection = self.object
        observations = form.observations()
        for (_item, prefix), observation in zip(form.rows, observations, strict=True):
            for upload in self.request.FILES.getlist(f"{prefix}_photos"):
                observation.photos.append(services.photo_upload(user=self.request.user, file=upload).pk)
        observed = inspection.observations.order_by("observed_at").values_list("observed_at", flat=True).first()
        round_ = inspection.round
        if observed is not None and not round_.start_date <= timezone.localtime(observed).date() <= round_.end_date:
            observed = None
        new, _created = services.inspection_submit(
            user=self.request.user,
            round_=round_,
            point=inspection.point,
            observations=observations,
            client_uuid=form.cleaned_data["client_uuid"],
            latitude=inspection.latitude,
            longitude=inspection.longitude,
            started_at=inspection.started_at,
            note=form.cleaned_data.get("note") or "",
            supersedes=inspection,
            correction_reason=form.cleaned_data["correction_reason"],
            observed_at=observed,
        )
        return new


# --- Problems (the workflow that moves them lives in the accountability app) --------------------


class ProblemPageFilterSet(ChineseFilterLabelsMixin, ProblemFilterSet):
    """The HTML filters: point and round come from links (hidden); check item via the API."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("check_item", None)
        request = kwargs.get("request")
        if request is None or not scope_for(request.user).liaison_units:
            self.filters.pop("relation", None)  # only a liaison has units of its own
        elif not is_department_liaison(request.user):
            # 本部门被计分 is a department's view; a territorial unit's charges are its located problems.
            self.filters["relation"].extra["choices"] = [c for c in RELATIONS if c[0] != "charged"]
        for name in ("point", "round"):
            self.filters[name].extra["widget"] = forms.HiddenInput
        self.filters["week"].extra["widget"] = forms.TextInput(attrs={"type": "week"})  # the browser's week picker
        # The filters are deep copies of the class's; a form field an earlier reader built on the
        # class's filter (the API schema, another page) is copied too and would ignore `extra`.
        for name in ("relation", "point", "round", "week"):
            if name in self.filters:
                self.filters[name].__dict__.pop("_field", None)


class ProblemListView(InspectionListMixin, ObjectListView):
    """Every problem the user may read, filtered; the deadline facts (超期N天, 按期销号, 超期销号)
    come annotated from SQL, so the page costs the same queries whatever its rows."""

    title = "问题"
    template_name = "inspections/problem_list.html"
    paginator_class = KeyPagePaginator
    filterset_class = ProblemPageFilterSet
    export_name = "问题"
    empty_message = "还没有问题。"
    columns = [
        Col("问题描述", "description", link=True),
        Col("编号", lambda p: f"#{p.pk}"),
        Col("状态", "status"),
        Col("点位", "point.name"),
        Col("属地单位", "unit.name"),
        Col("来源", "source"),
        Col("严重程度", "severity"),
        Col("扣分", "deduction"),
        Col("发现时间", "found_at"),
    ]
    # The deadline and its fact: a coloured cell on the page (see the template), words in Excel.
    export_columns = [Col("整改期限", "deadline"), Col("期限情况", deadline_fact)]

    def base_queryset(self):
        problems = problem_list(user=self.request.user, campaign=campaign_current())
        return with_deadline_facts(problems).order_by("-found_at", "-id")

    def can_add(self):
        return False

    def get_extra_actions(self):
        return [("登记问题", reverse("problem-create"))] if scope_for(self.request.user).is_office else []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for problem in context["object_list"]:
            problem.deadline_fact = deadline_fact(problem)
        # Opened from a ranking number: say which count of which unit and week this list is.
        query = self.request.GET
        unit_id = query.get("responsible", "")
        if unit_id.isdigit() and query.get("counted") in WEEK_COUNTS:
            unit = Unit.objects.filter(pk=unit_id).only("name").first()
            if unit:
                context["counted_note"] = (
                    f"{unit.name} · {week_label(query.get('counted_week', ''))} · {WEEK_COUNTS[query['counted']]}"
                )
        return context

    def export_xlsx(self):
        self.columns = [*self.columns, *self.export_columns]
        return super().export_xlsx()


class ProblemCreateView(ObjectFormView):
    """登记问题: a problem the office learnt of elsewhere (领导交办, 12345转办, 市民随手拍, 上级通报),
    with photos; it opens 待交办, like one an inspection found. The office only (403 for others)."""

    form_class = ProblemForm
    title = "登记问题"

    def get_initial(self):
        return {"campaign": campaign_current(), "severity": Severity.NORMAL}

    def cancel_url(self):
        return reverse("problem-list")

    @transaction.atomic
    def perform(self, form):
        data, user = form.cleaned_data, self.request.user
        photos = []
        for upload in data["photos"]:
            try:
                photos.append(services.photo_upload(user=user, file=upload).pk)
            except ValidationError as exc:
                raise ValidationError({"photos": f"“{upload.name}”：{'；'.join(exc.messages)}"}) from None
        return services.problem_create(
            campaign=data["campaign"],
            source=data["source"],
            unit=data["unit"],
            description=data["description"],
            severity=data["severity"],
            point=data["point"],
            check_item=data["check_item"],
            photos=photos,
            found_at=data["found_at"],
            created_by=user,
        )


class ProblemDetailView(ObjectDetailView):
    template_name = "inspections/problem_detail.html"

    def get_scoped_object(self, pk):
        return with_deadline_facts(problem_list(user=self.request.user).select_related("observation__inspection")).get(
            pk=pk
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        problem, user = self.object, self.request.user
        inspection = problem.observation.inspection if problem.observation_id else None
        if inspection is not None and not inspection_list(user=user).filter(pk=inspection.pk).exists():
            inspection = None
        point_visible = problem.point_id and point_list(user=user).filter(pk=problem.point_id).exists()
        context.update(
            title=f"问题 #{problem.pk}",
            photos=problem.photos.all(),
            inspection=inspection,
            point_visible=point_visible,
            charges=problem_charges(user=user, problem=problem),
        )
        return context


# --- Photos -----------------------------------------------------------------------------------


def photo_response(photo: Photo, *, thumbnail: bool) -> FileResponse:
    """The photo's file (or its JPEG thumbnail), privately cached, inline. The caller has already
    decided the user may see it; every view that serves a photo goes through here."""
    field = photo.thumbnail if thumbnail else photo.file
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("照片文件不存在。") from exc
    response = FileResponse(handle, content_type="image/jpeg" if thumbnail else photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _serve_photo(request, pk: int, *, thumbnail: bool):
    photo = Photo.objects.filter(pk=pk).first()
    if photo is None or not photo_visible_to(user=request.user, photo=photo):
        raise Http404("未找到该照片，或您无权查看。")
    return photo_response(photo, thumbnail=thumbnail)


@login_required
def photo_file(request, pk):
    return _serve_photo(request, pk, thumbnail=False)


@login_required
def photo_thumb(request, pk):
    return _serve_photo(request, pk, thumbnail=True)
