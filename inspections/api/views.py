"""The field-inspection API: reference data for the office, rounds, the inspector's submission
with photos uploaded first, and scoped reads of observations and problems.

Every write goes through inspections.services; every read through inspections.selectors, so the
API sees exactly what the pages see. Lists never query per row (see the pinned query counts)."""

from __future__ import annotations

from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from PIL import Image
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from campaign.api.filters import campaign_query_param
from campaign.api.pagination import PageNumberPagination
from campaign.api.views import run_import
from campaign.models import Unit
from campaign.permissions import IsOffice, IsOfficeOrReadOnly, can_manage
from campaign.selectors import campaign_current, scope_for

from .. import services
from ..filters import (
    CheckItemFilterSet,
    InspectionFilterSet,
    ObservationFilterSet,
    PointFilterSet,
    ProblemFilterSet,
    parse_near,
)
from ..importing import check_items_import, point_types_import, points_import
from ..models import CheckItem, Observation, Photo, Point, PointType, Report
from ..selectors import (
    KeyPagePaginator,
    inspection_list,
    observation_list,
    photo_visible_to,
    point_list,
    points_near,
    problem_list,
    round_list,
    round_point_ids,
    with_deadline_facts,
)
from ..services import ObservationInput
from .serializers import (
    CheckItemImportSerializer,
    CheckItemImportUploadSerializer,
    CheckItemSerializer,
    InspectionCreateSerializer,
    InspectionSerializer,
    ObservationSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    PointImportUploadSerializer,
    PointSerializer,
    PointTypeImportUploadSerializer,
    PointTypeSerializer,
    ProblemCreateSerializer,
    ProblemSerializer,
    RoundDrawSerializer,
    RoundSerializer,
)

NEAR_LIMIT = 500  # at most this many nearest points, paginated like any list

