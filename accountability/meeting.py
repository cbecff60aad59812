"""调度会材料 (the weekly meeting pack) of a published week: the units the 调度会 hears and, for
each, what it is asked about.

Which units: those the campaign's rules call — the 黑榜 of the week (districts, streets and
departments: communities answer through their street), the `meeting_overdue_units` streets and
departments with the most problems overdue at the week's end, those with a case still 待处理, those
carrying a commitment (open at the week's end, or confirmed done during it) — and those the office
adds (`MeetingPack.added_units`; a republished week's pack takes over its earlier version's). A city
whose rules call more than `MEETING_PACK_MAX_UNITS` units gets that many (every unit the office
added, then by rule in the order above) and the others named.

Everything that was true of the week (the trend, the losses, the problems overdue at its end) is
kept in the cache per version and unit set (`_week_parts`); the rest is read on each request.

For each unit: its ranking row and trend (the last `TREND_WEEKS` published weeks), where it lost
points that week (by 测评标准 and point type, the check items failed most, a few photos), the
problems it answers for overdue at the week's end, its open cases, and every commitment carried
into the meeting with its status at the week's end and now (`commitments.commitments_carried`).

Everything is read for all the units at once, a fixed number of queries whatever the size of the
city or of the pack (each list cut per unit in SQL with ROW_NUMBER()). The print page and the API
read it live; the PDF is rendered by a background job (`meeting_render`) and stored on the
`MeetingPack`, again whenever the office changes its units or asks for it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Count, F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaign.choices import JobStatus, UnitKind
from campaign.jobs import job_enqueue
from campaign.models import JobRun, Unit
from campaign.selectors import scope_for
from campaign.services import job_run_claim, job_run_create, job_run_finish, job_run_progress
from campaign.weeks import week_short
from inspections.choices import ProblemStatus, Result
from inspections.models import Charge, Photo, Problem
from inspections.selectors import iso_week_bounds, week_count_q, week_label

from .bulletin import PDF_MEDIA_SCHEME, PdfUnavailable, _keep_truncated_images_refused, _storage_fetcher, fmt_rate
from .choices import BoardList, CaseLevel, CaseRule, CaseStatus, Population, VersionStatus
from .commitments import attach_days_overdue, commitments_carried, status_label
from .models import AccountabilityCase, MeetingPack, RollupVersion, UnitWeekScore
from .rollup import CASE_POPULATIONS, problems_answered_by

logger = logging.getLogger(__name__)

JOB_NAME = "meeting_render"
NOT_PUBLISHED = "该周的周评比尚未发布，不能生成调度会材料（周评比发布后才有调度会材料）。"
READERS_ONLY = "调度会材料仅供创建办和领导查阅。"
OFFICE_ONLY = "只有创建办可以调整调度会材料。"
TREND_WEEKS = 8
LOSS_ROWS = 5  # 测评标准 and point types where the unit lost most
ITEM_ROWS = 5  # check items failed most
PHOTO_ROWS = 4
OVERDUE_ROWS = 5  # listed one by one (all counted)
CASE_ROWS = 10
DEFAULT_OVERDUE_UNITS = 3  # versions published before the rule recorded it


class Reason(models.TextChoices):
    """Why a unit is in the pack, in the order the meeting hears them (the cap keeps the office's
    additions first, then this order)."""

    BLACK = "black", "上黑榜"
    OVERDUE = "overdue", "超期问题较多"
    COMMITMENTS = "commitments", "有承诺事项"
    CASES = "cases", "有未结问责"
    ADDED = "added", "创建办添加"


REASON_ORDER = list(Reason.values)
POPULATION_ORDER = {population: index for index, population in enumerate(CASE_POPULATIONS)}


# --- who ----------------------------------------------------------------------------------------


def may_read_packs(user) -> bool:
    """The 调度会 is the 指挥部's: the office prepares it, leaders chair it."""
    scope = scope_for(user)
    return scope.is_office or scope.is_leader or scope.is_superuser


def check_reader(user) -> None:
    if not may_read_packs(user):
        raise PermissionDenied(READERS_ONLY)


def pack_version(*, campaign_id: int, week: str) -> RollupVersion | None:
    """The published version of the week (campaign joined), or None: draft, superseded, unknown."""
    return (
        RollupVersion.objects.select_related("campaign")
        .filter(campaign_id=campaign_id, week=week, status=VersionStatus.PUBLISHED)
        .first()
    )


