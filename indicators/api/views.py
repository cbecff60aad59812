"""The 测评体系 API: systems, the indicator tree, declaration materials, the negative list and risk events.

Reads are open to everyone signed in (materials: within the user's scope, others get 404).
Every write goes through indicators.services, whose ValidationError / PermissionDenied the
shared exception handler turns into the common JSON error shape.
"""

import functools
import re

from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from campaign.api.serializers import ImportUploadSerializer
from campaign.api.views import run_import
from campaign.permissions import IsOffice, IsOfficeOrReadOnly
from campaign.selectors import scope_for

from .. import services
from ..filters import IndicatorFilterSet, MaterialFilterSet, RiskEventFilterSet
from ..models import (
    Assignment,
    Indicator,
    IndicatorSystem,
    Material,
    MaterialEvent,
    MaterialFile,
    NegativeListItem,
    RiskEvent,
)
from ..permissions import can_review_material, can_submit_for
from ..selectors import material_list, system_list
from .serializers import (
    ImportResultSerializer,
    IndicatorSerializer,
    IndicatorSystemSerializer,
    IndicatorUnitsSerializer,
    MaterialResubmitSerializer,
    MaterialReviewSerializer,
    MaterialSerializer,
    MaterialSubmitSerializer,
    NegativeListItemSerializer,
    RiskEventResolveSerializer,
    RiskEventSerializer,
)

SUBMIT_REFUSED = "只有本单位的联络员可以报送材料。"
REVIEW_REFUSED = "只有创建办或该单位所属工作组的牵头领导可以审核。"
REPLACE_FIELD = re.compile(r"replace_(\d+)")


class IndicatorSystemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """测评体系 (evaluation systems). Everyone reads; the office creates, edits and imports."""

    serializer_class = IndicatorSystemSerializer
    permission_classes = [IsOfficeOrReadOnly]
    filterset_fields = ["campaign", "kind", "year", "is_current"]
    search_fields = ["name"]
    extra_query_params = ("dry_run",)  # the import's preview (its system is looked up as any detail)
    ordering_fields = ["year", "name", "id"]

    def get_queryset(self):
        return system_list().order_by("-year", "id")

    def perform_create(self, serializer):
        # `kind` may be left out (the model's default, 全国文明城市); the service wants it said.
        data = {"kind": IndicatorSystem._meta.get_field("kind").default, **serializer.validated_data}
        system = services.indicator_system_create(**data)
        serializer.instance = self.get_queryset().get(pk=system.pk)

    def perform_update(self, serializer):
        system, data = serializer.instance, serializer.validated_data
        services.indicator_system_update(
            system=system,
            name=data.get("name", system.name),
            kind=data.get("kind", system.kind),
            year=data.get("year", system.year),
            note=data.get("note", system.note),
        )
        serializer.instance = self.get_queryset().get(pk=system.pk)

    @extend_schema(request=None, responses=IndicatorSystemSerializer)
    @action(detail=True, methods=["post"], url_path="set-current", permission_classes=[IsOffice])
    def set_current(self, request, pk=None):
        """Make this the campaign's current system (the forecast, board and tasks read it); the
        campaign's previous current one is unset. Office only; audited in the system's history."""
        system = self.get_object()
        services.system_set_current(user=request.user, system=system)
        return Response(self.get_serializer(self.get_queryset().get(pk=system.pk)).data)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
        # A 400 is the shared error shape plus the import's counts and row errors (see the schema hook).
        responses={200: ImportResultSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_indicators(self, request, pk=None):
        """Import a 任务分解表 (Excel): `file`, `dry_run=1` for the preview. Row errors → 400, nothing written."""
        system = self.get_object()
        from ..importing import indicators_import  # written separately; imported when used

        return run_import(request, functools.partial(indicators_import, system=system))


class IndicatorViewSet(viewsets.ModelViewSet):
    """Nodes of the tree (测评项目 → 指标名称 → 测评内容 → 测评标准). Everyone reads; the office writes.

    Filters: `system`, `level`, `parent`, `unit` (lead or responsible, own or inherited), `method`.
    """

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    permission_classes = [IsOfficeOrReadOnly]
    search_fields = ["code", "title", "text"]
    ordering_fields = ["path", "code", "level", "order", "id"]

    def get_queryset(self):
        return Indicator.objects.prefetch_related(
            "method_rows",
            Prefetch("assignments", queryset=Assignment.objects.order_by("role", "unit__path", "unit_id")),
        ).order_by("system", "path")

    def _fresh(self, indicator: Indicator) -> Indicator:
        """The node again, with the fields and inherited units the rebuild derived."""
        return self.get_queryset().get(pk=indicator.pk)

    def perform_create(self, serializer):
        serializer.instance = self._fresh(services.indicator_create(**serializer.validated_data))

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in services.INDICATOR_FIELDS}
        if "methods" in serializer.validated_data:
            fields["methods"] = serializer.validated_data["methods"]
        serializer.instance = self._fresh(services.indicator_update(indicator=serializer.instance, **fields))

    def perform_destroy(self, instance):
        services.indicator_delete(indicator=instance)

    @extend_schema(request=IndicatorUnitsSerializer, responses=IndicatorSerializer)
    @action(detail=True, methods=["post"], url_path="units", permission_classes=[IsOffice])
    def set_units(self, request, pk=None):
        """Set the lead (`lead`) or responsible (`responsible`) units of a node; an empty list inherits."""
        indicator = self.get_object()
        data = IndicatorUnitsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.indicator_set_units(indicator=indicator, **data.validated_data)
        return Response(self.get_serializer(self._fresh(indicator)).data)


class MaterialViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Declaration materials (申报材料). A liaison submits for its units; the office, or a leader of
    the unit's work group, reviews. Materials outside the user's scope answer 404."""

    serializer_class = MaterialSerializer
    filterset_class = MaterialFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    search_fields = ["description", "indicator__code", "indicator__title", "unit__name"]
    ordering_fields = ["submitted_at", "reviewed_at", "status", "id"]

    def get_queryset(self):
        return material_list(user=self.request.user).prefetch_related(
            "files", Prefetch("events", queryset=MaterialEvent.objects.select_related("actor"))
        )

    def _material(self, pk) -> Material:
        """The material if the user may see it (no list filters applied); 404 otherwise."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    def _answer(self, material: Material, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self._material(material.pk)).data, status=code)

    def _require_liaison(self, unit=None):
        """Refuse early, with the reason, what material_submit would refuse anyway."""
        scope = scope_for(self.request.user)
        if not scope.is_liaison or (unit is not None and not can_submit_for(user=self.request.user, unit=unit)):
            raise PermissionDenied(SUBMIT_REFUSED)
        return scope

    def perform_content_negotiation(self, request, force=False):
        # A download answers whatever the client accepts; its errors are still JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(
        request={"multipart/form-data": MaterialSubmitSerializer},
        responses={201: MaterialSerializer, 200: MaterialSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Submit a material: `indicator`, `unit`, `description`, `files` (PDF, Word, Excel, JPG, PNG).

        Posting again for the same indicator and unit adds to the pending material (200)."""
        scope = self._require_liaison()
        data = MaterialSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        unit = values.get("unit")
        if unit is None:
            if len(scope.liaison_units) != 1:
                raise ValidationError({"unit": ["请选择报送单位。"]})
            unit = scope.liaison_units[0]
        self._require_liaison(unit)
        existed = Material.objects.filter(indicator=values["indicator"], unit=unit).exists()
        material = services.material_submit(
            user=request.user,
            indicator=values["indicator"],
            unit=unit,
            description=values["description"],
            files=[*values["files"], *request.FILES.getlist("files[]")],
        )
        return self._answer(material, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": MaterialResubmitSerializer}, responses=MaterialSerializer)
    @action(detail=True, methods=["post"], url_path="resubmit")
    def resubmit(self, request, pk=None):
        """Resubmit after a return (or complete a pending one): `description`, new `files`, and
        `replace_<file id>` to replace a current file (the old one stays as a previous version)."""
        material = self._material(pk)
        self._require_liaison(material.unit)
        data = MaterialResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        replace, unknown = {}, []
        for key in request.FILES:
            match = REPLACE_FIELD.fullmatch(key)
            if match:
                replace[int(match.group(1))] = request.FILES[key]
            elif key not in ("files", "files[]"):
                unknown.append(key)
        if unknown:
            raise ValidationError(
                {key: ["未知的文件字段：新文件请用 files，替换文件请用 replace_<文件编号>。"] for key in unknown}
            )
        material = services.material_submit(
            user=request.user,
            indicator=material.indicator,
            unit=material.unit,
            description=data.validated_data.get("description", material.description),
            files=[*data.validated_data["files"], *request.FILES.getlist("files[]")],
            replace=replace,
        )
        return self._answer(material)

    @extend_schema(request=MaterialReviewSerializer, responses=MaterialSerializer)
    @action(detail=True, methods=["post"], url_path="review")
    def review(self, request, pk=None):
        """Review a pending material: `action` approve or return (a `reason` is required to return)."""
        material = self._material(pk)
        if not can_review_material(user=request.user, material=material):
            raise PermissionDenied(REVIEW_REFUSED)
        data = MaterialReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        material = services.material_review(
            user=request.user,
            material=material,
            approve=data.validated_data["action"] == "approve",
            reason=data.validated_data["reason"],
        )
        return self._answer(material)

    @extend_schema(
        request=None,
        responses={(200, "application/octet-stream"): OpenApiResponse(description="文件内容（附件下载）")},
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<file_id>\d+)", url_name="file")
    def download(self, request, pk=None, file_id=None):
        """Download one file (any version) of a material the user may see."""
        material = get_object_or_404(material_list(user=request.user), pk=pk)
        record = get_object_or_404(MaterialFile, material=material, pk=file_id)
        try:
            handle = record.file.open("rb")
        except FileNotFoundError:
            raise NotFound("文件已丢失，请联系创建办。") from None
        return FileResponse(handle, as_attachment=True, filename=record.original_name, content_type=record.content_type)


class NegativeListItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """负面清单 items of a system. Everyone reads; the office adds."""

    queryset = NegativeListItem.objects.all()
    serializer_class = NegativeListItemSerializer
    permission_classes = [IsOfficeOrReadOnly]
    filterset_fields = ["system", "veto"]
    search_fields = ["code", "title"]
    ordering_fields = ["order", "id"]

    def perform_create(self, serializer):
        serializer.instance = services.negative_item_create(**serializer.validated_data)


class RiskEventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Risk events against the negative list. The office, leaders and inspectors read every event; a
    liaison those of units in its subtree (another street's event is 404, as everywhere); the office
    registers and resolves."""

    queryset = RiskEvent.objects.select_related("item", "unit")
    serializer_class = RiskEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(scope_for(self.request.user).unit_q("unit__"))

    filterset_class = RiskEventFilterSet
    permission_classes = [IsOfficeOrReadOnly]
    search_fields = ["description", "item__title", "unit__name"]
    ordering_fields = ["occurred_on", "created_at", "id"]

    def perform_create(self, serializer):
        event = services.risk_event_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=event.pk)

    @extend_schema(request=RiskEventResolveSerializer, responses=RiskEventSerializer)
    @action(detail=True, methods=["post"], url_path="resolve", permission_classes=[IsOffice])
    def resolve(self, request, pk=None):
        """Close an open event with how it was dealt with (`resolution`)."""
        event = self.get_object()
        data = RiskEventResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.risk_event_resolve(user=request.user, event=event, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data)
