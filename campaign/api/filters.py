"""Strict query strings for the API (issue 12): a filter the list does not know is a 400, never
silently ignored (`?point_type=24` once answered every point), and a number too large for any
database integer is a 400 (it once reached SQLite as an OverflowError, a 500).

`UnknownQueryParams` runs first among the default filter backends (settings.REST_FRAMEWORK), so
every GenericAPIView list and every lookup through `get_object` is checked. A parameter is known
when a backend of the view reads it — the filterset's filters, `search`, `ordering` — or the
paginator (`page`, `page_size`), or DRF's `format`, or the view declares it in
`extra_query_params` because it reads it itself (`campaign`, `near`, `dry_run` …). Views that are
not GenericAPIViews call `check_query_params` with their own list."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.settings import api_settings

BIGINT = 2**63 - 1  # the largest value a database integer column (bigint) holds


def unknown_param_message(name: str, known: Iterable[str]) -> str:
    listed = "、".join(sorted(known)) or "无"
    return f"未知的查询参数“{name[:50]}”。可用的参数：{listed}。"


def check_query_params(request, known: Iterable[str]) -> None:
    """Refuse (400, the shared error shape) any query parameter not in `known` (plus `format`)."""
    known = set(known) | {api_settings.URL_FORMAT_OVERRIDE}
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        shown = known - {api_settings.URL_FORMAT_OVERRIDE}
        raise exceptions.ValidationError({name[:50]: [unknown_param_message(name, shown)] for name in unknown})


def known_query_params(queryset, view) -> set[str]:
    """What the view's backends and paginator read, plus the view's own `extra_query_params`."""
    known = set(getattr(view, "extra_query_params", ()))
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_query_param", "page_size_query_param", "limit_query_param", "offset_query_param"):
        name = getattr(paginator, attribute, None)
        if name:
            known.add(name)
    for backend in getattr(view, "filter_backends", ()):
        if isinstance(backend, type) and issubclass(backend, DjangoFilterBackend):
            filterset_class = backend().get_filterset_class(view, queryset)
            if filterset_class is not None:
                known.update(filterset_class.base_filters)
        elif isinstance(backend, type) and issubclass(backend, SearchFilter):
            known.add(backend.search_param)
        elif isinstance(backend, type) and issubclass(backend, OrderingFilter):
            known.add(backend.ordering_param)
    return known


def campaign_query_param(request):
    """`campaign.selectors.campaign_from_param` of the request's `?campaign=`, its refusal as the
    API's 400 naming the parameter."""
    from django.core.exceptions import ValidationError

    from campaign.selectors import campaign_from_param

    try:
        return campaign_from_param(request.query_params.get("campaign"))
    except ValidationError as exc:
        raise exceptions.ValidationError({"campaign": exc.messages}) from None


class UnknownQueryParams:
    """The filter backend that refuses unknown query parameters (first in DEFAULT_FILTER_BACKENDS)."""

    def filter_queryset(self, request, queryset, view):
        check_query_params(request, known_query_params(queryset, view))
        return queryset

    def get_schema_operation_parameters(self, view):
        return []


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend with every number filter bounded to a bigint: an id like 1e288 is a
    400 naming the filter, not a database overflow."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():  # the form's own copies of the fields
                if isinstance(field, forms.DecimalField):
                    field.validators.extend([MinValueValidator(-BIGINT), MaxValueValidator(BIGINT)])
        return filterset
