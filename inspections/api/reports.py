"""群众反映 API: the triage queue (`/api/v1/reports/`: office and leaders read, the office accepts,
merges, rejects and imports 12345 tickets), the public categories (`/api/v1/public-categories/`:
everyone signed in reads, the office writes) and the hotline platform's push
(`POST /api/v1/hotline-tickets/`: the office's token or an intake key in `X-Api-Key`). The
reporter's name and phone are answered to the office only. Every write goes through
inspections.triage."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from functools import partial

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.exceptions import Conflict
from campaign.api.serializers import ImportUploadSerializer
from campaign.api.serializers import ModelSerializer as StrictModelSerializer
from campaign.api.serializers import Serializer as StrictSerializer
from campaign.api.views import run_import
from campaign.filters import FilterSet
from campaign.permissions import IsOffice, IsOfficeOrReadOnly, can_manage
from campaign.selectors import campaign_current

from .. import intake, triage
from ..choices import ReportChannel, ReportStatus
from ..models import CheckItem, Photo, PointType, Problem, PublicCategory, Report
from .views import CAMPAIGN_PARAMETER, IMPORT_PARAMETERS, CampaignLists, KeyPagePagination, ServiceErrors


class ReportReader(permissions.BasePermission):
    """The office and leaders read reports; everyone else 403. Writes are the office's."""

    message = "只有创建办和领导可以查看群众反映。"

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if not triage.can_read_reports(request.user):
            return False
        if request.method not in permissions.SAFE_METHODS and not can_manage(request.user):
            self.message = "只有创建办可以分拣群众反映。"
            return False
        return True


# --- Serializers -------------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True, default=None, allow_null=True)
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "campaign",
            "reference",
            "channel",
            "channel_label",
            "status",
            "status_label",
            "category",
            "category_name",
            "category_text",
            "description",
            "address",
            "latitude",
            "longitude",
            "submitted_at",
            "ticket_no",
            "called_at",
            "ticket_due_at",
            "photos",
            "unit",
            "point",
            "problem",
            "reject_reason",
            "triaged_at",
            "reply",
            "replied_at",
            "version",
            "reporter_name",
            "reporter_phone",
        ]
        read_only_fields = fields

    def _office(self) -> bool:
        request = self.context.get("request")
        return bool(request and can_manage(request.user))

    def get_reporter_name(self, report) -> str | None:
        """The office only (null for leaders)."""
        return report.reporter_name if self._office() else None

    def get_reporter_phone(self, report) -> str | None:
        """The office only (null for leaders)."""
        return report.reporter_phone if self._office() else None


class DuplicateSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    point_name = serializers.CharField(source="point.name", read_only=True, default=None, allow_null=True)
    distance_m = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "description",
            "status",
            "status_label",
            "unit",
            "unit_name",
            "point_name",
            "found_at",
            "distance_m",
        ]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    duplicates = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "duplicates"]
        read_only_fields = fields

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_duplicates(self, report) -> list[dict]:
        if report.status != ReportStatus.PENDING:
            return []
        return DuplicateSerializer(triage.report_duplicates(report), many=True).data


class AcceptSerializer(StrictSerializer):
    unit = serializers.IntegerField(required=False, allow_null=True, help_text="属地单位；缺省为最近点位的单位")
    point = serializers.IntegerField(required=False, allow_null=True)
    check_item = serializers.IntegerField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, min_value=0)


class MergeSerializer(StrictSerializer):
    problem = serializers.IntegerField(error_messages={"required": "请指定要合并到的问题（problem）。"})
    version = serializers.IntegerField(required=False, min_value=0)


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(
        allow_blank=True, max_length=2000, error_messages={"required": "请填写不予受理的理由。"}
    )
    version = serializers.IntegerField(required=False, min_value=0)


class ReportFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label="状态")
    channel = django_filters.ChoiceFilter(choices=ReportChannel.choices, label="渠道")
    category = django_filters.NumberFilter(field_name="category_id", label="问题类别")
    since = django_filters.DateFilter(method="filter_since", label="提交日期自")

    class Meta:
        model = Report
        fields = ["status", "channel", "category", "since"]

    def filter_since(self, queryset, name, value):
        moment = datetime.datetime.combine(value, datetime.time(0), tzinfo=timezone.get_current_timezone())
        return queryset.filter(submitted_at__gte=moment)


