"""疑点 (flagged evidence) and 抽查复核 (issue 14 item 4).

The 疑点 list reads the `PhotoFlag` rows of the photos cited as evidence: a 督查照片 (a photo of an
observation: its week is the observation's, its units the observation's charges) or a 整改照片 (a
photo of a rectification report: its week is the report's, its units the problem's handler and
located unit with every unit above them). A flagged photo cited by nothing yet is not evidence and
is not listed. A page of rows is one statement: the report is read by correlated subqueries on the
(photo → event) link, never a query per row."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from campaign.filters import FilterSet, _unit_choices
from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.filters import WeekFilter
from inspections.models import Charge, PhotoFlag, Problem
from inspections.selectors import iso_week_bounds, iso_week_of, problem_list

from .choices import Action
from .models import ProblemEvent

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
