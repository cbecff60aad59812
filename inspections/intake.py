"""Reports from outside the office (issue 15): a citizen's 随手拍, a 12345 ticket, an Open311 request
become a `Report` waiting in the 待分拣 queue. This module is the one writer of a new report
(`report_submit`), the one definition of what outsiders may see of it (`report_public_status`,
`report_public_steps`) and the public endpoints' rate limits (`rate_limit_check`, `lookup_check`).

Reference numbers: a channel prefix (SP 随手拍, RX 12345, OP Open311), the submission's local date
(yymmdd) and six characters of Crockford base32 drawn from `secrets` — 32⁶ ≈ 10⁹ per channel and
day, so a number cannot be guessed from another; no I, L, O or U, so it reads back aloud.
`reference_normalize` turns what a citizen types (lower case, spaces, dashes, O for 0, I/L for 1)
into the stored form.

Nothing here shows or returns the reporter's name or phone: they stay on the office's pages."""

from __future__ import annotations

import datetime
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaign.models import Campaign

from .choices import ProblemStatus, ReportChannel, ReportStatus
from .models import IntakeKey, Photo, PublicCategory, Report

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_RANDOM_CHARS = 6
CHANNEL_PREFIX = {
    ReportChannel.CITIZEN: "SP",
    ReportChannel.HOTLINE: "RX",
    ReportChannel.OPEN311: "OP",
}
REFERENCE_PATTERN = re.compile(r"^(SP|RX|OP)\d{6}[0-9A-HJKMNP-TV-Z]{6}$")

NAME_MAX = 50
ADDRESS_MAX = 300
PHONE_MAX = 20
HTML_MESSAGE = "请勿在描述中填写网页代码，请用文字描述问题。"
RATE_MESSAGE = "提交过于频繁，请稍后再试。"

# A tag (<script>, </a>, <img src=…>, <!-- -->), an entity-encoded one, or a javascript: URL.
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!?][^<>]*>|&(lt|gt|#0*60|#x0*3c);|javascript\s*:", re.IGNORECASE)
# Control characters other than the line feed and the tab; the carriage return goes too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# A mainland mobile (optionally +86), or a landline with or without its area code and extension.
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3}-?)?[2-9]\d{6,7}(?:-\d{1,6})?$")


def report_text_max() -> int:
    return int(getattr(settings, "REPORT_TEXT_MAX", 1000))


def report_max_photos() -> int:
    return int(getattr(settings, "REPORT_MAX_PHOTOS", 4))