def pack_of(version: RollupVersion) -> MeetingPack | None:
    pack = MeetingPack.objects.select_related("run").filter(version=version).first()
    if pack is not None:
        pack.version = version
    return pack


# --- which units ------------------------------------------------------------------------------------


@dataclass
class Called:
    """The units of the pack in the meeting's order, why each is there, and those left out."""

    reasons: dict[int, list[str]]  # unit id → reasons (Reason values), in the meeting's order
    left_out: list[str] = field(default_factory=list)  # names, beyond MEETING_PACK_MAX_UNITS
    called: int = 0  # how many units the rules and the office call


def called_units(*, version: RollupVersion, added_ids: list[int]) -> Called:
    """Five reads: the 黑榜, the most overdue, the open cases, the commitments, the order."""
    rules = version.rules or {}
    rows = UnitWeekScore.objects.filter(rollup=version, population__in=CASE_POPULATIONS).order_by()
    called: dict[str, list[int]] = {
        Reason.ADDED: list(added_ids),
        Reason.BLACK: list(rows.filter(board=BoardList.BLACK).values_list("unit_id", flat=True)),
        Reason.OVERDUE: [],
        Reason.COMMITMENTS: list(
            commitments_carried(campaign=version.campaign, week=version.week)
            .order_by()
            .values_list("unit_id", flat=True)
            .distinct()
        ),
        Reason.CASES: list(
            AccountabilityCase.objects.filter(
                campaign_id=version.campaign_id, status=CaseStatus.PENDING, week__lte=version.week
            )
            .order_by()
            .values_list("unit_id", flat=True)
            .distinct()
        ),
    }
    most = rules.get("meeting_overdue_units", DEFAULT_OVERDUE_UNITS)
    if most:
        # Among the units that fix things — streets and departments: a district's count sums its
        # streets', so across levels the biggest districts would always be the ones called.
        called[Reason.OVERDUE] = list(
            rows.exclude(population=Population.DISTRICT)
            .filter(overdue_open__gt=0)
            .order_by("-overdue_open", "unit__path")
            .values_list("unit_id", flat=True)[:most]
        )
    reasons: dict[int, list[str]] = {}
    for reason in REASON_ORDER:
        for unit_id in called[reason]:
            reasons.setdefault(unit_id, []).append(reason)
    # The meeting's order: by the first reason, then districts, streets, departments, by rank.
    order = {
        row["unit_id"]: (POPULATION_ORDER.get(row["population"], len(POPULATION_ORDER)), row["rank"] or 10**6)
        for row in UnitWeekScore.objects.filter(rollup=version, unit_id__in=list(reasons))
        .order_by()
        .values("unit_id", "population", "rank")
    }
    paths = dict(Unit.objects.filter(pk__in=list(reasons)).values_list("pk", "path"))
    ranked = sorted(
        (unit_id for unit_id in reasons if unit_id in paths),
        key=lambda unit_id: (
            REASON_ORDER.index(reasons[unit_id][0]),
            *order.get(unit_id, (len(POPULATION_ORDER), 10**6)),
            paths[unit_id],
        ),
    )
    # The cap keeps every unit the office added, then the rules' in the meeting's order.
    added = set(added_ids)
    room = max(settings.MEETING_PACK_MAX_UNITS - len(added), 0)
    others = [unit_id for unit_id in ranked if unit_id not in added]
    kept = set(added) | set(others[:room])
    cut = others[room:]
    left_out = list(Unit.objects.filter(pk__in=cut).order_by("path").values_list("name", flat=True)) if cut else []
    return Called(
        reasons={unit_id: reasons[unit_id] for unit_id in ranked if unit_id in kept},
        left_out=left_out,
        called=len(ranked),
    )


# --- what each unit is asked about -------------------------------------------------------------------


