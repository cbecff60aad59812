"""Pages of the weekly ranking: a week's ranking per population (run and publish for the office,
with what a new draft would change), a unit's page that drills down to the observations and photos
behind every number, the accountability cases with the office's decisions, and the runs."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaign.models import Campaign, JobRun, Unit
from campaign.selectors import campaign_current, scope_for
from campaign.weeks import week_label as week_text
from campaign.weeks import week_short
from inspections.choices import ProblemStatus
from inspections.selectors import (
    iso_week_of,
    problem_list,
    responsible_q,
    week_label,
)

from .appeals import appeal_counts, appeals_undecided
from .choices import RANKED_POPULATIONS, BoardList, CaseStatus, CommitmentStatus, Population, VersionStatus
from .commitments import attach_days_overdue, commitment_list
from .models import AccountabilityCase, UnitWeekScore
from .recheck import can_read_evidence_flags
from .rollup import (
    DECISIONS,
    JOB_NAME,
    board_text,
    case_decide,
    formula_text,
    rollup_diff,
    rollup_enqueue,
    rollup_pending,
    rollup_publish,
    week_in_progress,
)
from .selectors import (
    case_list,
    draft_version,
    published_version,
    ranking_rows,
    shown_version,
    unit_trend,
    unit_week_losses,
    week_choices,
)

POPULATION_TABS = [(p.value, p.label) for p in RANKED_POPULATIONS]


def _metric_value(name: str, value):
    """A metric of the draft diff as a reader reads it (never a code, a bool or a JSON list)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if name in ("score_rate", "on_time_rate"):
        return f"{value * 100:.1f}%"
    if name == "board":
        return BoardList(value).label if value in BoardList.values else value
    if name == "veto_events":
        return "、".join(event.get("title", "") for event in value) or "无"
    if name == "population":
        return Population(value).label if value in Population.values else value
    return value


def readable_changes(changes: list[dict]) -> list[dict]:
    """rollup_diff's rows with the metrics named in Chinese (the fields' verbose names)."""
    for change in changes:
        change["fields"] = {
            str(UnitWeekScore._meta.get_field(name).verbose_name): tuple(_metric_value(name, v) for v in pair)
            for name, pair in change["fields"].items()
        }
    return changes


def population_tabs(*, has_district_departments: bool, population: str) -> list[tuple[str, str]]:
    """The population tabs: the 区直部门 tab only where the week has such rows (or it is asked for),
    so a city without 区直部门 shows no empty tab."""
    return [
        (value, label)
        for value, label in POPULATION_TABS
        if value != Population.DISTRICT_DEPARTMENT or has_district_departments or population == value
    ]


def _campaign(request) -> Campaign:
    campaign_id = request.GET.get("campaign") or request.POST.get("campaign")
    if campaign_id and str(campaign_id).isdigit():
        return get_object_or_404(Campaign, pk=campaign_id)
    campaign = campaign_current()
    if campaign is None:
        raise Http404("还没有创建活动。")
    return campaign


def may_open_unit(scope, unit: Unit) -> bool:
    """A unit's name links to its ranking page only for a reader who may open it: whoever reads
    the whole city, or a liaison whose units cover it (elsewhere the page answers 404)."""
    return scope.sees_everything or scope.covers(unit)


def may_open_counts(scope, unit: Unit) -> bool:
    """A ranking number links to the observation or problem list it counts only when that list
    shows this reader the same number: office and leaders read every observation and problem; a
    liaison those charged to, located in or handled by its units — all of a unit its scope covers,
    only part of another's; an inspector only its own rounds', so never the whole count."""
    if scope.is_office or scope.is_leader:
        return True
    if scope.is_inspector:
        return False
    return scope.is_liaison and scope.covers(unit)


def _last_week() -> str:
    return iso_week_of(timezone.localdate() - datetime.timedelta(days=7))