def clean_text(value) -> str:
    """Text as stored: control characters removed, line endings unified, ends trimmed."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def has_html(text: str) -> bool:
    return bool(_HTML.search(text or ""))


def phone_normalize(value) -> str:
    """The phone as stored: spaces and dots out, full-width digits and dashes made ASCII."""
    text = clean_text(value).translate(str.maketrans("０１２３４５６７８９－—（）", "0123456789--()"))
    return re.sub(r"[\s.()]", "", text)


def phone_valid(phone: str) -> bool:
    return 7 <= len(phone) <= PHONE_MAX and bool(_MOBILE.match(phone) or _LANDLINE.match(phone))


def _coordinate(value, name: str, low: int, high: int, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[name] = "位置坐标格式不正确，请重新定位或在地图上选点。"
        return None
    if not number.is_finite() or not low <= number <= high:
        label = "纬度" if name == "latitude" else "经度"
        errors[name] = f"{label}应在 {low} 到 {high} 之间。"
        return None
    return number.quantize(Decimal("0.000001"))


def _photo_ids(photos) -> list[int]:
    ids = []
    for photo in photos or ():
        ids.append(photo.pk if isinstance(photo, Photo) else int(photo))
    return ids


def photos_unused_q():
    """Photos no record cites yet: no observation, problem, report, workflow event, appeal or
    recheck (the last three are the accountability app's, named by their reverse relations)."""
    from django.db.models import Q

    return Q(
        observation__isnull=True,
        problems__isnull=True,
        reports__isnull=True,
        problem_events__isnull=True,
        appeals__isnull=True,
        rechecks__isnull=True,
    )


def reference_new(*, channel: str, day: datetime.date) -> str:
    random_part = "".join(secrets.choice(CROCKFORD) for _ in range(REFERENCE_RANDOM_CHARS))
    return f"{CHANNEL_PREFIX[channel]}{day:%y%m%d}{random_part}"


def reference_normalize(value) -> str:
    """What a citizen typed, as stored: upper case, no spaces or dashes, the Crockford look-alikes
    (O → 0, I and L → 1) read back after the channel prefix."""
    text = re.sub(r"[\s\-_]", "", str(value or "")).upper()[:40]
    return text[:2] + text[2:].translate(str.maketrans("OIL", "011"))


@transaction.atomic
def report_submit(
    *,
    campaign: Campaign | None,
    channel: str,
    category: PublicCategory | None,
    description: str,
    latitude=None,
    longitude=None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    photos=(),
    intake_key: IntakeKey | None = None,
    submitted_at: datetime.datetime | None = None,
    category_text: str = "",
) -> Report:
    """File a report into the 待分拣 queue. Everything is checked before anything is written; a
    refusal raises ValidationError with a Chinese message per field. A 12345 ticket may come
    without a mapped category (its `category_text` is kept and the office picks one at triage);
    随手拍 and Open311 need an active category of the campaign. `photos` are citizens' photos
    uploaded through `photo_upload(user=None)` (instances or ids) that nothing cites yet."""
    errors: dict[str, str] = {}
    if campaign is None:
        raise ValidationError({"campaign": "暂未开放：当前没有进行中的创建活动。"})
    if not campaign.active:
        errors["campaign"] = f"创建活动“{campaign.name}”已结束，暂不受理反映。"
    if channel not in ReportChannel.values:
        errors["channel"] = "未知的反映渠道。"

    if category is None:
        usable = channel == ReportChannel.HOTLINE  # a ticket's own classification is kept as text
    else:
        usable = category.campaign_id == campaign.pk and category.active
    if not usable:
        errors["category"] = "请选择问题类别。"
    category_text = clean_text(category_text)[:100]

    description = clean_text(description)
    limit = report_text_max()
    if not description:
        errors["description"] = "请填写问题描述。"
    elif len(description) > limit:
        errors["description"] = f"问题描述不能超过 {limit} 字（现有 {len(description)} 字）。"
    elif has_html(description):
        errors["description"] = HTML_MESSAGE

    address = clean_text(address)
    if len(address) > ADDRESS_MAX:
        errors["address"] = f"地址不能超过 {ADDRESS_MAX} 字。"
    elif has_html(address):
        errors["address"] = "请勿在地址中填写网页代码。"

    reporter_name = clean_text(reporter_name)
    if len(reporter_name) > NAME_MAX:
        errors["reporter_name"] = f"姓名不能超过 {NAME_MAX} 字。"
    elif has_html(reporter_name):
        errors["reporter_name"] = "请勿在姓名中填写网页代码。"

    reporter_phone = phone_normalize(reporter_phone)
    if reporter_phone and not phone_valid(reporter_phone):
        errors["reporter_phone"] = "联系电话格式不正确：请填写11位手机号，或带区号的固定电话（如 0571-87654321）。"

    lat = _coordinate(latitude, "latitude", -90, 90, errors)
    lng = _coordinate(longitude, "longitude", -180, 180, errors)
    if "latitude" not in errors and "longitude" not in errors and (lat is None) != (lng is None):
        errors["latitude"] = "位置需同时有经度和纬度，请重新定位或在地图上选点。"

    photo_ids = _photo_ids(photos)
    if len(photo_ids) > report_max_photos():
        errors["photos"] = f"最多上传 {report_max_photos()} 张照片。"
    elif len(set(photo_ids)) != len(photo_ids):
        errors["photos"] = "同一张照片不能重复上传。"
    elif photo_ids:
        # A citizen's photos only (no uploader): an inspector's unattached photo is the office's.
        usable = set(
            Photo.objects.filter(photos_unused_q(), pk__in=photo_ids, uploaded_by__isnull=True)
            .distinct()
            .values_list("pk", flat=True)
        )
        if len(usable) != len(photo_ids):
            errors["photos"] = "照片不存在或已被使用，请重新上传。"

    if intake_key is not None and (intake_key.campaign_id != campaign.pk or not intake_key.active):
        errors["intake_key"] = "接口密钥无效或已停用。"

    now = timezone.now()
    submitted_at = submitted_at or now
    if submitted_at > now + datetime.timedelta(minutes=5):
        errors["submitted_at"] = "提交时间不能晚于现在。"
    if errors:
        raise ValidationError(errors)

    day = timezone.localtime(submitted_at).date()
    for _attempt in range(8):
        reference = reference_new(channel=channel, day=day)
        if Report.objects.filter(reference=reference).exists():
            continue
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    campaign=campaign,
                    channel=channel,
                    reference=reference,
                    status=ReportStatus.PENDING,
                    category=category,
                    category_text=category_text or (category.name if category else ""),
                    description=description,
                    address=address,
                    latitude=lat,
                    longitude=lng,
                    reporter_name=reporter_name,
                    reporter_phone=reporter_phone,
                    submitted_at=submitted_at,
                    intake_key=intake_key,
                )
        except IntegrityError:
            if Report.objects.filter(reference=reference).exists():
                continue  # drawn by a concurrent submission between the check and the insert
            raise
        break
    else:  # pragma: no cover - eight collisions in a billion-per-day space
        raise ValidationError({"reference": "受理编号生成失败，请重试。"})
    if photo_ids:
        report.photos.set(photo_ids)
    return report


