"""Pages of 疑点 (flagged evidence) and 抽查复核. The reads and writes live in recheck.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaign.generic import Col, ObjectListView
from campaign.selectors import campaign_current, scope_for
from campaign.weeks import week_label

from .choices import RecheckStatus
from .models import Recheck
from .recheck import (
    KIND_LABELS,
    EvidenceFlagFilterSet,
    RecheckConflict,
    can_read_rechecks,
    evidence_flag_list,
    evidence_kind,
    evidence_week,
    recheck_draw,
    recheck_draw_list,
    recheck_record,
)
from .workflow import TransitionConflict


class EvidenceFlagListView(ObjectListView):
    """疑点 list: flagged 督查照片 and 整改照片 per unit and week of the current campaign (office and
    leaders all, a liaison its units', others 404); the rows of a page are one statement."""

    template_name = "accountability/evidence_flags.html"
    filterset_class = EvidenceFlagFilterSet
    title = "证据疑点"
    export_name = "证据疑点"
    empty_message = "没有疑点：本活动被引用为证据的督查照片和整改照片均未发现重复、时间或位置异常。"
    columns = [
        Col("周次", lambda f: week_label(evidence_week(f)) if f.evidence_at else ""),
        Col("证据类型", lambda f: KIND_LABELS[evidence_kind(f)]),
        Col("单位", "unit_name"),
        Col("疑点", "code"),
        Col("原因", "message"),
        Col("照片编号", "photo_id"),
        Col("此前照片编号", "earlier_photo_id"),
        Col("问题编号", "problem_ref"),
        Col("督查记录编号", lambda f: f.photo.observation.inspection_id if f.photo.observation_id else None),
        Col("证据时间", "evidence_at"),
    ]

    def base_queryset(self):
        return evidence_flag_list(user=self.request.user, campaign=campaign_current())

    def can_add(self) -> bool:
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for flag in context["object_list"]:
            flag.kind_label = KIND_LABELS[evidence_kind(flag)]
            flag.week = evidence_week(flag)
        week = self.request.GET.get("week", "")
        if week and self.filterset is not None and not self.filterset.errors:
            context["title"] = f"{self.title} · {week_label(week)}"
        return context


def _int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


@login_required
def recheck_list_page(request):
    """抽查复核: the campaign's draws and their re-checks (office and leaders); the office draws
    (POST) and records outcomes (recheck-record)."""
    if not can_read_rechecks(request.user):
        raise PermissionDenied("只有创建办和领导可以查看抽查复核。")
    scope = scope_for(request.user)
    campaign = campaign_current()
    error, values = "", {}
    if request.method == "POST":
        if not scope.is_office:
            raise PermissionDenied("只有创建办可以抽取抽查复核的问题。")
        values = request.POST
        by = values.get("by", "count")
        number = _int_or_none(values.get("number", ""))
        try:
            if campaign is None:
                raise ValidationError("没有进行中的创建活动。")
            draw = recheck_draw(
                user=request.user,
                campaign=campaign,
                week_from=values.get("week_from", "").strip(),
                week_to=values.get("week_to", "").strip(),
                count=number if by == "count" else None,
                percent=number if by == "percent" else None,
                per_district=values.get("per_district") == "on",
                flagged_first=values.get("flagged_first") == "on",
                seed=_int_or_none(values.get("seed", "")),
            )
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, f"已抽取 {draw.rechecks.count()} 个已销号问题待复核（随机种子 {draw.seed}）。")
            return HttpResponseRedirect(reverse("recheck-list"))
    draws = (
        recheck_draw_list(user=request.user, campaign=campaign).prefetch_related(
            Prefetch("rechecks", queryset=Recheck.objects.select_related("problem", "district", "checker"))
        )
        if campaign is not None
        else []
    )
    page = Paginator(draws, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "accountability/recheck_list.html",
        {
            "title": "抽查复核",
            "campaign": campaign,
            "page_obj": page,
            "draws": list(page.object_list),
            "may_draw": scope.is_office,
            "error": error,
            "values": values,
            "querystring": "",
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def recheck_record_page(request, pk: int):
    if not scope_for(request.user).is_office:
        raise PermissionDenied("只有创建办可以记录抽查复核结果。")
    recheck = get_object_or_404(Recheck, pk=pk)
    outcome = request.POST.get("outcome", "")
    version = request.POST.get("version", "")
    try:
        if outcome not in ("true", "false"):
            raise ValidationError("请选择复核结果：属实或不属实。")
        recheck = recheck_record(
            user=request.user,
            recheck=recheck,
            outcome=outcome == "true",
            note=request.POST.get("note", ""),
            expected_version=int(version) if version.isdigit() else None,
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except (RecheckConflict, TransitionConflict) as exc:
        messages.error(request, str(exc))
    else:
        if recheck.status == RecheckStatus.FAILED:
            messages.success(request, f"已记录不属实，问题 #{recheck.problem_id} 已退回整改（返工）。")
        else:
            messages.success(request, "已记录属实。")
    return HttpResponseRedirect(reverse("recheck-list"))
