"""The survey results API: read them (scoped like the page: a liaison its own district only) and,
for the office, import them from a spreadsheet (preview with dry_run=1, else all or nothing)."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from campaign.api.serializers import ImportUploadSerializer
from campaign.api.views import run_import
from campaign.choices import UnitKind
from campaign.models import Campaign, Unit
from campaign.permissions import IsOffice
from campaign.selectors import campaign_current, scope_for

from ..models import SurveyResult
from ..surveys import survey_district_ids, survey_import, survey_list


class SurveyResultSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = SurveyResult
        fields = [
            "id",
            "campaign",
            "unit",
            "unit_name",
            "date",
            "awareness",
            "support",
            "participation",
            "satisfaction",
            "sample_size",
            "imported_at",
        ]
        read_only_fields = fields


class SurveyFilterSet(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign", label="创建活动")
    unit = django_filters.NumberFilter(field_name="unit", label="区县")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="调查日期起")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="调查日期止")

    class Meta:
        model = SurveyResult
        fields = ["campaign", "unit", "date_from", "date_to"]


class SurveyListView(generics.ListAPIView):
    """Survey results (知晓率、支持率、参与率、满意率, in percent) per district and date. A liaison
    reads its own district's; naming another district (`unit`) is a 404."""

    serializer_class = SurveyResultSerializer
    filterset_class = SurveyFilterSet
    ordering_fields = ["date", "satisfaction"]

    def get_queryset(self):
        return survey_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        unit = request.query_params.get("unit")
        if unit and unit.isdigit():
            districts = survey_district_ids(scope_for(request.user))
            known = Unit.objects.filter(pk=int(unit), kind=UnitKind.DISTRICT).exists()
            if not known or (districts is not None and int(unit) not in districts):
                raise exceptions.NotFound()
        return super().list(request, *args, **kwargs)


class SurveyImportSerializer(ImportUploadSerializer):
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(),
        required=False,
        error_messages={"does_not_exist": "创建活动不存在。", "incorrect_type": "创建活动应为编号。"},
    )


class SurveyImportView(APIView):
    """Import survey results from Excel/CSV (区县, 调查日期, 知晓率, 支持率, 参与率, 满意率, 样本量)
    into `campaign` (default: the current one): `file`, `dry_run=1` for the preview. Row errors →
    400 with every error and its row number, nothing written. Office only."""

    permission_classes = [IsOffice]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": SurveyImportSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = SurveyImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = data.validated_data.get("campaign") or campaign_current()
        if campaign is None:
            raise serializers.ValidationError({"campaign": ["还没有创建活动，请先新建创建活动。"]})

        def importer(*, file, dry_run):
            return survey_import(campaign=campaign, user=request.user, file=file, dry_run=dry_run)

        return run_import(request, importer, also=("campaign",))
