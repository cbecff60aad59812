"""The weekly bulletin (周通报) pages: the list of published weeks, the A4 print page, the PDF and
Excel downloads, their rendering status, the office's 重新生成, and the thumbnails the print page
shows.

A bulletin is a 通报 within the government: every member (any role) reads every published week.
A week that is not published (a draft, superseded, unknown) is 404. The PDF and the workbook are
stored files rendered by a background job (`bulletin_store`): a download serves the file, or,
while it is being made, a page that shows "生成中…" with the job's progress."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaign.selectors import scope_for
from inspections.choices import ProblemStatus
from inspections.models import Photo, Problem
from inspections.selectors import iso_week_bounds, week_label
from inspections.views import photo_response

from .bulletin import NOT_PUBLISHED, TOOLBAR_MARK, bulletin_data, bulletin_html, fmt_rate, may_read_bulletins
from .bulletin_store import (
    BulletinState,
    bulletin_ensure,
    bulletin_file_response,
    bulletin_regenerate,
    bulletin_requeue_lost,
)
from .choices import BulletinKind, BulletinStatus
from .selectors import bulletin_version, bulletin_versions

# How long the print page's sheet is kept: the problem counts it shows are read as of now.
SHEET_CACHE_SECONDS = 300


def _check_reader(request) -> None:
    if not may_read_bulletins(request.user):
        raise PermissionDenied("您还没有任何角色，请联系创建办开通后再查看周通报。")


def _not_published(request, week: str) -> HttpResponse:
    try:
        label = week_label(week)
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


def _files_context(request, version, state: BulletinState) -> dict:
    args = [version.campaign_id, version.week]
    return {
        "state": state,
        "status_url": reverse("bulletin-status", args=args),
        "pdf_url": reverse("bulletin-pdf", args=args),
        "xlsx_url": reverse("bulletin-xlsx", args=args),
        "regenerate_url": reverse("bulletin-regenerate", args=args),
        "may_regenerate": scope_for(request.user).is_office and state.may_regenerate,
        "pending": state.status in (BulletinStatus.QUEUED, BulletinStatus.RENDERING),
        "pdf_ready": state.ready(BulletinKind.PDF),
        "xlsx_ready": state.ready(BulletinKind.XLSX),
        "csrf_token_value": get_token(request),
    }


def _sheet_cache_key(version) -> str:
    published = version.published_at.timestamp() if version.published_at else 0
    return f"bulletin-sheet:{version.pk}:{published}"


@_bulletin_view
def bulletin_page(request, version):
    """The A4 print page. The sheet is the same for every reader of a published version: rendered
    with bounded reads, then kept in the cache for `SHEET_CACHE_SECONDS` (a city's sheet costs
    about half a second of SQL and templates); the toolbar — the reader's links to the stored
    files, or their rendering progress — is rendered on each request."""

    def photo_url(photo_id: int) -> str:
        return reverse("bulletin-photo", args=[version.campaign_id, version.week, photo_id])

    key = _sheet_cache_key(version)
    sheet = cache.get(key)
    if sheet is None:
        sheet = bulletin_html(data=bulletin_data(version=version), photo_url=photo_url)
        cache.set(key, sheet, SHEET_CACHE_SECONDS)
    toolbar = render_to_string(
        "accountability/_bulletin_toolbar.html", _files_context(request, version, bulletin_ensure(version=version))
    )
    return HttpResponse(sheet.replace(TOOLBAR_MARK, toolbar, 1))


def _file_download(request, version, kind: str):
    """The stored file; while it is being made (or when its render failed) a page that says so."""
    state = bulletin_ensure(version=version)
    row = state.file(kind)
    if row is not None and row.status == BulletinStatus.DONE:
        try:
            return bulletin_file_response(row)
        except OSError:  # the stored file is gone (storage wiped or moved): made again
            state = bulletin_requeue_lost(version=version)
            row = state.file(kind)
    failed = row is not None and row.status == BulletinStatus.FAILED
    context = {
        "title": f"周通报 · {week_label(version.week)}",
        "version": version,
        "week_label": week_label(version.week),
        "kind_label": BulletinKind(kind).label,
        "failed": failed,
        "file_error": row.error if failed else "",
        **_files_context(request, version, state),
    }
    return render(request, "accountability/bulletin_file.html", context, status=503 if failed else 202)


@_bulletin_view
def bulletin_pdf_download(request, version):
    return _file_download(request, version, BulletinKind.PDF)


@_bulletin_view
def bulletin_xlsx_download(request, version):
    return _file_download(request, version, BulletinKind.XLSX)


@_bulletin_view
def bulletin_status(request, version):
    """The files' state as JSON, polled by the page's progress bar."""
    state = bulletin_ensure(version=version)
    args = [version.campaign_id, version.week]
    files = {
        kind: {
            "status": row.status,
            "progress": row.progress,
            "size": row.size,
            "error": row.error,
            "url": reverse(f"bulletin-{kind}", args=args) if row.status == BulletinStatus.DONE else "",
        }
        for kind, row in state.files.items()
    }
    return JsonResponse(
        {"status": state.status, "progress": state.progress, "detail": state.detail, "files": files},
        json_dumps_params={"ensure_ascii": False},
    )


@require_POST
@_bulletin_view
def bulletin_regenerate_view(request, version):
    """The office renders a week's files again; anyone else is refused and nothing changes."""
    try:
        bulletin_regenerate(version=version, user=request.user)
    except ValidationError as exc:
        return HttpResponse("；".join(exc.messages), status=409, content_type="text/plain; charset=utf-8")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("bulletin-page", args=[version.campaign_id, version.week])
    return redirect(target)


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