@dataclass
class UnitSection:
    unit: dict  # pk, name, kind, parent_name
    reasons: list[str]
    row: dict | None = None  # the ranking row of the week; None: the unit is not ranked
    trend: list[dict] = field(default_factory=list)  # oldest first
    by_indicator: list[dict] = field(default_factory=list)
    by_type: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    photos: list[dict] = field(default_factory=list)
    overdue_total: int = 0
    overdue: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)

    @property
    def reason_labels(self) -> list[str]:
        return [Reason(reason).label for reason in self.reasons]

    @property
    def reason_tags(self) -> list[tuple[str, str]]:
        return [(reason, Reason(reason).label) for reason in self.reasons]

    @property
    def commitments_overdue(self) -> int:
        """Carried commitments overdue at the week's end."""
        return sum(1 for commitment in self.commitments if commitment["week_end_status"] == "overdue")

    @property
    def overdue_hidden(self) -> int:
        return max(self.overdue_total - len(self.overdue), 0)


_ROW_FIELDS = (
    "unit_id",
    "population",
    "rank",
    "rank_change",
    "composite",
    "score_rate",
    "on_time_rate",
    "observations",
    "failing_observations",
    "deduction_points",
    "problems_opened",
    "overdue_open",
    "rebounds",
    "board",
    "sample_ok",
    "vetoed",
)


def _numbered(queryset, *, partition, order_by, limit: int) -> list[dict]:
    """The first `limit` rows of each `partition` by `order_by` (ROW_NUMBER() in SQL)."""
    numbered = queryset.annotate(n=Window(RowNumber(), partition_by=[partition], order_by=order_by))
    return list(numbered.filter(n__lte=limit))


def _week_charges(version: RollupVersion, unit_ids: list[int]):
    """The charges of the week's counted observations to the units (as the ranking counts them)."""
    start, end = iso_week_bounds(version.week)
    return Charge.objects.filter(
        unit_id__in=unit_ids,
        observation__campaign_id=version.campaign_id,
        observation__current=True,
        observation__appeal_granted=False,
        observation__observed_at__gte=start,
        observation__observed_at__lt=end,
    ).order_by()


def _losses(version: RollupVersion, unit_ids: list[int]) -> dict[str, list[dict]]:
    """Where each unit lost points: by 测评标准, by point type, the items failed most, and a few
    photos of those failures (four grouped reads, each cut per unit in SQL)."""
    charges = _week_charges(version, unit_ids)
    failing = ~Q(observation__result=Result.PASS)
    totals = {
        "observations": Count("observation_id"),
        "failing": Count("observation_id", filter=failing),
        "points": Sum("observation__deduction"),
    }
    by_indicator = _numbered(
        charges.values(
            "unit_id",
            indicator_code=F("observation__indicator__code"),
            indicator_title=F("observation__indicator__title"),
        )
        .annotate(**totals)
        .filter(failing__gt=0),
        partition=F("unit_id"),
        order_by=[Sum("observation__deduction").desc(), F("observation__indicator__code").asc()],
        limit=LOSS_ROWS,
    )
    by_type = _numbered(
        charges.values("unit_id", point_type=F("observation__point__point_type__name"))
        .annotate(**totals)
        .filter(failing__gt=0),
        partition=F("unit_id"),
        order_by=[Sum("observation__deduction").desc(), F("observation__point__point_type__name").asc()],
        limit=LOSS_ROWS,
    )
    items = _numbered(
        charges.filter(failing)
        .values("unit_id", item=F("observation__check_item__text"), item_id=F("observation__check_item_id"))
        .annotate(failing=Count("observation_id"), points=Sum("observation__deduction")),
        partition=F("unit_id"),
        order_by=[Count("observation_id").desc(), Sum("observation__deduction").desc(), F("item_id").asc()],
        limit=ITEM_ROWS,
    )
    start, end = iso_week_bounds(version.week)
    photos = _numbered(
        Photo.objects.filter(
            observation__charges__unit_id__in=unit_ids,
            observation__campaign_id=version.campaign_id,
            observation__current=True,
            observation__appeal_granted=False,
            observation__observed_at__gte=start,
            observation__observed_at__lt=end,
        )
        .exclude(observation__result=Result.PASS)
        .order_by()
        .values(
            "pk",
            "thumbnail",
            unit_id=F("observation__charges__unit_id"),
            item=F("observation__check_item__text"),
            point=F("observation__point__name"),
            taken=F("observation__observed_at"),
        ),
        partition=F("observation__charges__unit_id"),
        order_by=[F("observation__deduction").desc(), F("observation__observed_at").desc(), F("pk").asc()],
        limit=PHOTO_ROWS,
    )
    return {"by_indicator": by_indicator, "by_type": by_type, "items": items, "photos": photos}


