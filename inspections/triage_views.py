"""Pages of the 群众反映 triage (分拣): the queue `/inspections/reports/` (tabs by status, filters,
search, Excel), a report with its duplicate candidates and the accept / merge / reject forms, the
12345 tickets' import and reply export, and the public categories' management. The office acts,
leaders read, everyone else gets 403."""

from __future__ import annotations

import datetime
from functools import partial

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from campaign.exporting import workbook_bytes
from campaign.filters import YES_NO_ALL, FilterSet
from campaign.forms import DateInput
from campaign.generic import Col, ImportView, ObjectFormView, ObjectListView, apply_validation_error, xlsx_response
from campaign.models import Campaign, Unit
from campaign.permissions import can_manage
from campaign.selectors import campaign_current
from indicators.selectors import system_current

from . import triage
from .choices import ReportChannel, ReportStatus
from .forms import territorial_units
from .models import CheckItem, Point, PointType, Problem, PublicCategory, Report

STATUS_TABS = [
    (ReportStatus.PENDING, "待分拣"),
    (ReportStatus.ACCEPTED, "已受理"),
    (ReportStatus.MERGED, "已合并"),
    (ReportStatus.REJECTED, "不予受理"),
    ("all", "全部"),
]
# The has-duplicates filter's box, in degrees (about REPORT_DUPLICATE_DISTANCE_M; longitude
# degrees are shorter away from the equator, so the box is widened for latitudes up to 60°).
METRES_PER_DEGREE = 111_000.0


class ReaderRequiredMixin(LoginRequiredMixin):
    """The office and leaders read reports; anyone else gets the Chinese 403 page."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not triage.can_read_reports(request.user):
            raise PermissionDenied("只有创建办和领导可以查看群众反映。")
        return super().dispatch(request, *args, **kwargs)


def duplicates_exist_q() -> Exists:
    """A pending report has a likely duplicate: an open problem of its campaign found within the
    days, of its category, whose location lies in the report's bounding box (an indexed range,
    no exact distance — the report's page computes that)."""
    metres = triage.duplicate_distance_m()
    dlat = metres / METRES_PER_DEGREE
    dlng = dlat * 2  # cos(60°) = 0.5
    latitude = Coalesce("latitude", "point__latitude")
    longitude = Coalesce("longitude", "point__longitude")
    problems = (
        Problem.objects.filter(triage.OPEN, campaign_id=OuterRef("campaign_id"))
        .annotate(at_lat=latitude, at_lng=longitude)
        .filter(
            found_at__gte=OuterRef("submitted_at") - datetime.timedelta(days=triage.duplicate_days()),
            at_lat__gte=OuterRef("latitude") - dlat,
            at_lat__lte=OuterRef("latitude") + dlat,
            at_lng__gte=OuterRef("longitude") - dlng,
            at_lng__lte=OuterRef("longitude") + dlng,
        )
        .filter(  # of the category as triage._category_q says: by check item, point type or report
            Q(check_item__public_categories=OuterRef("category_id"))
            | Q(point__point_type__public_categories=OuterRef("category_id"))
            | Q(reports__category_id=OuterRef("category_id"))
        )
    )
    return Exists(problems)


class ReportFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="搜索")
    channel = django_filters.ChoiceFilter(choices=ReportChannel.choices, label="渠道", empty_label="全部")
    category = django_filters.ModelChoiceFilter(queryset=PublicCategory.objects.none(), label="问题类别")
    since = django_filters.DateFilter(method="filter_since", label="提交日期自", widget=DateInput)
    until = django_filters.DateFilter(method="filter_until", label="提交日期至", widget=DateInput)
    duplicates = django_filters.BooleanFilter(
        method="filter_duplicates", label="疑似重复", widget=forms.Select(choices=YES_NO_ALL)
    )

    class Meta:
        model = Report
        fields = ["q", "channel", "category", "since", "until", "duplicates"]

    def __init__(self, *args, request=None, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = PublicCategory.objects.filter(campaign=campaign) if campaign else PublicCategory.objects.none()
        self.filters["category"].queryset = queryset
        self.filters["category"].extra["empty_label"] = "全部"

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(ticket_no__icontains=value)
            | Q(description__icontains=value)
            | Q(address__icontains=value)
        )

    def filter_since(self, queryset, name, value):
        tz = timezone.get_current_timezone()
        return queryset.filter(submitted_at__gte=datetime.datetime.combine(value, datetime.time(0), tzinfo=tz))

    def filter_until(self, queryset, name, value):
        tz = timezone.get_current_timezone()
        end = datetime.datetime.combine(value + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
        return queryset.filter(submitted_at__lt=end)

    def filter_duplicates(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(duplicates_exist_q())
        return queryset.filter(condition) if value else queryset.exclude(condition)


def _ticket_overdue(report) -> bool:
    return bool(
        report.ticket_due_at and report.status == ReportStatus.PENDING and report.ticket_due_at < timezone.now()
    )


class ReportQueueView(ReaderRequiredMixin, ObjectListView):
    """待分拣 first: tabs by status with their counts, filters, search, newest first."""

    title = "群众反映"
    template_name = "inspections/reports/queue.html"
    filterset_class = ReportFilterSet
    export_name = "群众反映"
    paginate_by = 30
    columns = [
        Col("受理编号", "reference", link=True),
        Col("渠道", "channel"),
        Col("问题类别", lambda r: r.category.name if r.category else (r.category_text or "")),
        Col("问题描述", lambda r: r.description if len(r.description) <= 40 else r.description[:40] + "…"),
        Col("地址", "address"),
        Col("提交时间", "submitted_at"),
        Col("状态", "status"),
    ]
    export_columns = [
        Col("受理编号", "reference"),
        Col("渠道", "channel"),
        Col("问题类别", lambda r: r.category.name if r.category else (r.category_text or "")),
        Col("问题描述", "description"),
        Col("地址", "address"),
        Col("提交时间", "submitted_at"),
        Col("状态", "status"),
        Col("工单编号", "ticket_no"),
        Col("来电时间", "called_at"),
        Col("办理时限", "ticket_due_at"),
        Col("问题编号", lambda r: f"#{r.problem_id}" if r.problem_id else ""),
        Col("不予受理理由", "reject_reason"),
        Col("办理回复", "reply"),
    ]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.campaign = campaign_current()
        wanted = request.GET.get("status", ReportStatus.PENDING)
        self.status = wanted if wanted in dict(STATUS_TABS) else ReportStatus.PENDING

    def get_filterset_kwargs(self):
        return {}

    def get_queryset(self):
        queryset = self.base_queryset()
        self.filterset = ReportFilterSet(
            self.request.GET or None, queryset=queryset, request=self.request, campaign=self.campaign
        )
        return self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else queryset

    def base_queryset(self):
        queryset = triage.report_list(user=self.request.user, campaign=self.campaign)
        if self.campaign is None:
            queryset = queryset.none()
        if self.status != "all":
            queryset = queryset.filter(status=self.status)
        return queryset.order_by("-submitted_at", "-id")

    def can_add(self):
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = triage.status_counts(campaign=self.campaign)
        query = self.request.GET.copy()
        query.pop("page", None)
        tabs = []
        for status, label in STATUS_TABS:
            query["status"] = status
            count = sum(counts.values()) if status == "all" else counts.get(status, 0)
            tabs.append({"status": status, "label": label, "count": count, "url": f"?{query.urlencode()}"})
        for report in context["object_list"]:
            report.ticket_overdue = _ticket_overdue(report)
            report.get_absolute_url = partial(reverse, "report-detail", args=[report.pk])
        office = can_manage(self.request.user)
        actions = []
        if office:
            actions = [
                ("导入12345工单", reverse("report-import")),
                ("12345办理回复", reverse("report-replies")),
                ("公众问题类别", reverse("publiccategory-list")),
            ]
        context.update(
            tabs=tabs,
            status=self.status,
            extra_actions=actions,
            empty_message=("暂无待分拣的反映。" if self.status == ReportStatus.PENDING else "暂无该状态的反映。"),
            empty_hint="",
            queue_hint="市民可在 /report/ 随手拍；12345 工单可在“导入12345工单”导入，或由热线平台通过接口推送。",
        )
        return context

    def export_xlsx(self):
        return super().export_xlsx(self.export_columns)


# --- One report ------------------------------------------------------------------------------------


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class AcceptForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False, label="属地单位")
    point = forms.ModelChoiceField(queryset=Point.objects.none(), required=False, label="点位")
    check_item = forms.ModelChoiceField(queryset=CheckItem.objects.none(), required=False, label="测评细则")
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, report: Report, points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = territorial_units()
        self.fields["unit"].empty_label = "按最近点位自动确定"
        self.fields["unit"].label_from_instance = lambda u: ("　" * u.depth) + u.name
        if not isinstance(points, QuerySet):
            points = Point.objects.filter(pk__in=[p.pk for p in points])
        self.fields["point"].queryset = points.select_related("point_type")
        self.fields["point"].empty_label = "不指定点位"
        self.fields["point"].label_from_instance = lambda p: f"{p.name}（{p.point_type.name}）"
        # The category's check items; a category mapping none (or no category) offers the
        # campaign's current system's.
        items = CheckItem.objects.filter(active=True).select_related("point_type")
        mapped = items.filter(public_categories=report.category) if report.category is not None else items.none()
        if report.category is not None and report.category.check_items.exists():
            items = mapped
        else:
            system = system_current(campaign=report.campaign)
            items = items.filter(indicator__system=system) if system else items.none()
        self.fields["check_item"].queryset = items.order_by("point_type__order", "order", "id")
        self.fields["check_item"].empty_label = "不指定"
        self.fields["check_item"].label_from_instance = lambda i: f"{i.point_type.name} · {i.text}"
        _style(self)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="不予受理理由", widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}), required=False
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label="办理回复", widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}), required=False
    )


