"""调度会材料 (the weekly meeting pack, issue 16 item 1):

- `GET /api/v1/meeting-packs/{campaign}/{week}/`: the pack of a published week as it reads now —
  `units`, each with why it is there, its ranking row and trend, its losses and photos, its overdue
  problems, its open cases and its `commitments` (carried from earlier meetings, each with its
  status at the week's end and now) — and the state of its PDF;
- `POST …/units/` `{"unit": id}` and `DELETE …/units/{unit}/`: the office adds or takes back a unit
  the rules did not call (the PDF is rendered again);
- `POST …/render/`: the office (re)renders the PDF; `GET /api/v1/meeting-packs/{campaign}/{week}.pdf`
  serves it (503 while it is being made or when it failed, 404 when never asked for).

Office and leaders read; the office writes. An unpublished week is 404 in the error shape."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.filters import check_query_params
from campaign.api.serializers import Serializer as StrictSerializer

from ..meeting import (
    NOT_PUBLISHED,
    Reason,
    check_office,
    check_reader,
    meeting_pack_add_unit,
    meeting_pack_data,
    meeting_pack_file,
    meeting_pack_generate,
    meeting_pack_remove_unit,
    pack_of,
    pack_status,
    pack_version,
)
from .bulletins import FileNegotiation


class PackUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.CharField()
    parent_name = serializers.CharField(allow_null=True)


class PackRowSerializer(serializers.Serializer):
    population = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True, help_text="名次；样本不足或一票否决时为空")
    rank_change = serializers.IntegerField(allow_null=True, help_text="正数为上升")
    composite = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    score_rate = serializers.DecimalField(max_digits=7, decimal_places=6, allow_null=True)
    on_time_rate = serializers.DecimalField(max_digits=7, decimal_places=6, allow_null=True)
    observations = serializers.IntegerField()
    failing_observations = serializers.IntegerField()
    deduction_points = serializers.DecimalField(max_digits=10, decimal_places=2)
    problems_opened = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    rebounds = serializers.IntegerField()
    board = serializers.CharField(help_text="red / black / 空")
    vetoed = serializers.BooleanField()


class PackTrendSerializer(serializers.Serializer):
    week = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    composite = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    score_rate = serializers.DecimalField(max_digits=7, decimal_places=6, allow_null=True)
    overdue_open = serializers.IntegerField()


class PackLossSerializer(serializers.Serializer):
    label = serializers.SerializerMethodField()
    observations = serializers.IntegerField()
    failing = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)

    def get_label(self, row) -> str:
        if "indicator_code" in row:
            return f"{row['indicator_code']} {row['indicator_title']}".strip()
        return row.get("point_type") or ""


class PackItemSerializer(serializers.Serializer):
    item = serializers.CharField()
    failing = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class PackPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    item = serializers.CharField()
    point = serializers.CharField()
    taken = serializers.DateTimeField()


class PackProblemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    description = serializers.CharField()
    point_name = serializers.CharField(allow_null=True)
    handler_name = serializers.CharField(allow_null=True)
    deadline = serializers.DateField()
    days_overdue = serializers.IntegerField(help_text="至周日超期的自然日数")
    status = serializers.CharField()


class PackCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    week = serializers.CharField()
    rule = serializers.CharField()
    level = serializers.CharField()
    streak = serializers.IntegerField()
    reason = serializers.CharField()


class PackCommitmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    content = serializers.CharField()
    due_date = serializers.DateField()
    answerer = serializers.CharField()
    week = serializers.CharField(help_text="登记时的调度会周次")
    week_end_status = serializers.ChoiceField(
        choices=[("done", "本周已完成"), ("overdue", "逾期"), ("open", "进行中")], help_text="周日的状态"
    )
    status = serializers.CharField(help_text="当前状态：open / reported / done / cancelled / overdue（派生）")
    status_display = serializers.CharField()
    days_overdue = serializers.IntegerField(help_text="当前逾期的工作日数")


class PackSectionSerializer(serializers.Serializer):
    unit = PackUnitSerializer()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=Reason.choices), help_text="列入原因，按调度会顺序"
    )
    row = PackRowSerializer(allow_null=True, help_text="本周排名行；不参与排名的单位为空")
    trend = PackTrendSerializer(many=True, help_text="近 8 个已发布周，从早到晚")
    by_indicator = PackLossSerializer(many=True, help_text="按测评标准的失分，最多 5 项")
    by_type = PackLossSerializer(many=True, help_text="按点位类型的失分，最多 5 项")
    items = PackItemSerializer(many=True, help_text="不合格最多的测评细则，最多 5 项")
    photos = PackPhotoSerializer(many=True, help_text="不合格观测的照片，最多 4 张（GET /inspections/photos/{id}/）")
    overdue_total = serializers.IntegerField(help_text="周末超期未改的问题数")
    overdue = PackProblemSerializer(many=True, help_text="超期最久的 5 个")
    cases = PackCaseSerializer(many=True, help_text="待处理的问责事项")
    commitments = PackCommitmentSerializer(many=True, help_text="上次调度会以来的承诺事项（在办与本周办结）")


class PackPdfSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["none", "queued", "running", "done", "failed"])
    progress = serializers.IntegerField()
    error = serializers.CharField()
    rendered_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="生成完成时的下载地址，否则为空")


class MeetingPackSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    week = serializers.CharField()
    week_label = serializers.CharField()
    version = serializers.IntegerField(help_text="周评比版本号")
    called = serializers.IntegerField(help_text="规则与创建办列入的单位数")
    left_out = serializers.ListField(child=serializers.CharField(), help_text="超出上限未展开的单位")
    added_units = serializers.ListField(child=serializers.IntegerField(), help_text="创建办添加的单位")
    units = PackSectionSerializer(many=True)
    pdf = PackPdfSerializer()


class PackUnitInputSerializer(StrictSerializer):
    unit = serializers.IntegerField(help_text="单位编号")


_PATH = [
    OpenApiParameter("campaign", int, OpenApiParameter.PATH, description="创建活动编号"),
    OpenApiParameter("week", str, OpenApiParameter.PATH, description="ISO 周，如 2026-W47"),
]
_ERRORS = {
    403: OpenApiResponse(description="仅创建办和领导（写操作仅创建办）"),
    404: OpenApiResponse(description="该周没有已发布的评比（草稿、已替换或不存在）"),
}


def _version(request, campaign, week):
    check_reader(request.user)
    version = pack_version(campaign_id=int(campaign), week=week)
    if version is None:
        raise exceptions.NotFound(f"{week}：{NOT_PUBLISHED}")
    return version


def _pdf(version, pack) -> dict:
    from django.urls import reverse

    state = pack_status(pack)
    url = reverse("meeting-packs-api:meeting-pack-pdf", args=[version.campaign_id, version.week])
    return {
        "status": state["status"],
        "progress": state["progress"],
        "error": state["error"],
        "rendered_at": state["rendered_at"],
        "url": url if state["ready"] else "",
    }


def _section(section) -> dict:
    return {
        "unit": section.unit,
        "reasons": section.reasons,
        "row": section.row,
        "trend": section.trend,
        "by_indicator": section.by_indicator,
        "by_type": section.by_type,
        "items": section.items,
        "photos": section.photos,
        "overdue_total": section.overdue_total,
        "overdue": section.overdue,
        "cases": section.cases,
        "commitments": section.commitments,
    }


class MeetingPackView(APIView):
    """The pack of a published week as it reads now (a fixed number of queries)."""

    @extend_schema(operation_id="meeting_pack", parameters=_PATH, responses={200: MeetingPackSerializer, **_ERRORS})
    def get(self, request, campaign: int, week: str):
        check_query_params(request, ())
        version = _version(request, campaign, week)
        pack = pack_of(version)
        data = meeting_pack_data(version=version, pack=pack)
        payload = {
            "campaign": version.campaign_id,
            "week": version.week,
            "week_label": data["week_label"],
            "version": version.number,
            "called": data["called"],
            "left_out": data["left_out"],
            "added_units": [s.unit["pk"] for s in data["units"] if Reason.ADDED in s.reasons],
            "units": [_section(section) for section in data["units"]],
            "pdf": _pdf(version, pack),
        }
        return Response(MeetingPackSerializer(payload).data)


class MeetingPackUnitsView(APIView):
    """The office adds a unit the rules did not call; the PDF is rendered again."""

    @extend_schema(
        operation_id="meeting_pack_add_unit",
        parameters=_PATH,
        request=PackUnitInputSerializer,
        responses={201: PackPdfSerializer, 400: OpenApiResponse(description="单位不存在、已停用或已列入"), **_ERRORS},
    )
    def post(self, request, campaign: int, week: str):
        check_query_params(request, ())
        version = _version(request, campaign, week)
        check_office(request.user)  # refused before the input is read: a leader's 403, never a 400
        serializer = PackUnitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting_pack_add_unit(version=version, user=request.user, unit=serializer.validated_data["unit"])
        return Response(_pdf(version, pack_of(version)), status=status.HTTP_201_CREATED)


class MeetingPackUnitView(APIView):
    """The office takes back a unit it added; the PDF is rendered again."""

    @extend_schema(
        operation_id="meeting_pack_remove_unit",
        parameters=[*_PATH, OpenApiParameter("unit", int, OpenApiParameter.PATH, description="单位编号")],
        responses={204: None, 400: OpenApiResponse(description="不是创建办添加的单位"), **_ERRORS},
    )
    def delete(self, request, campaign: int, week: str, unit: int):
        check_query_params(request, ())
        version = _version(request, campaign, week)
        meeting_pack_remove_unit(version=version, user=request.user, unit=unit)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeetingPackRenderView(APIView):
    """The office renders the pack's PDF (again); while a render is queued or running, nothing more."""

    @extend_schema(
        operation_id="meeting_pack_render",
        parameters=_PATH,
        request=None,
        responses={202: PackPdfSerializer, **_ERRORS},
    )
    def post(self, request, campaign: int, week: str):
        check_query_params(request, ())
        version = _version(request, campaign, week)
        check_office(request.user)
        if request.data:
            raise exceptions.ValidationError({"non_field_errors": ["该操作不需要提交任何字段。"]})
        pack = meeting_pack_generate(version=version, user=request.user)
        return Response(_pdf(version, pack), status=status.HTTP_202_ACCEPTED)