def _get(model, pk, label: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise exceptions.ValidationError({label: [f"编号 {pk} 不存在。"]})
    return found


# --- Reports -----------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class ReportViewSet(CampaignLists, ServiceErrors, viewsets.ReadOnlyModelViewSet):
    """Reports (群众反映): the office and leaders read them, newest first (filters status, channel,
    category, since; `?campaign=`); one report answers its duplicate candidates. The office
    accepts (a new problem 待交办), merges into an open problem or rejects with a reason; a report
    triaged since (or changed since `version`) → 409."""

    serializer_class = ReportSerializer
    filterset_class = ReportFilterSet
    pagination_class = KeyPagePagination
    permission_classes = [ReportReader]
    search_fields = ["reference", "ticket_no", "description", "address"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        return (
            triage.report_list(user=self.request.user, campaign=self.list_campaign())
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.only("id")))
            .order_by("-submitted_at", "-id")
        )

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    def _answer(self, report, code=status.HTTP_200_OK):
        report = self.get_queryset().get(pk=report.pk)
        return Response(ReportSerializer(report, context=self.get_serializer_context()).data, status=code)

    def _run(self, call):
        try:
            return call()
        except triage.ReportConflict as exc:
            raise Conflict(str(exc)) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None

    @extend_schema(request=AcceptSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept: a new problem (12345转办 / 市民随手拍, 待交办) at `unit` or `point`, else at the
        unit of the nearest active point; `check_item` optional; `description` edited or the report's."""
        report = self.get_object()
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        from campaign.models import Unit

        from ..models import Point

        unit = _get(Unit, values.get("unit"), "unit")
        point = _get(Point, values.get("point"), "point")
        item = _get(CheckItem, values.get("check_item"), "check_item")
        description = values.get("description") or None
        self._run(
            lambda: triage.report_accept(
                report=report,
                user=request.user,
                unit=unit,
                point=point,
                check_item=item,
                description=description,
                version=values.get("version"),
            )
        )
        return self._answer(report)

    @extend_schema(request=MergeSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge into an open problem of the same campaign (`problem`): another sighting of it."""
        report = self.get_object()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = _get(Problem, data.validated_data["problem"], "problem")
        self._run(
            lambda: triage.report_merge(
                report=report, problem=problem, user=request.user, version=data.validated_data.get("version")
            )
        )
        return self._answer(report)

    @extend_schema(request=RejectSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject with a `reason` (≤ 300 characters) the reporter is shown."""
        report = self.get_object()
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        self._run(
            lambda: triage.report_reject(
                report=report, user=request.user, reason=values["reason"], version=values.get("version")
            )
        )
        return self._answer(report)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, parameters=IMPORT_PARAMETERS)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsOffice],
    )
    def import_tickets(self, request):
        """Import 12345 tickets from Excel (工单编号, 来电时间, 办理时限, 反映人, 联系电话, 问题类别, 诉求内容,
        地址, 经度, 纬度) into the current campaign: `file`, `dry_run=1` previews. Re-import updates by
        工单编号, never duplicates. Row errors → 400, nothing written."""
        return run_import(request, partial(triage.tickets_import, campaign=campaign_current()))


# --- Public categories -------------------------------------------------------------------------


class PublicCategorySerializer(StrictModelSerializer):
    check_items = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=CheckItem.objects.all(),
        error_messages={"does_not_exist": "测评细则 {pk_value} 不存在。", "incorrect_type": "测评细则应为编号。"},
    )
    point_types = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=PointType.objects.all(),
        error_messages={"does_not_exist": "点位类别 {pk_value} 不存在。", "incorrect_type": "点位类别应为编号。"},
    )

    class Meta:
        model = PublicCategory
        fields = [
            "id",
            "campaign",
            "code",
            "name",
            "description",
            "group",
            "order",
            "active",
            "check_items",
            "point_types",
        ]
        read_only_fields = ["id", "campaign"]
        validators: list = []  # the service checks uniqueness in the campaign (Chinese messages)