def _report_or_404(user, pk) -> Report:
    report = (
        triage.report_list(user=user)
        .select_related("campaign", "point", "triaged_by", "intake_key")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404("未找到该反映。")
    return report


class ReportDetailView(ReaderRequiredMixin, View):
    template_name = "inspections/reports/detail.html"

    def get(self, request, pk):
        report = _report_or_404(request.user, pk)
        return self.render_page(report)

    def render_page(self, report, *, accept_form=None, reject_form=None, reply_form=None, status=200):
        office = can_manage(self.request.user)
        pending = report.status == ReportStatus.PENDING
        duplicates = triage.report_duplicates(report) if pending else []
        repeats = triage.report_repeats(report) if pending else []
        nearest = triage.nearest_point(report) if pending else None
        points = []
        if pending and report.latitude is not None:
            from .selectors import points_near

            points = points_near(
                Point.objects.filter(active=True).select_related("point_type", "unit"),
                latitude=float(report.latitude),
                longitude=float(report.longitude),
                limit=10,
            )
            points = [p for p in points if p.distance <= triage.nearest_point_m() * 3]
        if office and pending and accept_form is None:
            accept_form = AcceptForm(
                report=report,
                points=points,
                initial={
                    "description": report.description,
                    "version": report.version,
                    "unit": nearest.unit_id if nearest else None,
                },
            )
        if office and pending and reject_form is None:
            reject_form = RejectForm(initial={"version": report.version})
        can_reply = office and report.status in (ReportStatus.ACCEPTED, ReportStatus.MERGED)
        if can_reply and reply_form is None:
            reply_form = ReplyForm(initial={"reply": report.reply})
        map_data = None
        if report.latitude is not None and report.longitude is not None:
            map_data = {
                "points": [
                    [report.pk, report.reference, "r", float(report.latitude), float(report.longitude), report.address]
                ],
                "types": {"r": {"name": report.get_channel_display(), "colour": "#d63939"}},
                "detailUrl": reverse("report-detail", args=[0]),
                "tileUrl": getattr(settings, "MAP_TILE_URL", "") or "",
                "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or "",
                "zoom": 17,
            }
        context = {
            "object": report,
            "office": office,
            "pending": pending,
            "duplicates": duplicates,
            "repeats": repeats,
            "nearest": nearest,
            "accept_form": accept_form,
            "reject_form": reject_form,
            "reply_form": reply_form,
            "photos": list(report.photos.all()),
            "map_data": map_data,
            "ticket_overdue": _ticket_overdue(report),
            "duplicate_distance": triage.duplicate_distance_m(),
            "duplicate_days": triage.duplicate_days(),
        }
        return render(self.request, self.template_name, context, status=status)


def _number(text: str) -> bool:
    """ASCII digits only, of a size a key holds: "²" passes str.isdigit() yet int() refuses it."""
    return text.isascii() and text.isdigit() and len(text) <= 18


class ReportTriageView(LoginRequiredMixin, View):
    """POST `action` = accept | merge | reject | reply on one report (the office only)."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not triage.can_read_reports(request.user):
            raise PermissionDenied("只有创建办和领导可以查看群众反映。")
        if not can_manage(request.user):
            raise PermissionDenied("只有创建办可以分拣群众反映。")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk):
        report = _report_or_404(request.user, pk)
        action = request.POST.get("action", "")
        page = ReportDetailView()
        page.setup(request, pk=pk)
        url = reverse("report-detail", args=[report.pk])
        try:
            if action == "accept":
                form = AcceptForm(request.POST, report=report, points=Point.objects.filter(active=True))
                if not form.is_valid():
                    return page.render_page(report, accept_form=form, status=400)
                data = form.cleaned_data
                try:
                    problem = triage.report_accept(
                        report=report,
                        user=request.user,
                        unit=data["unit"],
                        point=data["point"],
                        check_item=data["check_item"],
                        description=data["description"],
                        version=data["version"],
                    )
                except ValidationError as exc:
                    apply_validation_error(form, exc)
                    return page.render_page(report, accept_form=form, status=400)
                messages.success(request, f"已受理：登记为问题 #{problem.pk}（待交办）。")
                return HttpResponseRedirect(problem.get_absolute_url())
            if action == "merge":
                number = request.POST.get("problem", "").strip().lstrip("#")
                problem = Problem.objects.filter(pk=int(number)).first() if _number(number) else None
                if problem is None:
                    messages.error(request, "请选择要合并到的问题。")
                    return HttpResponseRedirect(url)
                version = request.POST.get("version", "")
                triage.report_merge(
                    report=report,
                    problem=problem,
                    user=request.user,
                    version=int(version) if _number(version) else None,
                )
                messages.success(request, f"已合并到问题 #{problem.pk}，照片已加入该问题。")
                return HttpResponseRedirect(url)
            if action == "reject":
                form = RejectForm(request.POST)
                form.is_valid()
                try:
                    triage.report_reject(
                        report=report,
                        user=request.user,
                        reason=form.cleaned_data.get("reason", ""),
                        version=form.cleaned_data.get("version"),
                    )
                except ValidationError as exc:
                    apply_validation_error(form, exc)
                    return page.render_page(report, reject_form=form, status=400)
                messages.success(request, "已不予受理，理由将告知反映人。")
                return HttpResponseRedirect(url)
            if action == "reply":
                form = ReplyForm(request.POST)
                form.is_valid()
                try:
                    triage.report_set_reply(report=report, user=request.user, reply=form.cleaned_data.get("reply", ""))
                except ValidationError as exc:
                    apply_validation_error(form, exc)
                    return page.render_page(report, reply_form=form, status=400)
                messages.success(request, "办理回复已保存。")
                return HttpResponseRedirect(url)
        except triage.ReportConflict as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(url)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(url)
        messages.error(request, "未知的操作。")
        return HttpResponseRedirect(url)


# --- 12345 tickets -------------------------------------------------------------------------------

STATIC_TICKET_ROWS = [
    ["12345-20261201-0001", "2026-12-01 09:30", "2026-12-08 18:00", "张先生", "13800000001", "占道经营",
     "湖滨路菜场门口有流动摊贩占道经营，影响通行。", "湖滨路88号", "", ""],
]  # fmt: skip


def ticket_sample_rows(campaign) -> list[list[str]]:
    """Example rows that import into the campaign: its first two active categories (one query)."""
    categories = list(PublicCategory.objects.filter(campaign=campaign, active=True).order_by("order", "id")[:2])
    if not categories:
        return STATIC_TICKET_ROWS
    day = timezone.localdate() - datetime.timedelta(days=1)
    rows = []
    for n, category in enumerate(categories, start=1):
        rows.append(
            [
                f"12345-{day:%Y%m%d}-{n:04d}",
                f"{day:%Y-%m-%d} 09:{n * 10:02d}",
                f"{day + datetime.timedelta(days=7):%Y-%m-%d} 18:00",
                "张先生" if n == 1 else "李女士",
                f"1380000000{n}",
                category.name,
                f"市民来电反映{category.name}问题，请尽快处理（示例工单 {n}）。",
                "湖滨路88号" if n == 1 else "柳岸小区东门",
                "",
                "",
            ]
        )
    return rows


class CampaignImportMixin:
    """An import into the current campaign. A file big enough to run as a job is imported outside
    the request (no header choice there): the campaign is written into the job's query string."""

    def import_campaign(self):
        wanted = self.request.GET.get("campaign", "")
        if _number(wanted):
            found = Campaign.objects.filter(pk=int(wanted)).first()
            if found is not None:
                return found
        return campaign_current()

    def job_start(self, **kwargs):
        campaign = self.import_campaign()
        if campaign is not None and "campaign" not in self.request.GET:
            query = self.request.GET.copy()
            query["campaign"] = str(campaign.pk)
            self.request.GET = query
        return super().job_start(**kwargs)


class TicketImportView(CampaignImportMixin, ImportView):
    title = "导入12345工单"
    columns = triage.TICKET_COLUMNS
    template_filename = "12345工单导入模板.xlsx"
    success_url_name = "report-list"
    help_text = (
        "每行一张 12345 工单：工单编号和诉求内容必填；问题类别填本活动公众问题类别的名称或编码"
        "（不认识的类别保留原文，分拣时再选）；来电时间和办理时限可填日期或日期加时间（如 2026-12-01 09:30）；"
        "经纬度可空。重复导入按工单编号更新：待分拣的工单更新全部内容，已分拣的只更新来电时间和办理时限，内容相同则不变。"
    )

    def call_importer(self, file, dry_run: bool):
        return triage.tickets_import(campaign=self.import_campaign(), file=file, dry_run=dry_run)

    def template_file(self):
        headers = [c.header for c in triage.TICKET_COLUMNS]
        data = workbook_bytes(headers, ticket_sample_rows(campaign_current()), title="12345工单")
        return xlsx_response(data, self.template_filename)


class ReplyExportForm(forms.Form):
    since = forms.DateField(required=False, label="办结日期自", widget=DateInput)
    until = forms.DateField(required=False, label="办结日期至", widget=DateInput)


def report_replies(request):
    """12345 办理回复: the tickets whose problem was closed (or that were rejected) in the date range,
    as the sheet the hotline platform takes back. The office only."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{reverse('login')}?next={request.path}")
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以导出12345办理回复。")
    form = ReplyExportForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    campaign = campaign_current()
    if campaign is None:
        rows = []
    else:
        rows = triage.hotline_reply_rows(triage.hotline_replies(campaign=campaign, since=since, until=until))
    data = workbook_bytes(triage.REPLY_HEADERS, rows, title="12345办理回复")
    return xlsx_response(data, f"12345办理回复-{timezone.localdate():%Y%m%d}.xlsx")


# --- Public categories ---------------------------------------------------------------------------


class PublicCategoryListView(ObjectListView):
    title = "公众问题类别"
    template_name = "inspections/reports/category_list.html"
    export_name = "公众问题类别"
    add_url_name = "publiccategory-create"
    import_url_name = "publiccategory-import"
    empty_message = "还没有公众问题类别。"
    empty_hint = "新增类别（如占道经营、乱堆乱放），并对应到测评细则和点位类别，市民和 12345 工单即可按类别提交。"
    columns = [
        Col("名称", "name"),
        Col("编码", "code"),
        Col("分组", "group"),
        Col("排序", "order"),
        Col("启用", "active"),
        Col("对应测评细则", lambda c: len(c.check_items.all())),
        Col("对应点位类别", lambda c: "、".join(t.name for t in c.point_types.all())),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not can_manage(request.user):
            raise PermissionDenied("只有创建办可以管理公众问题类别。")
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        campaign = campaign_current()
        queryset = PublicCategory.objects.filter(campaign=campaign) if campaign else PublicCategory.objects.none()
        return queryset.prefetch_related("check_items", "point_types").order_by("order", "id")

    def export_xlsx(self, columns=None):
        """The import's layout, so an export re-imports with no change."""
        headers = [c.header for c in triage.CATEGORY_COLUMNS]
        rows = triage.public_category_rows(self.get_queryset())
        data = workbook_bytes(headers, rows, title=self.title)
        return xlsx_response(data, f"{self.export_name}-{timezone.localdate():%Y%m%d}.xlsx")


STATIC_CATEGORY_ROWS = [
    ["zdjy", "占道经营", "市容秩序", "流动摊贩、店外经营", "10", "是", "", "集贸(农贸)市场、商业大街"],
    ["qt", "其他", "其他", "", "90", "是", "", ""],
]


class PublicCategoryImportView(CampaignImportMixin, ImportView):
    title = "导入公众问题类别"
    columns = triage.CATEGORY_COLUMNS
    template_filename = "公众问题类别导入模板.xlsx"
    success_url_name = "publiccategory-list"
    help_text = (
        "每行一个类别，按编码匹配：新编码新增，已有编码更新名称、分组、说明、排序、启用和对应关系。"
        "对应测评细则写作“点位类别：检查内容”，多个用“；”或换行分隔；对应点位类别填名称，多个用顿号分隔。"
        "导出的表格可直接修改后重新导入。"
    )

    def call_importer(self, file, dry_run: bool):
        return triage.public_categories_import(campaign=self.import_campaign(), file=file, dry_run=dry_run)

    def template_file(self):
        campaign = campaign_current()
        queryset = PublicCategory.objects.filter(campaign=campaign).order_by("order", "id") if campaign else None
        rows = triage.public_category_rows(queryset) if queryset is not None and queryset.exists() else []
        data = workbook_bytes(
            [c.header for c in triage.CATEGORY_COLUMNS], rows or STATIC_CATEGORY_ROWS, title="公众问题类别"
        )
        return xlsx_response(data, self.template_filename)


class PublicCategoryForm(forms.Form):
    code = forms.SlugField(label="编码", max_length=40, help_text="字母、数字、短横线，用作对外接口的类别编码")
    name = forms.CharField(label="名称", max_length=60)
    group = forms.CharField(label="分组", max_length=60, required=False)
    description = forms.CharField(label="说明", max_length=300, required=False)
    order = forms.IntegerField(label="排序", min_value=0, max_value=1_000_000, initial=0)
    active = forms.BooleanField(label="启用", required=False, initial=True)
    check_items = forms.ModelMultipleChoiceField(
        queryset=CheckItem.objects.none(), required=False, label="对应测评细则", widget=forms.SelectMultiple
    )
    point_types = forms.ModelMultipleChoiceField(
        queryset=PointType.objects.none(), required=False, label="对应点位类别", widget=forms.SelectMultiple
    )

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        system = system_current(campaign=campaign) if campaign else None
        items = CheckItem.objects.filter(indicator__system=system) if system else CheckItem.objects.none()
        self.fields["check_items"].queryset = items.select_related("point_type").order_by(
            "point_type__order", "order", "id"
        )
        self.fields["check_items"].label_from_instance = lambda i: f"{i.point_type.name} · {i.text}"
        self.fields["point_types"].queryset = PointType.objects.filter(active=True).order_by("order", "id")


class _PublicCategoryFormView(ObjectFormView):
    form_class = PublicCategoryForm

    def get_form_kwargs(self):
        return {"campaign": self.campaign()}

    def campaign(self):
        return self.object.campaign if self.object is not None else campaign_current()

    def get_success_url(self, result):
        return reverse("publiccategory-list")

    def cancel_url(self):
        return reverse("publiccategory-list")


class PublicCategoryCreateView(_PublicCategoryFormView):
    title = "新增公众问题类别"

    def perform(self, form):
        return triage.public_category_save(campaign=self.campaign(), **form.cleaned_data)


class PublicCategoryEditView(_PublicCategoryFormView):
    title = "编辑公众问题类别"

    def load_object(self):
        return PublicCategory.objects.get(pk=self.kwargs["pk"])

    def get_initial(self):
        category = self.object
        return {
            "code": category.code,
            "name": category.name,
            "group": category.group,
            "description": category.description,
            "order": category.order,
            "active": category.active,
            "check_items": list(category.check_items.all()),
            "point_types": list(category.point_types.all()),
        }

    def perform(self, form):
        return triage.public_category_save(category=self.object, campaign=self.object.campaign, **form.cleaned_data)
