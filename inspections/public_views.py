"""市民随手拍: the public pages (no login) — the report form, its receipt, the status page and the
status look-up. What a citizen may see of a report is `intake.report_public_status`; the reporter's
name and phone, photos and the office's triage never appear here."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from campaign.lockout import client_ip
from campaign.selectors import campaign_current

from . import intake
from .choices import ReportChannel
from .models import Point, PublicCategory
from .services import photo_upload

PHOTO_FIELD = "photos"


def megabytes(size: int) -> str:
    """A size for a citizen, in Chinese (兆 as phones say it; the pages show no English)."""
    return f"{size / 1024 / 1024:.3g} 兆"


class PublicReportForm(forms.Form):
    """The fields as typed; every rule is report_submit's (its messages land on these fields)."""

    category = forms.ModelChoiceField(
        queryset=PublicCategory.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "请选择问题类别。"},
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(required=False)
    reporter_phone = forms.CharField(required=False)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = PublicCategory.objects.filter(pk__in=[c.pk for c in categories])


def _categories(campaign) -> list[PublicCategory]:
    if campaign is None or not campaign.active:
        return []
    return list(PublicCategory.objects.filter(campaign=campaign, active=True).order_by("order", "id"))


def _groups(categories) -> list[tuple[str, list[PublicCategory]]]:
    """Categories under their group, groups in the order of their first category."""
    groups: dict[str, list[PublicCategory]] = {}
    for category in categories:
        groups.setdefault(category.group or "其他", []).append(category)
    return list(groups.items())


def _map_data(campaign) -> dict:
    """Where the map opens: the middle of the campaign's points (one aggregate query, no point
    shown), and the intranet tile server when there is one."""
    centre = Point.objects.filter(active=True, latitude__isnull=False, longitude__isnull=False).aggregate(
        lat=Avg("latitude"), lng=Avg("longitude")
    )
    has_centre = centre["lat"] is not None
    return {
        "centre": [float(centre["lat"]), float(centre["lng"])] if has_centre else [35.0, 105.0],
        "zoom": 13 if has_centre else 4,
        "tileUrl": getattr(settings, "MAP_TILE_URL", "") or "",
        "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or "",
    }


def _limited(request, message: str):
    return render(request, "inspections/public/limited.html", {"title": "操作过于频繁", "message": message}, status=429)


def _form_page(request, campaign, categories, form, *, status: int = 200, errors=()):
    context = {
        "title": "市民随手拍",
        "campaign": campaign,
        "form": form,
        "groups": _groups(categories),
        "selected": str(form["category"].value() or ""),
        "map_data": _map_data(campaign) if categories else None,
        "max_photos": intake.report_max_photos(),
        "photo_max": megabytes(settings.PHOTO_MAX_BYTES),
        "text_max": intake.report_text_max(),
        "page_errors": list(errors),
    }
    return render(request, "inspections/public/report_form.html", context, status=status)


def _apply_errors(form, error: ValidationError) -> list[str]:
    """The service's field errors onto the form; those of no field on the form are returned."""
    loose = []
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        if field == PHOTO_FIELD or target is None:
            loose.extend(messages)
            continue
        for message in messages:
            form.add_error(target, message)
    return loose


