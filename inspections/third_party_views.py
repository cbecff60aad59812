"""The page of the 第三方测评结果导入: pick a third-party round of the current campaign, the default
date and the options (in the query string, so the preview, the confirm and a job run read the
same), then upload → preview → confirm like every import."""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, Subquery
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.exporting import workbook_bytes
from campaign.generic import ImportView, xlsx_response
from campaign.models import Unit
from campaign.selectors import campaign_current
from indicators.selectors import system_current

from . import third_party
from .choices import RoundKind
from .importing import _indicator_index
from .models import CheckItem, InspectionRound, Point, PointType

TRUE_FLAGS = {"1", "on", "true", "yes"}

# Shown when the city has no data to build example rows from (they name nothing real).
STATIC_SAMPLE_ROWS = [
    ["湖滨农贸市场", "集贸(农贸)市场", "湖滨街道", "Ⅲ-57", "", "0.3", "", "", "市市场监管局 市商务局", "", "摊位外溢"],
    ["柳岸小区", "小区", "柳岸街道", "Ⅲ-60", "", "0", "", "", "", "", ""],
]


def default_day(round_: InspectionRound | None) -> datetime.date | None:
    """The date a row without 检查时间 is recorded on: today if the round covers it, else the
    round's last day (or first, for a round still to come)."""
    if round_ is None:
        return None
    today = timezone.localdate()
    return min(max(today, round_.start_date), round_.end_date)


def _standard_reference(indicator, index, by_pk) -> str | None:
    """The shortest way to name a standard that the import resolves to it: its code, else the
    codes of the standards above it joined by "/" ("Ⅲ-57/1)")."""
    if not indicator.code:
        return None
    parts, cursor = [indicator.code], by_pk.get(indicator.parent_id)
    while True:
        reference = "/".join(parts)
        if third_party._find_standard(reference, index, by_pk)[0] == by_pk.get(indicator.pk):
            return reference
        while cursor is not None and not cursor.code:
            cursor = by_pk.get(cursor.parent_id)
        if cursor is None:
            return None
        parts.insert(0, cursor.code)
        cursor = by_pk.get(cursor.parent_id)


def sample_rows(round_: InspectionRound | None) -> list[list[str]]:
    """Example rows that import into this city as they are: two check items of the round's
    campaign's current system at points that exist (a value 扣分 charged to two departments
    separated by a space, and a pass), dated on the form's default day. A handful of queries."""
    if round_ is None:
        return STATIC_SAMPLE_ROWS
    system = system_current(campaign=round_.campaign)
    if system is None:
        return STATIC_SAMPLE_ROWS
    day = f"{default_day(round_):%Y-%m-%d}"
    rows, used_types = [], set()
    index, by_pk = _indicator_index(system)
    departments = list(Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("path")[:2])
    items = (
        CheckItem.objects.filter(indicator__system=system, active=True, point_type__points__active=True)
        .select_related("point_type", "indicator")
        .order_by("point_type__order", "point_type_id", "order", "id")
        .distinct()[:40]
    )
    # The first active point of each type (as Point's ordering sorts them), in two queries.
    first_of_type = dict(
        PointType.objects.filter(pk__in={item.point_type_id for item in items})
        .annotate(
            first=Subquery(
                Point.objects.filter(point_type=OuterRef("pk"), active=True).order_by("name", "id").values("pk")[:1]
            )
        )
        .values_list("pk", "first")
    )
    points = Point.objects.select_related("unit").in_bulk([pk for pk in first_of_type.values() if pk is not None])
    for item in items:
        if item.point_type_id in used_types:
            continue
        point = points.get(first_of_type.get(item.point_type_id))
        reference = _standard_reference(item.indicator, index, by_pk)
        if point is None or reference is None:
            continue
        used_types.add(item.point_type_id)
        same = [
            other
            for other in items
            if other.point_type_id == item.point_type_id and other.indicator_id == item.indicator_id
        ]
        pick = item.text if len(same) > 1 else ""
        failing = not rows
        rows.append(
            [
                point.name,
                item.point_type.name,
                point.unit.code,
                reference,
                pick,
                f"{min(item.cap, 1) * 3 / 10:.2f}" if failing else "0",
                "",
                "",
                " ".join(d.name for d in departments) if failing else "",
                day,
                "现场发现问题" if failing else "",
            ]
        )
        if len(rows) == 2:
            break
    return rows or STATIC_SAMPLE_ROWS


