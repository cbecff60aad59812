"""The weekly bulletin (周通报) pages: the list of published weeks, the A4 print page, its PDF and
Excel downloads, and the thumbnails the print page shows.

A bulletin is a 通报 within the government: every member (any role) reads every published week.
A week that is not published (a draft, superseded, unknown) is 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from inspections.choices import ProblemStatus
from inspections.models import Photo, Problem
from inspections.selectors import iso_week_bounds, week_label
from inspections.views import photo_response

from .bulletin import (
    NOT_PUBLISHED,
    XLSX,
    PdfUnavailable,
    bulletin_data,
    bulletin_html,
    bulletin_pdf,
    bulletin_xlsx,
    download_response,
    fmt_rate,
    may_read_bulletins,
)
from .selectors import bulletin_version, bulletin_versions


def _check_reader(request) -> None:
    if not may_read_bulletins(request.user):
        raise PermissionDenied("您还没有任何角色，请联系创建办开通后再查看周通报。")


def _not_published(request, week: str) -> HttpResponse:
    try:
        label = f"{week} {week_label(week)}"
    except ValueError:
        label = week
    return render(request, "accountability/bulletin_list.html", _list_context(f"{label}：{NOT_PUBLISHED}"), status=404)


def _list_context(missing: str = "") -> dict:
    versions = list(bulletin_versions())
    for version in versions:
        version.label = week_label(version.week)
        version.score_rate_display = fmt_rate(version.city_score_rate)
    return {"title": "周通报", "versions": versions, "missing": missing}


def _bulletin_view(function):
    """Members only; an unpublished week answers 404 with the list of those that are."""

    @login_required
    def view(request, campaign_id, week: str, *args, **kwargs):
        _check_reader(request)
        version = bulletin_version(campaign_id=int(campaign_id), week=week)
        if version is None:
            return _not_published(request, week)
        return function(request, version, *args, **kwargs)

    view.__name__ = function.__name__
    view.__doc__ = function.__doc__
    return view


@login_required
def bulletin_list(request):
    _check_reader(request)
    return render(request, "accountability/bulletin_list.html", _list_context())


@_bulletin_view
def bulletin_page(request, version):
    """The A4 print page."""

    def photo_url(photo):
        return reverse("bulletin-photo", args=[version.campaign_id, version.week, photo.pk])

    data = bulletin_data(version=version)
    return HttpResponse(bulletin_html(data=data, photo_url=photo_url))


@_bulletin_view
def bulletin_pdf_download(request, version):
    try:
        pdf = bulletin_pdf(version=version, request=request)
    except PdfUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    return download_response(pdf, version=version, extension="pdf", content_type="application/pdf")


@_bulletin_view
def bulletin_xlsx_download(request, version):
    return download_response(bulletin_xlsx(version=version), version=version, extension="xlsx", content_type=XLSX)


@_bulletin_view
def bulletin_photo(request, version, photo_id: int):
    """A thumbnail of a problem found in a published week: part of the bulletin, so every reader
    of the bulletin sees it (unlike the field photos' own views, which follow the problem's scope)."""
    start, end = iso_week_bounds(version.week)
    cited = (
        Problem.objects.filter(campaign_id=version.campaign_id, found_at__gte=start, found_at__lt=end, photos=photo_id)
        .exclude(status=ProblemStatus.VOID)
        .exists()
    )
    photo = Photo.objects.filter(pk=photo_id).first() if cited else None
    if photo is None:
        raise Http404("未找到该照片。")
    return photo_response(photo, thumbnail=True)