def _trend(version: RollupVersion, unit_ids: list[int]) -> dict[int, list[dict]]:
    versions = list(
        RollupVersion.objects.filter(
            campaign_id=version.campaign_id, status=VersionStatus.PUBLISHED, week_start__lte=version.week_start
        )
        .order_by("-week_start")
        .values_list("pk", flat=True)[:TREND_WEEKS]
    )
    trend: dict[int, list[dict]] = {}
    for row in (
        UnitWeekScore.objects.filter(rollup_id__in=versions, unit_id__in=unit_ids)
        .order_by("unit_id", "rollup__week_start")
        .values("unit_id", "rank", "composite", "score_rate", "overdue_open", week=F("rollup__week"))
    ):
        row["week_label"] = week_short(row["week"])
        trend.setdefault(row["unit_id"], []).append(row)
    return trend


_OVERDUE_FIELDS = ("pk", "description", "deadline", "status", "rework_count", "found_at")


def _overdue_ids(version: RollupVersion, unit_ids: list[int]) -> tuple[dict[int, list[int]], dict[int, int]]:
    """The problems each unit answers for (located in or handled by its subtree, as the ranking
    counts them) open past their deadline at the week's end: the longest overdue few, and how many
    in all — one statement for all the units."""
    condition = week_count_q(version.week)["overdue_open"]
    units = Unit.objects.filter(pk__in=unit_ids).values(unit_id=F("pk"))
    totals: dict[int, int] = {}
    ids = problems_answered_by(
        units=units, campaign=version.campaign, condition=condition, limit=OVERDUE_ROWS, totals=totals
    )
    return ids, totals


def _overdue(version: RollupVersion, ids: dict[int, list[int]]) -> dict[int, list[dict]]:
    """The overdue problems' details as they are now (one read)."""
    details = {
        row["pk"]: row
        for row in Problem.objects.filter(pk__in=[pk for pks in ids.values() for pk in pks]).values(
            *_OVERDUE_FIELDS,
            unit_name=F("unit__name"),
            handler_name=F("handler__name"),
            point_name=F("point__name"),
        )
    }
    sunday = version.week_end
    result: dict[int, list[dict]] = {}
    for unit_id, pks in ids.items():
        rows = []
        for pk in pks:
            problem = dict(details[pk])
            problem["days_overdue"] = (sunday - problem["deadline"]).days
            problem["status_display"] = ProblemStatus(problem["status"]).label
            rows.append(problem)
        result[unit_id] = rows
    return result


def _cases(version: RollupVersion, unit_ids: list[int]) -> dict[int, list[dict]]:
    rows = _numbered(
        AccountabilityCase.objects.filter(
            campaign_id=version.campaign_id, unit_id__in=unit_ids, status=CaseStatus.PENDING, week__lte=version.week
        )
        .order_by()
        .values("pk", "unit_id", "week", "rule", "level", "streak", "reason"),
        partition=F("unit_id"),
        order_by=[F("week").desc(), F("pk").desc()],
        limit=CASE_ROWS,
    )
    result: dict[int, list[dict]] = {}
    for case in rows:
        case["week_label"] = week_short(case["week"])
        case["rule_display"] = CaseRule(case["rule"]).label
        case["level_display"] = CaseLevel(case["level"]).label
        result.setdefault(case["unit_id"], []).append(case)
    return result


def week_end_status(commitment) -> tuple[str, str]:
    """(key, label) of a carried commitment at the week's end: confirmed done during the week,
    overdue, or in progress."""
    if commitment.done_in_week:
        return "done", "本周已完成"
    if commitment.overdue_at_week_end:
        return "overdue", "逾期"
    return "open", "进行中"


def _commitments(version: RollupVersion, unit_ids: list[int]) -> dict[int, list[dict]]:
    rows = attach_days_overdue(commitments_carried(campaign=version.campaign, unit_ids=unit_ids, week=version.week))
    result: dict[int, list[dict]] = {}
    for commitment in rows:
        key, label = week_end_status(commitment)
        result.setdefault(commitment.unit_id, []).append(
            {
                "pk": commitment.pk,
                "content": commitment.content,
                "due_date": commitment.due_date,
                "answerer": commitment.answerer,
                "week": commitment.week,
                "week_end_status": key,
                "week_end_status_display": label,
                "status": "overdue" if commitment.is_overdue else commitment.status,
                "status_display": status_label(commitment),
                "days_overdue": commitment.days_overdue,
            }
        )
    return result