IMPORT_PARAMETERS = [OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")]


class KeyPagePagination(PageNumberPagination):
    """The long lists' pages: keys first, then the page's rows (a deep page costs what page 1 does)."""

    django_paginator_class = KeyPagePaginator


class ServiceErrors:
    """Keep the Chinese message of a PermissionDenied raised by a service (the shared exception
    handler would replace it with the generic one)."""

    lookup_value_regex = r"\d+"

    def handle_exception(self, exc):
        if isinstance(exc, DjangoPermissionDenied) and str(exc):
            exc = exceptions.PermissionDenied(str(exc))
        return super().handle_exception(exc)


CAMPAIGN_PARAMETER = OpenApiParameter(
    "campaign",
    str,
    description="创建活动编号；缺省为当前创建活动（页头所选，否则默认活动）；all = 全部创建活动",
)


class CampaignLists:
    """The lists read one campaign, as the pages do: `?campaign=<id>`, else the current one (the
    header's choice, else the default); `?campaign=all` every campaign. An unknown campaign is a
    400, never a silent fall-back to another campaign's numbers. A record opened by its id is
    found whatever its campaign."""

    extra_query_params = ("campaign",)

    def list_campaign(self):
        """The campaign the list reads (None: every campaign, or not a list)."""
        if getattr(self, "action", None) != "list" or getattr(self, "swagger_fake_view", False):
            return None  # (the OpenAPI schema is generated without a database to read)
        return campaign_query_param(self.request)


class CanRecordOrReadOnly(permissions.BasePermission):
    """Everyone signed in reads (within their scope); inspectors and the office record. Whether an
    inspector belongs to the round is the service's check."""

    message = "只有督查员或创建办可以记录督查。"

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        scope = scope_for(request.user)
        return scope.is_office or scope.is_inspector


# --- Reference data ---------------------------------------------------------------------------


class PointTypeViewSet(
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Point types (点位类别). Everyone reads; the office edits name, order, active and the default
    supervising departments. Not deleted: set active=false."""

    queryset = PointType.objects.prefetch_related("departments")
    serializer_class = PointTypeSerializer
    permission_classes = [IsOfficeOrReadOnly]
    filterset_fields = ["active", "national", "category"]

    def perform_create(self, serializer):
        serializer.instance = services.point_type_save(**serializer.validated_data)

    def perform_update(self, serializer):
        current = serializer.instance
        data = {"name": current.name, "order": current.order, "active": current.active, **serializer.validated_data}
        serializer.instance = services.point_type_save(point_type=current, **data)

    @extend_schema(request={"multipart/form-data": PointTypeImportUploadSerializer}, parameters=IMPORT_PARAMETERS)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_point_types(self, request):
        """Import point types from Excel (名称, 分类, 默认责任部门, 排序, 启用): `file`, `dry_run=1` for
        the preview. National types are updated, never renamed or deleted; unknown names become
        local types. Row errors → 400, nothing written."""
        return run_import(request, point_types_import)


class PointViewSet(
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Points (点位). A liaison reads those in its subtree or supervised by its units; the office
    writes. `near=lat,lng` lists the nearest first with `distance_m`. Not deleted: set active=false."""

    serializer_class = PointSerializer
    filterset_class = PointFilterSet
    pagination_class = KeyPagePagination
    permission_classes = [IsOfficeOrReadOnly]
    ordering_fields = ["name", "id"]
    extra_query_params = ("near",)

    def get_queryset(self):
        return point_list(user=self.request.user).prefetch_related(
            Prefetch("departments", queryset=Unit.objects.only("id"))
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("near", str, description="纬度,经度：最近的点位在前，附带 distance_m（米）"),
        ]
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())  # a malformed `near` is a 400 here
        near = request.query_params.get("near")
        rows = queryset
        if near:
            latitude, longitude = parse_near(near)
            rows = points_near(queryset, latitude=latitude, longitude=longitude, limit=NEAR_LIMIT)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def perform_create(self, serializer):
        serializer.instance = services.point_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        departments = data.pop("departments", None)
        serializer.instance = services.point_update(point=serializer.instance, departments=departments, **data)

    @extend_schema(request={"multipart/form-data": PointImportUploadSerializer}, parameters=IMPORT_PARAMETERS)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_points(self, request):
        """Import points from Excel: `file`, `dry_run=1` for the preview. Row errors → 400, nothing written."""
        return run_import(request, points_import)


class CheckItemViewSet(
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Check items (测评细则) by point type. Everyone reads; the office writes. Not deleted: set
    active=false (past observations keep pointing at it)."""

    queryset = (
        CheckItem.objects.select_related("indicator", "point_type")
        .prefetch_related("departments")
        .order_by("point_type__order", "point_type_id", "order", "id")
    )
    serializer_class = CheckItemSerializer
    filterset_class = CheckItemFilterSet
    permission_classes = [IsOfficeOrReadOnly]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        active = data.pop("active", True)
        with transaction.atomic():
            item = services.check_item_create(**data)
            if not active:
                item = services.check_item_update(item=item, active=False)
        serializer.instance = item

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("point_type", None)  # unchanged: the serializer refuses a change
        data.pop("indicator", None)
        departments = data.pop("departments", None)
        serializer.instance = services.check_item_update(item=serializer.instance, departments=departments, **data)

    @extend_schema(request={"multipart/form-data": CheckItemImportUploadSerializer}, parameters=IMPORT_PARAMETERS)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_check_items(self, request):
        """Import check items of a 测评体系 (`system`) from Excel: `file`, `dry_run=1` for the preview."""
        target = CheckItemImportSerializer(data=request.data)
        target.is_valid(raise_exception=True)
        importer = partial(check_items_import, system=target.validated_data["system"])
        return run_import(request, importer, also=("system",))


# --- Rounds -----------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class RoundViewSet(
    CampaignLists,
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Inspection rounds (督查批次). The office and leaders read all, an inspector its own; the
    office creates them and draws their points (`POST rounds/{id}/draw/`)."""

    serializer_class = RoundSerializer
    permission_classes = [IsOfficeOrReadOnly]
    filterset_fields = ["kind"]

    def get_queryset(self):
        queryset = (
            round_list(user=self.request.user, campaign=self.list_campaign())
            .order_by("-start_date", "-id")
            .prefetch_related(Prefetch("inspectors", queryset=get_user_model().objects.only("id")))
        )
        if self.action == "list":
            return queryset  # the page's point ids are read as pairs (see list)
        # Ids only, in id order: Point's own ordering joins the point types and sorts every point
        # by name (a 20,000-point round: 0.13 s).
        return queryset.prefetch_related(Prefetch("points", queryset=Point.objects.only("id").order_by("id")))

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rounds = list(page if page is not None else queryset)
        context = {**self.get_serializer_context(), "round_point_ids": round_point_ids([r.pk for r in rounds])}
        data = self.get_serializer_class()(rounds, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_create(self, serializer):
        round_ = services.round_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=round_.pk)

    @extend_schema(request=RoundDrawSerializer, responses=RoundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOffice])
    def draw(self, request, pk=None):
        """Draw the round's points: `{quota: {point_type_id: n}, seed?}` per district, reproducibly."""
        round_ = self.get_object()
        data = RoundDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.round_draw(
            user=request.user, round_=round_, quota=data.validated_data["quota"], seed=data.validated_data.get("seed")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=round_.pk)).data)


