"""疑点 (flagged evidence) and 抽查复核 (issue 14 item 4).

The 疑点 list reads the `PhotoFlag` rows of the photos cited as evidence: a 督查照片 (a photo of an
observation: its week is the observation's, its units the observation's charges) or a 整改照片 (a
photo of a rectification report: its week is the report's, its units the problem's handler and
located unit with every unit above them). A flagged photo cited by nothing yet is not evidence and
is not listed. A page of rows is one statement: the report is read by correlated subqueries on the
(photo → event) link, never a query per row.

抽查复核: `recheck_draw` draws closed problems of a campaign's weeks (a count or a percentage,
optionally per district, optionally flagged evidence first) with a seed it records with the
parameters on a `RecheckDraw` (`recheck_sample` is the pure draw: the same seed, parameters and
candidates give the same problems, as `inspections.services.sample_points` does for rounds);
`recheck_record` records 属实 or 不属实 (a note required), the latter reopening the problem as 返工
through the workflow's `recheck_fail` transition. Both are the office's."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith
from django.http import Http404
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.filters import FilterSet, _unit_choices
from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.choices import ProblemStatus
from inspections.filters import WeekFilter
from inspections.models import Charge, PhotoFlag, Problem
from inspections.selectors import iso_week_bounds, iso_week_of, problem_list

from .choices import Action, RecheckStatus
from .models import ProblemEvent, Recheck, RecheckDraw

KIND_INSPECTION, KIND_RECTIFICATION = "inspection", "rectification"
EVIDENCE_KINDS = [(KIND_INSPECTION, "督查照片"), (KIND_RECTIFICATION, "整改照片")]
KIND_LABELS = dict(EVIDENCE_KINDS)
# The flag codes as the filters offer them: the two duplicate codes share their label 疑似重复.
FLAG_CODE_CHOICES = [
    (code, {"duplicate": "疑似重复（相同）", "near_duplicate": "疑似重复（近似）"}.get(code, label))
    for code, label in PhotoFlag.Code.choices
]


def can_read_evidence_flags(user) -> bool:
    """The office and leaders read every flag; a liaison its units' (an inspector none)."""
    scope = scope_for(user)
    return scope.is_office or scope.is_leader or scope.is_liaison


def _reports() -> QuerySet[ProblemEvent]:
    """The first rectification report citing the flag's photo (correlated on `photo_id`)."""
    return ProblemEvent.objects.filter(photos=OuterRef("photo_id"), action=Action.SUBMIT).order_by("at", "id")


def evidence_flag_list(*, user, campaign=None) -> QuerySet[PhotoFlag]:
    """Flags of evidence photos the user may read, newest evidence first, each annotated with
    `evidence_kind`, `evidence_at` (the observation's or the report's time), `problem_ref` (the
    problem concerned, if any), `unit_name` (the point's unit, or the problem's handler) and, for
    a 整改照片, `report_problem`. Raises Http404 for a user who may not read the list."""
    if not can_read_evidence_flags(user):
        raise Http404("未找到该页面，或您无权查看。")
    reports = _reports()
    queryset = (
        PhotoFlag.objects.select_related(
            "photo__observation__inspection", "photo__observation__point__unit", "photo__observation__problem"
        )
        .annotate(
            report_problem=Subquery(reports.values("problem_id")[:1], output_field=IntegerField()),
            report_at=Subquery(reports.values("at")[:1]),
            report_campaign=Subquery(reports.values("problem__campaign_id")[:1]),
            report_unit_name=Subquery(
                reports.annotate(name=Coalesce("problem__handler__name", "problem__unit__name")).values("name")[:1]
            ),
        )
        .filter(Q(photo__observation__isnull=False) | Q(report_problem__isnull=False))
        .annotate(
            evidence_at=Coalesce(F("photo__observation__observed_at"), F("report_at")),
            unit_name=Coalesce(F("photo__observation__point__unit__name"), F("report_unit_name"), Value("")),
            problem_ref=Coalesce(
                F("photo__observation__problem__id"), F("report_problem"), output_field=IntegerField()
            ),
        )
    )
    if campaign is not None:
        queryset = queryset.filter(Q(photo__observation__campaign=campaign) | Q(report_campaign=campaign.pk))
    scope = scope_for(user)
    if not (scope.is_office or scope.is_leader):
        units = Unit.objects.filter(scope.unit_q()).values("pk")
        charged = Exists(Charge.objects.filter(observation_id=OuterRef("photo__observation_id"), unit__in=units))
        queryset = queryset.filter(charged | Q(report_problem__in=problem_list(user=user).values("pk")))
    return queryset.order_by(F("evidence_at").desc(nulls_last=True), "-id")


def filter_week(queryset: QuerySet[PhotoFlag], week: str) -> QuerySet[PhotoFlag]:
    start, end = iso_week_bounds(week)
    return queryset.filter(evidence_at__gte=start, evidence_at__lt=end)


