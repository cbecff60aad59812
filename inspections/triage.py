"""分拣 (triage) of reports from outside the office — a citizen's 随手拍, a 12345 ticket, an Open311
request — and the 12345 tickets' import and reply export.

A pending report is accepted (a new problem 待交办 through `services.problem_create`), merged into an
open problem (another sighting of it: its photos join the problem's) or rejected with a reason. Of
two racing triagers exactly one wins: the report's row is locked and updated on its status and
version; the other gets `ReportConflict` and nothing changes.

Duplicate candidates are computed in SQL: a bounding box on the coordinates with a LIMIT, then the
exact haversine distance for those few rows. 12345 tickets are upserted by (campaign, 工单编号):
a pending report gets its fields updated, a triaged one only its ticket fields, an identical row
changes nothing; one read of the existing tickets, bulk writes.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import ASin, Cast, Coalesce, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone

from campaign.importing import (
    Column,
    ImportFileError,
    ImportResult,
    RowChange,
    RowError,
    parse_sheet_date,
    read_table,
    report_progress,
)
from campaign.models import Campaign
from campaign.selectors import scope_for

from . import services
from .choices import ProblemSource, ProblemStatus, ReportChannel, ReportStatus
from .importing import _chunks
from .intake import clean_text, has_html, report_text_max
from .models import CheckItem, Point, Problem, PublicCategory, Report

EARTH_RADIUS_M = 6371000.0
CANDIDATE_LIMIT = 200  # rows of the bounding box whose exact distance is computed
REASON_MAX = Report._meta.get_field("reject_reason").max_length
OPEN = ~Q(status__in=[ProblemStatus.CLOSED, ProblemStatus.VOID])
TRIAGED = (ReportStatus.ACCEPTED, ReportStatus.MERGED, ReportStatus.REJECTED)


def duplicate_distance_m() -> int:
    return int(getattr(settings, "REPORT_DUPLICATE_DISTANCE_M", 100))


def duplicate_days() -> int:
    return int(getattr(settings, "REPORT_DUPLICATE_DAYS", 30))


def nearest_point_m() -> int:
    return int(getattr(settings, "REPORT_NEAREST_POINT_M", 300))


class ReportConflict(Exception):
    """Someone triaged the report (or changed it) since the user saw it; nothing changed."""

    message = "该反映已被他人分拣或修改，请刷新后查看最新状态。"


def can_read_reports(user) -> bool:
    """The office triages, leaders read; nobody else sees reports (the reporter's phone is private)."""
    scope = scope_for(user)
    return scope.is_office or scope.is_leader


def _require_office(user) -> None:
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以分拣群众反映。")


def report_source(report: Report) -> str:
    """The problem's source: a 12345 ticket is 12345转办, the public's other channels 市民随手拍."""
    return ProblemSource.HOTLINE if report.channel == ReportChannel.HOTLINE else ProblemSource.CITIZEN


# --- Distances in SQL ----------------------------------------------------------------------------


def _box(latitude: float, longitude: float, metres: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    dlat = metres / 111_000.0
    dlng = metres / (111_000.0 * max(math.cos(math.radians(latitude)), 0.01))
    return (
        Decimal(f"{latitude - dlat:.6f}"),
        Decimal(f"{latitude + dlat:.6f}"),
        Decimal(f"{longitude - dlng:.6f}"),
        Decimal(f"{longitude + dlng:.6f}"),
    )


def _in_box(prefix: str, box) -> Q:
    low_lat, high_lat, low_lng, high_lng = box
    return Q(
        **{
            f"{prefix}latitude__gte": low_lat,
            f"{prefix}latitude__lte": high_lat,
            f"{prefix}longitude__gte": low_lng,
            f"{prefix}longitude__lte": high_lng,
        }
    )


def haversine(latitude_expr, longitude_expr, latitude: float, longitude: float):
    """The great-circle distance in metres from (latitude, longitude) to the expressions' point, as
    one SQL expression (Django provides the trigonometry on SQLite too)."""
    lat1 = Radians(Cast(latitude_expr, FloatField()))
    lng1 = Radians(Cast(longitude_expr, FloatField()))
    lat0 = Value(math.radians(latitude), output_field=FloatField())
    lng0 = Value(math.radians(longitude), output_field=FloatField())
    a = Power(Sin((lat1 - lat0) / 2), 2) + Cos(lat0) * Cos(lat1) * Power(Sin((lng1 - lng0) / 2), 2)
    return Value(2 * EARTH_RADIUS_M, output_field=FloatField()) * ASin(Sqrt(a))


# --- Duplicates ----------------------------------------------------------------------------------


def _category_q(category: PublicCategory) -> Q:
    """A problem of the category: its check item is one of the category's, its point of one of the
    category's types, or it came from a report of the category."""
    from_report = Report.objects.filter(problem=OuterRef("pk"), category=category)
    return (
        Q(check_item__in=category.check_items.all())
        | Q(point__point_type__in=category.point_types.all())
        | Q(Exists(from_report))
    )


def report_duplicates(report: Report, *, limit: int = 10) -> list[Problem]:
    """Open problems of the report's campaign found since REPORT_DUPLICATE_DAYS days before it
    that are (a) at its point and of a check item of its category, or (b) within
    REPORT_DUPLICATE_DISTANCE_M metres of its location (the problem's own, else its point's) and
    of its category. Annotated with `distance_m` (None without coordinates), closest first; a
    handful of queries whatever the number of problems."""
    since = report.submitted_at - datetime.timedelta(days=duplicate_days())
    base = Problem.objects.filter(OPEN, campaign_id=report.campaign_id, found_at__gte=since)
    category = report.category
    matches = Q(pk__in=[])
    if report.point_id is not None:
        same_point = Q(point_id=report.point_id)
        if category is not None:
            same_point &= Q(check_item__in=category.check_items.all())
        matches |= same_point
    located = report.latitude is not None and report.longitude is not None and category is not None
    if located:
        box = _box(float(report.latitude), float(report.longitude), duplicate_distance_m())
        own = _in_box("", box)
        at_point = Q(latitude__isnull=True) & _in_box("point__", box)
        matches |= (own | at_point) & _category_q(category)
    if report.point_id is None and not located:
        return []
    keys = base.filter(matches).order_by("-found_at", "-id").values("pk")[:CANDIDATE_LIMIT]
    rows = Problem.objects.filter(pk__in=keys).select_related("point", "unit", "check_item")
    if report.latitude is not None and report.longitude is not None:
        rows = rows.annotate(
            distance_m=haversine(
                Coalesce("latitude", "point__latitude"),
                Coalesce("longitude", "point__longitude"),
                float(report.latitude),
                float(report.longitude),
            )
        )
        near = Q(distance_m__lte=duplicate_distance_m())
        if report.point_id is not None:
            near |= Q(point_id=report.point_id)
        rows = rows.filter(near).order_by(F("distance_m").asc(nulls_first=True), "-found_at", "-id")
    else:
        rows = rows.annotate(distance_m=Value(None, output_field=FloatField())).order_by("-found_at", "-id")
    found = list(rows[:limit])
    for problem in found:
        if problem.distance_m is not None:
            problem.distance_m = round(problem.distance_m)
    return found


def report_repeats(report: Report, *, limit: int = 10) -> list[Report]:
    """Other pending reports of the same category within the duplicate distance and days (the same
    thing reported twice), closest first; one query."""
    if report.category_id is None or report.latitude is None or report.longitude is None:
        return []
    window = datetime.timedelta(days=duplicate_days())
    box = _box(float(report.latitude), float(report.longitude), duplicate_distance_m())
    keys = (
        Report.objects.filter(
            _in_box("", box),
            campaign_id=report.campaign_id,
            status=ReportStatus.PENDING,
            category_id=report.category_id,
            submitted_at__gte=report.submitted_at - window,
            submitted_at__lte=report.submitted_at + window,
        )
        .exclude(pk=report.pk)
        .order_by("-submitted_at")
        .values("pk")[:CANDIDATE_LIMIT]
    )
    rows = (
        Report.objects.filter(pk__in=keys)
        .annotate(distance_m=haversine(F("latitude"), F("longitude"), float(report.latitude), float(report.longitude)))
        .filter(distance_m__lte=duplicate_distance_m())
        .order_by("distance_m", "-submitted_at")
    )
    found = list(rows[:limit])
    for other in found:
        other.distance_m = round(other.distance_m)
    return found


def nearest_point(report: Report) -> Point | None:
    """The nearest active point within REPORT_NEAREST_POINT_M of the report (bounding box, then the
    exact distance, in one query), with `distance_m`; None without coordinates or none near."""
    if report.latitude is None or report.longitude is None:
        return None
    limit = nearest_point_m()
    box = _box(float(report.latitude), float(report.longitude), limit)
    keys = Point.objects.filter(_in_box("", box), active=True).order_by("id").values("pk")[:CANDIDATE_LIMIT]
    point = (
        Point.objects.filter(pk__in=keys)
        .select_related("unit", "point_type")
        .annotate(distance_m=haversine(F("latitude"), F("longitude"), float(report.latitude), float(report.longitude)))
        .filter(distance_m__lte=limit)
        .order_by("distance_m", "id")
        .first()
    )
    if point is not None:
        point.distance_m = round(point.distance_m)
    return point


# --- Triage --------------------------------------------------------------------------------------


def _lock_pending(report: Report, version: int | None) -> Report:
    locked = (
        Report.objects.select_for_update(of=("self",))
        .select_related("campaign", "category")
        .filter(pk=report.pk)
        .first()
    )
    if locked is None or locked.status != ReportStatus.PENDING:
        raise ReportConflict(ReportConflict.message)
    if version is not None and locked.version != version:
        raise ReportConflict(ReportConflict.message)
    return locked


def _mark(locked: Report, **fields) -> None:
    """The conditional UPDATE that decides a race: only from pending, only at the version read."""
    updated = Report.objects.filter(pk=locked.pk, status=ReportStatus.PENDING, version=locked.version).update(
        version=F("version") + 1, triaged_at=timezone.now(), **fields
    )
    if not updated:
        raise ReportConflict(ReportConflict.message)


@transaction.atomic
def report_accept(
    *,
    report: Report,
    user,
    unit=None,
    point: Point | None = None,
    check_item: CheckItem | None = None,
    description: str | None = None,
    version: int | None = None,
) -> Problem:
    """Accept a pending report: a new problem 待交办 (12345转办 or 市民随手拍, no deduction) at the
    chosen unit or point — else at the unit of the nearest active point within
    REPORT_NEAREST_POINT_M — with the report's photos, location and (edited) description."""
    _require_office(user)
    locked = _lock_pending(report, version)
    if unit is None and point is None:
        near = nearest_point(locked)
        if near is None:
            raise ValidationError({"unit": "请选择属地单位：附近没有可参照的点位。"})
        unit = near.unit
    text = locked.description if description is None else description
    if check_item is not None and locked.category is not None:
        allowed = set(locked.category.check_items.values_list("pk", flat=True))
        if allowed and check_item.pk not in allowed:
            raise ValidationError(
                {"check_item": f"测评细则“{check_item.text}”不属于问题类别“{locked.category.name}”。"}
            )
    problem = services.problem_create(
        campaign=locked.campaign,
        source=report_source(locked),
        unit=unit,
        point=point,
        check_item=check_item,
        description=text,
        found_at=min(locked.submitted_at, timezone.now()),
        created_by=user,
        latitude=locked.latitude,
        longitude=locked.longitude,
        address=locked.address,
        copied_photos=list(locked.photos.values_list("pk", flat=True)),
    )
    _mark(
        locked,
        status=ReportStatus.ACCEPTED,
        problem=problem,
        unit=problem.unit,
        point=point,
        triaged_by=user,
    )
    return problem


@transaction.atomic
def report_merge(*, report: Report, problem: Problem, user, version: int | None = None) -> Report:
    """Merge a pending report into an open problem of its campaign: another sighting of it, whose
    photos join the problem's."""
    _require_office(user)
    locked = _lock_pending(report, version)
    # Locked like the workflow locks it: a merge racing the problem's closing sees it closed.
    target = Problem.objects.select_for_update(of=("self",)).filter(pk=problem.pk).first()
    if target is None:
        raise ValidationError({"problem": "问题不存在。"})
    if target.campaign_id != locked.campaign_id:
        raise ValidationError({"problem": f"问题 #{target.pk} 不属于该反映的创建活动，不能合并。"})
    if target.status in (ProblemStatus.CLOSED, ProblemStatus.VOID):
        raise ValidationError(
            {"problem": f"问题 #{target.pk} {target.get_status_display()}，只能合并到未办结的问题；请改为受理。"}
        )
    _mark(locked, status=ReportStatus.MERGED, problem=target, unit_id=target.unit_id, triaged_by=user)
    photos = list(locked.photos.values_list("pk", flat=True))
    if photos:
        target.photos.add(*photos)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def report_reject(*, report: Report, user, reason: str, version: int | None = None) -> Report:
    """Reject a pending report with a reason the reporter is shown (≤ 300 characters)."""
    _require_office(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写不予受理的理由（将告知反映人）。"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"不予受理的理由不能超过 {REASON_MAX} 个字。"})
    locked = _lock_pending(report, version)
    _mark(locked, status=ReportStatus.REJECTED, reject_reason=reason, triaged_by=user)
    locked.refresh_from_db()
    return locked


def default_reply(at: datetime.datetime) -> str:
    return f"您反映的问题已于{timezone.localtime(at):%Y年%m月%d日}办结，感谢您对创建工作的支持与监督。"


def reports_problem_closed(*, problem: Problem, note: str, at: datetime.datetime) -> int:
    """Record the reply of the reports accepted or merged into a closed problem that have none yet:
    the closing note, else a default sentence naming the date. One UPDATE; returns how many."""
    reply = (note or "").strip() or default_reply(at)
    return Report.objects.filter(
        problem=problem,
        status__in=[ReportStatus.ACCEPTED, ReportStatus.MERGED],
        replied_at__isnull=True,
    ).update(reply=reply, replied_at=at)


@transaction.atomic
def report_set_reply(*, report: Report, user, reply: str) -> Report:
    """The office edits the reply sent back for an accepted or merged report."""
    _require_office(user)
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": "请填写办理回复。"})
    if len(reply) > report_text_max():
        raise ValidationError({"reply": f"办理回复不能超过 {report_text_max()} 个字。"})
    locked = Report.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if locked.status not in (ReportStatus.ACCEPTED, ReportStatus.MERGED):
        raise ValidationError({"reply": "只有已受理或已合并的反映有办理回复。"})
    Report.objects.filter(pk=locked.pk).update(
        reply=reply, replied_at=locked.replied_at or timezone.now(), version=F("version") + 1
    )
    locked.refresh_from_db()
    return locked


# --- Lists ---------------------------------------------------------------------------------------


def report_list(*, user, campaign: Campaign | None = None) -> QuerySet[Report]:
    """Reports the user may read (the office and leaders: all of the campaign; others none)."""
    if not can_read_reports(user):
        return Report.objects.none()
    queryset = Report.objects.select_related("category", "problem", "unit")
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    return queryset


def pending_count(*, campaign: Campaign | None) -> int:
    """待分拣 of the campaign: one COUNT on the queue index (campaign, status, submitted_at)."""
    if campaign is None:
        return 0
    return Report.objects.filter(campaign=campaign, status=ReportStatus.PENDING).count()


def status_counts(*, campaign: Campaign | None) -> dict[str, int]:
    if campaign is None:
        return {}
    from django.db.models import Count

    rows = Report.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    return dict(rows)


# --- 12345 tickets -------------------------------------------------------------------------------


def new_reference(channel: str) -> str:
    """A public, unguessable 受理编号, as the intake makes them (RX… for a 12345 ticket)."""
    from .intake import reference_new

    return reference_new(channel=channel, day=timezone.localdate())


TICKET_COLUMNS = [
    Column("ticket_no", "工单编号", ("工单号", "工单编码", "编号"), required=True),
    Column("called_at", "来电时间", ("受理时间", "来电日期", "派单时间")),
    Column("due_at", "办理时限", ("办结时限", "时限", "截止时间")),
    Column("reporter_name", "反映人", ("来电人", "诉求人", "姓名")),
    Column("reporter_phone", "联系电话", ("来电号码", "电话", "手机")),
    Column("category", "问题类别", ("类别", "诉求类别", "问题分类")),
    Column("description", "诉求内容", ("问题描述", "来电内容", "内容"), required=True),
    Column("address", "地址", ("发生地址", "事发地址", "诉求地址")),
    Column("longitude", "经度", ()),
    Column("latitude", "纬度", ()),
]
TICKET_HEADERS = {c.key: c.header for c in TICKET_COLUMNS}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$")
NAME_MAX = Report._meta.get_field("reporter_name").max_length
PHONE_MAX = Report._meta.get_field("reporter_phone").max_length
TICKET_MAX = Report._meta.get_field("ticket_no").max_length
ADDRESS_MAX = Report._meta.get_field("address").max_length
CATEGORY_TEXT_MAX = Report._meta.get_field("category_text").max_length
# Fields a re-import may change: all of them while pending, only the ticket's own once triaged.
PENDING_FIELDS = (
    "called_at",
    "ticket_due_at",
    "submitted_at",
    "reporter_name",
    "reporter_phone",
    "category",
    "category_text",
    "description",
    "address",
    "latitude",
    "longitude",
)
TICKET_FIELDS = ("called_at", "ticket_due_at")
FIELD_LABELS = {
    "called_at": "来电时间",
    "ticket_due_at": "办理时限",
    "submitted_at": "提交时间",
    "reporter_name": "反映人",
    "reporter_phone": "联系电话",
    "category": "问题类别",
    "category_text": "原始类别",
    "description": "诉求内容",
    "address": "地址",
    "latitude": "纬度",
    "longitude": "经度",
}


@dataclass
class TicketInput:
    """One ticket as read from a sheet row or the API (texts as given)."""

    row: int
    ticket_no: str = ""
    called_at: object = ""  # text, or a datetime (the API)
    due_at: object = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    category: str = ""
    description: str = ""
    address: str = ""
    latitude: object = ""
    longitude: object = ""


def parse_moment(value) -> tuple[datetime.datetime | None, str | None]:
    """(aware moment, error) from a date, or a date and time; blank → None."""
    if isinstance(value, datetime.datetime):
        return (value if timezone.is_aware(value) else timezone.make_aware(value)), None
    text = ("" if value is None else str(value)).strip()
    if not text:
        return None, None
    day = parse_sheet_date(text)
    if day is None:
        return None, f"无法识别的时间“{text[:30]}”，请填写如 2026-10-01 09:30。"
    clock = datetime.time(0, 0)
    found = _TIME.search(text)
    if found and (" " in text or "T" in text):
        hour, minute, second = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None, f"无法识别的时间“{text[:30]}”。"
        clock = datetime.time(hour, minute, second)
    return datetime.datetime.combine(day, clock, tzinfo=timezone.get_current_timezone()), None


def _coordinate(value) -> Decimal | None | str:
    """A coordinate, None when blank, or "bad"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return "bad"
    if not number.is_finite():
        return "bad"
    return number.quantize(Decimal("0.000001"))


def _category_index(campaign: Campaign) -> dict[str, PublicCategory]:
    index: dict[str, PublicCategory] = {}
    for category in PublicCategory.objects.filter(campaign=campaign).order_by("-active", "order", "id"):
        index.setdefault(category.name, category)
        index.setdefault(category.code.lower(), category)
    return index


def _shown(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, PublicCategory):
        return value.name
    return str(value)


@dataclass
class _Plan:
    row: int
    values: dict
    report: Report | None = None
    changed: tuple[str, ...] = ()


def tickets_upsert(*, campaign: Campaign, tickets: list[TicketInput], dry_run: bool) -> tuple[ImportResult, dict]:
    """Validate the tickets (every error with its row) and, when none and not a dry run, write them
    all: new 工单编号 → a pending hotline report; a known one → its pending report updated, its
    triaged report only in 来电时间/办理时限, an identical one untouched. Returns the result and
    {工单编号: 受理编号} (empty for new tickets in a dry run)."""
    result = ImportResult(dry_run=dry_run)
    if campaign is None:
        result.errors.append(RowError(None, "", "", "没有创建活动，请先创建或选择创建活动。"))
        return result, {}
    if not campaign.active:  # as report_submit refuses a 随手拍 into it
        result.errors.append(RowError(None, "", "", f"创建活动“{campaign.name}”已结束，不再接收12345工单。"))
        return result, {}
    categories = _category_index(campaign)
    limit = report_text_max()
    now = timezone.now()
    plans: list[_Plan] = []
    seen: dict[str, int] = {}
    for n, ticket in enumerate(tickets):
        report_progress("validate", n, len(tickets))
        row, errors = ticket.row, []

        def error(key, message, value="", row=row, errors=errors):
            errors.append(RowError(row, TICKET_HEADERS.get(key, key), str(value)[:60], message))

        number = str(ticket.ticket_no or "").strip()
        if not number:
            error("ticket_no", "请填写工单编号。")
        elif len(number) > TICKET_MAX:
            error("ticket_no", f"工单编号不能超过 {TICKET_MAX} 个字符。", number)
        elif number in seen:
            error("ticket_no", f"工单编号“{number}”与第 {seen[number]} 行重复。", number)
        else:
            seen[number] = row
        description = clean_text(ticket.description)
        if not description:
            error("description", "请填写诉求内容。")
        elif len(description) > limit:
            error("description", f"诉求内容不能超过 {limit} 个字（现有 {len(description)} 个）。")
        elif has_html(description):
            error("description", "请勿在诉求内容中填写网页代码，请用文字描述问题。")
        called_at, message = parse_moment(ticket.called_at)
        if message:
            error("called_at", message, ticket.called_at)
        elif called_at is not None and called_at > now + datetime.timedelta(minutes=5):
            error("called_at", "来电时间不能晚于现在。", ticket.called_at)
        due_at, message = parse_moment(ticket.due_at)
        if message:
            error("due_at", message, ticket.due_at)
        elif due_at is not None and called_at is not None and due_at < called_at:
            error("due_at", "办理时限不能早于来电时间。", ticket.due_at)
        name = clean_text(ticket.reporter_name)
        if len(name) > NAME_MAX:
            error("reporter_name", f"反映人不能超过 {NAME_MAX} 个字。", name)
        elif has_html(name):
            error("reporter_name", "请勿在反映人中填写网页代码。", name)
        phone = str(ticket.reporter_phone or "").strip()
        if len(phone) > PHONE_MAX:
            error("reporter_phone", f"联系电话不能超过 {PHONE_MAX} 个字符。", phone)
        elif phone and not re.fullmatch(r"[0-9+\-()（） *]+", phone):  # * : a number the platform masked
            error("reporter_phone", "联系电话只能包含数字、空格、+、-、括号和隐去数字的 *。", phone)
        address = clean_text(ticket.address)
        if len(address) > ADDRESS_MAX:
            error("address", f"地址不能超过 {ADDRESS_MAX} 个字。")
        elif has_html(address):
            error("address", "请勿在地址中填写网页代码。", address)
        raw_category = str(ticket.category or "").strip()
        category = categories.get(raw_category) or categories.get(raw_category.lower())
        category_text = ""
        if raw_category and category is None:
            category_text = raw_category[:CATEGORY_TEXT_MAX]
            result.warnings.append(
                RowError(
                    row,
                    TICKET_HEADERS["category"],
                    raw_category[:60],
                    f"问题类别“{raw_category[:30]}”不在本活动的公众问题类别中，已保留原文，分拣时请选择类别。",
                )
            )
        latitude, longitude = _coordinate(ticket.latitude), _coordinate(ticket.longitude)
        if latitude == "bad" or (latitude is not None and not -90 <= latitude <= 90):
            error("latitude", "纬度应为 -90 到 90 之间的数字。", ticket.latitude)
        if longitude == "bad" or (longitude is not None and not -180 <= longitude <= 180):
            error("longitude", "经度应为 -180 到 180 之间的数字。", ticket.longitude)
        if "bad" not in (latitude, longitude) and (latitude is None) != (longitude is None):
            error("latitude", "经度和纬度需同时填写。")
        if errors:
            result.errors.extend(errors)
            continue
        plans.append(
            _Plan(
                row=row,
                values={
                    "ticket_no": number,
                    "called_at": called_at,
                    "ticket_due_at": due_at,
                    "submitted_at": called_at,  # None: now for a new ticket, kept for a known one
                    "reporter_name": name,
                    "reporter_phone": phone,
                    "category": category,
                    "category_text": category_text,
                    "description": description,
                    "address": address,
                    "latitude": latitude,
                    "longitude": longitude,
                },
            )
        )
    report_progress("validate", len(tickets), len(tickets))
    if result.errors:
        return result, {}
    try:
        with transaction.atomic():
            references = _tickets_plan_and_write(campaign=campaign, plans=plans, result=result, dry_run=dry_run)
    except IntegrityError:
        result.rows = []
        result.errors.append(
            RowError(None, "", "", "导入时有相同工单编号的反映被他人同时写入，未写入任何数据。请重新预览后再导入。")
        )
        return result, {}
    return result, references


def _tickets_plan_and_write(*, campaign, plans: list[_Plan], result: ImportResult, dry_run: bool) -> dict:
    numbers = [plan.values["ticket_no"] for plan in plans]
    existing: dict[str, Report] = {}
    for chunk in _chunks(numbers):
        queryset = Report.objects.filter(campaign=campaign, ticket_no__in=chunk).select_related("category")
        if not dry_run:
            queryset = queryset.select_for_update(of=("self",))
        existing.update({report.ticket_no: report for report in queryset})
    references: dict[str, str] = {}
    to_create: list[Report] = []
    to_update: list[Report] = []
    now = timezone.now()
    for plan in plans:
        values = plan.values
        number = values["ticket_no"]
        report = existing.get(number)
        label = f"工单 {number}"
        if report is None:
            new = Report(
                campaign=campaign,
                channel=ReportChannel.HOTLINE,
                reference=new_reference(ReportChannel.HOTLINE),
                status=ReportStatus.PENDING,
                ticket_no=number,
                called_at=values["called_at"],
                ticket_due_at=values["ticket_due_at"],
                submitted_at=values["submitted_at"] or now,
                reporter_name=values["reporter_name"],
                reporter_phone=values["reporter_phone"],
                category=values["category"],
                category_text=values["category_text"],
                description=values["description"],
                address=values["address"],
                latitude=values["latitude"],
                longitude=values["longitude"],
            )
            to_create.append(new)
            references[number] = new.reference if not dry_run else ""
            result.rows.append(RowChange(plan.row, "create", label))
            continue
        references[number] = report.reference
        fields = PENDING_FIELDS if report.status == ReportStatus.PENDING else TICKET_FIELDS
        changes = {}
        for key in fields:
            new_value = values[key]
            if key == "submitted_at" and new_value is None:
                continue  # no 来电时间 given: the report keeps when it came in
            old_value = getattr(report, key)
            if old_value != new_value:
                changes[FIELD_LABELS[key]] = (_shown(key, old_value), _shown(key, new_value))
                setattr(report, key, new_value)
        if not changes:
            result.rows.append(RowChange(plan.row, "unchanged", label))
            continue
        if report.status != ReportStatus.PENDING:
            label += f"（已{report.get_status_display()}，只更新来电时间和办理时限）"
        result.rows.append(RowChange(plan.row, "update", label, changes))
        report.version = F("version") + 1
        to_update.append(report)
    if dry_run:
        return references
    report_progress("write", 0, len(to_create) + len(to_update))
    Report.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Report.objects.bulk_update(to_update, [*PENDING_FIELDS, "version"], batch_size=500)
    report_progress("write", len(to_create) + len(to_update), len(to_create) + len(to_update))
    return references


def tickets_import(*, campaign: Campaign, file, dry_run: bool) -> ImportResult:
    """The 12345 tickets' sheet (工单编号, 来电时间, 办理时限, 反映人, 联系电话, 问题类别, 诉求内容, 地址,
    经度, 纬度): preview, every row error with its row number, all or nothing; re-import updates."""
    try:
        rows = read_table(file, columns=TICKET_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    tickets = [TicketInput(row=row.number, **{c.key: row.get(c.key) for c in TICKET_COLUMNS}) for row in rows]
    result, _references = tickets_upsert(campaign=campaign, tickets=tickets, dry_run=dry_run)
    return result


# --- Hotline replies -----------------------------------------------------------------------------

REPLY_HEADERS = ["工单编号", "受理编号", "办理状态", "办理回复", "办结时间"]


def hotline_replies(*, campaign: Campaign, since: datetime.date | None = None, until: datetime.date | None = None):
    """12345 tickets with a reply recorded (their problem closed or voided) or rejected, for the
    platform's reply sheet: one query, ordered by when they were finished."""
    queryset = (
        Report.objects.filter(campaign=campaign, channel=ReportChannel.HOTLINE)
        .exclude(ticket_no="")
        .filter(
            Q(status__in=[ReportStatus.ACCEPTED, ReportStatus.MERGED], replied_at__isnull=False)
            | Q(status=ReportStatus.REJECTED)
        )
        .select_related("problem")
        .annotate(finished_at=Coalesce("replied_at", "triaged_at"))
    )
    tz = timezone.get_current_timezone()
    if since is not None:
        queryset = queryset.filter(finished_at__gte=datetime.datetime.combine(since, datetime.time(0), tzinfo=tz))
    if until is not None:
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
        queryset = queryset.filter(finished_at__lt=end)
    return queryset.order_by("finished_at", "id")


def hotline_reply_rows(queryset) -> list[list[str]]:
    rows = []
    for report in queryset:
        if report.status == ReportStatus.REJECTED:
            state, reply = "不予受理", report.reject_reason
        else:
            state = "已处理" if report.problem.status == ProblemStatus.VOID else "已办结"
            reply = report.reply or default_reply(report.replied_at)
        rows.append([report.ticket_no, report.reference, state, reply, _shown("finished_at", report.finished_at)])
    return rows


# --- Public categories ---------------------------------------------------------------------------


@transaction.atomic
def public_category_save(
    *,
    campaign: Campaign,
    code: str,
    name: str,
    category: PublicCategory | None = None,
    group: str = "",
    description: str = "",
    order: int = 0,
    active: bool = True,
    check_items=None,
    point_types=None,
) -> PublicCategory:
    """Create or update one of the campaign's public categories (the office's): code and name unique
    in the campaign, check items of the campaign's indicator systems."""
    code, name = (code or "").strip(), (name or "").strip()
    errors: dict[str, str] = {}
    if campaign is None:
        errors["campaign"] = "请选择创建活动。"
    if not code:
        errors["code"] = "请填写编码。"
    elif not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", code):
        errors["code"] = "编码只能包含字母、数字、下划线和短横线，最长 40 个字符。"
    if not name:
        errors["name"] = "请填写名称。"
    elif len(name) > 60:
        errors["name"] = "名称不能超过 60 个字。"
    if len(group or "") > 60:
        errors["group"] = "分组不能超过 60 个字。"
    if len(description or "") > 300:
        errors["description"] = "说明不能超过 300 个字。"
    if order is None or not 0 <= int(order) <= 2_147_483_647:
        errors["order"] = "排序应为不小于 0 的整数。"
    if campaign is not None and not errors:
        others = PublicCategory.objects.filter(campaign=campaign)
        if category is not None:
            others = others.exclude(pk=category.pk)
        if others.filter(code=code).exists():
            errors["code"] = f"编码“{code}”已被本活动的其他类别使用。"
        if others.filter(name=name).exists():
            errors["name"] = f"名称“{name}”已被本活动的其他类别使用。"
    items = list(check_items) if check_items is not None else None
    if items and campaign is not None:
        from indicators.models import Indicator

        ids = {item.pk if hasattr(item, "pk") else int(item) for item in items}
        valid = set(
            CheckItem.objects.filter(
                pk__in=ids, indicator__in=Indicator.objects.filter(system__campaign=campaign)
            ).values_list("pk", flat=True)
        )
        if ids - valid:
            errors["check_items"] = "测评细则须属于本活动的测评体系。"
    if errors:
        raise ValidationError(errors)
    if category is None:
        category = PublicCategory(campaign=campaign)
    category.code, category.name = code, name
    category.group, category.description = (group or "").strip(), (description or "").strip()
    category.order, category.active = int(order), bool(active)
    category.save()
    if items is not None:
        category.check_items.set(items)
    if point_types is not None:
        category.point_types.set(list(point_types))
    return category


CATEGORY_COLUMNS = [
    Column("code", "编码", ("类别编码", "service_code"), required=True),
    Column("name", "名称", ("类别名称", "问题类别"), required=True),
    Column("group", "分组", ("类别分组",)),
    Column("description", "说明", ("描述",)),
    Column("order", "排序", ("顺序",)),
    Column("active", "启用", ("是否启用",)),
    Column("check_items", "对应测评细则", ("测评细则", "检查项")),
    Column("point_types", "对应点位类别", ("点位类别", "点位类型")),
]
CATEGORY_HEADERS = {c.key: c.header for c in CATEGORY_COLUMNS}
ITEM_SEPARATOR = "；"  # between check items: their texts hold 、 and ，
TYPE_SEPARATORS = re.compile(r"[、，,；;\n]+")
YES = {"", "是", "启用", "Y", "y", "1", "√", "true", "TRUE"}
NO = {"否", "停用", "N", "n", "0", "×", "false", "FALSE"}


def check_item_label(item: CheckItem) -> str:
    """How the categories sheet names a check item: 点位类别：检查内容."""
    return f"{item.point_type.name}：{item.text}"


def public_category_rows(queryset) -> list[list[str]]:
    """The categories in the import's layout (an export re-imports with no change)."""
    rows = []
    for category in queryset.prefetch_related("check_items__point_type", "point_types"):
        rows.append(
            [
                category.code,
                category.name,
                category.group,
                category.description,
                str(category.order),
                "是" if category.active else "否",
                ITEM_SEPARATOR.join(check_item_label(item) for item in category.check_items.all()),
                "、".join(t.name for t in category.point_types.all()),
            ]
        )
    return rows


def public_categories_import(*, campaign: Campaign, file, dry_run: bool) -> ImportResult:
    """The campaign's public categories from a sheet: matched by 编码 (new ones created, known ones
    updated), check items named 点位类别：检查内容 separated by ；, point types by name; preview, row
    errors with row numbers, all or nothing, the same sheet again changes nothing. Look-ups read
    once for all rows."""
    result = ImportResult(dry_run=dry_run)
    if campaign is None:
        result.errors.append(RowError(None, "", "", "没有创建活动，请先创建或选择创建活动。"))
        return result
    try:
        rows = read_table(file, columns=CATEGORY_COLUMNS)
    except ImportFileError as exc:
        return exc.as_result(dry_run=dry_run)
    existing = {
        c.code: c
        for c in PublicCategory.objects.filter(campaign=campaign).prefetch_related("check_items", "point_types")
    }
    items = {
        check_item_label(item): item
        for item in CheckItem.objects.filter(indicator__system__campaign=campaign).select_related("point_type")
    }
    from .models import PointType

    types = {t.name: t for t in PointType.objects.all()}
    plans, codes, names = [], {}, {}
    for row in rows:
        n, errors = row.number, []

        def error(key, message, value="", n=n, errors=errors):
            errors.append(RowError(n, CATEGORY_HEADERS[key], str(value)[:60], message))

        code, name = row.get("code"), row.get("name")
        if not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", code):
            error("code", "编码只能包含字母、数字、下划线和短横线，最长 40 个字符。", code)
        elif code in codes:
            error("code", f"编码“{code}”与第 {codes[code]} 行重复。", code)
        codes.setdefault(code, n)
        if not name or len(name) > 60:
            error("name", "请填写名称（最多 60 个字）。", name)
        elif name in names:
            error("name", f"名称“{name}”与第 {names[name]} 行重复。", name)
        names.setdefault(name, n)
        order_text = row.get("order") or "0"
        if not (order_text.isascii() and order_text.isdigit() and len(order_text) <= 9):  # "²" is a digit
            error("order", "排序应为不小于 0 的整数。", order_text)
        active_text = row.get("active")
        if active_text not in YES | NO:
            error("active", "启用应填“是”或“否”。", active_text)
        wanted_items = []
        for label in filter(None, (part.strip() for part in re.split(r"[；;\n]+", row.get("check_items")))):
            label = label.replace(":", "：", 1) if "：" not in label else label
            item = items.get(label)
            if item is None:
                error(
                    "check_items", f"本活动的测评体系中没有测评细则“{label[:40]}”（格式：点位类别：检查内容）。", label
                )
            else:
                wanted_items.append(item)
        wanted_types = []
        for type_name in filter(None, (part.strip() for part in TYPE_SEPARATORS.split(row.get("point_types")))):
            if type_name not in types:
                error("point_types", f"没有点位类别“{type_name}”。", type_name)
            else:
                wanted_types.append(types[type_name])
        for key, limit in (("group", 60), ("description", 300)):
            if len(row.get(key)) > limit:
                error(key, f"{CATEGORY_HEADERS[key]}不能超过 {limit} 个字。")
        if errors:
            result.errors.extend(errors)
            continue
        plans.append(
            (
                n,
                {
                    "code": code,
                    "name": name,
                    "group": row.get("group"),
                    "description": row.get("description"),
                    "order": int(order_text),
                    "active": active_text in YES,
                    "check_items": wanted_items,
                    "point_types": wanted_types,
                },
            )
        )
    taken = {c.name: c.code for c in existing.values()}
    for n, values in plans:
        other = taken.get(values["name"])
        if other is not None and other != values["code"] and other not in codes:
            result.errors.append(
                RowError(
                    n,
                    CATEGORY_HEADERS["name"],
                    values["name"],
                    f"名称“{values['name']}”已被编码为“{other}”的类别使用。",
                )
            )
    if result.errors:
        return result
    writes = []
    for n, values in plans:
        category = existing.get(values["code"])
        label = f"{values['code']} {values['name']}"
        if category is None:
            result.rows.append(RowChange(n, "create", label))
            writes.append((None, values))
            continue
        changes = {}
        for key in ("name", "group", "description", "order", "active"):
            if getattr(category, key) != values[key]:
                changes[CATEGORY_HEADERS[key]] = (_shown(key, getattr(category, key)), _shown(key, values[key]))
        old_items = {i.pk for i in category.check_items.all()}
        if old_items != {i.pk for i in values["check_items"]}:
            changes[CATEGORY_HEADERS["check_items"]] = (f"{len(old_items)} 项", f"{len(values['check_items'])} 项")
        old_types = {t.pk for t in category.point_types.all()}
        if old_types != {t.pk for t in values["point_types"]}:
            changes[CATEGORY_HEADERS["point_types"]] = (
                "、".join(t.name for t in category.point_types.all()),
                "、".join(t.name for t in values["point_types"]),
            )
        if changes:
            result.rows.append(RowChange(n, "update", label, changes))
            writes.append((category, values))
        else:
            result.rows.append(RowChange(n, "unchanged", label))
    if dry_run or not writes:
        return result
    try:
        with transaction.atomic():
            for category, values in writes:
                public_category_save(campaign=campaign, category=category, **values)
    except (ValidationError, IntegrityError):
        result.rows = []
        result.errors.append(
            RowError(None, "", "", "导入时公众问题类别已被他人修改，未写入任何数据。请重新预览后再导入。")
        )
    return result