# --- Photos -----------------------------------------------------------------------------------


class PhotoViewSet(ServiceErrors, viewsets.GenericViewSet):
    """Field photos, uploaded before the inspection that cites them (multipart field `file`)."""

    serializer_class = PhotoSerializer
    parser_classes = [MultiPartParser, FormParser]
    queryset = Photo.objects.none()  # for the schema; reads go through photo_visible_to

    @extend_schema(request={"multipart/form-data": PhotoUploadSerializer}, responses={201: PhotoSerializer})
    def create(self, request):
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            photo = services.photo_upload(user=request.user, file=upload.validated_data["file"])
        except Image.DecompressionBombError:
            # photo_upload lets Pillow's guard escape (a 500); a tiny PNG can declare 400M pixels.
            raise exceptions.ValidationError({"file": ["图片像素过多，无法处理，请上传正常拍摄的照片。"]}) from None
        return Response(self.get_serializer(photo).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        photo = Photo.objects.filter(pk=pk).first()
        if photo is None or not photo_visible_to(user=request.user, photo=photo):
            raise exceptions.NotFound()
        return Response(self.get_serializer(photo).data)


# --- Inspections, observations, problems ------------------------------------------------------


def _error_messages(value) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _error_messages(v)]
    if isinstance(value, list):
        return [m for v in value for m in _error_messages(v)]
    return [str(value)]


