import logging
from collections.abc import Mapping

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from .. import services
from ..filters import CampaignFilterSet, UnitFilterSet
from ..lockout import client_ip, locked_message
from ..models import Campaign, JobRun, WorkGroup
from ..permissions import IsOffice, IsOfficeOrReadOnly, can_edit_unit_contacts, can_manage
from ..selectors import unit_list, with_kind_labels
from .exceptions import import_error_response
from .phases import PhasesInputSerializer
from .serializers import (
    CampaignSerializer,
    ImportUploadSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitContactsSerializer,
    UnitSerializer,
    WorkGroupSerializer,
)

logger = logging.getLogger(__name__)


class TokenThrottle(AnonRateThrottle):
    """30 token requests a minute per client address (behind the proxy: the real client). The
    counter lives in the cache (Redis in production); when the cache is down the endpoint keeps
    working unthrottled — the lockout (in the database) still guards the passwords."""

    rate = "30/min"

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("token throttle: cache unavailable, request not throttled", exc_info=True)
            return True


class LockedOut(APIException):
    status_code = 429
    default_code = "locked_out"


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token …`)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
            raise LockedOut(locked_message())
        if user is None or not user.is_active:
            raise drf_serializers.ValidationError({"non_field_errors": ["用户名或密码错误。"]})
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


def run_import(request, importer, *, also: tuple[str, ...] = ()):
    """Shared body of every `…/import/` endpoint: preview with dry_run=1, else all or nothing.
    `dry_run` is read from the form or, as the schema documents it, the query string. `also` names
    the other form fields the endpoint reads itself (the check items' `system`), so that the upload's
    strict check does not refuse them."""
    upload = ImportUploadSerializer(data=request.data)
    upload.extra_input_fields = also
    upload.is_valid(raise_exception=True)
    dry_run = upload.validated_data["dry_run"]
    if "dry_run" in request.query_params:
        flag = drf_serializers.BooleanField(error_messages={"invalid": "dry_run 应为 1 或 0。"})
        try:
            dry_run = dry_run or flag.run_validation(request.query_params["dry_run"])
        except drf_serializers.ValidationError as exc:
            raise drf_serializers.ValidationError({"dry_run": exc.detail}) from None
    result = importer(file=upload.validated_data["file"], dry_run=dry_run)
    if not result.ok:
        return import_error_response(result)
    return Response({"detail": result.summary, **result.as_dict()}, status=status.HTTP_200_OK)


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns (创建活动). Everyone reads; the office writes."""

    queryset = Campaign.objects.prefetch_related("phases")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    permission_classes = [IsOfficeOrReadOnly]
    search_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.campaign_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.campaign_update(campaign=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.campaign_delete(campaign=instance)

    @extend_schema(request=PhasesInputSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["put"], url_path="phases", permission_classes=[IsOffice])
    def phases(self, request, pk=None):
        """Replace the campaign's phases (创建阶段), the office only: each kind once, no overlap."""
        campaign = self.get_object()
        body = PhasesInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.campaign_set_phases(campaign=campaign, phases=body.as_tuples())
        return Response(CampaignSerializer(self.get_queryset().get(pk=campaign.pk)).data)


class UnitViewSet(viewsets.ModelViewSet):
    """Units (单位). A liaison sees its own subtree and keeps its units' contacts current."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    search_fields = ["name", "short_name", "code"]
    ordering_fields = ["code", "name", "path"]

    def get_queryset(self):
        return with_kind_labels(unit_list(user=self.request.user)).order_by("path")

    def _require_office(self):
        if not can_manage(self.request.user):
            raise PermissionDenied("只有创建办可以新增、删除单位或修改单位名称、编码、类型和上级。")

    def perform_create(self, serializer):
        self._require_office()
        serializer.instance = services.unit_create(**serializer.validated_data)

    def update(self, request, *args, **kwargs):
        unit = self.get_object()  # 404 outside the user's scope
        if can_manage(request.user):
            return super().update(request, *args, **kwargs)
        if not can_edit_unit_contacts(request.user, unit):
            raise PermissionDenied("您没有修改该单位的权限。")
        if not isinstance(request.data, Mapping):  # a JSON list or string: no field names to check
            raise drf_serializers.ValidationError({"non_field_errors": ["请求体应为 JSON 对象（字段名: 值）。"]})
        extra = set(request.data) - set(UnitContactsSerializer.Meta.fields)
        if extra:
            raise PermissionDenied("单位联络员只能修改主要负责人、联络员和联系电话。")
        contacts = UnitContactsSerializer(unit, data=request.data, partial=kwargs.get("partial", False))
        contacts.is_valid(raise_exception=True)
        values = {f: contacts.validated_data.get(f, getattr(unit, f)) for f in UnitContactsSerializer.Meta.fields}
        unit = services.unit_contacts_update(unit=unit, **values)
        return Response(UnitSerializer(unit).data)

    def perform_update(self, serializer):
        serializer.instance = services.unit_update(unit=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        self._require_office()
        services.unit_delete(unit=instance)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_units(self, request):
        """Import units from Excel: `file`, `dry_run=1` for the preview. Row errors → 400, nothing written."""
        return run_import(request, services.units_import)


class WorkGroupViewSet(viewsets.ModelViewSet):
    """Work groups (工作组) of a campaign's command."""

    queryset = WorkGroup.objects.prefetch_related("leaders", "units")
    serializer_class = WorkGroupSerializer
    permission_classes = [IsOfficeOrReadOnly]
    filterset_fields = ["campaign"]

    def perform_create(self, serializer):
        serializer.instance = services.work_group_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = serializer.validated_data
        group = serializer.instance
        serializer.instance = services.work_group_update(
            group=group,
            name=data.get("name", group.name),
            duties=data.get("duties", group.duties),
            leaders=data.get("leaders", group.leaders.all()),
            units=data.get("units", group.units.all()),
            order=data.get("order", group.order),
        )


class JobRunSerializer(drf_serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = [
            "id",
            "name",
            "status",
            "params",
            "result",
            "error",
            "worker",
            "queued_at",
            "started_at",
            "finished_at",
        ]


class JobRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Recorded runs of background jobs (office only)."""

    queryset = JobRun.objects.all()
    serializer_class = JobRunSerializer
    permission_classes = [IsOffice]
    filterset_fields = ["name", "status"]

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=False, methods=["post"], url_path="worker-check")
    def worker_check(self, request):
        """Queue a job that a Celery worker records itself on; with no broker it runs in-process."""
        with transaction.atomic():
            run = services.worker_check_enqueue(user=request.user)
        run.refresh_from_db()
        return Response(JobRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