@login_required
def ranking_week(request):
    scope = scope_for(request.user)
    campaign = _campaign(request)
    office = scope.is_office
    weeks = week_choices(campaign=campaign, office=office)
    # By default the latest finished week: the week in progress (a preview, perhaps with 申诉 being
    # filed) opens only when asked for, from the week picker or after computing it.
    finished = [code for code, *_ in weeks if not week_in_progress(code)]
    week = request.GET.get("week") or (finished[0] if finished else weeks[0][0] if weeks else "")
    population = request.GET.get("population", Population.DISTRICT)
    if population not in RANKED_POPULATIONS:
        population = Population.DISTRICT
    version = shown_version(campaign=campaign, week=week, office=office) if week else None
    published = published_version(campaign=campaign, week=week) if week else None
    draft = draft_version(campaign=campaign, week=week) if week and office else None
    if office and draft:
        version = draft  # the office works on the draft; the published one is compared below
    districts = list(Unit.objects.filter(kind="district", active=True).only("pk", "name", "path").order_by("path"))
    context = {
        "districts": districts,
        "may_read_flags": can_read_evidence_flags(request.user),  # the 疑点 list a row's count opens
        "may_read_packs": scope.is_office or scope.is_leader,  # 调度会材料 (accountability.meeting)
        "title": f"周评比排名 · {week_label(week)}" if version else "周评比排名",
        "campaign": campaign,
        "weeks": weeks,
        "week": week,
        "week_label": week_label(week) if version else "",
        "population": population,
        "tabs": population_tabs(has_district_departments=False, population=population),
        "version": version,
        "published": published,
        "draft": draft,
        "office": office,
        "in_progress": bool(week) and week_in_progress(week),
        "default_week": week or _last_week(),
        "last_week": _last_week(),
    }
    if version:
        rows = ranking_rows(version=version, population=population)
        # Long lists (3,000 communities): find a unit by name, or keep one district's.
        search = request.GET.get("q", "").strip()
        district = request.GET.get("district", "")
        if search:
            rows = rows.filter(Q(unit__name__icontains=search) | Q(unit__short_name__icontains=search))
        chosen = next((d for d in districts if str(d.pk) == district), None)
        if chosen and population in (Population.STREET, Population.COMMUNITY, Population.DISTRICT_DEPARTMENT):
            rows = rows.filter(unit__path__startswith=chosen.path)
        context.update(q=search, district=chosen)
        page = Paginator(rows, 100).get_page(request.GET.get("page"))
        shown = list(page.object_list)
        # The week's 申诉 of the shown units, filed / upheld / granted: one query.
        appeals = appeal_counts(campaign_id=campaign.pk, week=version.week, unit_ids=[row.unit_id for row in shown])
        for row in shown:  # the page's rows (at most 100), their units already joined: no query
            row.may_open = may_open_unit(scope, row.unit)
            row.counts_open = may_open_counts(scope, row.unit)
            row.appeals = appeals.get(row.unit_id)
        query = request.GET.copy()
        query.pop("page", None)
        # The citywide row, and whether the week ranks any 区直部门 (their tab): one query.
        city = (
            UnitWeekScore.objects.filter(rollup=version, unit__isnull=True)
            .annotate(
                has_district_departments=Exists(
                    UnitWeekScore.objects.filter(rollup=version, population=Population.DISTRICT_DEPARTMENT)
                )
            )
            .first()
        )
        context.update(
            page_obj=page,
            rows=shown,
            querystring=query.urlencode(),
            formula=formula_text(version.rules),
            board_rule=board_text(version.rules),
            pending_recompute=rollup_pending(version=version),
            city=city,
            tabs=population_tabs(
                has_district_departments=city is not None and city.has_district_departments, population=population
            ),
            # The check-item versions a published week counted (recorded when it was published).
            check_item_versions=version.check_item_versions.count()
            if version.status == VersionStatus.PUBLISHED
            else None,
        )
        if office and draft:  # the publish form asks for a reason while appeals are undecided
            context["appeals_undecided"] = appeals_undecided(campaign=campaign, week=week)
        if draft and published:
            context["changes"] = readable_changes(rollup_diff(draft=draft, published=published)[:200])
    elif week and not office:
        context["not_published"] = True
    return render(request, "accountability/rankings.html", context)


