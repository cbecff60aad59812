"""Pages of the shared kernel: home per role, units, memberships, campaigns, job runs."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from . import people, services
from .choices import UnitKind
from .filters import CampaignFilterSet, JobRunFilterSet, UnitFilterSet
from .forms import CampaignForm, MembershipForm, PhasesForm, UnitContactsForm, UnitForm, WorkGroupForm
from .generic import (
    Col,
    ImportView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    OfficeRequiredMixin,
)
from .job_labels import job_error_text, job_label, job_result_text
from .models import Campaign, JobRun, Membership, Unit, WorkGroup
from .permissions import can_edit_unit_contacts, can_manage
from .selection import SESSION_KEY
from .selectors import (
    campaign_current,
    campaign_days_left,
    campaign_phase_on,
    scope_for,
    unit_ancestors,
    unit_get_for_user,
    unit_kind_counts,
    unit_list,
    unit_subtree,
    with_kind_labels,
)

# --- Home --------------------------------------------------------------------------------------


@login_required
def home(request):
    """Each role lands on its own home. Widgets of features still to come say which feature fills them."""
    scope = scope_for(request.user)
    campaign = campaign_current()
    widgets: dict[str, str] = {}
    for path in settings.CAMPAIGN_HOME_WIDGETS:
        widgets.update(import_string(path)(request))
    context = {
        "widgets": widgets,
        "campaign": campaign,
        "phase": campaign_phase_on(campaign=campaign) if campaign else None,
        "days_left": campaign_days_left(campaign=campaign) if campaign else None,
    }
    if scope.is_office:
        context["unit_counts"] = unit_kind_counts(Unit.objects.filter(active=True))
        # The number links to 成员与角色, which lists memberships (a person may hold several).
        context["member_count"] = Membership.objects.count()
        template = "campaign/home_office.html"
    elif scope.is_leader:
        context["district_count"] = Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).count()
        template = "campaign/home_leader.html"
    elif scope.is_inspector:
        template = "campaign/home_inspector.html"
    elif scope.is_liaison:
        units = list(scope.liaison_units)
        context["my_units"] = units
        context["subtree_counts"] = unit_kind_counts(unit_list(user=request.user).filter(active=True))
        template = "campaign/home_liaison.html"
    else:
        template = "campaign/home_none.html"
    return render(request, template, context)


# --- Units -------------------------------------------------------------------------------------


class UnitListView(ObjectListView):
    title = "单位列表"
    filterset_class = UnitFilterSet
    add_url_name = "unit-create"
    import_url_name = "unit-import"
    export_name = "单位"
    empty_message = "还没有单位。"
    empty_hint = "请先通过“导入”上传区县、街道、社区和市直部门名单。"
    columns = [
        Col("名称", "name", link=True),
        Col("简称", "short_name"),
        Col("编码", "code"),
        Col("类型", "kind_label"),
        Col("上级单位", "parent.name"),
        Col("主要负责人", "leader_name"),
        Col("联络员", "liaison_name"),
        Col("联系电话", "phone"),
        Col("启用", "active"),
    ]
    # The export re-imports unchanged: the import's columns, kinds in words it reads (区直部门 for a
    # department under a district), the parent by its code (names repeat: 湖滨街道 in two districts).
    export_columns = [
        Col("名称", "name"),
        Col("简称", "short_name"),
        Col("编码", "code"),
        Col("类型", "kind_label"),
        Col("上级单位", "parent.code"),
        Col("主要负责人", "leader_name"),
        Col("联络员", "liaison_name"),
        Col("联系电话", "phone"),
        Col("启用", "active"),
    ]

    def base_queryset(self):
        return with_kind_labels(unit_list(user=self.request.user)).order_by("path")

    def export_xlsx(self):
        return super().export_xlsx(self.export_columns)


@login_required
def unit_tree(request):
    """The territorial tree and the departments, as nested lists, from one query."""
    units = list(
        with_kind_labels(unit_list(user=request.user))
        .only("id", "name", "short_name", "kind", "parent_id", "path", "depth", "active")
        .order_by("path")
    )
    visible = {u.pk for u in units}
    children: dict = {}
    roots = []
    for unit in units:
        if unit.parent_id in visible:
            children.setdefault(unit.parent_id, []).append(unit)
        else:
            roots.append(unit)
    for unit in units:
        unit.child_list = children.get(unit.pk, [])
    territorial = [u for u in roots if u.kind != UnitKind.DEPARTMENT]
    departments = [u for u in roots if u.kind == UnitKind.DEPARTMENT]
    return render(
        request,
        "campaign/unit_tree.html",
        {
            "territorial": territorial,
            "departments": departments,
            "total": len(units),
            "can_manage": can_manage(request.user),
        },
    )


class UnitDetailView(ObjectDetailView):
    template_name = "campaign/unit_detail.html"

    def get_scoped_object(self, pk):
        return unit_get_for_user(user=self.request.user, pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        scope = scope_for(self.request.user)
        context.update(
            ancestors=[a for a in unit_ancestors(unit=unit) if scope.covers(a)],
            children=with_kind_labels(unit.children.all()).order_by("path"),
            subtree_counts=unit_kind_counts(unit_subtree(unit=unit, include_self=False)),
            members=unit.memberships.select_related("user") if scope.is_office or scope.covers(unit) else [],
            work_groups=unit.work_groups.select_related("campaign"),
            can_manage=can_manage(self.request.user),
            can_edit_contacts=can_edit_unit_contacts(self.request.user, unit),
        )
        return context


class UnitCreateView(ObjectFormView):
    form_class = UnitForm
    title = "新增单位"

    def get_initial(self):
        parent = self.request.GET.get("parent")
        return {"parent": parent, "active": True} if parent else {"active": True}

    def cancel_url(self):
        return reverse("unit-list")

    def perform(self, form):
        return services.unit_create(**form.cleaned_data)


class UnitEditView(ObjectFormView):
    form_class = UnitForm
    title = "编辑单位"

    def load_object(self):
        return unit_get_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        unit = self.object
        return {
            f: getattr(unit, f)
            for f in ("name", "short_name", "code", "kind", "parent", "active", "leader_name", "liaison_name", "phone")
        }

    def perform(self, form):
        return services.unit_update(unit=self.object, **form.cleaned_data)


class UnitContactsView(ObjectFormView):
    form_class = UnitContactsForm
    title = "更新联系人"

    def load_object(self):
        return unit_get_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def check_permission(self):
        if not can_edit_unit_contacts(self.request.user, self.object):
            raise PermissionDenied("您没有修改该单位的权限。")

    def get_initial(self):
        return {f: getattr(self.object, f) for f in ("leader_name", "liaison_name", "phone")}

    def perform(self, form):
        return services.unit_contacts_update(unit=self.object, **form.cleaned_data)


class UnitDeleteView(ObjectDeleteView):
    success_url_name = "unit-list"

    def get_scoped_object(self, pk):
        return unit_get_for_user(user=self.request.user, pk=pk)

    def perform_delete(self, obj):
        services.unit_delete(unit=obj)


class UnitImportView(ImportView):
    title = "导入单位"
    importer = staticmethod(services.units_import)
    columns = services.UNIT_COLUMNS
    template_filename = "单位导入模板.xlsx"
    success_url_name = "unit-list"
    help_text = (
        "类型可填：区、县、区县、街道、乡、镇、社区、村、市直部门、区直部门、部门、其他。上级单位填编码（或不重名的名称、简称）；"
        "街道的上级须为区县，社区的上级须为街道，区直部门的上级须为区县（或区县下的部门）。"
        "按编码匹配：已有单位更新，新编码新增；同一文件重复导入不会产生变化。单位列表导出的文件可直接导入。"
    )
    # Example rows that import as they are, into an empty city or the demo city: new codes, the
    # parents by code (a name such as 湖滨街道 can be ambiguous), and a 区直部门.
    sample_rows = [
        ["示范市高新区", "高新区", "GX", "区", "", "张三", "李四", "0510-1234567"],
        ["高新区科创街道", "科创街道", "GX-01", "街道", "GX", "", "", ""],
        ["科创街道星湖社区", "星湖社区", "GX-01-01", "社区", "GX-01", "", "", ""],
        ["高新区住房和城乡建设局", "高新区住建局", "GX-D01", "区直部门", "GX", "", "", ""],
        ["示范市数据局", "市数据局", "D-SJ", "市直部门", "", "", "", ""],
    ]


# --- Memberships -------------------------------------------------------------------------------


class MembershipCreateView(ObjectFormView):
    form_class = MembershipForm
    title = "添加成员角色"

    def cancel_url(self):
        return reverse("membership-list")

    @transaction.atomic
    def perform(self, form):
        data = form.cleaned_data
        user = get_user_model().objects.filter(username=data["username"]).first()
        if user is None:
            user = services.user_create(
                username=data["username"], password=data["password"], full_name=data["full_name"]
            )
        services.membership_create(user=user, role=data["role"], unit=data["unit"])
        return user

    def get_success_url(self, result):
        return reverse("membership-list")


@login_required
@require_POST
def membership_delete(request, pk):
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以管理成员。")
    membership = get_object_or_404(Membership, pk=pk)
    try:
        services.membership_delete(membership=membership)
        person = people.display_name(membership.user)
        unit = f"（{membership.unit.name}）" if membership.unit_id else ""
        messages.success(request, f"已移除“{person}”的角色：{membership.get_role_display()}{unit}。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return HttpResponseRedirect(reverse("membership-list"))


# --- Campaigns ---------------------------------------------------------------------------------


class CampaignListView(ObjectListView):
    title = "创建活动"
    filterset_class = CampaignFilterSet
    add_url_name = "campaign-create"
    export_name = "创建活动"
    columns = [
        Col("名称", "name", link=True),
        Col("级别", "level"),
        Col("启动日期", "start_date"),
        Col("测评日期", "evaluation_date"),
        Col("进行中", "active"),
    ]
    empty_message = "还没有创建活动。"
    empty_hint = "点击“新增”建立一个创建活动（如：创建全国文明城市）。"

    def base_queryset(self):
        return Campaign.objects.all()


class CampaignDetailView(ObjectDetailView):
    template_name = "campaign/campaign_detail.html"

    def get_scoped_object(self, pk):
        return Campaign.objects.get(pk=pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        phase = campaign_phase_on(campaign=campaign)
        context.update(
            phases=campaign.phases.all(),
            current_phase=phase,
            days_left=campaign_days_left(campaign=campaign),
            work_groups=campaign.work_groups.prefetch_related("leaders").annotate(unit_count=Count("units")),
            can_manage=can_manage(self.request.user),
            campaigns=Campaign.objects.exclude(pk=campaign.pk),
        )
        return context


@login_required
@require_POST
def campaign_switch(request):
    """The header's switcher: remember the campaign for this session and go back where the user
    was (without a `?campaign=` that would override the choice)."""
    campaign = get_object_or_404(Campaign, pk=request.POST.get("campaign") or 0)
    request.session[SESSION_KEY] = campaign.pk
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    parts = urlsplit(target)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "campaign"])
    messages.success(request, f"已切换到“{campaign.name}”。")
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


class CampaignCreateView(ObjectFormView):
    form_class = CampaignForm
    title = "新增创建活动"
    template_name = "generic/form.html"

    def cancel_url(self):
        return reverse("campaign-list")

    def perform(self, form):
        return services.campaign_create(**form.cleaned_data)


class CampaignEditView(ObjectFormView):
    form_class = CampaignForm
    title = "编辑创建活动"

    def load_object(self):
        return Campaign.objects.get(pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": Campaign.objects.get(pk=self.object.pk)}

    def perform(self, form):
        return services.campaign_update(campaign=self.object, **form.cleaned_data)


class CampaignPhasesView(ObjectFormView):
    form_class = PhasesForm
    title = "设置创建阶段"

    def load_object(self):
        return Campaign.objects.get(pk=self.kwargs["pk"])

    def get_initial(self):
        initial = {}
        for phase in self.object.phases.all():
            initial.update(
                {
                    f"{phase.kind}_start": phase.start_date,
                    f"{phase.kind}_end": phase.end_date,
                    f"{phase.kind}_note": phase.note,
                }
            )
        return initial

    def perform(self, form):
        services.campaign_set_phases(campaign=self.object, phases=form.phases)
        return self.object


class WorkGroupFormView(ObjectFormView):
    form_class = WorkGroupForm

    def load_object(self):
        self.campaign = Campaign.objects.get(pk=self.kwargs["campaign_pk"])
        if "pk" in self.kwargs:
            return WorkGroup.objects.get(pk=self.kwargs["pk"], campaign=self.campaign)
        return None

    @property
    def title(self):
        return "编辑工作组" if self.object else "新增工作组"

    def cancel_url(self):
        return self.campaign.get_absolute_url()

    def get_initial(self):
        if not self.object:
            return {"order": self.campaign.work_groups.count() + 1}
        group = self.object
        return {
            "name": group.name,
            "duties": group.duties,
            "order": group.order,
            "leaders": group.leaders.all(),
            "units": group.units.all(),
        }

    def perform(self, form):
        if self.object:
            services.work_group_update(group=self.object, **form.cleaned_data)
        else:
            services.work_group_create(campaign=self.campaign, **form.cleaned_data)
        return self.campaign


# --- Job runs ----------------------------------------------------------------------------------


class JobRunListView(OfficeRequiredMixin, ObjectListView):
    title = "后台任务记录"
    template_name = "campaign/jobrun_list.html"
    filterset_class = JobRunFilterSet
    columns = [
        Col("编号", "id"),
        Col("任务", lambda run: job_label(run.name)),
        Col("状态", "status"),
        Col("执行节点", "worker"),
        Col("排队时间", "queued_at"),
        Col("开始时间", "started_at"),
        Col("结束时间", "finished_at"),
        Col("执行次数", "attempts"),
        Col(
            "结果",
            lambda run: (
                job_error_text(run.error)
                or (f"未能交给任务队列，等待自动重发：{run.dispatch_error}" if run.dispatch_error else "")
                or job_result_text(run.result)
            ),
        ),
    ]
    empty_message = "还没有后台任务记录。"

    def base_queryset(self):
        return JobRun.objects.all()


@login_required
@require_POST
def worker_check(request):
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以执行该操作。")
    with transaction.atomic():
        run = services.worker_check_enqueue(user=request.user)
    run.refresh_from_db()
    messages.success(request, f"已提交后台任务检查（编号 {run.pk}），状态：{run.get_status_display()}。")
    return HttpResponseRedirect(reverse("jobrun-list"))
