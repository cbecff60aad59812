"""Pages of the 测评体系: systems and their tree, indicators, task lists (任务单), declaration
materials and their review, the completeness board, the negative list and the risk register.

Every read goes through a scoped selector (out of scope is 404); every write through a service
(a refused role is 403 with a Chinese message)."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaign.exporting import append_row
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
from campaign.permissions import can_manage
from campaign.selectors import campaign_current, scope_for, unit_get_for_user

from . import services
from .choices import AssignmentRole, MaterialStatus, Method, RiskStatus
from .filters import MaterialFilterSet, RiskEventFilterSet
from .forms import (
    IndicatorForm,
    IndicatorUnitsForm,
    MaterialResubmitForm,
    MaterialReturnForm,
    MaterialUploadForm,
    NegativeItemForm,
    RiskEventForm,
    RiskResolveForm,
    SystemForm,
)
from .models import (
    Assignment,
    Indicator,
    IndicatorMethod,
    IndicatorSystem,
    Material,
    MaterialFile,
    NegativeListItem,
    RiskEvent,
)
from .permissions import can_review_material, can_submit_for
from .selectors import (
    completeness_by_project,
    completeness_by_unit,
    indicator_ancestors,
    indicator_get,
    indicator_tree,
    material_get_for_user,
    material_list,
    missing_materials,
    system_current,
    system_list,
    task_list,
)

PAGE_SIZE = 50
METHOD_LABELS = dict(Method.choices)
STATUS_LABELS = dict(MaterialStatus.choices)


# --- Helpers ----------------------------------------------------------------------------------


def latest_system(campaign=None) -> IndicatorSystem | None:
    """The system pages show by default: the one the request's campaign names as current (see
    `system_current`). Never another campaign's edition: a campaign without a system shows none
    rather than a neighbour's numbers."""
    campaign = campaign or campaign_current()
    if campaign is None:
        return None
    system = system_current(campaign=campaign)
    if system is not None:
        system.campaign = campaign  # already read: the pages name it without another query
    return system


def system_choices(system: IndicatorSystem | None) -> list[IndicatorSystem]:
    """The editions a page may switch between: the shown system's campaign's, current first."""
    if system is None:
        return []
    return list(IndicatorSystem.objects.filter(campaign_id=system.campaign_id).order_by("-is_current", "-year", "-id"))


def selected_system(request) -> IndicatorSystem | None:
    value = request.GET.get("system", "")
    if value:
        if not value.isdigit():
            raise Http404("未找到该测评体系。")
        return get_object_or_404(IndicatorSystem.objects.select_related("campaign"), pk=value)
    return latest_system()


def require_office_or_leader(user, message: str) -> None:
    scope = scope_for(user)
    if not (scope.is_office or scope.is_leader):
        raise PermissionDenied(message)


def percent(rate) -> int | None:
    if rate is None:
        return None
    return int((Decimal(rate) * 100).quantize(Decimal(1)))


def path_ids(path: str) -> list[int]:
    """Indicator ids from root to node, read from the materialised path ("/0001.5/0002.9/")."""
    return [int(part.split(".")[1]) for part in path.strip("/").split("/") if part]


def effective_methods(indicators) -> dict[int, list[str]]:
    """Each indicator's methods: its own, else its nearest ancestor's. One query for a page."""
    chains = {node.pk: path_ids(node.path) for node in indicators}
    ids = {pk for chain in chains.values() for pk in chain}
    own: dict[int, list[str]] = {}
    for indicator_id, method in IndicatorMethod.objects.filter(indicator_id__in=ids).values_list(
        "indicator_id", "method"
    ):
        own.setdefault(indicator_id, []).append(method)
    order = {value: index for index, value in enumerate(Method.values)}
    result = {}
    for pk, chain in chains.items():
        found = next((own[i] for i in reversed(chain) if i in own), [])
        result[pk] = [METHOD_LABELS[m] for m in sorted(found, key=order.__getitem__)]
    return result


def page_of(request, items, param: str = "page", size: int = PAGE_SIZE):
    return Paginator(items, size).get_page(request.GET.get(param))


def query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def split_assignments(assignments) -> dict[str, list[Assignment]]:
    units = {AssignmentRole.LEAD: [], AssignmentRole.RESPONSIBLE: []}
    for assignment in sorted(assignments, key=lambda a: (a.inherited, a.unit.path)):
        units[assignment.role].append(assignment)
    return {"lead": units[AssignmentRole.LEAD], "responsible": units[AssignmentRole.RESPONSIBLE]}


# --- Systems ----------------------------------------------------------------------------------