def filter_kind(queryset: QuerySet[PhotoFlag], kind: str) -> QuerySet[PhotoFlag]:
    return queryset.filter(photo__observation__isnull=(kind == KIND_RECTIFICATION))


def filter_unit(queryset: QuerySet[PhotoFlag], unit_id: int) -> QuerySet[PhotoFlag]:
    """Evidence charged to the unit (an observation's `Charge`: the whole territorial chain and the
    departments) or of a problem handled or located in the unit or below it."""
    path = Unit.objects.filter(pk=unit_id).values("path")[:1]
    charged = Exists(Charge.objects.filter(observation_id=OuterRef("photo__observation_id"), unit_id=unit_id))
    problems = Problem.objects.filter(
        Q(handler__path__startswith=Subquery(path)) | Q(unit__path__startswith=Subquery(path))
    ).values("pk")
    return queryset.filter(charged | Q(report_problem__in=problems))


def evidence_kind(flag: PhotoFlag) -> str:
    return KIND_INSPECTION if flag.photo.observation_id else KIND_RECTIFICATION


def evidence_week(flag: PhotoFlag) -> str:
    return iso_week_of(flag.evidence_at) if flag.evidence_at else ""


class EvidenceFlagFilterSet(FilterSet):
    """The 疑点 list's filters, shared by the page and the API (strict query params there)."""

    week = WeekFilter(method="filter_by_week", label="周次", help_text="如 2026-W47")
    unit = django_filters.NumberFilter(
        method="filter_by_unit", label="单位", help_text="计入该单位或由其（及下级）整改", widget=forms.Select
    )
    code = django_filters.ChoiceFilter(choices=FLAG_CODE_CHOICES, label="疑点类型")
    kind = django_filters.ChoiceFilter(choices=EVIDENCE_KINDS, method="filter_by_kind", label="证据类型")

    class Meta:
        model = PhotoFlag
        fields = ["week", "unit", "code", "kind"]

    def filter_by_week(self, queryset, name, value):
        return filter_week(queryset, value)

    def filter_by_unit(self, queryset, name, value):
        return filter_unit(queryset, int(value))

    def filter_by_kind(self, queryset, name, value):
        return filter_kind(queryset, value)

    def prepare_form(self) -> None:
        """The unit drop-down for the page (one query); the API never pays for it."""
        self.form.fields["unit"].widget.choices = _unit_choices()


# --- 抽查复核 ---------------------------------------------------------------------------------

MAX_DRAW = 1000


class RecheckConflict(Exception):
    """Someone recorded the re-check since the user saw it; nothing changed."""

    message = "该抽查复核已被他人记录，请刷新后查看最新结果。"


@dataclass(frozen=True)
class Candidate:
    """A closed problem that may be drawn: its id, its district's code ("" for none) and whether
    its evidence carries a flag."""

    problem_id: int
    district: str
    flagged: bool


