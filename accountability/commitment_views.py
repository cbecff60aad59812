"""承诺事项 pages: the list (filters: unit, status with 逾期, week, due range; paginated; Excel
export), one commitment (its events, evidence photos and the forms its reader may use), the
create and edit forms, and each action. The services decide everything."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaign.exporting import workbook_bytes
from campaign.forms import DateInput
from campaign.generic import ObjectFormView, xlsx_response
from campaign.models import Unit
from campaign.people import display_name
from campaign.selectors import campaign_current, scope_for
from campaign.weeks import week_label
from indicators.models import Indicator
from inspections.selectors import iso_week_of
from inspections.services import photo_upload

from .choices import CommitmentStatus
from .commitments import (
    OVERDUE,
    WEEK_PATTERN,
    CommitmentConflict,
    attach_days_overdue,
    can_create_commitment,
    commitment_actions,
    commitment_cancel,
    commitment_confirm,
    commitment_create,
    commitment_list,
    commitment_report_done,
    commitment_return,
    commitment_update,
    filter_status,
    status_label,
)
from .models import CommitmentEvent

MAX_PHOTOS = 6
STATUS_CHOICES = [
    (CommitmentStatus.OPEN, "进行中"),
    (OVERDUE, "逾期"),
    (CommitmentStatus.REPORTED, CommitmentStatus.REPORTED.label),
    (CommitmentStatus.DONE, CommitmentStatus.DONE.label),
    (CommitmentStatus.CANCELLED, CommitmentStatus.CANCELLED.label),
]


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


@login_required
def commitment_list_page(request):
    scope = scope_for(request.user)
    if not (scope.is_office or scope.is_leader or scope.is_liaison):
        raise PermissionDenied("只有创建办、领导和单位联络员可以查看承诺事项。")
    campaign = campaign_current()
    rows = commitment_list(user=request.user, campaign=campaign)
    status = request.GET.get("status", "")
    week = request.GET.get("week", "").strip()
    unit_id = request.GET.get("unit", "")
    due_from, due_to = _date(request.GET.get("due_from", "")), _date(request.GET.get("due_to", ""))
    rows = filter_status(rows, status)
    if week:
        rows = rows.filter(week=week)
    unit = None
    if unit_id.isdigit():
        unit = Unit.objects.filter(pk=unit_id).first()
        rows = rows.filter(unit_id=unit_id)
    if due_from:
        rows = rows.filter(due_date__gte=due_from)
    if due_to:
        rows = rows.filter(due_date__lte=due_to)
    rows = rows.order_by("due_date", "id")
    if request.GET.get("export") == "xlsx":
        return _export(rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    shown = attach_days_overdue(page.object_list)
    for row in shown:
        row.status_text = status_label(row)
    query = request.GET.copy()
    query.pop("page", None)
    readable = commitment_list(user=request.user, campaign=campaign)
    units = Unit.objects.filter(pk__in=readable.values("unit_id"))
    # The 调度会 weeks that have commitments, newest first, shown as 第48周（…） (a native week
    # picker would speak the browser's language, not the product's).
    weeks = list(readable.exclude(week="").order_by("-week").values_list("week", flat=True).distinct())
    return render(
        request,
        "accountability/commitments/list.html",
        {
            "title": "承诺事项",
            "campaign": campaign,
            "page_obj": page,
            "commitments": shown,
            "statuses": STATUS_CHOICES,
            "status": status,
            "week": week,
            "weeks": weeks,
            "unit": unit,
            "units": units.order_by("path"),
            "due_from": due_from.isoformat() if due_from else "",
            "due_to": due_to.isoformat() if due_to else "",
            "querystring": query.urlencode(),
            "may_create": can_create_commitment(request.user),
        },
    )


def _export(rows):
    headers = ["编号", "承诺单位", "调度会周次", "承诺内容", "完成时限", "责任领导", "状态", "逾期工作日", "登记时间"]
    data = []
    for start in range(0, 100_000, 1000):  # a bounded read, a thousand rows at a time
        batch = attach_days_overdue(rows[start : start + 1000])
        if not batch:
            break
        data += [
            [
                c.pk,
                c.unit.name,
                week_label(c.week) if c.week else "",
                c.content,
                c.due_date.isoformat(),
                c.answerer,
                status_label(c),
                c.days_overdue or "",
                timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for c in batch
        ]
    return xlsx_response(workbook_bytes(headers, data, title="承诺事项"), "承诺事项.xlsx")


def _found(request, pk: int):
    found = commitment_list(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("未找到该承诺事项，或您无权查看。")
    return found


@login_required
def commitment_detail(request, pk: int):
    commitment = _found(request, pk)
    attach_days_overdue([commitment])
    events = list(
        CommitmentEvent.objects.filter(commitment=commitment).select_related("actor").prefetch_related("photos")
    )
    for event in events:
        event.actor_name = display_name(event.actor)
    return render(
        request,
        "accountability/commitments/detail.html",
        {
            "title": f"承诺事项 #{commitment.pk}",
            "c": commitment,
            "status_text": status_label(commitment),
            "events": events,
            "problems": list(commitment.problems.order_by("pk")),
            "actions": commitment_actions(user=request.user, commitment=commitment),
        },
    )


def _refusal(request, exc) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, str(exc))


def _version(request) -> int | None:
    version = request.POST.get("version", "")
    return int(version) if version.isdigit() else None


@login_required
@require_POST
def commitment_action(request, pk: int, action: str):
    """报告完成 (with photos), 确认, 退回, 撤销 — each the service's; refusals are messages."""
    commitment = _found(request, pk)
    note = request.POST.get("note", "")
    try:
        if action == "report":
            files = request.FILES.getlist("photos")[:MAX_PHOTOS]
            with transaction.atomic():
                photos = [photo_upload(user=request.user, file=file) for file in files]
                commitment_report_done(
                    user=request.user,
                    commitment=commitment,
                    note=note,
                    photos=photos,
                    expected_version=_version(request),
                )
            done = "已报告完成，等待创建办确认。"
        elif action == "confirm":
            commitment_confirm(user=request.user, commitment=commitment, note=note, expected_version=_version(request))
            done = "已确认完成。"
        elif action == "return":
            commitment_return(user=request.user, commitment=commitment, note=note, expected_version=_version(request))
            done = "已退回，承诺单位将继续落实。"
        elif action == "cancel":
            commitment_cancel(user=request.user, commitment=commitment, reason=note, expected_version=_version(request))
            done = "已撤销该承诺事项。"
        else:
            raise Http404("未知的操作。")
    except PermissionDenied:
        raise
    except (ValidationError, CommitmentConflict) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("commitment-detail", args=[commitment.pk]))