class SystemListView(ObjectListView):
    title = "测评体系"
    template_name = "indicators/system_list.html"
    add_url_name = "indicator-system-create"
    columns = [
        Col("名称", "name", link=True),
        Col("创建活动", "campaign.name"),
        Col("类别", "kind"),
        Col("版本年份", "year"),
        Col("指标数", "node_count"),
        Col("创建时间", "created_at"),
    ]
    empty_message = "还没有测评体系。"
    empty_hint = "点击“新增”建立测评体系，再在体系页面导入任务分解表（Excel）。"

    def base_queryset(self):
        return system_list().order_by("-year", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.can_add():
            context["empty_message"] = "还没有测评体系，创建办导入后即可在此查看。"
        context["can_manage"] = self.can_add()
        return context


class SystemCreateView(ObjectFormView):
    form_class = SystemForm
    title = "新增测评体系"

    def get_initial(self):
        campaign = campaign_current()
        return {"campaign": campaign, "year": timezone.localdate().year, "kind": "national"}

    def cancel_url(self):
        return reverse("indicator-system-list")

    def perform(self, form):
        return services.indicator_system_create(**form.cleaned_data)


class SystemEditView(ObjectFormView):
    form_class = SystemForm
    title = "编辑测评体系"

    def load_object(self):
        return IndicatorSystem.objects.select_related("campaign").get(pk=self.kwargs["pk"])

    def get_initial(self):
        system = self.object
        return {f: getattr(system, f) for f in ("campaign", "name", "kind", "year", "note")}

    def perform(self, form):
        data = dict(form.cleaned_data)
        if data.pop("campaign") != self.object.campaign:
            raise ValidationError({"campaign": "测评体系不能移到其他创建活动；请在目标创建活动下新建。"})
        return services.indicator_system_update(system=self.object, **data)


def tree_rows(nodes: list[Indicator]) -> list[Indicator]:
    """Annotate the nodes (in path order) for a flat, nested rendering: depth, children flag, how
    many open levels to close after each node, units, methods and the weight mismatch."""
    for index, node in enumerate(nodes):
        node.depth = node.path.count("/") - 2
        following = nodes[index + 1] if index + 1 < len(nodes) else None
        node.has_children = following is not None and following.parent_id == node.pk
        next_depth = following.path.count("/") - 2 if following is not None else 0
        node.close_range = range(node.depth + (1 if node.has_children else 0) - next_depth)
        node.units = split_assignments(node.assignments.all())
        node.method_labels = [METHOD_LABELS[row.method] for row in node.method_rows.all()]
        node.weight_mismatch = (
            node.weight is not None and node.children_weight is not None and node.weight != node.children_weight
        )
    return nodes


class SystemDetailView(ObjectDetailView):
    """The tree: every node with its weight, methods, units and material progress (fixed queries)."""

    template_name = "indicators/system_detail.html"

    def get_scoped_object(self, pk):
        return IndicatorSystem.objects.select_related("campaign").get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        nodes = tree_rows(indicator_tree(system=self.object))
        context.update(
            title=self.object.name,
            nodes=nodes,
            node_count=len(nodes),
            declaration_count=sum(1 for n in nodes if n.is_declaration),
            mismatch_count=sum(1 for n in nodes if n.weight_mismatch),
            total_weight=sum((n.effective_weight or 0 for n in nodes if n.parent_id is None), Decimal(0)),
            can_manage=can_manage(self.request.user),
            scope=scope_for(self.request.user),
        )
        if not self.object.is_current:
            current = system_current(campaign=self.object.campaign)
            context["current_system"] = current if current is not None and current.pk != self.object.pk else None
        return context


@login_required
@require_POST
def system_set_current(request, pk):
    """The office's 设为当前体系: the campaign's forecast, board and tasks read this edition from
    now on. Others get 403 and nothing changes; a refusal (an archived campaign) is a message."""
    system = get_object_or_404(IndicatorSystem.objects.select_related("campaign"), pk=pk)
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以设定当前测评体系。")
    try:
        services.system_set_current(user=request.user, system=system)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已将“{system.name}”设为“{system.campaign.name}”的当前测评体系。")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = system.get_absolute_url()
    return HttpResponseRedirect(target)


class SystemImportView(ImportView):
    """Upload → preview → confirm of a 任务分解表 into the system named in the URL."""

    template_name = "indicators/import.html"
    template_filename = "任务分解表模板.xlsx"
    help_text = (
        "每行一条测评标准（没有测评标准的测评内容占一行）。测评项目、指标名称、测评内容可以合并单元格、重复填写，"
        "或留空表示“同上”；分值写在测评内容所在行。测评方法可填：网上申报、材料审核、实地考察、问卷调查、网络调查、"
        "数据采集，多个用“、”分隔。牵头单位、责任单位填单位名称、简称或编码。同一文件重复导入不会产生变化。"
        "只用于实地考察计分的测评体系（如第三方测评的测评细则）只需“测评项目”“测评标准”两列：测评内容、分值、"
        "测评方法、牵头单位、责任单位可以没有这一列或留空，预览时逐行列为提示（不影响导入）——未填分值的指标"
        "不计入网上申报完成度的权重，实地考察照常计分；没有“测评内容”列时，测评标准直接列在指标名称（或测评项目）"
        "下。仍按错误处理的：测评项目为空且上方无可沿用、编号后缺少名称、有测评内容列但测评标准上方没有测评内容。"
        "标题中词与词之间的空格按原样保留。"
    )
    sample_rows = [
        [
            "Ⅰ-1 思想道德建设",
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            6,
            "1) 主要街道、公共场所公益广告数量充足、内容规范",
            "网上申报、实地考察",
            "市文明办",
            "东湖区、市城管局",
            "工作方案、现场照片",
            "主次干道、公共广场",
            "否",
            "2026-06-30",
        ],
        [
            "Ⅰ-1 思想道德建设",
            "Ⅱ-1 公益广告",
            "Ⅲ-1 公益广告宣传",
            6,
            "2) 公益广告设施完好，无破损、无错字",
            "实地考察",
            "市城管局",
            "东湖区、西山区",
            "",
            "",
            "否",
            "",
        ],
        [
            "Ⅰ-2 市场环境",
            "Ⅱ-2 诚信建设",
            "Ⅲ-2 信用体系建设",
            4,
            "1) 建立信用信息共享平台",
            "材料审核",
            "市商务局",
            "市市场监管局",
            "平台建设文件",
            "",
            "否",
            "2026-09-30",
        ],
    ]

    @cached_property
    def system(self) -> IndicatorSystem:
        return get_object_or_404(IndicatorSystem.objects.select_related("campaign"), pk=self.kwargs["pk"])

    @property
    def title(self) -> str:
        return f"导入任务分解表 · {self.system.name}"

    @property
    def columns(self):
        from .importing import INDICATOR_COLUMNS

        return INDICATOR_COLUMNS

    def call_importer(self, file, dry_run: bool):
        from .importing import indicators_import

        return indicators_import(system=self.system, file=file, dry_run=dry_run)

    def context(self, **extra) -> dict:
        return super().context(system=self.system, **extra)

    def success_url(self) -> str:
        return self.system.get_absolute_url()


@login_required
def system_export(request, pk):
    from .importing import indicators_export

    system = get_object_or_404(IndicatorSystem, pk=pk)
    return xlsx_response(
        indicators_export(system=system), f"{system.name}-任务分解表-{timezone.localdate():%Y%m%d}.xlsx"
    )


# --- Indicators -------------------------------------------------------------------------------


class IndicatorDetailView(ObjectDetailView):
    template_name = "indicators/indicator_detail.html"

    def get_scoped_object(self, pk):
        return indicator_get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        indicator = self.object
        user = self.request.user
        scope = scope_for(user)
        ancestors = list(indicator_ancestors(indicator=indicator))
        chain = [*ancestors, indicator]
        methods = effective_methods(chain)
        own_methods = [METHOD_LABELS[row.method] for row in indicator.method_rows.all()]

        def inherited(field):
            for node in reversed(ancestors):
                if getattr(node, field):
                    return getattr(node, field)
            return None

        children = list(Indicator.objects.filter(parent=indicator).order_by("order", "id"))
        child_methods = effective_methods(children)
        for child in children:
            child.method_labels = child_methods[child.pk]
        materials = (
            material_list(user=user)
            .filter(indicator__system=indicator.system_id, indicator__path__startswith=indicator.path)
            .order_by("indicator__path", "unit__path")
        )
        units = split_assignments(indicator.assignments.all())
        submit_units = []
        if scope.is_liaison and indicator.is_declaration:
            mine = [a.unit for a in indicator.assignments.all() if can_submit_for(user=user, unit=a.unit)]
            existing = {m.unit_id: m for m in Material.objects.filter(indicator=indicator, unit__in=mine)}
            seen = set()
            for unit in mine:
                if unit.pk not in seen:
                    seen.add(unit.pk)
                    submit_units.append((unit, existing.get(unit.pk)))
        page = page_of(self.request, materials)
        context.update(
            title=str(indicator),
            ancestors=ancestors,
            methods=methods[indicator.pk],
            methods_inherited=not own_methods and bool(methods[indicator.pk]),
            requirements=indicator.requirements or inherited("requirements") or "",
            requirements_inherited=not indicator.requirements and bool(inherited("requirements")),
            deadline=indicator.deadline or inherited("deadline"),
            deadline_inherited=not indicator.deadline and bool(inherited("deadline")),
            units=units,
            weight_mismatch=indicator.weight is not None
            and indicator.children_weight is not None
            and indicator.weight != indicator.children_weight,
            children=children,
            page_obj=page,
            materials=page.object_list,
            querystring=query_without(self.request, "page"),
            submit_units=submit_units,
            can_manage=can_manage(user),
            scope=scope,
        )
        return context


class IndicatorEditView(ObjectFormView):
    form_class = IndicatorForm
    template_name = "indicators/form.html"
    title = "编辑指标"

    def load_object(self):
        return indicator_get(pk=self.kwargs["pk"])

    def get_initial(self):
        indicator = self.object
        initial = {
            f: getattr(indicator, f)
            for f in ("code", "title", "text", "weight", "requirements", "point_types", "deadline", "veto")
        }
        initial["methods"] = [row.method for row in indicator.method_rows.all()]
        return initial

    def extra_context(self):
        return {"intro": f"{self.object.system.name} · {self.object.get_level_display()}"}

    def perform(self, form):
        return services.indicator_update(indicator=self.object, **form.cleaned_data)


class IndicatorUnitsView(ObjectFormView):
    form_class = IndicatorUnitsForm
    template_name = "indicators/form.html"
    title = "分解任务：牵头单位与责任单位"

    def load_object(self):
        return indicator_get(pk=self.kwargs["pk"])

    def get_initial(self):
        own = [a for a in self.object.assignments.all() if not a.inherited]
        return {
            "lead": [a.unit_id for a in own if a.role == AssignmentRole.LEAD],
            "responsible": [a.unit_id for a in own if a.role == AssignmentRole.RESPONSIBLE],
        }

    def extra_context(self):
        inherited = split_assignments(a for a in self.object.assignments.all() if a.inherited)
        names = {key: "、".join(a.unit.name for a in rows) for key, rows in inherited.items()}
        hint = "；".join(
            f"{label}现继承自上级：{names[key]}"
            for key, label in (("lead", "牵头单位"), ("responsible", "责任单位"))
            if names[key]
        )
        return {"intro": f"{self.object}。" + (hint + "。" if hint else "未选择的职责沿用上级指标的单位。")}

    @transaction.atomic
    def perform(self, form):
        services.indicator_set_units(
            indicator=self.object, role=AssignmentRole.LEAD, units=form.cleaned_data["lead"], rebuild=False
        )
        services.indicator_set_units(
            indicator=self.object, role=AssignmentRole.RESPONSIBLE, units=form.cleaned_data["responsible"]
        )
        return self.object


# --- 任务单 -----------------------------------------------------------------------------------

TASK_FILTERS = [
    ("", "全部"),
    ("missing", "未报送"),
    ("pending", "待审核"),
    ("returned", "退回"),
    ("approved", "通过"),
    ("overdue", "超期"),
]


def _first_non_blank(*fields):
    return Coalesce(*(NullIf(field, Value("")) for field in fields), Value(""), output_field=TextField())


def task_rows(*, unit: Unit, system: IndicatorSystem | None):
    """The unit's 任务单 rows with the deadline and requirements a row inherits from above (in SQL)."""
    own_material = Material.objects.filter(indicator=OuterRef("indicator"), unit=unit)
    up = ("indicator", "indicator__parent", "indicator__parent__parent", "indicator__parent__parent__parent")
    return task_list(unit=unit, system=system).annotate(
        due=Coalesce(*(f"{prefix}__deadline" for prefix in up)),
        needs=_first_non_blank(*(f"{prefix}__requirements" for prefix in up)),
        return_reason=Subquery(own_material.values("return_reason")[:1]),
    )


def _overdue_q(today) -> Q:
    return Q(indicator__is_declaration=True, due__lt=today) & (
        Q(material_status__isnull=True) | Q(material_status__in=[MaterialStatus.PENDING, MaterialStatus.RETURNED])
    )


def task_summary(rows) -> dict:
    """Counts for a 任务单 in one query."""
    today = timezone.localdate()
    return rows.aggregate(
        total=Count("pk"),
        declaration=Count("pk", filter=Q(indicator__is_declaration=True)),
        approved=Count("pk", filter=Q(material_status=MaterialStatus.APPROVED)),
        pending=Count("pk", filter=Q(material_status=MaterialStatus.PENDING)),
        returned=Count("pk", filter=Q(material_status=MaterialStatus.RETURNED)),
        missing=Count("pk", filter=Q(indicator__is_declaration=True, material_status__isnull=True)),
        overdue=Count("pk", filter=_overdue_q(today)),
    )


def filter_task_rows(rows, status: str):
    if status == "missing":
        return rows.filter(indicator__is_declaration=True, material_status__isnull=True)
    if status in (MaterialStatus.PENDING, MaterialStatus.RETURNED, MaterialStatus.APPROVED):
        return rows.filter(material_status=status)
    if status == "overdue":
        return rows.filter(_overdue_q(timezone.localdate()))
    return rows


def decorate_task_rows(rows, *, user, unit: Unit) -> list:
    """Methods (own, else inherited), overdue flag and what the row lets the user do."""
    rows = list(rows)
    methods = effective_methods([row.indicator for row in rows])
    today = timezone.localdate()
    may_submit = can_submit_for(user=user, unit=unit) and not scope_for(user).read_only
    for row in rows:
        row.method_labels = methods[row.indicator_id]
        row.status_label = STATUS_LABELS.get(row.material_status, "")
        row.overdue = bool(
            row.indicator.is_declaration
            and row.due
            and row.due < today
            and row.material_status != MaterialStatus.APPROVED
        )
        row.can_submit = may_submit and row.indicator.is_declaration and row.material_status != MaterialStatus.APPROVED
    return rows


def _task_export(rows, unit: Unit):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务单"
    headers = [
        "测评体系",
        "编号",
        "测评指标",
        "上级指标",
        "职责",
        "来源",
        "测评方法",
        "材料要求",
        "完成时限",
        "材料状态",
        "退回原因",
    ]
    append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = list(rows)
    methods = effective_methods([row.indicator for row in rows])
    for row in rows:
        indicator = row.indicator
        status = STATUS_LABELS.get(row.material_status) or ("未报送" if indicator.is_declaration else "无需申报")
        append_row(
            sheet,
            [
                indicator.system.name,
                indicator.code,
                indicator.title,
                str(indicator.parent) if indicator.parent else "",
                row.get_role_display(),
                "继承上级" if row.inherited else "本级分解",
                "、".join(methods[indicator.pk]),
                row.needs,
                row.due,
                status,
                (row.return_reason or "") if row.material_status == MaterialStatus.RETURNED else "",
            ],
        )
        if row.due:
            sheet.cell(row=sheet.max_row, column=9).number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHIJK", (24, 10, 36, 28, 10, 10, 20, 36, 12, 10, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return xlsx_response(buffer.getvalue(), f"任务单-{unit.display_name}-{timezone.localdate():%Y%m%d}.xlsx")


def _task_page(request, unit: Unit):
    scope = scope_for(request.user)
    system = selected_system(request)
    rows = task_rows(unit=unit, system=system) if system else Assignment.objects.none()
    if request.GET.get("export") == "xlsx":
        return _task_export(filter_task_rows(rows, request.GET.get("status", "")), unit)
    status = request.GET.get("status", "")
    if status not in dict(TASK_FILTERS):
        status = ""
    summary = task_summary(rows) if system else {}
    page = page_of(request, filter_task_rows(rows, status))
    systems = system_choices(system)
    context = {
        "title": f"任务单 · {unit.name}",
        "unit": unit,
        "system": system,
        "systems": systems,
        "rows": decorate_task_rows(page.object_list, user=request.user, unit=unit),
        "page_obj": page,
        "querystring": query_without(request, "page"),
        "summary": summary,
        "status": status,
        "status_filters": [
            (value, label, query_string(system=system.pk if system else None, status=value))
            for value, label in TASK_FILTERS
        ],
        "export_query": query_string(system=system.pk if system else None, status=status, export="xlsx"),
        "my_units": scope.liaison_units if scope.is_liaison else (),
        "can_submit": can_submit_for(user=request.user, unit=unit),
        "today": timezone.localdate(),
    }
    return render(request, "indicators/task_list.html", context)


def query_string(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value not in (None, "")})