def recheck_sample(
    *,
    seed: int,
    candidates: list[Candidate],
    count: int | None = None,
    percent: int | None = None,
    per_district: bool = False,
    flagged_first: bool = False,
) -> list[Candidate]:
    """The draw: per group (each district when `per_district`, else all), `count` problems or
    `percent` % of them (rounded up), flagged ones first when asked — from a `random.Random`
    seeded with the seed and the group. The same seed, parameters and candidates give the same draw."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: c.problem_id):
        groups.setdefault(candidate.district if per_district else "", []).append(candidate)
    drawn: list[Candidate] = []
    for key in sorted(groups):
        group = groups[key]
        wanted = count if count is not None else math.ceil(len(group) * (percent or 0) / 100)
        wanted = min(wanted, len(group))
        rng = random.Random(f"{seed}:{key}")
        if flagged_first:
            flagged = [c for c in group if c.flagged]
            first = rng.sample(flagged, min(wanted, len(flagged)))
            others = [c for c in group if not c.flagged]
            drawn += first + rng.sample(others, wanted - len(first))
        else:
            drawn += rng.sample(group, wanted)
    return drawn


def _week_range(week_from: str, week_to: str):
    errors = {}
    bounds = {}
    for field, week in (("week_from", week_from), ("week_to", week_to)):
        try:
            bounds[field] = iso_week_bounds(week)
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    if bounds["week_from"][0] > bounds["week_to"][0]:
        raise ValidationError({"week_to": "截止周不能早于起始周。"})
    return bounds["week_from"][0], bounds["week_to"][1]


def recheck_candidates(*, campaign, week_from: str, week_to: str) -> list[Candidate]:
    """Closed problems of the campaign closed in the weeks, not already awaiting a re-check: one
    query (the flag an EXISTS over the photos of the problem's observation and reports, the
    district the one whose path the located unit's path starts with)."""
    start, end = _week_range(week_from, week_to)
    flagged = Exists(
        PhotoFlag.objects.filter(
            Q(photo__observation__problem=OuterRef("pk")) | Q(photo__problem_events__problem=OuterRef("pk"))
        )
    )
    district = Unit.objects.filter(StartsWith(OuterRef("unit__path"), F("path")), kind=UnitKind.DISTRICT)
    pending = Recheck.objects.filter(status=RecheckStatus.PENDING).values("problem_id")
    rows = (
        Problem.objects.filter(campaign=campaign, status=ProblemStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .exclude(pk__in=pending)
        .annotate(has_flag=flagged, district=Coalesce(Subquery(district.values("code")[:1]), Value("")))
        .values_list("pk", "district", "has_flag")
        .order_by("pk")
    )
    return [Candidate(pk, code, bool(has_flag)) for pk, code, has_flag in rows]


@transaction.atomic
def recheck_draw(
    *,
    user,
    campaign,
    week_from: str,
    week_to: str,
    count: int | None = None,
    percent: int | None = None,
    per_district: bool = False,
    flagged_first: bool = False,
    seed: int | None = None,
) -> RecheckDraw:
    """Draw closed problems for 抽查复核 (the office's), recording the seed and the parameters."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以抽取抽查复核的问题。")
    if (count is None) == (percent is None):
        raise ValidationError({"count": "请填写抽取数量或抽取比例（二选一）。"})
    if count is not None and not 1 <= count <= MAX_DRAW:
        raise ValidationError({"count": f"抽取数量应在 1 到 {MAX_DRAW} 之间。"})
    if percent is not None and not 1 <= percent <= 100:
        raise ValidationError({"percent": "抽取比例应在 1% 到 100% 之间。"})
    candidates = recheck_candidates(campaign=campaign, week_from=week_from, week_to=week_to)
    if not candidates:
        raise ValidationError({"week_from": "所选周次内没有可抽查的已销号问题。"})
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    drawn = recheck_sample(
        seed=seed,
        candidates=candidates,
        count=count,
        percent=percent,
        per_district=per_district,
        flagged_first=flagged_first,
    )
    parameters = {
        "count": count,
        "percent": percent,
        "per_district": per_district,
        "flagged_first": flagged_first,
        "candidates": len(candidates),
    }
    draw = RecheckDraw.objects.create(
        campaign=campaign, week_from=week_from, week_to=week_to, seed=seed, parameters=parameters, created_by=user
    )
    district_ids = dict(Unit.objects.filter(kind=UnitKind.DISTRICT).values_list("code", "pk"))
    Recheck.objects.bulk_create(
        Recheck(draw=draw, problem_id=c.problem_id, district_id=district_ids.get(c.district), flagged=c.flagged)
        for c in drawn
    )
    return draw


@transaction.atomic
def recheck_record(
    *,
    user,
    recheck: Recheck,
    outcome: bool,
    note: str = "",
    photos=(),
    expected_version: int | None = None,
) -> Recheck:
    """Record a re-check's outcome (the office's): 属实, or 不属实 with a note — which reopens the
    problem as 返工 through the workflow (`recheck_fail`: an event, rework +1, the weeks recomputed).
    Row lock + conditional update on `version`: of two racing records exactly one wins."""
    from .workflow import TransitionInput, problem_transition

    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以记录抽查复核结果。")
    locked = Recheck.objects.select_for_update(of=("self",)).select_related("problem").get(pk=recheck.pk)
    if locked.status != RecheckStatus.PENDING or (expected_version is not None and locked.version != expected_version):
        raise RecheckConflict(RecheckConflict.message)
    note = (note or "").strip()
    if not outcome and not note:
        raise ValidationError({"note": "记录不属实时请写明情况。"})
    photos = list(photos)
    if any(photo.uploaded_by_id != user.pk for photo in photos):
        raise ValidationError({"photos": "照片不存在或不是您上传的。"})
    if not outcome:
        problem_transition(
            user=user,
            problem=locked.problem,
            data=TransitionInput(action=Action.RECHECK_FAIL, note=f"抽查复核不属实：{note}"),
        )
    status = RecheckStatus.CONFIRMED if outcome else RecheckStatus.FAILED
    now = timezone.now()
    updated = Recheck.objects.filter(pk=locked.pk, version=locked.version).update(
        status=status, checker=user, checked_at=now, note=note, version=F("version") + 1
    )
    if updated != 1:
        raise RecheckConflict(RecheckConflict.message)
    locked.photos.set(photos)
    locked.refresh_from_db()
    return locked


def can_read_rechecks(user) -> bool:
    """The office and leaders read the draws and their re-checks (the office alone writes them)."""
    scope = scope_for(user)
    return scope.is_office or scope.is_leader


def recheck_draw_list(*, user, campaign=None) -> QuerySet[RecheckDraw]:
    """Draws the office and leaders read (others none), newest first."""
    if not can_read_rechecks(user):
        return RecheckDraw.objects.none()
    queryset = RecheckDraw.objects.select_related("created_by")
    return queryset.filter(campaign=campaign) if campaign is not None else queryset