# --- What outsiders see ----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicStatus:
    """A report's status as the public sees it: the citizen's status page and Open311."""

    code: str  # pending | rejected | in_progress | closed | handled
    label: str
    note: str
    open311_status: str  # "open" | "closed"
    updated_at: datetime.datetime


@dataclass(frozen=True)
class PublicStep:
    label: str
    done: bool
    at: datetime.datetime | None = None


def _latest(*moments) -> datetime.datetime:
    return max(moment for moment in moments if moment is not None)


def report_public_status(report: Report) -> PublicStatus:
    """One definition of what an outsider sees of a report: 已收到，待分拣 → 办理中 (已交办至 the
    handler) → 已办结 (with the reply), or 不予受理 with its reason. A merged report follows the
    problem it joined. A voided problem (a correction, a duplicate the office found) needs no action:
    已处理, with a neutral note. Reads `report.problem` and its handler (select them related)."""
    base = [report.submitted_at, report.triaged_at, report.replied_at]
    if report.status == ReportStatus.PENDING:
        return PublicStatus(
            "pending", "已收到，待分拣", "您的反映已收到，工作人员将尽快核实分拣。", "open", _latest(*base)
        )
    if report.status == ReportStatus.REJECTED:
        reason = report.reject_reason or "不属于受理范围。"
        return PublicStatus("rejected", "不予受理", f"不予受理理由：{reason}", "closed", _latest(*base))
    problem = report.problem
    if problem is None:  # accepted without a problem cannot happen; shown as received
        return PublicStatus("in_progress", "办理中", "已受理，正在安排办理。", "open", _latest(*base))
    if problem.status == ProblemStatus.CLOSED:
        note = report.reply or "问题已整改完毕。感谢您的反映！"
        return PublicStatus("closed", "已办结", note, "closed", _latest(*base, problem.closed_at))
    if problem.status == ProblemStatus.VOID:
        note = report.reply or "经核实，该问题已处理，无需另行办理。感谢您的反映！"
        return PublicStatus("handled", "已处理", note, "closed", _latest(*base, problem.closed_at))
    if problem.handler_id:
        note = f"已交办至{problem.handler.name}，正在整改。"
    else:
        note = "已受理，正在安排办理单位。"
    return PublicStatus("in_progress", "办理中", note, "open", _latest(*base))


def report_public_steps(report: Report) -> list[PublicStep]:
    """The status page's timeline: 已提交 → 已受理 → 已交办 → 已办结 (or 已提交 → 不予受理)."""
    submitted = PublicStep("已提交", True, report.submitted_at)
    if report.status == ReportStatus.REJECTED:
        return [submitted, PublicStep("不予受理", True, report.triaged_at)]
    accepted = report.status in (ReportStatus.ACCEPTED, ReportStatus.MERGED)
    problem = report.problem if accepted else None
    assigned = problem is not None and (problem.handler_id is not None or problem.status != ProblemStatus.NEW)
    finished = problem is not None and problem.status in (ProblemStatus.CLOSED, ProblemStatus.VOID)
    return [
        submitted,
        PublicStep("已受理", accepted, report.triaged_at if accepted else None),
        PublicStep("已交办", assigned or finished),
        PublicStep("已办结", finished, problem.closed_at if finished else None),
    ]