def _week_parts(version: RollupVersion, unit_ids: list[int], *, fresh: bool = False) -> dict:
    """What the week was for the units — the trend, the losses, which problems were overdue at its
    end — does not change once the week is published: read once (seven statements, the heaviest of
    the pack: a megacity's week is 20,000 observations and 50,000 overdue problems) and kept in the
    cache for `MEETING_PACK_CACHE_SECONDS`, per published version and set of units. The rest (who
    is called, cases, commitments, the problems' current state) is read on every request. The key
    names the versions the trend reads (the latest publish up to this week: a week republished
    since is read again); an observation or problem corrected after the publish shows within the
    cache's time. One query for the key."""
    latest = RollupVersion.objects.filter(
        campaign_id=version.campaign_id, status=VersionStatus.PUBLISHED, week_start__lte=version.week_start
    ).aggregate(latest=Max("published_at"), count=Count("pk"))
    stamp = f"{latest['latest'].timestamp() if latest['latest'] else 0}:{latest['count']}"
    digest = hashlib.sha256(",".join(map(str, sorted(unit_ids))).encode()).hexdigest()[:24]
    key = f"meeting-week:{version.pk}:{stamp}:{digest}"
    parts = None if fresh else cache.get(key)
    if parts is None:
        parts = {
            "trend": _trend(version, unit_ids),
            "losses": _losses(version, unit_ids),
            "overdue": _overdue_ids(version, unit_ids),
        }
        cache.set(key, parts, settings.MEETING_PACK_CACHE_SECONDS)
    return parts


def meeting_pack_data(*, version: RollupVersion, pack: MeetingPack | None = None, fresh: bool = False) -> dict:
    """The pack of a published week: a fixed number of queries whatever the number of units.
    `fresh`: read the week's parts again (the PDF), never from the cache."""
    added_ids = added_unit_ids(version, pack)
    called = called_units(version=version, added_ids=added_ids)
    unit_ids = list(called.reasons)
    sections: list[UnitSection] = []
    if unit_ids:
        units = {
            row["pk"]: row
            for row in Unit.objects.filter(pk__in=unit_ids).values("pk", "name", "kind", parent_name=F("parent__name"))
        }
        rows = {
            row["unit_id"]: row
            for row in UnitWeekScore.objects.filter(rollup=version, unit_id__in=unit_ids).values(*_ROW_FIELDS)
        }
        week = _week_parts(version, unit_ids, fresh=fresh)
        trend, losses = week["trend"], week["losses"]
        overdue, cases, commitments = (
            _overdue(version, week["overdue"][0]),
            _cases(version, unit_ids),
            _commitments(version, unit_ids),
        )
        grouped: dict[str, dict[int, list[dict]]] = {}
        for key, rows_of in losses.items():
            for item in rows_of:
                grouped.setdefault(key, {}).setdefault(item["unit_id"], []).append(item)
        for unit_id, reasons in called.reasons.items():
            row = rows.get(unit_id)
            if row is not None:
                row["population_display"] = Population(row["population"]).label
                row["score_rate_display"] = fmt_rate(row["score_rate"])
                row["on_time_rate_display"] = fmt_rate(row["on_time_rate"])
            sections.append(
                UnitSection(
                    unit=units[unit_id],
                    reasons=reasons,
                    row=row,
                    trend=trend.get(unit_id, []),
                    by_indicator=grouped.get("by_indicator", {}).get(unit_id, []),
                    by_type=grouped.get("by_type", {}).get(unit_id, []),
                    items=grouped.get("items", {}).get(unit_id, []),
                    photos=grouped.get("photos", {}).get(unit_id, []),
                    overdue_total=week["overdue"][1].get(unit_id, 0),
                    overdue=overdue.get(unit_id, []),
                    cases=cases.get(unit_id, []),
                    commitments=commitments.get(unit_id, []),
                )
            )
    campaign = version.campaign
    rules = version.rules or {}
    return {
        "version": version,
        "campaign": campaign,
        "week": version.week,
        "week_label": week_label(version.week),
        "title": f"{campaign.name}调度会材料",
        "units": sections,
        "left_out": called.left_out,
        "called": called.called,
        "max_units": settings.MEETING_PACK_MAX_UNITS,
        "overdue_units": rules.get("meeting_overdue_units", DEFAULT_OVERDUE_UNITS),
        "commitment_rule": rules.get("commitment_overdue_raises_case", True),
        "added_count": len(added_ids),
        "trend_weeks": TREND_WEEKS,
        "generated_at": timezone.localtime(),
    }


