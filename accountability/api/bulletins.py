"""The weekly bulletin (周通报) as files: `GET /api/v1/bulletins/{campaign}/{week}.pdf` and
`….xlsx`. Every member reads every published week; an unpublished one is 404 in the error shape."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..bulletin import (
    NOT_PUBLISHED,
    XLSX,
    PdfUnavailable,
    bulletin_pdf,
    bulletin_xlsx,
    download_response,
    may_read_bulletins,
)
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


class _BulletinFile(APIView):
    permission_classes = [IsMember]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FileNegotiation
    extension = ""
    content_type = ""

    def render(self, version, request) -> bytes:
        raise NotImplementedError

    def get(self, request, campaign: int, week: str):
        version = bulletin_version(campaign_id=int(campaign), week=week)
        if version is None:
            raise exceptions.NotFound(f"{week}：{NOT_PUBLISHED}")
        content = self.render(version, request)
        return download_response(content, version=version, extension=self.extension, content_type=self.content_type)


_PARAMETERS = [
    OpenApiParameter("campaign", int, OpenApiParameter.PATH, description="创建活动编号"),
    OpenApiParameter("week", str, OpenApiParameter.PATH, description="ISO 周，如 2026-W47"),
]
_ERRORS = {
    401: OpenApiResponse(description="未登录"),
    403: OpenApiResponse(description="没有角色"),
    404: OpenApiResponse(description="该周没有已发布的评比（草稿、已替换或不存在）"),
}


class PdfServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = PdfUnavailable.message
    default_code = "pdf_unavailable"


class BulletinPdfView(_BulletinFile):
    """The bulletin of a published week as an A4 PDF."""

    extension = "pdf"
    content_type = "application/pdf"

    def render(self, version, request) -> bytes:
        try:
            return bulletin_pdf(version=version, request=request)
        except PdfUnavailable as exc:
            raise PdfServiceUnavailable(str(exc)) from None

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

    extension = "xlsx"
    content_type = XLSX

    def render(self, version, request) -> bytes:
        return bulletin_xlsx(version=version)

    @extend_schema(
        operation_id="bulletin_xlsx",
        parameters=_PARAMETERS,
        responses={(200, XLSX): OpenApiTypes.BINARY, **_ERRORS},
        summary="周通报 Excel",
    )
    def get(self, request, campaign: int, week: str):
        return super().get(request, campaign, week)
