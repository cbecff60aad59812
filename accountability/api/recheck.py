"""疑点 (flagged evidence) API: `GET /api/v1/evidence-flags/` with the page's filters (week, unit,
code, kind; `campaign`: an id, `all`, default the current campaign). Office and leaders read every
flag, a liaison its units'; others 404. Query parameters are strict."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers

from campaign.selectors import campaign_choices, campaign_current
from inspections.models import PhotoFlag

from ..recheck import KIND_LABELS, EvidenceFlagFilterSet, evidence_flag_list, evidence_kind, evidence_week


class EvidenceFlagSerializer(serializers.ModelSerializer):
    code_label = serializers.CharField(source="get_code_display", read_only=True)
    kind = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()
    week = serializers.SerializerMethodField()
    evidence_at = serializers.DateTimeField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    problem = serializers.IntegerField(source="problem_ref", read_only=True, allow_null=True)
    inspection = serializers.SerializerMethodField()

    class Meta:
        model = PhotoFlag
        fields = [
            "id",
            "photo",
            "code",
            "code_label",
            "message",
            "earlier_photo",
            "kind",
            "kind_label",
            "week",
            "evidence_at",
            "unit_name",
            "problem",
            "inspection",
        ]

    def get_kind(self, flag) -> str:
        return evidence_kind(flag)

    def get_kind_label(self, flag) -> str:
        return KIND_LABELS[evidence_kind(flag)]

    def get_week(self, flag) -> str:
        return evidence_week(flag)

    def get_inspection(self, flag) -> int | None:
        return flag.photo.observation.inspection_id if flag.photo.observation_id else None


CAMPAIGN_PARAM = OpenApiParameter(
    "campaign", OpenApiTypes.STR, description="创建活动编号；缺省为当前创建活动；all = 全部创建活动"
)


@extend_schema(parameters=[CAMPAIGN_PARAM])
class EvidenceFlagListView(generics.ListAPIView):
    """Flagged evidence photos (督查照片 / 整改照片), newest evidence first."""

    serializer_class = EvidenceFlagSerializer
    filterset_class = EvidenceFlagFilterSet
    extra_query_params = ("campaign",)
    ordering_fields: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PhotoFlag.objects.none()
        return evidence_flag_list(user=self.request.user, campaign=self._campaign())

    def _campaign(self):
        raw = (self.request.query_params.get("campaign") or "").strip()
        if not raw:
            return campaign_current()
        if raw == "all":
            return None
        found = next((c for c in campaign_choices() if str(c.pk) == raw), None)
        if found is None:
            raise exceptions.ValidationError({"campaign": [f"创建活动（campaign）“{raw[:20]}”不存在。"]})
        return found