@extend_schema_view(list=extend_schema(parameters=[CAMPAIGN_PARAMETER]))
class PublicCategoryViewSet(
    CampaignLists,
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Public categories (公众问题类别) of a campaign, mapped to check items and point types. Everyone
    signed in reads; the office creates (in the current campaign) and edits. Not deleted: set
    active=false."""

    serializer_class = PublicCategorySerializer
    permission_classes = [IsOfficeOrReadOnly]

    def get_queryset(self):
        queryset = PublicCategory.objects.prefetch_related("check_items", "point_types").order_by("order", "id")
        campaign = self.list_campaign()
        return queryset.filter(campaign=campaign) if campaign is not None else queryset

    def perform_create(self, serializer):
        campaign = campaign_current()
        serializer.instance = triage.public_category_save(campaign=campaign, **serializer.validated_data)

    def perform_update(self, serializer):
        current = serializer.instance
        data = {
            "code": current.code,
            "name": current.name,
            "group": current.group,
            "description": current.description,
            "order": current.order,
            "active": current.active,
            **serializer.validated_data,
        }
        serializer.instance = triage.public_category_save(category=current, campaign=current.campaign, **data)


# --- The hotline platform's push ---------------------------------------------------------------


TICKETS_PER_PUSH = 1000  # a push is validated and written in the request: bounded like a page


class TicketSerializer(StrictSerializer):
    ticket_no = serializers.CharField(max_length=50, error_messages={"required": "请填写工单编号（ticket_no）。"})
    called_at = serializers.DateTimeField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    category = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="类别名称或编码")
    description = serializers.CharField(max_length=5000, error_messages={"required": "请填写诉求内容（description）。"})
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)


class TicketsEnvelopeSerializer(StrictSerializer):
    tickets = TicketSerializer(many=True, allow_empty=False)


class TicketAnswerSerializer(serializers.Serializer):
    ticket_no = serializers.CharField()
    reference = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "unchanged"])


class TicketsResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    tickets = TicketAnswerSerializer(many=True)


def _intake_key(request):
    raw = request.headers.get("X-Api-Key", "")
    if not raw:
        return None
    try:
        from ..intake_keys import intake_key_verify
    except ImportError:
        raise exceptions.PermissionDenied("接口密钥无效或已停用。") from None
    key = intake_key_verify(raw)
    if key is None:
        raise exceptions.PermissionDenied("接口密钥无效或已停用。")
    return key


class HotlineTicketsView(APIView):
    """12345 tickets pushed by the hotline platform: a JSON list of tickets (ticket_no, called_at,
    due_at, reporter_name, reporter_phone, category, description, address, latitude, longitude),
    upserted by ticket_no like the sheet import — all or nothing, at most TICKETS_PER_PUSH a call
    (also accepted wrapped as `{"tickets": [...]}`). The office's token (the current
    campaign) or an intake key in `X-Api-Key` (the key's campaign). Answers the counts and each
    ticket's 受理编号."""

    permission_classes = [permissions.AllowAny]  # checked in post: a key or the office

    @extend_schema(
        request=TicketSerializer(many=True),
        responses={200: TicketsResultSerializer},
        parameters=[OpenApiParameter("X-Api-Key", str, location=OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request):
        key = _intake_key(request)
        if key is None:
            if not request.user or not request.user.is_authenticated:
                raise exceptions.NotAuthenticated("请先登录，或在 X-Api-Key 中提供接口密钥。")
            if not can_manage(request.user):
                raise exceptions.PermissionDenied("只有创建办或持接口密钥的热线平台可以推送12345工单。")
            campaign = campaign_current()
        else:
            try:
                intake.hotline_push_check(key_id=key.pk)
            except DjangoValidationError as exc:
                raise exceptions.Throttled(detail=exc.messages[0]) from None
            campaign = key.campaign
        raw = request.data.get("tickets") if isinstance(request.data, Mapping) else request.data
        if isinstance(raw, list) and len(raw) > TICKETS_PER_PUSH:
            raise exceptions.ValidationError(
                {"tickets": [f"一次最多推送 {TICKETS_PER_PUSH} 张工单（本次 {len(raw)} 张），请分批推送。"]}
            )
        if isinstance(request.data, Mapping):  # {"tickets": [...]} as well as the bare list
            envelope = TicketsEnvelopeSerializer(data=request.data)
            envelope.is_valid(raise_exception=True)
            items = envelope.validated_data["tickets"]
        else:
            data = TicketSerializer(data=request.data, many=True, allow_empty=False)
            data.is_valid(raise_exception=True)
            items = data.validated_data
        tickets = [
            triage.TicketInput(
                row=n,
                ticket_no=item["ticket_no"],
                called_at=item.get("called_at"),
                due_at=item.get("due_at"),
                reporter_name=item.get("reporter_name", ""),
                reporter_phone=item.get("reporter_phone", ""),
                category=item.get("category", ""),
                description=item["description"],
                address=item.get("address", ""),
                latitude=item.get("latitude"),
                longitude=item.get("longitude"),
            )
            for n, item in enumerate(items, start=1)
        ]
        result, references = triage.tickets_upsert(campaign=campaign, tickets=tickets, dry_run=False)
        if not result.ok:
            fields: dict[str, list[str]] = {}
            for error in result.errors:
                where = f"第 {error.row} 条" if error.row else "全部"
                fields.setdefault(where, []).append(
                    f"{error.column}：{error.message}" if error.column else error.message
                )
            raise exceptions.ValidationError(fields)
        actions = {row.row: row.action for row in result.rows}
        answer = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "warnings": [f"第 {w.row} 条：{w.message}" for w in result.warnings],
            "tickets": [
                {
                    "ticket_no": t.ticket_no,
                    "reference": references.get(t.ticket_no.strip(), ""),
                    "action": actions[t.row],
                }
                for t in tickets
            ],
        }
        return Response(answer, status=status.HTTP_200_OK)