# --- the page and the PDF --------------------------------------------------------------------------


def meeting_pack_html(*, data: dict, for_pdf: bool = False, reader: dict | None = None) -> str:
    """The A4 pack. The PDF reads thumbnails from storage (the bulletin's fetcher); the page links
    each photo and problem to its own page (which the office and leaders may open), and `reader`
    adds the reader's toolbar context (what the office may change)."""
    for section in data["units"]:
        for photo in section.photos:
            if for_pdf:
                photo["src"] = f"{PDF_MEDIA_SCHEME}:{quote(photo['thumbnail'])}" if photo["thumbnail"] else ""
            else:
                photo["src"] = reverse("photo-thumb", args=[photo["pk"]])
                photo["href"] = reverse("photo-file", args=[photo["pk"]])
        for problem in section.overdue:
            problem["url"] = "" if for_pdf else reverse("problem-detail", args=[problem["pk"]])
    context = {**data, **(reader or {}), "for_pdf": for_pdf}
    # No request: the sheet is standalone, so the layout's context processors are not needed.
    return render_to_string("accountability/meeting_pack.html", context)


def meeting_pack_pdf(*, html: str) -> bytes:
    try:
        _keep_truncated_images_refused()
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango cannot be loaded
        raise PdfUnavailable(PdfUnavailable.message) from exc
    return HTML(string=html, base_url="http://localhost/", url_fetcher=_storage_fetcher()).write_pdf()


def meeting_pack_filename(version: RollupVersion) -> str:
    year, number = version.week.split("-W")
    return f"{version.campaign.name}-{year}年第{int(number)}周-调度会材料.pdf"


# --- the pack's state and its PDF job -----------------------------------------------------------------

RENDERING = (JobStatus.QUEUED, JobStatus.RUNNING)


def pack_status(pack: MeetingPack | None) -> dict:
    """Where the PDF stands: none (never asked), queued, running, done, failed."""
    if pack is None or pack.run is None:
        made = pack is not None and bool(pack.file)  # a file whose run record is gone is still made
        return {
            "status": "done" if made else "none",
            "progress": 100 if made else 0,
            "error": "",
            "ready": made,
            "rendered_at": pack.rendered_at if made else None,
        }
    run = pack.run
    ready = bool(pack.file) and run.status == JobStatus.SUCCEEDED
    return {
        "status": {JobStatus.SUCCEEDED: "done"}.get(run.status, run.status),
        "progress": 100 if ready else run.progress,
        "error": run.error if run.status == JobStatus.FAILED else "",
        "ready": ready,
        "rendered_at": pack.rendered_at,
    }


def _queue(pack: MeetingPack, user) -> MeetingPack:
    """Render the pack's PDF as it will read: a run still queued will (it reads the pack when it
    starts), so it is kept; one already running reads what was, so a new run follows it."""
    run = JobRun.objects.filter(pk=pack.run_id).first() if pack.run_id else None
    if run is not None and run.status == JobStatus.QUEUED:
        pack.run = run
        return pack
    run = job_run_create(name=JOB_NAME, params={"pack": pack.pk, "week": pack.version.week}, user=user)
    MeetingPack.objects.filter(pk=pack.pk).update(run=run)
    pack.run = run
    job_enqueue(run)  # handed to a worker when the transaction commits
    return pack


def check_office(user) -> None:
    if not scope_for(user).is_office:
        raise PermissionDenied(OFFICE_ONLY)


def _locked_version(version: RollupVersion) -> None:
    if not RollupVersion.objects.select_for_update().filter(pk=version.pk, status=VersionStatus.PUBLISHED).exists():
        raise ValidationError(NOT_PUBLISHED)