@login_required
def commitment_photo(request, pk: int, photo: int):
    """An evidence photo of a commitment's event (`?thumb=1` its thumbnail), for its readers."""
    from inspections.views import photo_response

    commitment = _found(request, pk)
    found = (
        CommitmentEvent.objects.filter(commitment=commitment, photos__pk=photo).values_list("photos", flat=True).first()
    )
    if found is None:
        raise Http404("照片不存在，或您无权查看。")
    from inspections.models import Photo

    return photo_response(Photo.objects.get(pk=photo), thumbnail=request.GET.get("thumb") == "1")


class CommitmentForm(forms.Form):
    unit = forms.ModelChoiceField(
        label="承诺单位",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="请选择单位",
    )
    content = forms.CharField(
        label="承诺内容", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500
    )
    due_date = forms.DateField(
        label="完成时限",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "请按 2026-12-31 的格式填写日期。"},
    )
    answerer = forms.CharField(label="责任领导", required=False, max_length=50, help_text="承诺单位的负责领导姓名")
    week = forms.ChoiceField(label="调度会", required=False, help_text="承诺是在哪一周的调度会上作出的，可不填")
    problems = forms.CharField(label="关联问题编号", required=False, help_text="多个编号用逗号或空格分隔，可不填")
    indicator = forms.IntegerField(
        label="关联指标编号", required=False, min_value=1, error_messages={"invalid": "指标编号应为整数。"}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(active=True).order_by("path")
        # The 调度会 of the last twelve weeks (this one first), shown as 第48周（…）; codes stay the values.
        today = timezone.localdate()
        weeks = [iso_week_of(today - datetime.timedelta(days=7 * back)) for back in range(12)]
        current = (self.initial or {}).get("week") or ""
        if current and current not in weeks:
            weeks.append(current)
        self.fields["week"].choices = [("", "不填"), *[(week, week_label(week)) for week in weeks]]

    def clean_problems(self):
        text = (self.cleaned_data.get("problems") or "").replace("，", ",").replace("、", ",").replace("#", "")
        parts = [part for part in text.replace(",", " ").split() if part]
        if any(not part.isdigit() for part in parts):
            raise forms.ValidationError("问题编号应为整数，多个用逗号分隔。")
        return [int(part) for part in parts]

    def clean_indicator(self):
        pk = self.cleaned_data.get("indicator")
        if pk is None:
            return None
        found = Indicator.objects.filter(pk=pk).first()
        if found is None:
            raise forms.ValidationError("指标不存在。")
        return found


class CommitmentCreateView(ObjectFormView):
    form_class = CommitmentForm
    title = "登记承诺事项"

    def check_permission(self):
        if not can_create_commitment(self.request.user):
            raise PermissionDenied("只有创建办或领导可以登记承诺事项。")

    def get_initial(self):
        """From the 调度会材料's 登记承诺: the unit, and the week whose meeting it is made at."""
        initial = {}
        unit, week = self.request.GET.get("unit", ""), self.request.GET.get("week", "")
        if unit.isdigit():
            initial["unit"] = unit
        if WEEK_PATTERN.match(week):
            initial["week"] = week
        return initial

    def cancel_url(self):
        return reverse("commitment-list")

    def perform(self, form):
        data = form.cleaned_data
        return commitment_create(
            user=self.request.user,
            campaign=campaign_current(),
            unit=data["unit"],
            content=data["content"],
            due_date=data["due_date"],
            answerer=data["answerer"],
            week=data["week"],
            problems=data["problems"],
            indicator=data["indicator"],
        )

    def get_success_url(self, result):
        return reverse("commitment-detail", args=[result.pk])


class CommitmentEditView(CommitmentCreateView):
    title = "修改承诺事项"

    def load_object(self):
        return _found(self.request, self.kwargs["pk"])

    def check_permission(self):
        if not scope_for(self.request.user).is_office:
            raise PermissionDenied("只有创建办可以修改承诺事项。")

    def get_initial(self):
        c = self.object
        return {
            "unit": c.unit_id,
            "content": c.content,
            "due_date": c.due_date,
            "answerer": c.answerer,
            "week": c.week,
            "problems": " ".join(str(pk) for pk in c.problems.values_list("pk", flat=True)),
            "indicator": c.indicator_id,
        }

    def cancel_url(self):
        return reverse("commitment-detail", args=[self.object.pk])

    def perform(self, form):
        data = form.cleaned_data
        if data["unit"] is not None and data["unit"].pk != self.object.unit_id:
            raise ValidationError({"unit": "承诺单位不能修改；如需更换，请撤销后重新登记。"})
        try:
            return commitment_update(
                user=self.request.user,
                commitment=self.object,
                content=data["content"],
                due_date=data["due_date"],
                answerer=data["answerer"],
                week=data["week"],
                problems=data["problems"],
                indicator=data["indicator"],
            )
        except CommitmentConflict as exc:
            raise ValidationError(str(exc)) from None