@login_required
def my_tasks(request):
    """A liaison lands on its own unit's 任务单; the office and leaders choose a unit."""
    scope = scope_for(request.user)
    if scope.is_liaison and scope.liaison_units:
        return _task_page(request, scope.liaison_units[0])
    if scope.sees_everything:
        return _task_units(request)
    raise PermissionDenied("任务单按单位查看：您的账号还没有所属单位，请联系创建办。")


@login_required
def unit_tasks(request, unit_pk):
    try:
        unit = unit_get_for_user(user=request.user, pk=unit_pk)
    except ObjectDoesNotExist as exc:
        raise Http404("未找到该单位，或您无权查看。") from exc
    return _task_page(request, unit)


def _task_units(request):
    """Units that answer for indicators of the system, with their counts (one aggregate query)."""
    system = selected_system(request)
    rows = []
    if system is not None:
        rows = (
            Assignment.objects.filter(indicator__system=system)
            .filter(Q(inherited=False) | Q(indicator__is_leaf=True))
            .values("unit", "unit__name", "unit__kind", "unit__path")
            .annotate(
                tasks=Count("pk"),
                leads=Count("pk", filter=Q(role=AssignmentRole.LEAD)),
                declaration=Count("pk", filter=Q(indicator__is_declaration=True)),
            )
            .order_by("unit__path")
        )
    page = page_of(request, rows)
    return render(
        request,
        "indicators/task_units.html",
        {
            "title": "任务单",
            "system": system,
            "systems": system_choices(system),
            "page_obj": page,
            "querystring": query_without(request, "page"),
            "can_manage": can_manage(request.user),
        },
    )