@login_required
@require_POST
def ranking_run(request):
    campaign = _campaign(request)
    week = (request.POST.get("week") or "").strip()
    if not scope_for(request.user).is_office:
        raise PermissionDenied("只有创建办可以计算周评比。")
    try:
        with transaction.atomic():
            run = rollup_enqueue(campaign=campaign, week=week, user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return HttpResponseRedirect(reverse("rankings"))
    run.refresh_from_db()
    outcome = (run.result or {}).get("outcome")
    if run.status == "failed":
        messages.error(request, f"{week_text(week)}计算失败：{run.error}")
    elif run.status != "succeeded":
        messages.info(request, f"{week_text(week)}已提交后台计算，稍后刷新查看（计算记录 #{run.pk}）。")
    elif outcome == "unchanged":
        messages.info(request, f"{week_text(week)}重新计算完成，与已发布版本相同，无需重新发布。")
    else:
        messages.success(request, f"{week_text(week)}计算完成，共 {run.result['rows']} 行。核对无误后请发布。")
    return HttpResponseRedirect(f"{reverse('rankings')}?campaign={campaign.pk}&week={week}")


@login_required
@require_POST
def ranking_publish(request):
    campaign = _campaign(request)
    week = request.POST.get("week", "")
    try:
        version = rollup_publish(
            campaign=campaign, week=week, user=request.user, override_reason=request.POST.get("override_reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        raised = AccountabilityCase.objects.filter(campaign=campaign, week=week, status=CaseStatus.PENDING).count()
        messages.success(request, f"{week_text(week)}第{version.number}版已发布。待处理问责事项 {raised} 项。")
    return HttpResponseRedirect(f"{reverse('rankings')}?campaign={campaign.pk}&week={week}")


def _unit_in_scope(user, unit: Unit) -> bool:
    scope = scope_for(user)
    return scope.sees_everything or scope.covers(unit)


@login_required
def ranking_unit(request, pk: int):
    """One unit's weeks: trend, where it lost points, most failed items, open problems. Every
    number links to the observation or problem list it counts."""
    unit = get_object_or_404(Unit, pk=pk)
    if not _unit_in_scope(request.user, unit):
        raise Http404("未找到该单位，或您无权查看。")
    scope = scope_for(request.user)
    campaign = _campaign(request)
    weeks = week_choices(campaign=campaign, office=scope.is_office)
    week = request.GET.get("week") or (weeks[0][0] if weeks else _last_week())
    version = shown_version(campaign=campaign, week=week, office=scope.is_office)
    row = UnitWeekScore.objects.filter(rollup=version, unit=unit).first() if version else None
    try:
        losses = unit_week_losses(user=request.user, unit=unit, campaign=campaign, week=week)
    except ValueError:
        raise Http404("周次格式应为 2026-W47。") from None
    trend = unit_trend(unit=unit, campaign=campaign)
    open_problems = (
        problem_list(user=request.user)
        .filter(responsible_q(unit), campaign=campaign)
        .exclude(status__in=[ProblemStatus.CLOSED, ProblemStatus.VOID])
        .order_by("deadline", "pk")
    )
    context = {
        "title": unit.name,
        "may_read_flags": can_read_evidence_flags(request.user),
        "unit": unit,
        "campaign": campaign,
        "weeks": weeks,
        "week": week,
        "week_label": week_label(week),
        "version": version,
        "row": row,
        "trend": trend,
        "trend_chart": {
            "weeks": [score.rollup.week for score in trend],
            "labels": [week_short(score.rollup.week) for score in trend],  # the axis (the codes: links)
            "composite": [float(score.composite) if score.composite is not None else None for score in trend],
            "score_rate": [
                round(float(score.score_rate) * 100, 1) if score.score_rate is not None else None for score in trend
            ],
        },
        **losses,
        "open_problems": open_problems[:20],
        "open_total": open_problems.count(),
        "cases": case_list(request.user).filter(unit=unit, campaign=campaign).order_by("-week")[:10],
        "formula": formula_text(version.rules) if version else "",
        "counts_open": may_open_counts(scope, unit),
        "pending_recompute": rollup_pending(version=version) if version else False,
        "appeals": appeal_counts(campaign_id=campaign.pk, week=week, unit_ids=[unit.pk]).get(unit.pk),
        # 承诺事项 of the unit (its open ones first, then the latest done): ten, a read of the list's scope.
        "commitments": attach_days_overdue(
            commitment_list(user=request.user, campaign=campaign)
            .filter(unit=unit)
            .exclude(status=CommitmentStatus.CANCELLED)
            .order_by("completed_at", "due_date", "pk")[:10]
        ),
    }
    return render(request, "accountability/ranking_unit.html", context)


@login_required
def case_list_page(request):
    scope = scope_for(request.user)
    campaign = _campaign(request)
    # The tabs count what their links open: the campaign's cases of the chosen week, by status.
    base = case_list(request.user).filter(campaign=campaign)
    week = request.GET.get("week", "")
    if week:
        base = base.filter(week=week)
    cases = base.select_related("unit", "decided_by").order_by("-week", "status", "unit__path")
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    counts = dict(base.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accountability/case_list.html",
        {
            "title": "问责事项（谁丢分、谁领责）",
            "campaign": campaign,
            "page_obj": page,
            "cases": page.object_list,
            "status": status,
            "week": week,
            "tabs": [("", "全部", sum(counts.values()))]
            + [(value, label, counts.get(value, 0)) for value, label in CaseStatus.choices],
            "querystring": query.urlencode(),
            "office": scope.is_office,
        },
    )


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(case_list(request.user).select_related("unit", "decided_by", "score__rollup"), pk=pk)
    if request.method == "POST":
        try:
            case_decide(
                case=case, status=request.POST.get("status", ""), note=request.POST.get("note", ""), user=request.user
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "处理结果已记录。")
            return HttpResponseRedirect(reverse("case-detail", args=[case.pk]))
    evidence = case.evidence or {}
    problems = problem_list(user=request.user).filter(pk__in=evidence.get("problems", []))
    commitments = commitment_list(user=request.user).filter(pk__in=evidence.get("commitments", []))
    return render(
        request,
        "accountability/case_detail.html",
        {
            "title": f"{case.unit.name} · {week_text(case.week)} · {case.get_rule_display()}",
            "case": case,
            "problems": problems,
            "commitments": commitments,
            "decisions": [(value, CaseStatus(value).label) for value in DECISIONS],
            "office": scope_for(request.user).is_office,
            "pending": case.status == CaseStatus.PENDING,
        },
    )


@login_required
def run_list(request):
    scope = scope_for(request.user)
    if not (scope.is_office or scope.is_leader):
        raise PermissionDenied("只有创建办和领导可以查看计算记录。")
    runs = JobRun.objects.filter(name=JOB_NAME).select_related("created_by").order_by("-queued_at", "-id")
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accountability/rollup_runs.html",
        {"title": "周评比计算记录", "page_obj": page, "runs": page.object_list},
    )