class ThirdPartyResultImportView(ImportView):
    title = "导入第三方测评结果"
    template_name = "inspections/third_party_import.html"
    columns = third_party.COLUMNS
    template_filename = "第三方测评结果导入模板.xlsx"
    success_url_name = "round-list"
    help_text = (
        "每行一条测评结果：点位名称（已有点位按名称、类型和所在单位匹配，名称唯一时可只填名称）；"
        "所在单位填街道或社区的名称、简称或编码，没有街道的点位可填区县；测评标准填当前测评体系中的编码"
        "（同一类型同一标准有多条细则时在“检查内容”列填写细则内容或序号）；扣分填 0 到最高扣分之间的数值"
        "（最多两位小数），也可在“结果”列填合格、不合格或严重不合格并填问题处数；责任部门可填多个，用空格、"
        "顿号或逗号分隔，填写后只计入这些部门；检查时间留空则按上方选择的测评日期。"
        "同一点位同一天的各行记为一次督查；重复导入同一文件不会产生变化，修改后重新导入会更正原记录。"
    )

    def rounds(self) -> list[InspectionRound]:
        if not hasattr(self, "_rounds"):
            campaign = campaign_current()
            self._rounds = list(
                InspectionRound.objects.filter(kind=RoundKind.THIRD_PARTY, campaign=campaign)
                .select_related("campaign")
                .order_by("-start_date", "-id")
                if campaign is not None
                else []
            )
        return self._rounds

    def selected_round(self) -> InspectionRound | None:
        if not hasattr(self, "_round"):
            wanted = self.request.GET.get("round", "")
            rounds = self.rounds()
            chosen = next((r for r in rounds if str(r.pk) == wanted), None)
            if chosen is None and wanted.isdigit():  # a round of another campaign, opened by its link
                chosen = (
                    InspectionRound.objects.filter(pk=int(wanted), kind=RoundKind.THIRD_PARTY)
                    .select_related("campaign")
                    .first()
                )
            self._round = chosen if chosen is not None or wanted else (rounds[0] if rounds else None)
        return self._round

    def options(self) -> dict:
        query = self.request.GET
        round_ = self.selected_round()
        text = query.get("date", "")
        day, date_error = None, ""
        if text:
            try:
                day = datetime.date.fromisoformat(text)
            except ValueError:
                date_error = "测评日期格式应为 YYYY-MM-DD。"
        elif round_ is not None:
            day = default_day(round_)
        return {
            "round": round_,
            "day": day,
            "date_error": date_error,
            "create_points": query.get("create_points", "") in TRUE_FLAGS,
            "open_problems": query.get("open_problems", "") in TRUE_FLAGS,
        }

    def context(self, **extra):
        options = self.options()
        return super().context(
            rounds=self.rounds(),
            selected=options["round"],
            day=options["day"],
            date_error=options["date_error"],
            create_points=options["create_points"],
            open_problems=options["open_problems"],
            **extra,
        )

    def template_file(self):
        headers = [c.header for c in third_party.COLUMNS]
        data = workbook_bytes(headers, sample_rows(self.selected_round()), title="第三方测评结果")
        return xlsx_response(data, self.template_filename)

    def call_importer(self, file, dry_run: bool):
        options = self.options()
        return third_party.third_party_results_import(
            round_=options["round"],
            file=file,
            dry_run=dry_run,
            user=self.request.user,
            observed_on=options["day"],
            create_points=options["create_points"],
            open_problems=options["open_problems"],
        )

    def post(self, request, *args, **kwargs):
        options = self.options()
        problem = options["date_error"] or third_party.round_problems(options["round"])
        if problem:
            return render(request, self.template_name, self.context(upload_error=problem), status=400)
        return super().post(request, *args, **kwargs)

    def success_url(self) -> str:
        round_ = self.selected_round()
        return round_.get_absolute_url() if round_ is not None else reverse(self.success_url_name)