def meeting_pack_generate(*, version: RollupVersion, user) -> MeetingPack:
    """The office makes the week's pack (or renders its PDF again): the pack is created with the
    units the rules call (plus, for a republished week, those the office added to the week's
    earlier pack), and its PDF queued — once: while a render is queued or running, nothing more."""
    check_office(user)
    with transaction.atomic():
        _locked_version(version)
        pack = _pack_for(version, user)
        if pack.run is not None and pack.run.status in RENDERING:
            return pack
        return _queue(pack, user)


def _earlier_pack(version: RollupVersion):
    """The pack of the week's latest earlier version (a week republished after an appeal)."""
    return (
        MeetingPack.objects.filter(
            version__campaign_id=version.campaign_id, version__week=version.week, version__number__lt=version.number
        )
        .order_by("-version__number")
        .first()
    )


def _pack_for(version: RollupVersion, user) -> MeetingPack:
    """The version's pack, made on first use with the units the office added to the week's earlier
    version's pack (a republished week keeps them). Under the version's lock."""
    pack = MeetingPack.objects.select_related("run").filter(version=version).first()
    if pack is None:
        pack = MeetingPack.objects.create(version=version, created_by=user)
        earlier = _earlier_pack(version)
        if earlier is not None:
            pack.added_units.set(earlier.added_units.all())
    pack.version = version
    return pack


def added_unit_ids(version: RollupVersion, pack: MeetingPack | None) -> list[int]:
    """The units the office added: the pack's, or — before the version has one — those of the week's
    earlier version's pack, which the pack will take over (one query either way)."""
    if pack is not None:
        return list(pack.added_units.values_list("pk", flat=True))
    return list(
        Unit.objects.filter(
            pk__in=MeetingPack.added_units.through.objects.filter(
                meetingpack__version__campaign_id=version.campaign_id,
                meetingpack__version__week=version.week,
                meetingpack__version__number=MeetingPack.objects.filter(
                    version__campaign_id=version.campaign_id,
                    version__week=version.week,
                    version__number__lt=version.number,
                )
                .order_by("-version__number")
                .values("version__number")[:1],
            ).values("unit_id")
        ).values_list("pk", flat=True)
    )


def _unit_id(value) -> int:
    try:
        unit_id = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"unit": "请选择要列入调度会的单位。"}) from None
    if not 0 < unit_id < 2**63:
        raise ValidationError({"unit": "该单位不存在或已停用。"})
    return unit_id


def _clean_unit(value) -> Unit:
    unit = Unit.objects.filter(pk=_unit_id(value), active=True).first()
    if unit is None:
        raise ValidationError({"unit": "该单位不存在或已停用。"})
    if unit.kind == UnitKind.COMMUNITY:
        raise ValidationError({"unit": f"{unit.name}是社区（村），由所属街道在调度会上汇报，请添加其所属街道。"})
    return unit


def meeting_pack_add_unit(*, version: RollupVersion, user, unit) -> Unit:
    """The office calls a unit the rules did not (given by id); the PDF is rendered again."""
    check_office(user)
    unit = _clean_unit(unit)
    with transaction.atomic():
        _locked_version(version)
        pack = _pack_for(version, user)
        if pack.added_units.filter(pk=unit.pk).exists():
            raise ValidationError({"unit": f"{unit.name}已由创建办列入本次调度会。"})
        if pack.added_units.count() >= settings.MEETING_PACK_MAX_UNITS:
            raise ValidationError({"unit": f"创建办添加的单位已达上限（{settings.MEETING_PACK_MAX_UNITS} 个）。"})
        pack.added_units.add(unit)
        _queue(pack, user)
    return unit


def meeting_pack_remove_unit(*, version: RollupVersion, user, unit) -> Unit:
    """The office takes back a unit it added (the rules' units stay); the PDF is rendered again."""
    check_office(user)
    unit_id = _unit_id(unit)
    with transaction.atomic():
        _locked_version(version)
        pack = _pack_for(version, user)
        # Looked up among the added ones only: a unit since deactivated can still be taken back.
        added = pack.added_units.filter(pk=unit_id).first()
        if added is None:
            name = Unit.objects.filter(pk=unit_id).values_list("name", flat=True).first() or "该单位"
            raise ValidationError({"unit": f"{name}不是创建办添加的单位。"})
        pack.added_units.remove(added)
        _queue(pack, user)
    return added


def _delete_quietly(storage, name: str) -> None:
    with contextlib.suppress(OSError):  # a stale copy left behind is harmless
        storage.delete(name)


