"""The rectification loop's API: move a problem (one endpoint, the state machine decides), read
its history and next actions, the user's notifications, and the holiday calendar.

A problem is looked up through inspections' problem_list, so one outside the user's scope is 404."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.exceptions import Conflict
from campaign.api.filters import UnknownQueryParams
from campaign.api.serializers import ImportUploadSerializer
from campaign.api.views import run_import
from campaign.permissions import IsOffice
from indicators.api.serializers import ImportResultSerializer
from inspections.models import Observation, Photo, Problem
from inspections.selectors import problem_list

from ..calendar import calendar_import
from ..choices import Action, NotificationKind
from ..models import CalendarDay, Notification, ProblemEvent
from ..notify import notification_list, unread_count
from ..services import notification_mark_read
from ..workflow import TransitionConflict, TransitionInput, allowed_actions, can_comment, problem_transition
from .serializers import (
    CalendarDaySerializer,
    NotificationReadResultSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    ProblemEventSerializer,
    ProblemWithActionsSerializer,
    TransitionRequestSerializer,
)


def _problem(request, pk: int) -> Problem:
    """The problem if the user may see it, else 404."""
    return get_object_or_404(problem_list(user=request.user), pk=pk)


class ProblemTransitionView(APIView):
    """Apply one workflow action to a problem and return it. `version` (optional) is the version the
    user saw: if the problem changed since, 409 and nothing changes. Refused actions → 400 (Chinese),
    a user with no role on the problem → 403, out of scope → 404."""

    @extend_schema(request=TransitionRequestSerializer, responses=ProblemWithActionsSerializer)
    def post(self, request, pk: int):
        problem = _problem(request, pk)
        data = TransitionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        co_handlers = values.get("co_handlers")
        try:
            problem = problem_transition(
                user=request.user,
                problem=problem,
                data=TransitionInput(
                    action=values["action"],
                    note=values.get("note") or "",
                    photos=tuple(values.get("photos") or ()),
                    handler=values.get("handler"),
                    co_handlers=tuple(co_handlers) if co_handlers is not None else None,
                    deadline=values.get("deadline"),
                    expected_version=values.get("version"),
                ),
            )
        except TransitionConflict as exc:
            raise Conflict(str(exc) or TransitionConflict.message) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        # The answer's sightings with their inspection and inspector: one query, not two per sighting.
        sightings = Observation.objects.select_related("inspection__inspector").order_by(
            "inspection__submitted_at", "id"
        )
        prefetch_related_objects([problem], Prefetch("sightings", queryset=sightings))
        context = {"request": request, "allowed_actions": allowed_actions(request.user, problem)}
        return Response(ProblemWithActionsSerializer(problem, context=context).data)


class ProblemActionsView(APIView):
    """The actions the user may take on the problem now (action codes and their labels), and
    whether the user may comment (`action: "comment"` on the transitions endpoint: a note on the
    history that changes nothing else; any reader with a working role, a charged department too)."""

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        problem = _problem(request, pk)
        actions = allowed_actions(request.user, problem)
        return Response(
            {
                "version": problem.version,
                "allowed_actions": actions,
                "labels": {action: Action(action).label for action in actions},
                "can_comment": can_comment(request.user),
            }
        )


class ProblemEventListView(generics.ListAPIView):
    """A problem's history, oldest first: every transition with its actor, note and photos."""

    serializer_class = ProblemEventSerializer
    filter_backends = [UnknownQueryParams]  # no filters: only the page parameters are known

    def get_queryset(self):
        problem = _problem(self.request, self.kwargs["pk"])
        return (
            ProblemEvent.objects.filter(problem=problem)
            .select_related("actor")
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.only("id")))
            .order_by("at", "id")
        )


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="filter_unread", label="未读")
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices, label="类型")

    class Meta:
        model = Notification
        fields = ["unread", "kind", "problem"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value)


class NotificationListView(generics.ListAPIView):
    """The user's own notifications of the campaign (`?campaign=<id>`, default the current one) and
    of none, newest first; `unread=true` for the unread ones, `kind` for one kind. The answer also
    carries `unread_count`: the user's unread notifications of that scope (the menu's badge)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    search_fields: list = []
    ordering_fields = ["created_at"]
    extra_query_params = ("campaign",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema: no user
            return Notification.objects.none()
        return notification_list(user=self.request.user).order_by("-created_at", "-id")

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread_count"] = unread_count(user=self.request.user)
        return response


class NotificationReadView(APIView):
    """Mark the user's notifications read: those in `ids`, or when `ids` is absent all those the
    list shows (the current campaign's and those of none)."""

    @extend_schema(request=NotificationReadSerializer, responses=NotificationReadResultSerializer)
    def post(self, request):
        data = NotificationReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        return Response({"marked": notification_mark_read(user=request.user, ids=ids)})


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CalendarDayFilterSet(django_filters.FilterSet):
    # A whole year a date can have: `year=0.01` once reached the date lookup as year 0 (a 500).
    year = YearFilter(
        field_name="date",
        lookup_expr="year",
        label="年份",
        min_value=1,
        max_value=9999,
        error_messages={
            "invalid": "年份（year）应为整数。",
            "min_value": "年份（year）应在 1 到 9999 之间。",
            "max_value": "年份（year）应在 1 到 9999 之间。",
        },
    )

    class Meta:
        model = CalendarDay
        fields = ["year", "kind"]


class HolidayListView(generics.ListAPIView):
    """Holidays (休) and 调休 working days (班); every other day follows its weekday."""

    queryset = CalendarDay.objects.order_by("date")
    serializer_class = CalendarDaySerializer
    filterset_class = CalendarDayFilterSet
    search_fields = ["name"]


class HolidayImportView(APIView):
    """Import the calendar from Excel/CSV (日期, 类型, 名称): `file`, `dry_run=1` for the preview.
    Row errors → 400, nothing written. Office only."""

    permission_classes = [IsOffice]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
        # A 400 is the shared error shape plus the import's counts and row errors (see the schema hook).
        responses={200: ImportResultSerializer},
    )
    def post(self, request):
        return run_import(request, calendar_import)