# --- Materials --------------------------------------------------------------------------------


class MaterialListFilterSet(MaterialFilterSet):
    def prepare_form(self) -> None:
        super().prepare_form()
        # The indicator filter arrives through links from an indicator page, not typed in.
        self.form.fields.pop("indicator", None)
        status = self.form.fields["status"]
        status.empty_label = "全部"
        status.choices = MaterialStatus.choices


class MaterialListView(ObjectListView):
    title = "申报材料"
    template_name = "indicators/material_list.html"
    filterset_class = MaterialListFilterSet
    export_name = "申报材料"
    columns = [
        Col("测评指标", lambda m: str(m.indicator), link=True),
        Col("报送单位", "unit.name"),
        Col("测评体系", "indicator.system.name"),
        Col("状态", "status"),
        Col("报送时间", "submitted_at"),
        Col("审核人", lambda m: (m.reviewed_by.get_full_name() or m.reviewed_by.username) if m.reviewed_by else ""),
        Col("退回原因", "return_reason"),
    ]

    def base_queryset(self):
        return material_list(user=self.request.user).order_by("-submitted_at", "-id")

    def can_add(self) -> bool:
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scope = scope_for(self.request.user)
        if scope.is_liaison:
            context["empty_message"] = "还没有报送材料。"
            context["empty_hint"] = "请在“任务单”中找到需要网上申报的指标，点击“上传材料”。"
        else:
            context["empty_message"] = "还没有单位报送材料。"
            context["empty_hint"] = "单位联络员在任务单中上传材料后，会出现在这里等待审核。"
        context["scope"] = scope
        return context


