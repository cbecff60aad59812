"""The weekly rankings API: read a week's ranking per population, run a week, publish it, list the
runs, and read and decide accountability cases.

Drafts are the office's: everyone else reads published weeks only (a draft week is 404 for them).
A liaison reads the rankings (they are a public 通报 inside the government) but only its own units'
accountability cases."""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import check_query_params
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.api.views import JobRunSerializer
from campaign.models import Campaign, JobRun
from campaign.permissions import IsOffice
from campaign.selectors import campaign_current, scope_for

from ..choices import RANKED_POPULATIONS, CaseStatus, Population
from ..models import AccountabilityCase, UnitWeekScore
from ..rollup import JOB_NAME, METRICS, case_decide, formula_text, rollup_enqueue, rollup_pending, rollup_publish
from ..selectors import case_list, latest_published, ranking_rows, shown_version, week_versions


class RankingRowSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    # Null when there is nothing to rate: no observation (得分率), no problem due (按期整改率), or
    # too small a sample (composite).
    score_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    composite = serializers.FloatField(allow_null=True)
    deduction_points = serializers.FloatField()
    list = serializers.SerializerMethodField()

    class Meta:
        model = UnitWeekScore
        # The snapshot's metrics, with the 红黑榜 mark under the documented name `list`.
        fields = ["unit", "unit_name", *(name for name in METRICS if name != "board"), "list"]

    def get_list(self, row) -> str | None:
        return row.board or None


class WeekRequestSerializer(StrictSerializer):
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(),
        error_messages={"does_not_exist": "创建活动不存在。", "required": "请指定创建活动。"},
    )
    week = serializers.RegexField(
        r"^\d{4}-W\d{2}$", error_messages={"invalid": "周次格式应为 2026-W47。", "required": "请指定周次。"}
    )


class PublishRequestSerializer(WeekRequestSerializer):
    # Required only while appeals of the week are undecided (申诉): the office's reason, recorded.
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


def _campaign(request) -> Campaign:
    campaign_id = request.query_params.get("campaign")
    if campaign_id:
        if not str(campaign_id).isdigit():
            raise exceptions.ValidationError({"campaign": ["创建活动编号应为数字。"]})
        return get_object_or_404(Campaign, pk=campaign_id)
    campaign = campaign_current()
    if campaign is None:
        raise exceptions.NotFound("还没有创建活动。")
    return campaign


class RankingView(generics.ListAPIView):
    """One week's ranking of one population (`district`, `street`, `community`, `department`,
    `district_department` — the 区直部门, when the campaign ranks them on their own),
    ranked units first, then the vetoed, then 样本不足. Without `week`: the latest published week.
    Only the office sees drafts. A row of a unit with a 一票否决 event open during the week has
    `vetoed` true, `rank` and `rank_change` null, `list` "black", and names the events in
    `veto_events` ([{"id", "title", "occurred_on", "status"}], the status as of the week's end).
    `pending_recompute` is true (待重算) while a recompute of the week, queued after this version was
    computed, has not completed: the week's data changed and these numbers are about to."""

    serializer_class = RankingRowSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int),
            OpenApiParameter("week", str, description="ISO 周，如 2026-W47"),
            OpenApiParameter("population", str, enum=[p.value for p in RANKED_POPULATIONS]),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def _version(self):
        if hasattr(self, "_cached_version"):
            return self._cached_version
        campaign = _campaign(self.request)
        office = scope_for(self.request.user).is_office
        week = self.request.query_params.get("week")
        if week:
            version = shown_version(campaign=campaign, week=week, office=office)
            if version is None:
                raise exceptions.NotFound(f"{week} 的周评比尚未发布。" if not office else f"{week} 还没有计算。")
        else:
            version = latest_published(campaign=campaign)
            if version is None:
                raise exceptions.NotFound("还没有发布的周评比。")
        self._cached_version = version
        return version

    def _population(self) -> str:
        population = self.request.query_params.get("population", Population.DISTRICT)
        if population not in RANKED_POPULATIONS:
            raise exceptions.ValidationError(
                {
                    "population": [
                        "类别应为 district、street、community、department 或 district_department（区直部门）。"
                    ]
                }
            )
        return population

    def get_queryset(self):
        check_query_params(self.request, {"campaign", "week", "population", "page", "page_size"})
        return ranking_rows(version=self._version(), population=self._population())

    def list(self, request, *args, **kwargs):
        check_query_params(request, {"campaign", "week", "population", "page", "page_size"})
        population = self._population()
        response = super().list(request, *args, **kwargs)
        version = self._version()
        response.data = {
            "campaign": version.campaign_id,
            "week": version.week,
            "population": population,
            "version": version.number,
            "published": version.status == "published",
            "status": version.status,
            "computed_at": version.computed_at,
            "published_at": version.published_at,
            "formula": formula_text(version.rules),
            # 待重算: the week's data changed after this version was computed; a run is on its way.
            "pending_recompute": rollup_pending(version=version),
            **response.data,
        }
        return response


