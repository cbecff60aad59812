"""The weekly bulletin (周通报) as files: `GET /api/v1/bulletins/{campaign}/{week}.pdf` and
`….xlsx`. Every member reads every published week; an unpublished one is 404 in the error shape.
The files are the ones rendered once at publish (`bulletin_store`): a request never renders; while
they are being made it answers 503 `bulletin_rendering` (try again shortly)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..bulletin import NOT_PUBLISHED, XLSX, PdfUnavailable, may_read_bulletins
from ..bulletin_store import bulletin_ensure, bulletin_file_response
from ..choices import BulletinKind, BulletinStatus
from ..selectors import bulletin_version


class IsMember(permissions.IsAuthenticated):
    message = "您还没有任何角色，请联系创建办开通后再查看周通报。"

    def has_permission(self, request, view):
        return super().has_permission(request, view) and may_read_bulletins(request.user)


class FileNegotiation(BaseContentNegotiation):
    """A file endpoint answers with its file whatever `Accept` says, and errors as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BulletinRendering(exceptions.APIException):
    """The stored file is still being made (queued or rendering): try again shortly."""

    status_code = 503
    default_detail = "周通报正在生成，请稍候再试。"
    default_code = "bulletin_rendering"


class BulletinFailed(exceptions.APIException):
    status_code = 503
    default_detail = "周通报文件生成失败，请联系创建办重新生成。"
    default_code = "bulletin_failed"


class _BulletinFile(APIView):
    """The stored file rendered at publish (`bulletin_store`): a file response, never a render."""

    permission_classes = [IsMember]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FileNegotiation
    kind = ""

    def failed(self, row):
        raise BulletinFailed(f"周通报文件生成失败：{row.error}" if row.error else None)

    def get(self, request, campaign: int, week: str):
        version = bulletin_version(campaign_id=int(campaign), week=week)
        if version is None:
            raise exceptions.NotFound(f"{week}：{NOT_PUBLISHED}")
        state = bulletin_ensure(version=version)
        row = state.file(self.kind)
        if row is not None and row.status == BulletinStatus.DONE:
            return bulletin_file_response(row)
        if row is not None and row.status == BulletinStatus.FAILED:
            self.failed(row)
        raise BulletinRendering(state.detail)


_PARAMETERS = [
    OpenApiParameter("campaign", int, OpenApiParameter.PATH, description="创建活动编号"),
    OpenApiParameter("week", str, OpenApiParameter.PATH, description="ISO 周，如 2026-W47"),
]
_ERRORS = {
    401: OpenApiResponse(description="未登录"),
    403: OpenApiResponse(description="没有角色"),
    404: OpenApiResponse(description="该周没有已发布的评比（草稿、已替换或不存在）"),
    503: OpenApiResponse(description="周通报文件生成中（bulletin_rendering）或生成失败"),
}


class PdfServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = PdfUnavailable.message
    default_code = "pdf_unavailable"


class BulletinPdfView(_BulletinFile):
    """The bulletin of a published week as an A4 PDF."""

    kind = BulletinKind.PDF

    def failed(self, row):
        if row.error == PdfUnavailable.message:
            raise PdfServiceUnavailable(row.error)
        super().failed(row)

    @extend_schema(
        operation_id="bulletin_pdf",
        parameters=_PARAMETERS,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **_ERRORS},
        summary="周通报 PDF",
    )
    def get(self, request, campaign: int, week: str):
        return super().get(request, campaign, week)


class BulletinXlsxView(_BulletinFile):
    """The bulletin of a published week as an Excel workbook (full rankings and lists)."""

    kind = BulletinKind.XLSX

    @extend_schema(
        operation_id="bulletin_xlsx",
        parameters=_PARAMETERS,
        responses={(200, XLSX): OpenApiTypes.BINARY, **_ERRORS},
        summary="周通报 Excel",
    )
    def get(self, request, campaign: int, week: str):
        return super().get(request, campaign, week)