class PackRendering(exceptions.APIException):
    status_code = 503
    default_detail = "调度会材料 PDF 正在生成，请稍候再试。"
    default_code = "meeting_pack_rendering"


class PackFailed(exceptions.APIException):
    status_code = 503
    default_detail = "调度会材料 PDF 生成失败，请联系创建办重新生成。"
    default_code = "meeting_pack_failed"


class MeetingPackPdfView(APIView):
    """The pack's stored PDF: a file response, never a render."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = FileNegotiation

    @extend_schema(
        operation_id="meeting_pack_pdf",
        parameters=_PATH,
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            **_ERRORS,
            503: OpenApiResponse(description="生成中（meeting_pack_rendering）或生成失败"),
        },
    )
    def get(self, request, campaign: int, week: str):
        check_query_params(request, ())
        version = _version(request, campaign, week)
        pack = pack_of(version)
        state = pack_status(pack)
        if state["ready"]:
            try:
                return meeting_pack_file(pack)
            except OSError:  # the stored file is gone (storage wiped or moved)
                raise exceptions.NotFound("调度会材料 PDF 文件已丢失，请创建办重新生成。") from None
        if state["status"] == "failed":
            raise PackFailed(f"调度会材料 PDF 生成失败：{state['error']}")
        if state["status"] in ("queued", "running"):
            raise PackRendering()
        raise exceptions.NotFound("该周的调度会材料还没有生成 PDF，请创建办先生成。")