class RollupView(generics.ListCreateAPIView):
    """GET: the recorded roll-up runs (office and leaders). POST `{campaign, week}`: run a week
    (office). With a broker the run is queued (202); without one it runs in-process (201)."""

    serializer_class = JobRunSerializer
    filter_backends: list = []

    def get_permissions(self):
        return [IsOffice()] if self.request.method == "POST" else super().get_permissions()

    def get_queryset(self):
        scope = scope_for(self.request.user)
        if not (scope.is_office or scope.is_leader):
            raise exceptions.PermissionDenied("只有创建办和领导可以查看计算记录。")
        check_query_params(self.request, {"campaign", "page", "page_size"})
        runs = JobRun.objects.filter(name=JOB_NAME).order_by("-queued_at", "-id")
        campaign = self.request.query_params.get("campaign")
        if campaign and str(campaign).isdigit():
            runs = runs.filter(params__campaign=int(campaign))
        return runs

    @extend_schema(request=WeekRequestSerializer, responses=JobRunSerializer)
    def post(self, request, *args, **kwargs):
        data = WeekRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            run = rollup_enqueue(
                campaign=data.validated_data["campaign"], week=data.validated_data["week"], user=request.user
            )
        run.refresh_from_db()
        done = run.status in ("succeeded", "failed")
        return Response(
            JobRunSerializer(run).data, status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED
        )


class PublishView(APIView):
    """Publish a week's draft `{campaign, week}` (office): it replaces the published version and the
    accountability rules run. Returns the published version."""

    permission_classes = [IsOffice]

    @extend_schema(request=PublishRequestSerializer, responses={200: dict})
    def post(self, request):
        data = PublishRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign, week = data.validated_data["campaign"], data.validated_data["week"]
        version = rollup_publish(
            campaign=campaign, week=week, user=request.user, override_reason=data.validated_data["override_reason"]
        )
        return Response(
            {
                "campaign": campaign.pk,
                "week": week,
                "version": version.number,
                "published": True,
                "published_at": version.published_at,
                "rows": version.rows,
                "versions": list(week_versions(campaign=campaign, week=week).values("number", "status")),
                "cases": AccountabilityCase.objects.filter(campaign=campaign, week=week)
                .exclude(status=CaseStatus.WITHDRAWN)
                .count(),
            }
        )


class CaseSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    rule_label = serializers.CharField(source="get_rule_display", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = AccountabilityCase
        fields = [
            "id",
            "campaign",
            "week",
            "unit",
            "unit_name",
            "rule",
            "rule_label",
            "level",
            "level_label",
            "streak",
            "reason",
            "evidence",
            "status",
            "status_label",
            "decision_note",
            "decided_by",
            "decided_at",
            "created_at",
            "updated_at",
        ]


class CaseDecisionSerializer(StrictSerializer):
    status = serializers.ChoiceField(
        choices=[CaseStatus.INTERVIEWED, CaseStatus.NOTIFIED, CaseStatus.HELD, CaseStatus.WITHDRAWN],
        error_messages={"invalid_choice": "处理结果应为 interviewed、notified、held 或 withdrawn。"},
    )
    note = serializers.CharField(error_messages={"blank": "请填写处理情况。", "required": "请填写处理情况。"})


class CaseFilterSet(django_filters.FilterSet):
    class Meta:
        model = AccountabilityCase
        fields = ["campaign", "week", "unit", "rule", "level", "status"]


class CaseListView(generics.ListAPIView):
    """Accountability cases (谁丢分、谁领责), newest week first."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    search_fields = ["unit__name", "reason"]

    def get_queryset(self):
        return case_list(self.request.user).order_by("-week", "status", "unit__path", "rule")


class CaseDetailView(generics.RetrieveAPIView):
    serializer_class = CaseSerializer

    def get_queryset(self):
        return case_list(self.request.user)


class CaseDecideView(APIView):
    """Record the office's decision on a pending case: `{status, note}`."""

    @extend_schema(request=CaseDecisionSerializer, responses=CaseSerializer)
    def post(self, request, pk: int):
        case = get_object_or_404(case_list(request.user), pk=pk)
        data = CaseDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = case_decide(
            case=case, status=data.validated_data["status"], note=data.validated_data["note"], user=request.user
        )
        return Response(CaseSerializer(case).data)
