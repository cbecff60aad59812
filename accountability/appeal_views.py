"""申诉 pages: the appeals list (filters: week, status, unit) with the decide form for deciders,
the filing form on an observation, and the decide action. The services decide everything."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaign.models import Unit
from campaign.selectors import campaign_current
from campaign.weeks import week_label
from inspections.selectors import observation_list
from inspections.services import photo_upload

from .appeals import (
    AppealConflict,
    appeal_decide,
    appeal_file,
    appeal_list,
    appeal_window,
    appellant_units,
    can_file_appeal,
    mark_decidable,
    observation_week,
)
from .models import AppealStatus

MAX_PHOTOS = 6


@login_required
def appeal_list_page(request):
    campaign = campaign_current()
    appeals = appeal_list(user=request.user, campaign=campaign).order_by("-filed_at", "-id")
    week = request.GET.get("week", "").strip()
    status = request.GET.get("status", "")
    unit_id = request.GET.get("unit", "")
    if week:
        appeals = appeals.filter(week=week)
    if status in AppealStatus.values:
        appeals = appeals.filter(status=status)
    unit = None
    if unit_id.isdigit():
        unit = Unit.objects.filter(pk=unit_id).first()
        appeals = appeals.filter(unit_id=unit_id)
    page = Paginator(appeals, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    mark_decidable(user=request.user, appeals=rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accountability/appeal_list.html",
        {
            "title": "申诉" + (f" · {week_label(week)}" if week else ""),
            "campaign": campaign,
            "page_obj": page,
            "appeals": rows,
            "week": week,
            "status": status,
            "unit": unit,
            "statuses": AppealStatus.choices,
            "querystring": query.urlencode(),
        },
    )


@login_required
def appeal_create(request, observation: int):
    """The 申诉 form on an observation the user may read (404 otherwise)."""
    found = get_object_or_404(
        observation_list(user=request.user, current_only=False).select_related("campaign", "point"), pk=observation
    )
    week = observation_week(found)
    error = ""
    if request.method == "POST":
        files = request.FILES.getlist("photos")[:MAX_PHOTOS]
        try:
            with transaction.atomic():
                photos = [photo_upload(user=request.user, file=file) for file in files]
                appeal = appeal_file(
                    user=request.user, observation=found, reason=request.POST.get("reason", ""), photos=photos
                )
        except (ValidationError, PermissionDenied) as exc:
            error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            messages.success(request, f"申诉已提交（{week_label(week)}），等待创建办裁定。")
            return HttpResponseRedirect(f"{reverse('appeal-list')}?week={appeal.week}")
    window = appeal_window(campaign=found.campaign, week=week)
    return render(
        request,
        "accountability/appeal_form.html",
        {
            "title": "申诉",
            "observation": found,
            "week": week,
            "window": window,
            "may_file": can_file_appeal(user=request.user, observation=found),
            "units": appellant_units(user=request.user, observation=found),
            "existing": appeal_list(user=request.user).filter(observation=found).first(),
            "error": error,
            "reason": request.POST.get("reason", ""),
        },
    )


@login_required
@require_POST
def appeal_decide_page(request, pk: int):
    appeal = appeal_list(user=request.user).filter(pk=pk).first()
    if appeal is None:
        raise Http404("未找到该申诉，或您无权查看。")
    version = request.POST.get("version", "")
    try:
        appeal = appeal_decide(
            user=request.user,
            appeal=appeal,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            expected_version=int(version) if version.isdigit() else None,
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except AppealConflict as exc:
        messages.error(request, str(exc))
    else:
        if appeal.status == AppealStatus.GRANTED:
            messages.success(request, "已撤销该观测的扣分，该周评比将重新计算。")
        else:
            messages.success(request, "已维持原扣分。")
    return HttpResponseRedirect(f"{reverse('appeal-list')}?week={appeal.week}")


@login_required
def appeal_photo(request, pk: int, photo: int):
    """An appeal's evidence photo (its thumbnail with `?thumb=1`), for whoever may read the appeal."""
    from inspections.views import photo_response

    appeal = appeal_list(user=request.user).filter(pk=pk).first()
    found = appeal.photos.filter(pk=photo).first() if appeal else None
    if found is None:
        raise Http404("照片不存在，或您无权查看。")
    return photo_response(found, thumbnail=request.GET.get("thumb") == "1")