@require_http_methods(["GET", "POST"])
def public_report(request):
    """The 随手拍 form. A POST stores the photos (checked by content) and the report in one
    transaction and counts against the address's and the phone's hourly limits; then the receipt."""
    campaign = campaign_current()
    categories = _categories(campaign)
    if not categories:
        return render(request, "inspections/public/closed.html", {"title": "市民随手拍", "campaign": campaign})
    if request.method == "GET":
        return _form_page(request, campaign, categories, PublicReportForm(categories=categories))

    # The body is refused before it is read when it is larger than the photos allowed could be.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # unreadable: Django reads no body for it
    limit = settings.REPORT_MAX_REQUEST_BYTES
    if length > limit:
        form = PublicReportForm(categories=categories)
        message = f"提交的内容过大（{megabytes(length)}），照片合计不能超过 {megabytes(limit)}，请减少照片后重试。"
        return _form_page(request, campaign, categories, form, status=413, errors=[message])

    ip = client_ip(request)
    if intake.refusals_exceeded(ip=ip):
        return _limited(request, intake.RATE_MESSAGE)
    form = PublicReportForm(request.POST, categories=categories)
    files = request.FILES.getlist(PHOTO_FIELD)
    reselect = ["提交未成功时照片不会保留，请重新选择照片。"] if files else []
    if not form.is_valid():
        intake.refusal_counted(ip=ip)
        return _form_page(request, campaign, categories, form, errors=reselect)
    if intake.rate_limited(ip=ip, phone=form.cleaned_data["reporter_phone"]):
        return _limited(request, intake.RATE_MESSAGE)
    if len(files) > intake.report_max_photos():
        intake.refusal_counted(ip=ip)
        return _form_page(
            request, campaign, categories, form, errors=[f"最多上传 {intake.report_max_photos()} 张照片。"]
        )
    stored = []
    try:
        with transaction.atomic():
            for number, upload in enumerate(files, start=1):
                try:
                    stored.append(photo_upload(user=None, file=upload))
                except ValidationError as error:
                    prefix = f"第 {number} 张照片：" if len(files) > 1 else "照片："
                    # photo_upload says sizes in MB (the office's pages); a citizen reads 兆.
                    said = [prefix + m.replace(" MB", " 兆") for m in error.messages]
                    raise ValidationError({PHOTO_FIELD: said}) from None
            data = form.cleaned_data
            report = intake.report_submit(
                campaign=campaign,
                channel=ReportChannel.CITIZEN,
                category=data["category"],
                description=data["description"],
                latitude=data["latitude"] or None,
                longitude=data["longitude"] or None,
                address=data["address"],
                reporter_phone=data["reporter_phone"],
                photos=stored,
            )
            # Counted only for a report that would be stored; over the limit, nothing is.
            intake.rate_limit_check(ip=ip, phone=report.reporter_phone)
    except ValidationError as error:
        for photo in stored:  # the rows are rolled back; their files go too
            photo.file.delete(save=False)
            photo.thumbnail.delete(save=False)
        if getattr(error, "code", None) == "rate_limited":
            return _limited(request, intake.RATE_MESSAGE)
        intake.refusal_counted(ip=ip)
        loose = _apply_errors(form, error)
        # A browser never keeps chosen files across a page.
        return _form_page(request, campaign, categories, form, errors=loose + reselect)
    return redirect("public-report-done", reference=report.reference)


def _report_or_404(request, reference):
    """The report of a public number; None with the answer to give (429 or 404) otherwise."""
    ip = client_ip(request)
    try:
        intake.lookup_check(ip=ip)
    except ValidationError:
        return None, _limited(request, "查询过于频繁，请稍后再试。")
    report = intake.report_by_reference(reference)
    if report is None:
        intake.lookup_missed(ip=ip)
        context = {"title": "未找到该受理编号", "reference": str(reference or "")[:40]}
        return None, render(request, "inspections/public/not_found.html", context, status=404)
    return report, None


def _status_context(report) -> dict:
    status = intake.report_public_status(report)
    return {
        "reference": report.reference,
        "category": report.category.name if report.category_id else (report.category_text or "其他"),
        "submitted_at": report.submitted_at,
        "status": status,
        "steps": intake.report_public_steps(report),
        "status_url": reverse("public-report-status", kwargs={"reference": report.reference}),
    }


@require_GET
def public_report_done(request, reference):
    """The receipt: the reference number, to copy, and the way to the status page."""
    report, answer = _report_or_404(request, reference)
    if report is None:
        return answer
    return render(request, "inspections/public/report_done.html", {"title": "提交成功", **_status_context(report)})


@require_GET
def public_report_status(request, reference):
    """What the citizen may see of a report: its number, category, date, status, the steps."""
    report, answer = _report_or_404(request, reference)
    if report is None:
        return answer
    return render(request, "inspections/public/report_status.html", {"title": "办理进度", **_status_context(report)})


@require_GET
def public_report_lookup(request):
    """查询办理进度 by number: the form, or straight to the status page."""
    reference = request.GET.get("ref", "").strip()
    if not reference:
        return render(request, "inspections/public/lookup.html", {"title": "查询办理进度"})
    report, answer = _report_or_404(request, reference)
    if report is None:
        return answer
    return redirect("public-report-status", reference=report.reference)
