"""Pages of the survey results (问卷调查), mounted under /surveys/: the districts' latest rates
against the campaign's target with the 满意率 trend chart, the office's import (preview → confirm)
and the import template."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.exporting import append_row
from campaign.generic import ImportView, xlsx_response
from campaign.models import Campaign, Unit
from campaign.permissions import can_manage
from campaign.selectors import campaign_choices, campaign_current, scope_for

from .surveys import (
    RATE_FIELDS,
    RATE_LABELS,
    SURVEY_COLUMNS,
    plain,
    survey_district_ids,
    survey_import,
    survey_trend,
)


def selected_campaign(request) -> tuple[Campaign | None, list[Campaign]]:
    """The campaign named by ?campaign= (404 if there is none), else the current one — the header
    switcher's choice included; with every campaign for a picker (the request's one read of them)."""
    campaigns = campaign_choices()
    wanted = request.GET.get("campaign", "")
    if not wanted:
        return campaign_current(), campaigns
    chosen = next((c for c in campaigns if str(c.pk) == wanted), None)
    if chosen is None:
        raise Http404("未找到该创建活动。")
    return chosen, campaigns


@login_required
def survey_list_view(request):
    """Every district's latest survey against the target, the 满意率 trend, and the history. A
    liaison sees its own district only; asking for another district is a 404."""
    campaign, campaigns = selected_campaign(request)
    scope = scope_for(request.user)
    districts = survey_district_ids(scope)
    unit = None
    if request.GET.get("unit"):
        try:
            unit = Unit.objects.get(pk=int(request.GET["unit"]), kind=UnitKind.DISTRICT)
        except (ValueError, Unit.DoesNotExist) as exc:
            raise Http404("未找到该区县，或您无权查看。") from exc
        if districts is not None and unit.pk not in districts:
            raise Http404("未找到该区县，或您无权查看。")

    series = survey_trend(campaign=campaign, user=request.user, unit=unit) if campaign else []
    target = campaign.survey_target if campaign else None
    rows = []
    for entry in series:
        latest, previous = entry.latest, entry.previous
        change = None
        if latest.satisfaction is not None and previous is not None and previous.satisfaction is not None:
            change = latest.satisfaction - previous.satisfaction
        rows.append(
            {
                "unit_id": entry.unit_id,
                "name": entry.name,
                "latest": latest,
                "rates": [(RATE_LABELS[key], getattr(latest, key)) for key in RATE_FIELDS],
                "change": change,
                "below": target is not None and latest.satisfaction is not None and latest.satisfaction < target,
                "gap": (latest.satisfaction - target)
                if target is not None and latest.satisfaction is not None
                else None,
                "count": len(entry.points),
            }
        )
    dates = sorted({point.date for entry in series for point in entry.points})
    chart = {
        "dates": [day.isoformat() for day in dates],
        # Short axis labels; the year only when the surveys span more than one.
        "labels": [
            f"{day.year}年{day.month}月{day.day}日" if len({d.year for d in dates}) > 1 else f"{day.month}月{day.day}日"
            for day in dates
        ],
        "target": float(target) if target is not None else None,
        "series": [
            {
                "name": entry.name,
                "data": [
                    [point.date.isoformat(), float(point.satisfaction)]
                    for point in entry.points
                    if point.satisfaction is not None
                ],
            }
            for entry in series
        ],
    }
    history = sorted(
        ((point, entry) for entry in series for point in entry.points), key=lambda pair: pair[0].date, reverse=True
    )
    context = {
        "title": "问卷调查",
        "campaign": campaign,
        "campaigns": campaigns,
        "unit": unit,
        "target": target,
        "target_text": plain(target),
        "rows": rows,
        "rate_labels": [RATE_LABELS[key] for key in RATE_FIELDS],
        "chart": chart,
        "has_chart": any(s["data"] for s in chart["series"]),
        "history": [
            {"entry": entry, "point": point, "rates": [(RATE_LABELS[key], getattr(point, key)) for key in RATE_FIELDS]}
            for point, entry in history
        ],
        "can_import": can_manage(request.user),
        "no_district": districts is not None and not districts,
    }
    return render(request, "accountability/survey_list.html", context)


def survey_template_workbook() -> bytes:
    """The import template: the headers, then one row per active district to fill in (the first
    with example figures; rows left blank are skipped)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "问卷调查结果"
    append_row(sheet, [column.header for column in SURVEY_COLUMNS])
    example = [timezone.localdate().isoformat(), "86.5", "90", "78.2", "88.6", "500"]
    for index, name in enumerate(
        Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).order_by("path").values_list("name", flat=True)
    ):
        # The first district carries an example (replace it); a district left blank is skipped.
        append_row(sheet, [name, *(example if index == 0 else [""] * len(example))])
    for letter, width in zip("ABCDEFG", (18, 14, 10, 10, 10, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@login_required
def survey_template(request):
    if not can_manage(request.user):
        raise PermissionDenied("只有创建办可以导入问卷调查结果。")
    return xlsx_response(survey_template_workbook(), f"问卷调查导入模板-{timezone.localdate():%Y%m%d}.xlsx")


class SurveyImportView(ImportView):
    """Upload → preview → confirm of survey results into the campaign chosen on the page."""

    title = "导入问卷调查结果"
    template_name = "accountability/survey_import.html"
    columns = SURVEY_COLUMNS
    template_filename = "问卷调查导入模板.xlsx"
    success_url_name = "survey-list"
    help_text = (
        "每行一个区县一次调查。区县填名称、简称或编码；调查日期如 2026-10-01；比率填百分数，"
        "86.5、86.5% 或 0.865 都表示 86.5%（不带 % 且不超过 1 的数按小数理解）；空白表示该次调查未测该项，"
        "四项至少填一项；模板中未填写的区县行会跳过。同一区县同一日期再次导入会更新原结果；同一文件重复导入不会产生变化。"
    )

    def selected(self) -> Campaign | None:
        if not hasattr(self, "_campaign"):
            self._campaign, self._campaigns = selected_campaign(self.request)
        return self._campaign

    def context(self, **extra) -> dict:
        campaign = self.selected()
        return super().context(campaign=campaign, campaigns=self._campaigns, **extra)

    def template_file(self):
        return xlsx_response(survey_template_workbook(), self.template_filename)

    def call_importer(self, file, dry_run):
        return survey_import(campaign=self.selected(), user=self.request.user, file=file, dry_run=dry_run)

    def post(self, request, *args, **kwargs):
        if self.selected() is None:
            return render(
                request,
                self.template_name,
                self.context(upload_error="还没有创建活动：请先在“创建活动”中新建，再导入问卷调查结果。"),
                status=400,
            )
        return super().post(request, *args, **kwargs)
