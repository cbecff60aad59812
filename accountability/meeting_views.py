"""调度会材料 pages: the list of published weeks with their packs, the A4 print page (read live),
the stored PDF, its rendering status, and the office's 生成 / 添加单位 / 移出. Office and leaders
read; the office changes. An unpublished week (draft, superseded, unknown) is refused with the
list of the weeks that are published."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaign.choices import UnitKind
from campaign.models import Unit
from campaign.selectors import scope_for
from inspections.selectors import week_label

from .commitments import can_create_commitment
from .meeting import (
    NOT_PUBLISHED,
    check_reader,
    meeting_pack_add_unit,
    meeting_pack_data,
    meeting_pack_file,
    meeting_pack_generate,
    meeting_pack_html,
    meeting_pack_remove_unit,
    meeting_weeks,
    pack_of,
    pack_status,
    pack_version,
)

STATUS_TEXT = {
    "none": "尚未生成 PDF",
    "queued": "PDF 排队生成中…",
    "running": "PDF 生成中…",
    "done": "PDF 已生成",
    "failed": "PDF 生成失败",
}
# The 添加单位 list: the units a 调度会 hears (communities answer through their street).
ADDABLE_KINDS = (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.DEPARTMENT, UnitKind.OTHER)


def _list(request, missing: str = "", status: int = 200) -> HttpResponse:
    page = Paginator(meeting_weeks(), 50).get_page(request.GET.get("page"))
    rows = []
    for version in page.object_list:
        pack = getattr(version, "meeting_pack", None)
        state = pack_status(pack)
        rows.append(
            {
                "version": version,
                "label": week_label(version.week),
                "pack": pack,
                "state": state,
                "state_text": STATUS_TEXT.get(state["status"], state["status"]),
            }
        )
    context = {
        "title": "调度会材料",
        "rows": rows,
        "page_obj": page,
        "missing": missing,
        "office": scope_for(request.user).is_office,
    }
    return render(request, "accountability/meeting_list.html", context, status=status)


def _pack_view(function):
    """Office and leaders only; an unpublished week is refused (404) with the published ones."""

    @login_required
    def view(request, campaign_id, week: str, *args, **kwargs):
        check_reader(request.user)
        version = pack_version(campaign_id=int(campaign_id), week=week)
        if version is None:
            try:
                label = week_label(week)
            except ValueError:  # 2026-W60: shaped like a week, but none
                label = week
            return _list(request, f"{label}：{NOT_PUBLISHED}", status=404)
        return function(request, version, *args, **kwargs)

    view.__name__ = function.__name__
    view.__doc__ = function.__doc__
    return view


@login_required
def meeting_list(request):
    check_reader(request.user)
    return _list(request)


def _page_url(version) -> str:
    return reverse("meeting-page", args=[version.campaign_id, version.week])


def _reader(request, version, pack, data) -> dict:
    """What the page's toolbar and unit actions need (per reader, never in the PDF)."""
    office = scope_for(request.user).is_office
    state = pack_status(pack)
    args = [version.campaign_id, version.week]
    shown = {section.unit["pk"] for section in data["units"]}
    addable = []
    if office:
        addable = list(
            Unit.objects.filter(active=True, kind__in=ADDABLE_KINDS)
            .exclude(pk__in=shown)
            .order_by("kind", "path")
            .values("pk", "name", "kind")
        )
        for unit in addable:
            unit["kind_label"] = UnitKind(unit["kind"]).label
    return {
        "may_edit": office,
        "may_commit": can_create_commitment(request.user),
        "state": state,
        "state_text": STATUS_TEXT.get(state["status"], state["status"]),
        "pending": state["status"] in ("queued", "running"),
        "status_url": reverse("meeting-status", args=args),
        "pdf_url": reverse("meeting-pdf", args=args),
        "generate_url": reverse("meeting-generate", args=args),
        "add_url": reverse("meeting-add-unit", args=args),
        "remove_url": reverse("meeting-remove-unit", args=args),
        "addable": addable,
        "page_messages": [(message.tags, str(message)) for message in get_messages(request)],
        "csrf_token_value": get_token(request),
    }


@_pack_view
def meeting_page(request, version):
    """The A4 pack as it reads now (a fixed number of queries), with the reader's toolbar."""
    pack = pack_of(version)
    data = meeting_pack_data(version=version, pack=pack)
    return HttpResponse(meeting_pack_html(data=data, reader=_reader(request, version, pack, data)))


@_pack_view
def meeting_status(request, version):
    """The PDF's state as JSON, polled by the page's progress bar."""
    state = pack_status(pack_of(version))
    return JsonResponse(
        {
            "status": state["status"],
            "progress": state["progress"],
            "error": state["error"],
            "detail": STATUS_TEXT.get(state["status"], state["status"]),
            "url": reverse("meeting-pdf", args=[version.campaign_id, version.week]) if state["ready"] else "",
        },
        json_dumps_params={"ensure_ascii": False},
    )


@_pack_view
def meeting_pdf(request, version):
    """The stored PDF; while it is being made, failed, or never asked for, a page that says so."""
    pack = pack_of(version)
    state = pack_status(pack)
    if state["ready"]:
        try:
            return meeting_pack_file(pack)
        except OSError:  # the stored file is gone (storage wiped or moved)
            state = {**state, "status": "none", "ready": False}
    status = {"queued": 202, "running": 202, "failed": 503}.get(state["status"], 404)
    context = {
        "title": f"调度会材料 · {week_label(version.week)}",
        "version": version,
        "week_label": week_label(version.week),
        "state": state,
        "state_text": STATUS_TEXT.get(state["status"], state["status"]),
        "page_url": _page_url(version),
        "office": scope_for(request.user).is_office,
    }
    return render(request, "accountability/meeting_file.html", context, status=status)


def _office_post(action):
    """An office write: its refusal (ValidationError) is a message on the page; nothing changed."""

    @require_POST
    @_pack_view
    def view(request, version):
        try:
            message = action(request, version)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, message)
        return redirect(_page_url(version))

    view.__name__ = action.__name__
    view.__doc__ = action.__doc__
    return view


@_office_post
def meeting_generate(request, version):
    """生成 PDF (or again)."""
    meeting_pack_generate(version=version, user=request.user)
    return "已开始生成调度会材料 PDF，完成后可下载。"


@_office_post
def meeting_add_unit(request, version):
    """添加单位: a unit the rules did not call; the PDF is made again."""
    unit = meeting_pack_add_unit(version=version, user=request.user, unit=request.POST.get("unit", ""))
    return f"已将{unit.name}列入本次调度会，PDF 正在重新生成。"


@_office_post
def meeting_remove_unit(request, version):
    """移出 a unit the office added; the PDF is made again."""
    unit = meeting_pack_remove_unit(version=version, user=request.user, unit=request.POST.get("unit", ""))
    return f"已将{unit.name}移出本次调度会，PDF 正在重新生成。"