def _observation_errors(errors: dict) -> dict:
    """Nested line errors → flat Chinese messages numbered like the service's ("第 2 项：…")."""
    errors = dict(errors)
    lines = errors.get("observations")
    if isinstance(lines, list) and any(isinstance(line, dict) for line in lines):
        lines = dict(enumerate(lines))  # older DRF: one entry per line, {} when valid
    if isinstance(lines, dict) and lines and all(isinstance(key, int) for key in lines):
        errors["observations"] = [
            f"第 {index + 1} 项：{message}"
            for index, line in sorted(lines.items())
            for message in _error_messages(line)
        ]
    elif isinstance(lines, dict):
        errors["observations"] = _error_messages(lines)
    return errors


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class InspectionViewSet(
    CampaignLists, ServiceErrors, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Inspections (督查记录) with their observations and the problems they opened. Never edited:
    a correction is a new inspection with `supersedes` and `correction_reason`."""

    serializer_class = InspectionSerializer
    filterset_class = InspectionFilterSet
    pagination_class = KeyPagePagination
    permission_classes = [CanRecordOrReadOnly]

    def get_queryset(self):
        user = self.request.user
        observations = (
            observation_list(user=user, current_only=False)
            .select_related("problem__unit")
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.only("id", "observation_id")))
        )
        return inspection_list(user=user, campaign=self.list_campaign()).prefetch_related(
            Prefetch("observations", queryset=observations, to_attr="visible_observations")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        scope = scope_for(self.request.user)
        if not scope.sees_everything:
            context["covers_unit"] = scope.covers
        return context

    @extend_schema(request=InspectionCreateSerializer, responses={201: InspectionSerializer, 200: InspectionSerializer})
    def create(self, request):
        """Record an inspection with its observations inline. The same `client_uuid` again answers
        200 with the first record and writes nothing; a new record answers 201."""
        data = InspectionCreateSerializer(data=request.data, context=self.get_serializer_context())
        if not data.is_valid():
            raise exceptions.ValidationError(_observation_errors(data.errors))
        values = data.validated_data
        inspection, created = services.inspection_submit(
            user=request.user,
            round_=values["round"],
            point=values["point"],
            observations=[ObservationInput(**line) for line in values["observations"]],
            client_uuid=values["client_uuid"],
            latitude=values.get("latitude"),
            longitude=values.get("longitude"),
            started_at=values.get("started_at"),
            note=values.get("note", ""),
            supersedes=values.get("supersedes"),
            correction_reason=values.get("correction_reason", ""),
            observed_at=values.get("observed_at"),
        )
        if created:
            # Its recorder (the office or an inspector of the round) reads all of it: answer from
            # what was just written (the service keeps it as a read would give it), no read back.
            inspection.visible_observations = inspection.submitted_observations
            instance = inspection
        else:
            instance = self.get_queryset().filter(pk=inspection.pk).first()
        if instance is None:
            # A replayed client_uuid of a record this user may not read.
            raise exceptions.PermissionDenied("该 client_uuid 已被其他记录使用。")
        return Response(
            self.get_serializer(instance).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class ObservationViewSet(CampaignLists, ServiceErrors, viewsets.ReadOnlyModelViewSet):
    """Observations (观测), the facts every score is computed from. A liaison reads those charged
    to its units. Filters: week=2026-W47, round, point, unit (charged to it or a unit under it).
    Newest first, like the observation page (an index in that order serves every page)."""

    serializer_class = ObservationSerializer
    filterset_class = ObservationFilterSet
    pagination_class = KeyPagePagination

    def get_queryset(self):
        return observation_list(user=self.request.user, campaign=self.list_campaign()).order_by("-observed_at", "-id")


class OfficeRegistersProblems(permissions.BasePermission):
    """Everyone signed in reads (within their scope); the office registers problems. Other methods
    fall through to 405: the rectification workflow moves problems, never an edit."""

    message = "只有创建办可以登记问题。"

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method != "POST" or can_manage(request.user)


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class ProblemViewSet(CampaignLists, ServiceErrors, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Problems (问题). A liaison reads those located in its subtree or handled by its units. The
    office registers problems found elsewhere (POST: 领导交办, 12345转办, 市民随手拍, 上级通报) as
    待交办; the rectification workflow (`problems/{id}/transitions/`) moves them."""

    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    pagination_class = KeyPagePagination
    permission_classes = [OfficeRegistersProblems]

    def get_queryset(self):
        problems = problem_list(user=self.request.user, campaign=self.list_campaign())
        return with_deadline_facts(problems).prefetch_related(
            Prefetch("photos", queryset=Photo.objects.only("id")),
            Prefetch("co_handlers", queryset=Unit.objects.only("id")),
            # Each sighting with its inspection and inspector: still one query for a whole page.
            Prefetch(
                "sightings",
                queryset=Observation.objects.select_related("inspection__inspector").order_by(
                    "inspection__submitted_at", "id"
                ),
            ),
            Prefetch(
                "reports",
                queryset=Report.objects.only(
                    "id", "problem_id", "reference", "channel", "status", "submitted_at"
                ).order_by("submitted_at", "id"),
            ),
        )

    @extend_schema(request=ProblemCreateSerializer, responses={201: ProblemSerializer})
    def create(self, request):
        data = ProblemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        campaign = values.get("campaign") or campaign_current()
        if campaign is None:
            raise exceptions.ValidationError({"campaign": ["请指定创建活动（campaign）。"]})
        problem = services.problem_create(
            campaign=campaign,
            source=values["source"],
            unit=values.get("unit"),
            description=values["description"],
            severity=values["severity"],
            point=values.get("point"),
            check_item=values.get("check_item"),
            photos=values["photos"],
            found_at=values.get("found_at"),
            created_by=request.user,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=problem.pk)).data, status=status.HTTP_201_CREATED
        )