def _material(request, pk) -> Material:
    try:
        return material_get_for_user(user=request.user, pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404("未找到该材料，或您无权查看。") from exc


def file_groups(material: Material) -> list[dict]:
    """Current files, each with the versions it replaced (newest first)."""
    files = list(material.files.all())
    by_pk = {f.pk: f for f in files}
    groups = []
    for record in sorted((f for f in files if f.current), key=lambda f: f.pk):
        previous = []
        cursor = by_pk.get(record.replaces_id)
        while cursor is not None:
            previous.append(cursor)
            cursor = by_pk.get(cursor.replaces_id)
        groups.append({"file": record, "previous": previous})
    return groups


def render_material(request, material: Material, *, return_form=None, resubmit_form=None, status: int = 200):
    user = request.user
    scope = scope_for(user)
    groups = file_groups(material)
    can_review = material.status == MaterialStatus.PENDING and can_review_material(user=user, material=material)
    can_resubmit = (
        material.status in (MaterialStatus.PENDING, MaterialStatus.RETURNED)
        and not scope.read_only
        and can_submit_for(user=user, unit=material.unit)
    )
    if can_resubmit and resubmit_form is None:
        resubmit_form = MaterialResubmitForm(
            initial={"description": material.description}, current_files=[g["file"] for g in groups]
        )
    context = {
        "title": f"申报材料 · {material.indicator}",
        "material": material,
        "ancestors": list(indicator_ancestors(indicator=material.indicator)),
        "groups": groups,
        "events": list(material.events.all()),
        "can_review": can_review,
        "return_form": return_form or (MaterialReturnForm() if can_review else None),
        "can_resubmit": can_resubmit,
        "resubmit_form": resubmit_form,
    }
    return render(request, "indicators/material_detail.html", context, status=status)


@login_required
def material_detail(request, pk):
    return render_material(request, _material(request, pk))


@login_required
@require_POST
def material_review(request, pk):
    """Approve, or return with a reason: the office, or a leader of the unit's work group."""
    material = _material(request, pk)
    if not can_review_material(user=request.user, material=material):
        raise PermissionDenied("只有创建办或该单位所属工作组的牵头领导可以审核。")
    action = request.POST.get("action")
    if action == "approve":
        try:
            services.material_review(user=request.user, material=material, approve=True)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "已审核通过。")
        return HttpResponseRedirect(material.get_absolute_url())
    if action != "return":
        messages.error(request, "请选择“通过”或“退回”。")
        return HttpResponseRedirect(material.get_absolute_url())
    form = MaterialReturnForm(request.POST)
    if form.is_valid():
        try:
            services.material_review(
                user=request.user, material=material, approve=False, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已退回，联络员将看到退回原因。")
            return HttpResponseRedirect(material.get_absolute_url())
    return render_material(request, _material(request, pk), return_form=form, status=400)


@login_required
@require_POST
def material_resubmit(request, pk):
    """The owning liaison adds or replaces files (old ones stay as versions) and resubmits."""
    material = _material(request, pk)
    if scope_for(request.user).read_only or not can_submit_for(user=request.user, unit=material.unit):
        raise PermissionDenied("只有本单位的联络员可以报送材料。")
    current = [f for f in material.files.all() if f.current]
    form = MaterialResubmitForm(request.POST, request.FILES, current_files=current)
    if form.is_valid():
        try:
            services.material_submit(
                user=request.user,
                indicator=material.indicator,
                unit=material.unit,
                description=form.cleaned_data["description"],
                files=form.cleaned_data["files"],
                replace=form.replacements(),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "材料已提交，等待审核。")
            return HttpResponseRedirect(material.get_absolute_url())
    return render_material(request, _material(request, pk), resubmit_form=form, status=400)


@login_required
def material_file_download(request, pk):
    """A material's file, only to who may see the material (never a public media URL)."""
    record = MaterialFile.objects.filter(pk=pk, material__in=material_list(user=request.user)).first()
    if record is None:
        raise Http404("未找到该文件，或您无权查看。")
    inline = request.GET.get("inline") == "1" and record.content_type.startswith("image/")
    try:
        handle = record.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件已不在服务器上，请联系创建办。") from exc
    return FileResponse(
        handle, as_attachment=not inline, filename=record.original_name, content_type=record.content_type
    )


class MaterialUploadView(ObjectFormView):
    """A liaison's first upload for an indicator its unit owns, preselected from the 任务单."""

    form_class = MaterialUploadForm
    template_name = "indicators/material_upload.html"
    title = "上传申报材料"

    def check_permission(self):
        scope = scope_for(self.request.user)
        if not scope.is_liaison or scope.read_only:
            raise PermissionDenied("只有单位联络员可以上传申报材料。")

    @cached_property
    def units(self):
        scope = scope_for(self.request.user)
        return (
            Unit.objects.filter(scope.unit_q(), active=True)
            .filter(pk__in=Assignment.objects.filter(indicator__is_declaration=True).values("unit"))
            .order_by("path")
        )

    def _declaration_indicators(self):
        return Indicator.objects.filter(is_declaration=True, assignments__unit__in=self.units).distinct()

    @cached_property
    def preselected(self) -> Indicator | None:
        """The indicator named by the 任务单 link, if one of the liaison's units answers for it."""
        value = self.request.GET.get("indicator", "") or self.request.POST.get("indicator", "")
        if value.isdigit():
            return self._declaration_indicators().select_related("system", "parent").filter(pk=value).first()
        return None

    def get_form_kwargs(self):
        system = self.preselected.system if self.preselected else latest_system()
        return {
            "indicators": self._declaration_indicators().filter(system=system).order_by("path"),
            "units": self.units,
        }

    def get_initial(self):
        initial = {}
        if self.preselected:
            initial["indicator"] = self.preselected.pk
        unit = self.request.GET.get("unit", "")
        if unit:
            if not unit.isdigit() or not scope_for(self.request.user).covers(get_object_or_404(Unit, pk=unit)):
                raise Http404("未找到该单位，或您无权查看。")
            initial["unit"] = int(unit)
        elif len(self.units) == 1:
            initial["unit"] = self.units[0].pk
        return initial

    def get(self, request, *args, **kwargs):
        initial = self.get_initial()
        if "indicator" in initial and "unit" in initial:
            existing = (
                material_list(user=request.user)
                .filter(indicator_id=initial["indicator"], unit_id=initial["unit"])
                .first()
            )
            if existing is not None:
                messages.info(request, "该指标已有本单位的材料，可在此补充文件或重新提交。")
                return HttpResponseRedirect(existing.get_absolute_url() + "#resubmit")
        return super().get(request, *args, **kwargs)

    def cancel_url(self):
        return reverse("task-list-mine")

    def extra_context(self):
        indicator = self.preselected
        context = {"indicator": indicator, "ancestors": []}
        if indicator is not None:
            context["ancestors"] = list(indicator_ancestors(indicator=indicator))
            chain = [*context["ancestors"], indicator]
            context["methods"] = effective_methods(chain)[indicator.pk]
            context["requirements"] = next((n.requirements for n in reversed(chain) if n.requirements), "")
            context["deadline"] = next((n.deadline for n in reversed(chain) if n.deadline), None)
        return context

    def perform(self, form):
        data = form.cleaned_data
        return services.material_submit(
            user=self.request.user,
            indicator=data["indicator"],
            unit=data["unit"],
            description=data["description"],
            files=data["files"],
        )


# --- Completeness board -----------------------------------------------------------------------

BOARD_SORTS = {"rate": "完成率从低到高", "-rate": "完成率从高到低", "name": "单位顺序"}


@login_required
def board(request):
    """Per 测评项目 and per unit: the share (by weight) of declaration indicators with approved
    material, and what is missing or returned."""
    require_office_or_leader(request.user, "完成度看板仅供创建办和领导查看；本单位的情况请查看任务单。")
    system = selected_system(request)
    context = {"title": "网上申报完成度", "system": system, "sorts": BOARD_SORTS.items()}
    if system is None:
        return render(request, "indicators/board.html", context)
    unit = None
    unit_value = request.GET.get("unit", "")
    if unit_value:
        if not unit_value.isdigit():
            raise Http404("未找到该单位。")
        unit = get_object_or_404(Unit, pk=unit_value)
    projects = completeness_by_project(system=system)
    for row in projects:
        row["pct"] = percent(row["rate"])
    total_weight = sum((row["total_weight"] for row in projects), Decimal(0))
    approved_weight = sum((row["approved_weight"] for row in projects), Decimal(0))
    unit_rows = completeness_by_unit(system=system, units=Unit.objects.filter(pk=unit.pk) if unit else None)
    for row in unit_rows:
        row["pct"] = percent(row["rate"])
    sort = request.GET.get("sort", "rate")
    if sort not in BOARD_SORTS:
        sort = "rate"
    if sort != "name":
        rated = [r for r in unit_rows if r["rate"] is not None]
        unrated = [r for r in unit_rows if r["rate"] is None]
        rated.sort(key=lambda r: r["rate"], reverse=sort == "-rate")
        unit_rows = rated + unrated
    own_material = Material.objects.filter(indicator=OuterRef("indicator"), unit=OuterRef("unit"))
    missing = missing_materials(system=system, unit=unit).annotate(material_pk=Subquery(own_material.values("pk")[:1]))
    unit_page = page_of(request, unit_rows)
    missing_page = page_of(request, missing, param="mpage")
    units = (
        Unit.objects.filter(
            pk__in=Assignment.objects.filter(indicator__system=system, indicator__is_declaration=True).values("unit")
        )
        .only("pk", "name", "depth")
        .order_by("path")
    )
    context.update(
        systems=system_choices(system),
        unit=unit,
        units=units,
        projects=projects,
        overall_pct=percent(approved_weight / total_weight) if total_weight else None,
        unit_page=unit_page,
        unit_query=query_without(request, "page"),
        missing_page=missing_page,
        missing_rows=[(row, STATUS_LABELS.get(row.material_status, "未报送")) for row in missing_page.object_list],
        missing_query=query_without(request, "mpage"),
        sort=sort,
        sort_query=query_without(request, "sort", "page"),
    )
    return render(request, "indicators/board.html", context)


# --- Negative list and risk events ------------------------------------------------------------


@login_required
def negative_list(request):
    require_office_or_leader(request.user, "负面清单仅供创建办和领导查看。")
    system = selected_system(request)
    items = []
    if system is not None:
        items = (
            NegativeListItem.objects.filter(system=system)
            .annotate(
                open_events=Count("events", filter=Q(events__status=RiskStatus.OPEN)),
                total_events=Count("events"),
            )
            .order_by("order", "id")
        )
    page = page_of(request, items)
    counts = (
        NegativeListItem.objects.filter(system=system).aggregate(
            total=Count("pk"), veto=Count("pk", filter=Q(veto=True))
        )
        if system
        else {"total": 0, "veto": 0}
    )
    return render(
        request,
        "indicators/negative_list.html",
        {
            "title": "负面清单",
            "system": system,
            "systems": system_choices(system),
            "page_obj": page,
            "querystring": query_without(request, "page"),
            "counts": counts,
            "open_veto": RiskEvent.objects.filter(status=RiskStatus.OPEN, item__veto=True).count(),
            "can_manage": can_manage(request.user),
        },
    )


class NegativeItemCreateView(ObjectFormView):
    form_class = NegativeItemForm
    template_name = "indicators/form.html"
    title = "新增负面清单事项"

    def get_initial(self):
        system = latest_system()
        value = self.request.GET.get("system", "")
        if value.isdigit():
            system = IndicatorSystem.objects.filter(pk=value).first() or system
        return {"system": system}

    def cancel_url(self):
        return reverse("negative-list")

    def perform(self, form):
        return services.negative_item_create(**form.cleaned_data)

    def get_success_url(self, result):
        return f"{reverse('negative-list')}?{query_string(system=result.system_id)}"


class RiskEventPageFilterSet(RiskEventFilterSet):
    """The API's filters; on the page the negative-list item comes only from links, so it is hidden."""

    item = django_filters.NumberFilter(field_name="item_id", label="负面清单事项", widget=forms.HiddenInput)


class RiskEventListView(ObjectListView):
    title = "风险事件登记"
    template_name = "indicators/risk_event_list.html"
    filterset_class = RiskEventPageFilterSet
    add_url_name = "risk-event-create"
    export_name = "风险事件"
    columns = [
        Col("发生日期", "occurred_on"),
        Col("涉及单位", "unit.name"),
        Col("负面清单事项", "item.title"),
        Col("一票否决", "item.veto"),
        Col("情况说明", "description"),
        Col("状态", "status"),
        Col("处置情况", "resolution"),
        Col("解决时间", "resolved_at"),
    ]
    empty_message = "没有登记的风险事件。"
    empty_hint = (
        "发生负面清单所列事项时，点击“新增”登记；一票否决事项未解决前，创建办和领导的每个页面都会显示红色警示。"
    )

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_office_or_leader(request.user, "风险事件登记仅供创建办和领导查看。")
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        return RiskEvent.objects.select_related("item", "unit").order_by("-occurred_on", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = can_manage(self.request.user)
        if not context["can_manage"]:
            context["empty_hint"] = "创建办登记的风险事件会显示在这里；一票否决事项未解决时，页面顶部会显示红色警示。"
        return context


class RiskEventCreateView(ObjectFormView):
    form_class = RiskEventForm
    template_name = "indicators/form.html"
    title = "登记风险事件"

    def get_initial(self):
        return {"occurred_on": timezone.localdate()}

    def cancel_url(self):
        return reverse("risk-event-list")

    def perform(self, form):
        return services.risk_event_create(user=self.request.user, **form.cleaned_data)


class RiskEventResolveView(ObjectFormView):
    form_class = RiskResolveForm
    template_name = "indicators/form.html"
    title = "处置风险事件"

    def load_object(self):
        return RiskEvent.objects.select_related("item", "unit").get(pk=self.kwargs["pk"])

    def cancel_url(self):
        return reverse("risk-event-list")

    def extra_context(self):
        event = self.object
        return {
            "intro": f"{event.occurred_on:%Y年%m月%d日} · {event.unit.name} · {event.item.title}"
            f"{'（一票否决）' if event.item.veto else ''}：{event.description}"
        }

    def perform(self, form):
        return services.risk_event_resolve(user=self.request.user, event=self.object, **form.cleaned_data)
