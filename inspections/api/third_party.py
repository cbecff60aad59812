"""API of the 第三方测评结果导入: `POST /api/v1/third-party-results/import/` (office only) with
`file`, `round`, optional `observed_on`, `create_points`, `open_problems`; `dry_run=1` previews."""

from __future__ import annotations

from functools import partial

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from campaign.api.serializers import ImportUploadSerializer, Serializer
from campaign.api.views import run_import
from campaign.permissions import IsOffice

from ..models import InspectionRound
from ..third_party import round_problems, third_party_results_import

OPTION_FIELDS = ("round", "observed_on", "create_points", "open_problems")


class ThirdPartyOptionsSerializer(Serializer):
    extra_input_fields = ("file", "dry_run")  # read by the shared import (run_import)
    round = serializers.PrimaryKeyRelatedField(
        queryset=InspectionRound.objects.select_related("campaign"),
        error_messages={
            "required": "请指定第三方测评批次（round）。",
            "null": "请指定第三方测评批次（round）。",
            "does_not_exist": "督查批次 {pk_value} 不存在。",
            "incorrect_type": "督查批次应为编号（整数）。",
        },
    )
    observed_on = serializers.DateField(
        required=False, allow_null=True, error_messages={"invalid": "测评日期格式应为 YYYY-MM-DD。"}
    )
    create_points = serializers.BooleanField(default=False)
    open_problems = serializers.BooleanField(default=False)

    def validate_round(self, value):
        problem = round_problems(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class ThirdPartyImportUploadSerializer(ImportUploadSerializer):
    """Documented shape of the third-party results import."""

    round = serializers.IntegerField()
    observed_on = serializers.DateField(required=False)
    create_points = serializers.BooleanField(required=False)
    open_problems = serializers.BooleanField(required=False)


class ThirdPartyResultsImportView(APIView):
    """Import a third-party evaluator's results (第三方测评结果) into a round of kind 第三方测评.
    Row errors → 400 with every row and column, nothing written; the same file again changes
    nothing; a changed file corrects the inspections of the (point, day)s it changes."""

    permission_classes = [IsOffice]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ThirdPartyImportUploadSerializer},
        responses={200: OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
    )
    def post(self, request):
        options = ThirdPartyOptionsSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        importer = partial(
            third_party_results_import,
            round_=data["round"],
            user=request.user,
            observed_on=data.get("observed_on"),
            create_points=data["create_points"],
            open_problems=data["open_problems"],
        )
        return run_import(request, importer, also=OPTION_FIELDS)