# --- Rate limits -----------------------------------------------------------------------------


def _count(key: str) -> int:
    """Add one to a counter of the current hour, atomically (add creates it, incr raises it)."""
    hour = int(timezone.now().timestamp()) // 3600
    full = f"intake:{key}:{hour}"
    cache.add(full, 0, timeout=3700)
    try:
        return cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=3700)
        return 1


def _peek(key: str) -> int:
    hour = int(timezone.now().timestamp()) // 3600
    return int(cache.get(f"intake:{key}:{hour}") or 0)


def rate_limit_check(*, ip: str, phone: str = "") -> None:
    """Count one submission for the client address and, when given, the phone (per hour:
    REPORT_RATE_PER_IP, REPORT_RATE_PER_PHONE); raise when either is over its limit. The views
    answer 429 for it."""
    per_ip = int(getattr(settings, "REPORT_RATE_PER_IP", 10))
    per_phone = int(getattr(settings, "REPORT_RATE_PER_PHONE", 5))
    over = ip and _count(f"ip:{ip}") > per_ip
    phone = phone_normalize(phone)
    if phone and _count(f"phone:{phone}") > per_phone:
        over = True
    if over:
        raise ValidationError(RATE_MESSAGE, code="rate_limited")


def hotline_push_check(*, key_id: int) -> None:
    """Count one 12345 push by an intake key (per hour: HOTLINE_PUSHES_PER_KEY, each of up to 1,000
    tickets); raise when the key is over: a leaked key cannot flood the 待分拣 queue. The office's
    own pushes (its token) are not counted."""
    limit = int(getattr(settings, "HOTLINE_PUSHES_PER_KEY", 60))
    if _count(f"push:{key_id}") > limit:
        raise ValidationError(f"该接口密钥本小时推送次数已达上限（{limit} 次），请稍后再试。", code="rate_limited")


def rate_limited(*, ip: str, phone: str = "") -> bool:
    """Whether the address or the phone has used up its hour already (read only: a page refuses
    early, before storing photos; `rate_limit_check` is the counting check)."""
    per_ip = int(getattr(settings, "REPORT_RATE_PER_IP", 10))
    per_phone = int(getattr(settings, "REPORT_RATE_PER_PHONE", 5))
    phone = phone_normalize(phone)
    return bool(ip and _peek(f"ip:{ip}") >= per_ip) or bool(phone and _peek(f"phone:{phone}") >= per_phone)


def refusals_exceeded(*, ip: str) -> bool:
    """Whether the address has had REPORT_REFUSED_PER_IP submissions refused this hour: refused
    input does not use up the hourly limit, yet each may carry photos to decode, so it has its own."""
    return bool(ip and _peek(f"refused:{ip}") >= int(getattr(settings, "REPORT_REFUSED_PER_IP", 30)))


def refusal_counted(*, ip: str) -> None:
    if ip:
        _count(f"refused:{ip}")


def lookup_check(*, ip: str) -> None:
    """Refuse a status look-up from an address that has asked for too many unknown numbers this
    hour (REPORT_LOOKUP_MISSES_PER_IP): guessing numbers is slowed, reading one's own is not."""
    if ip and _peek(f"miss:{ip}") >= int(getattr(settings, "REPORT_LOOKUP_MISSES_PER_IP", 20)):
        raise ValidationError("查询过于频繁，请稍后再试。", code="rate_limited")


def lookup_missed(*, ip: str) -> None:
    if ip:
        _count(f"miss:{ip}")


def report_by_reference(reference) -> Report | None:
    """The report of a public number, with what its status needs, or None."""
    reference = reference_normalize(reference)
    if not REFERENCE_PATTERN.match(reference):
        return None
    return Report.objects.select_related("category", "problem", "problem__handler").filter(reference=reference).first()