def _error_text(exc: Exception) -> str:
    """What readers see of a failed render: never the exception's text (paths, SQL), which is logged."""
    if isinstance(exc, PdfUnavailable):
        return PdfUnavailable.message
    return f"生成时出错（{type(exc).__name__}），请重新生成；仍然失败请联系管理员查看服务器日志。"


def meeting_render(run_id: int) -> dict:
    """The job: render the pack's PDF as it reads now and store it. Taken once per run
    (`job_run_claim`); the file is kept only while the run is still the pack's latest (a change
    made during the render queued a newer one, whose file wins)."""
    run = job_run_claim(run_id=run_id)
    if run is None:
        return {"run": run_id, "skipped": "not queued"}
    pack = MeetingPack.objects.select_related("version__campaign").filter(pk=run.params.get("pack")).first()
    if pack is None or pack.version.status != VersionStatus.PUBLISHED:
        job_run_finish(run=run, error=NOT_PUBLISHED if pack else "调度会材料已删除。")
        return {"run": run.pk, "skipped": "not published"}
    result: dict = {"pack": pack.pk, "week": pack.version.week}
    if pack.run_id != run.pk:  # a newer run follows: it renders what this one would have, and more
        result["skipped"] = "superseded"
        job_run_finish(run=run, result=result)
        return result
    try:
        data = meeting_pack_data(version=pack.version, pack=pack, fresh=True)
        job_run_progress(run=run, percent=30, stage="数据")
        html = meeting_pack_html(data=data, for_pdf=True)
        job_run_progress(run=run, percent=40, stage="排版")
        content = meeting_pack_pdf(html=html)
        result["units"], result["pdf_bytes"] = len(data["units"]), len(content)
        digest = hashlib.sha256(content).hexdigest()
        pack.sha256 = digest
        name = pack.file.field.generate_filename(pack, "pack.pdf")
        stored = pack.file.storage.save(name, ContentFile(content))
        with transaction.atomic():
            current = MeetingPack.objects.select_for_update().filter(pk=pack.pk, run=run).first()
            if current is None:  # superseded by a newer render: its file wins
                with contextlib.suppress(OSError):
                    pack.file.storage.delete(stored)
                result["skipped"] = "superseded"
            else:
                old = current.file.name if current.file else ""
                MeetingPack.objects.filter(pk=pack.pk).update(
                    file=stored, sha256=digest, size=len(content), rendered_at=timezone.now()
                )
                if old and old != stored:
                    transaction.on_commit(lambda: _delete_quietly(pack.file.storage, old))
    except Exception as exc:
        job_run_finish(run=run, result=result, error=_error_text(exc))
        if isinstance(exc, PdfUnavailable):
            return result
        logger.exception("meeting pack render failed: run %s, pack %s", run.pk, pack.pk)
        raise
    job_run_finish(run=run, result=result)
    logger.info("meeting pack rendered: %s", result)
    return result


def meeting_pack_file(pack: MeetingPack):
    """The stored PDF as a download named in Chinese (RFC 5987)."""
    from django.http import FileResponse

    version = pack.version
    response = FileResponse(pack.file.open("rb"), content_type="application/pdf")
    filename = quote(meeting_pack_filename(version))
    response["Content-Disposition"] = (
        f"attachment; filename=\"meeting-{version.week}.pdf\"; filename*=UTF-8''{filename}"
    )
    response["Content-Length"] = str(pack.size)
    return response


def meeting_weeks():
    """Every published week of every campaign with its pack (if made), newest first (one query)."""
    return (
        RollupVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("campaign", "meeting_pack__run")
        .order_by("-campaign__active", "campaign__name", "campaign_id", "-week_start")
    )


def meeting_pdfs_prune_superseded(*, limit: int) -> int:
    """Housekeeping: the PDFs of superseded versions' packs leave storage (nothing serves them); the
    rows stay, their added units being what a later version of the week takes over. At most `limit`."""
    packs = list(
        MeetingPack.objects.filter(version__status=VersionStatus.SUPERSEDED).exclude(file="").order_by("pk")[:limit]
    )
    for pack in packs:
        _delete_quietly(pack.file.storage, pack.file.name)
    MeetingPack.objects.filter(pk__in=[pack.pk for pack in packs]).update(file="", size=0, sha256="")
    return len(packs)
