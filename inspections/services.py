"""Writes of the field-inspection app: points, check items, rounds and their sampling, photos, and
the submission of an inspection — scoring, charging and opening problems in one transaction."""

from __future__ import annotations

import datetime
import hashlib
import io
import math
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from campaign.audit import one_history_row
from campaign.choices import UnitKind
from campaign.importing import megabytes
from campaign.models import Campaign, Unit
from campaign.selectors import scope_for, unit_ancestors
from indicators.models import Indicator

from . import photo_checks
from .choices import ChargeKind, ProblemSource, ProblemStatus, Result, Severity
from .models import Charge, CheckItem, Inspection, InspectionRound, Observation, Photo, Point, PointType, Problem
from .scoring import score_observation
from .signals import observations_changed

MAX_OCCURRENCES = 100

# --- Points -----------------------------------------------------------------------------------

POINT_FIELDS = (
    "name",
    "point_type",
    "address",
    "latitude",
    "longitude",
    "unit",
    "sponsor",
    "contact_name",
    "contact_phone",
    "key_point",
    "active",
)


def _validate_point_unit(unit: Unit) -> None:
    """A point sits in a community or a street — or directly under a district when the city's data
    has no street for it (an evaluator's rows without a street): its territorial chain is then the
    district alone."""
    if unit.kind not in (UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.DISTRICT):
        raise ValidationError({"unit": "点位的所属单位必须是社区(村)、街道(乡镇)，或没有街道时的区县。"})


def _validate_coordinates(latitude, longitude) -> None:
    errors = {}
    if (latitude is None) != (longitude is None):
        errors["latitude"] = "经度和纬度需同时填写。"
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = "纬度应在 -90 到 90 之间。"
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = "经度应在 -180 到 180 之间。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def point_create(*, name: str, point_type: PointType, unit: Unit, departments=None, **fields) -> Point:
    _validate_point_unit(unit)
    _validate_coordinates(fields.get("latitude"), fields.get("longitude"))
    if Point.objects.filter(name=name, point_type=point_type, unit=unit).exists():
        raise ValidationError({"name": f"“{unit.name}”下已有同名同类点位“{name}”。"})
    point = Point(name=name, point_type=point_type, unit=unit, **fields)
    point.full_clean(validate_constraints=False)
    with one_history_row(point, "+"):  # one history row, with its departments
        point.save()
        point.departments.set(departments if departments is not None else point_type.departments.all())
    return point


@transaction.atomic
def point_update(*, point: Point, departments=None, **fields) -> Point:
    unknown = set(fields) - set(POINT_FIELDS)
    if unknown:
        raise TypeError(f"unknown point fields: {sorted(unknown)}")
    for key, value in fields.items():
        setattr(point, key, value)
    _validate_point_unit(point.unit)
    _validate_coordinates(point.latitude, point.longitude)
    if (
        Point.objects.filter(name=point.name, point_type=point.point_type, unit=point.unit)
        .exclude(pk=point.pk)
        .exists()
    ):
        raise ValidationError({"name": f"“{point.unit.name}”下已有同名同类点位“{point.name}”。"})
    point.full_clean(validate_constraints=False)
    with one_history_row(point):
        point.save()
        if departments is not None:
            point.departments.set(departments)
    return point


@transaction.atomic
def point_type_save(
    *,
    point_type: PointType | None = None,
    name: str,
    order: int = 0,
    active: bool = True,
    departments=None,
    category: str | None = None,
) -> PointType:
    """Create a city's own point type, or edit one (the national ones too: name, order, active,
    分类, default departments). `category` None keeps the type's own."""
    if PointType.objects.filter(name=name).exclude(pk=point_type.pk if point_type else None).exists():
        raise ValidationError({"name": "已有同名的点位类别。"})
    change = "~" if point_type else "+"
    point_type = point_type or PointType(national=False)
    point_type.name, point_type.order, point_type.active = name, order, active
    if category is not None:
        point_type.category = category
    with one_history_row(point_type, change):
        point_type.save()
        if departments is not None:
            point_type.departments.set(departments)
    return point_type


def point_types_set_default_departments() -> int:
    """Give each national point type its usual supervising departments, found by short name, where
    it has none yet (idempotent). Returns how many types changed."""
    from .choices import NATIONAL_POINT_TYPES

    changed = 0
    for order, (name, departments) in enumerate(NATIONAL_POINT_TYPES, start=1):
        point_type, _ = PointType.objects.get_or_create(name=name, defaults={"order": order, "national": True})
        if not point_type.departments.exists():
            point_type.departments.set(Unit.objects.filter(short_name__in=departments, kind=UnitKind.DEPARTMENT))
            changed += 1
    return changed


# --- Check items ------------------------------------------------------------------------------

# A check item's own 整改时限 in working days; blank means the default of its severity.
DEADLINE_DAYS_MIN, DEADLINE_DAYS_MAX = 1, 60


def _validate_deadline_days(value, errors: dict) -> None:
    if value is not None and not (
        isinstance(value, int) and not isinstance(value, bool) and DEADLINE_DAYS_MIN <= value <= DEADLINE_DAYS_MAX
    ):
        errors["deadline_days"] = f"整改时限应为 {DEADLINE_DAYS_MIN} 到 {DEADLINE_DAYS_MAX} 之间的整数（工作日）。"


@transaction.atomic
def check_item_create(
    *,
    point_type: PointType,
    indicator: Indicator,
    text: str,
    per_occurrence: Decimal,
    cap: Decimal,
    counting_rule: str = "",
    severity: str = Severity.NORMAL,
    exemption_note: str = "",
    departments=(),
    order: int | None = None,
    deadline_days: int | None = None,
) -> CheckItem:
    errors = {}
    _validate_deadline_days(deadline_days, errors)
    if per_occurrence is None or per_occurrence <= 0:
        errors["per_occurrence"] = "每处扣分必须大于 0。"
    elif cap is None or cap < per_occurrence:
        errors["cap"] = "最高扣分不能小于每处扣分。"
    if CheckItem.objects.filter(point_type=point_type, indicator=indicator, text=text).exists():
        errors["text"] = "该点位类别下已有相同的检查内容。"
    if errors:
        raise ValidationError(errors)
    if order is None:
        order = CheckItem.objects.filter(point_type=point_type).count() + 1
    item = CheckItem(
        point_type=point_type,
        indicator=indicator,
        text=text,
        per_occurrence=per_occurrence,
        cap=cap,
        counting_rule=counting_rule,
        severity=severity,
        exemption_note=exemption_note,
        order=order,
        deadline_days=deadline_days,
    )
    with one_history_row(item, "+"):  # one history row, with its departments
        item.save(force_insert=True)
        item.departments.set(departments)
    return item


CHECK_ITEM_FIELDS = (
    "text",
    "per_occurrence",
    "cap",
    "counting_rule",
    "severity",
    "exemption_note",
    "order",
    "active",
    "deadline_days",
)


@transaction.atomic
def check_item_update(*, item: CheckItem, departments=None, **fields) -> CheckItem:
    unknown = set(fields) - set(CHECK_ITEM_FIELDS)
    if unknown:
        raise TypeError(f"unknown check item fields: {sorted(unknown)}")
    per, cap = fields.get("per_occurrence", item.per_occurrence), fields.get("cap", item.cap)
    errors: dict[str, str] = {}
    _validate_deadline_days(fields.get("deadline_days"), errors)
    if errors:
        raise ValidationError(errors)
    if per is None or per <= 0:
        raise ValidationError({"per_occurrence": "每处扣分必须大于 0。"})
    if cap is None or cap < per:
        raise ValidationError({"cap": "最高扣分不能小于每处扣分。"})
    if (
        "text" in fields
        and CheckItem.objects.filter(point_type=item.point_type, indicator=item.indicator, text=fields["text"])
        .exclude(pk=item.pk)
        .exists()
    ):
        raise ValidationError({"text": "该点位类别下已有相同的检查内容。"})
    for key, value in fields.items():
        setattr(item, key, value)
    with one_history_row(item):  # one history row, with its departments
        item.save()
        if departments is not None:
            item.departments.set(departments)
    return item


# --- Rounds and sampling ----------------------------------------------------------------------


@transaction.atomic
def round_create(
    *,
    user,
    campaign: Campaign,
    name: str,
    kind: str,
    start_date: datetime.date,
    end_date: datetime.date,
    inspectors=(),
    points=(),
) -> InspectionRound:
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以安排督查批次。")
    if not campaign.active:
        raise ValidationError(
            {"campaign": f"创建活动“{campaign.name}”已结束（归档），不能再安排督查批次；已有批次仍可查看。"}
        )
    if end_date < start_date:
        raise ValidationError({"end_date": "结束日期不能早于开始日期。"})
    round_ = InspectionRound.objects.create(
        campaign=campaign, name=name, kind=kind, start_date=start_date, end_date=end_date, created_by=user
    )
    round_.inspectors.set(inspectors)
    round_.points.set(points)
    return round_


def sample_points(*, seed: int, quota: dict[int, int], districts=None) -> list[Point]:
    """Draw `quota[point_type_id]` active points of each type in each district, as evaluators
    sample. The same seed, quota and points give the same draw."""
    districts = list(districts if districts is not None else Unit.objects.filter(kind=UnitKind.DISTRICT, active=True))
    drawn: list[Point] = []
    for district in sorted(districts, key=lambda d: d.code):
        for type_id in sorted(quota):
            candidates = list(
                Point.objects.filter(active=True, point_type_id=type_id, unit__path__startswith=district.path).order_by(
                    "pk"
                )
            )
            rng = random.Random(f"{seed}:{district.code}:{type_id}")
            drawn += rng.sample(candidates, min(int(quota[type_id]), len(candidates)))
    return drawn


@transaction.atomic
def round_draw(*, user, round_: InspectionRound, quota: dict[int, int], seed: int | None = None) -> list[Point]:
    """Record the seed and quota on the round and replace its points with the draw."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以抽取点位。")
    bad = [k for k, v in quota.items() if int(v) < 0 or int(v) > 1000]
    if bad:
        raise ValidationError({"quota": "每类点位的抽取数量应在 0 到 1000 之间。"})
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    points = sample_points(seed=seed, quota=quota)
    round_.sample_seed, round_.sample_quota = seed, {str(k): int(v) for k, v in quota.items()}
    round_.save(update_fields=["sample_seed", "sample_quota"])
    round_.points.set(points)
    return points


# --- Photos -----------------------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


def _exif_details(image) -> tuple[datetime.datetime | None, Decimal | None, Decimal | None]:
    try:
        exif = image.getexif()
    except Exception:
        return None, None, None
    taken = None
    raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    if raw:
        try:
            naive = datetime.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            taken = timezone.make_aware(naive, timezone.get_default_timezone())
        except ValueError:
            taken = None
    lat = lng = None
    gps = exif.get_ifd(0x8825)
    if gps and 2 in gps and 4 in gps:
        try:

            def degrees(values, ref, negative):
                d, m, s = (float(v) for v in values)
                value = d + m / 60 + s / 3600
                return Decimal(f"{-value if ref in negative else value:.6f}")

            lat = degrees(gps[2], gps.get(1, "N"), ("S",))
            lng = degrees(gps[4], gps.get(3, "E"), ("W",))
        except (TypeError, ValueError, ZeroDivisionError):
            lat = lng = None
    return taken, lat, lng


@transaction.atomic
def photo_upload(*, user, file) -> Photo:
    """Store a field photo: checked by content (jpg, png, webp), size-limited, with a thumbnail,
    the EXIF time and GPS when present, its fingerprints (sha256, perceptual hash) and the flags
    of inspections/photo_checks.py (`photo.new_flags`). `user=None` stores a citizen's photo (随手拍,
    Open311): no uploader; the public view that calls it answers for who may send one."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if user is not None:
        scope = scope_for(user)
        if not (scope.is_office or scope.is_inspector or scope.is_liaison):
            raise PermissionDenied("您没有上传照片的权限。")
    limit = settings.PHOTO_MAX_BYTES
    if file.size > limit:
        raise ValidationError({"file": f"照片过大（{megabytes(file.size)}），上限为 {megabytes(limit)}。"})
    file.seek(0)
    data = file.read()
    try:
        image = Image.open(io.BytesIO(data))
        image.verify()
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ValidationError({"file": "图片尺寸异常（像素过多），请用手机相机重新拍摄。"}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({"file": "该文件不是图片：只接受 JPG、PNG、WebP 格式的照片。"}) from None
    if image.format not in PHOTO_FORMATS:
        raise ValidationError({"file": f"不支持的图片格式 {image.format}：只接受 JPG、PNG、WebP。"})
    content_type, extension = PHOTO_FORMATS[image.format]
    taken_at, exif_lat, exif_lng = _exif_details(image)
    digest = hashlib.sha256(data).hexdigest()
    try:
        fingerprint = photo_checks.fingerprint_fields(photo_checks.perceptual_hash(image))
    except (OSError, ValueError, SyntaxError):
        raise ValidationError({"file": "图片已损坏，无法读取，请重新拍摄。"}) from None

    thumb = ImageOps.exif_transpose(image).convert("RGB")
    thumb.thumbnail((480, 480))
    thumb_buffer = io.BytesIO()
    thumb.save(thumb_buffer, format="JPEG", quality=82)

    photo = Photo(
        original_name=(getattr(file, "name", "") or "")[:255],
        content_type=content_type,
        extension=extension,
        size=len(data),
        width=image.width,
        height=image.height,
        sha256=digest,
        taken_at=taken_at,
        exif_latitude=exif_lat,
        exif_longitude=exif_lng,
        uploaded_by=user,
        **fingerprint,
    )
    photo.file.save(f"{digest}{extension}", ContentFile(data), save=False)
    photo.thumbnail.save(f"{digest}.jpg", ContentFile(thumb_buffer.getvalue()), save=False)
    photo.save()
    # Doubts that need no context (an earlier identical or near-identical photo, the EXIF time);
    # those that do (the place, the assignment) are added where the photo is cited.
    photo.new_flags = photo_checks.flags_on_upload(photo)
    return photo


# --- Submitting an inspection -----------------------------------------------------------------


@dataclass
class ObservationInput:
    check_item: int
    result: str
    occurrences: int = 0
    note: str = ""
    photos: list[int] = field(default_factory=list)
    # A deduction given as a value (0 ≤ value ≤ the item's cap, two decimals at most), stored and
    # scored as given: 合格 when 0, else 不合格 (or 严重不合格 when `result` says so).
    deduction: Decimal | None = None
    # Departments charged for this observation instead of the check item's or the point's (a
    # third-party evaluator names them per row); None = the usual rule.
    departments: list[Unit] | None = None


def _given_result(obs: ObservationInput) -> str:
    """The result an observation is recorded with: as given, unless its deduction is given as a
    value, which decides between 合格 and 不合格 (严重不合格 kept when said)."""
    if obs.deduction is None:
        return obs.result
    if obs.deduction == 0:
        return Result.PASS
    return Result.SEVERE if obs.result == Result.SEVERE else Result.FAIL


def _deduction_errors(where: str, item: CheckItem, value) -> list[str]:
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except ArithmeticError:
            return [f"{where}：检查项“{item.text}”的扣分“{value}”不是数字。"]
    if not value.is_finite() or not 0 <= value <= item.cap:
        return [f"{where}：检查项“{item.text}”的扣分 {value} 应在 0 到最高扣分 {item.cap.normalize():f} 之间。"]
    if value != value.quantize(Decimal("0.01")):
        return [f"{where}：检查项“{item.text}”的扣分 {value} 最多保留两位小数。"]
    return []


def distance_m(lat1, lng1, lat2, lng2) -> int:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * r * math.asin(math.sqrt(a)))


def _territorial_chain(point: Point) -> list[Unit]:
    """The point's unit and the units above it (root first) that are charged: not of kind OTHER."""
    chain = [*unit_ancestors(unit=point.unit), point.unit]
    return [unit for unit in chain if unit.kind != UnitKind.OTHER]


def _charges_for(*, territorial: list[Unit], item_departments: list[Unit], point_departments: list[Unit]):
    units = [(unit, ChargeKind.TERRITORIAL) for unit in territorial]
    seen = {unit.pk for unit in territorial}
    departments = item_departments or point_departments
    return units + [(unit, ChargeKind.DEPARTMENT) for unit in departments if unit.pk not in seen]


def charged_units(*, point: Point, check_item: CheckItem) -> list[tuple[Unit, str]]:
    """The territorial chain of the point (community, street, district) and the departments: the
    check item's own when it names any, else the point's supervising departments."""
    return _charges_for(
        territorial=_territorial_chain(point),
        item_departments=list(check_item.departments.all()),
        point_departments=list(point.departments.all()),
    )


def _round_facts(*, user, round_: InspectionRound, point: Point, client_uuid: uuid.UUID) -> dict:
    """In one query: is the user an inspector of the round, is the point in it, the id of an
    inspection already recorded with this client_uuid (None if none), and whether the round's
    campaign is still active (with its name, for messages). Plain SQL: building it with
    the ORM (two Exists and a Subquery) cost more Python than any other query of a submission."""
    inspectors = InspectionRound.inspectors.through._meta
    points = InspectionRound.points.through._meta
    rounds, campaigns = InspectionRound._meta, Campaign._meta
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {_table(inspectors)} WHERE {_column(inspectors, 'inspectionround')} = %s"
        f" AND {_column(inspectors, 'user')} = %s),"
        f" EXISTS (SELECT 1 FROM {_table(points)} WHERE {_column(points, 'inspectionround')} = %s"
        f" AND {_column(points, 'point')} = %s),"
        f" (SELECT {_column(Inspection._meta, 'id')} FROM {_table(Inspection._meta)}"
        f" WHERE {_column(Inspection._meta, 'client_uuid')} = %s),"
        f" c.{_column(campaigns, 'active')}, c.{_column(campaigns, 'name')}"
        f" FROM {_table(rounds)} r JOIN {_table(campaigns)} c"
        f" ON c.{_column(campaigns, 'id')} = r.{_column(rounds, 'campaign')}"
        f" WHERE r.{_column(rounds, 'id')} = %s"
    )
    uuid_value = Inspection._meta.get_field("client_uuid").get_db_prep_value(client_uuid, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [round_.pk, user.pk, round_.pk, point.pk, uuid_value, round_.pk])
        row = cursor.fetchone()
    if row is None:
        return {
            "is_inspector": False,
            "has_point": False,
            "existing_id": None,
            "campaign_active": False,
            "campaign_name": "",
        }
    return {
        "is_inspector": bool(row[0]),
        "has_point": bool(row[1]),
        "existing_id": row[2],
        "campaign_active": bool(row[3]),
        "campaign_name": row[4],
    }


def _table(meta) -> str:
    return connection.ops.quote_name(meta.db_table)


def _column(meta, name: str) -> str:
    return connection.ops.quote_name(meta.get_field(name).column)


@transaction.atomic
def inspection_submit(
    *,
    user,
    round_: InspectionRound,
    point: Point,
    observations: list[ObservationInput],
    client_uuid: uuid.UUID | str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    started_at: datetime.datetime | None = None,
    note: str = "",
    supersedes: Inspection | None = None,
    correction_reason: str = "",
    observed_at: datetime.datetime | None = None,
    open_problems: bool = True,
) -> tuple[Inspection, bool]:
    """Record an inspection; returns (inspection, created). The same client_uuid returns the first
    inspection unchanged, so a phone that retries never duplicates. Nothing is half-saved.
    `open_problems=False` records the observations and their charges but opens no problem (a
    third-party evaluator's results imported for the scores only).

    `observed_at` is when the inspector was at the point (a phone that synced later says so); it
    must fall within the round's dates and not in the future. Default: now."""
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError:
        raise ValidationError({"client_uuid": "client_uuid 不是有效的 UUID。"}) from None
    scope = scope_for(user)
    facts = _round_facts(user=user, round_=round_, point=point, client_uuid=client_uuid)
    if not (scope.is_office or (scope.is_inspector and facts["is_inspector"])):
        raise PermissionDenied("只有本批次的督查员或创建办可以记录督查。")
    if facts["existing_id"] is not None:
        existing = Inspection.objects.get(pk=facts["existing_id"])
        if existing.inspector_id != user.pk and not scope.is_office:
            raise PermissionDenied("该 client_uuid 已被其他记录使用。")
        return existing, False

    if not facts["campaign_active"]:
        raise ValidationError(
            {"round": f"创建活动“{facts['campaign_name']}”已结束（归档），不能再记录督查；已有记录仍可查看。"}
        )

    errors: dict[str, list[str]] = {}
    if not facts["has_point"]:
        errors.setdefault("point", []).append(f"点位“{point.name}”不在批次“{round_.name}”的点位清单中。")
    if not observations:
        errors.setdefault("observations", []).append("请至少记录一项检查结果。")
    items = {
        item.pk: item
        for item in CheckItem.objects.filter(pk__in=[o.check_item for o in observations])
        # The item's campaign comes with it (a join, not a query): a round takes only its own.
        .annotate(campaign_of=F("indicator__system__campaign_id"))
        .prefetch_related("departments")
    }
    photo_ids = [pid for o in observations for pid in o.photos]
    # New photos, or — for a correction — the photos of the record it corrects, carried over.
    reusable = Q(observation__isnull=True)
    if supersedes is not None:
        reusable |= Q(observation__inspection=supersedes)
    photos = {p.pk: p for p in Photo.objects.filter(reusable, pk__in=photo_ids)}
    seen_items = set()
    for index, obs in enumerate(observations, start=1):
        where = f"第 {index} 项"
        item = items.get(obs.check_item)
        if item is None or not item.active:
            errors.setdefault("observations", []).append(f"{where}：检查项不存在或已停用。")
            continue
        if item.campaign_of != round_.campaign_id:
            errors.setdefault("observations", []).append(
                f"{where}：检查项“{item.text}”不属于本轮次所属的创建活动（{facts['campaign_name']}）。"
            )
        if item.point_type_id != point.point_type_id:
            errors.setdefault("observations", []).append(
                f"{where}：检查项“{item.text}”不适用于{point.point_type.name}类点位。"
            )
        if obs.check_item in seen_items:
            errors.setdefault("observations", []).append(f"{where}：检查项“{item.text}”重复记录。")
        seen_items.add(obs.check_item)
        if obs.result not in Result.values:
            errors.setdefault("observations", []).append(f"{where}：结果只能是合格、不合格或严重不合格。")
        deduction_errors = _deduction_errors(where, item, obs.deduction) if obs.deduction is not None else []
        if deduction_errors:
            errors.setdefault("observations", []).extend(deduction_errors)
        if obs.departments is not None and any(unit.kind != UnitKind.DEPARTMENT for unit in obs.departments):
            errors.setdefault("observations", []).append(f"{where}：责任部门只能是部门。")
        if not isinstance(obs.occurrences, int) or obs.occurrences < 0:
            errors.setdefault("observations", []).append(f"{where}：问题处数不能小于 0。")
        elif obs.occurrences > MAX_OCCURRENCES:
            errors.setdefault("observations", []).append(
                f"{where}：问题处数 {obs.occurrences} 过大（上限 {MAX_OCCURRENCES}）。"
            )
        for pid in obs.photos:
            photo = photos.get(pid)
            if photo is None or (photo.uploaded_by_id != user.pk and photo.observation_id is None):
                errors.setdefault("observations", []).append(f"{where}：照片 {pid} 不存在、已被使用或不是您上传的。")
    if len(photo_ids) != len(set(photo_ids)):
        errors.setdefault("observations", []).append("同一张照片不能用于多项检查。")
    if (latitude is None) != (longitude is None):
        errors.setdefault("latitude", []).append("经纬度需同时提供。")
    if supersedes is not None and not correction_reason.strip():
        errors.setdefault("correction_reason", []).append("更正记录必须填写更正原因。")
    if supersedes is not None and (not supersedes.current or supersedes.point_id != point.pk):
        errors.setdefault("supersedes", []).append("只能更正同一点位的有效记录。")
    now = timezone.now()
    moment = observed_at or now
    day = timezone.localtime(moment).date()
    if moment > now + datetime.timedelta(minutes=5):
        errors.setdefault("observed_at", []).append("检查时间不能晚于现在。")
    elif not round_.start_date <= day <= round_.end_date:
        errors.setdefault("observed_at", []).append(
            f"检查时间应在批次日期 {round_.start_date:%Y-%m-%d} 至 {round_.end_date:%Y-%m-%d} 之内。"
        )
    if errors:
        raise ValidationError(errors)
    observed_at = moment

    distance = None
    if latitude is not None and point.latitude is not None:
        distance = distance_m(latitude, longitude, point.latitude, point.longitude)
    try:
        with transaction.atomic():
            inspection = Inspection.objects.create(
                round=round_,
                point=point,
                inspector=user,
                client_uuid=client_uuid,
                started_at=started_at,
                submitted_at=now,
                latitude=latitude,
                longitude=longitude,
                distance_m=distance,
                far_from_point=distance is not None and distance > settings.INSPECTION_MAX_DISTANCE_M,
                note=note,
                supersedes=supersedes,
                correction_reason=correction_reason.strip(),
            )
    except IntegrityError:
        # A concurrent retry with the same client_uuid won the race: answer with its record.
        return Inspection.objects.get(client_uuid=client_uuid), False

    if supersedes is not None:
        Inspection.objects.filter(pk=supersedes.pk).update(current=False)
        Observation.objects.filter(inspection=supersedes).update(current=False)
        Problem.objects.filter(observation__inspection=supersedes, status=ProblemStatus.NEW).update(
            status=ProblemStatus.VOID
        )

    # The writes of the observations, their photos, charges and problems are batched: a submission
    # costs the same number of queries whether it has 2 observations or 20.
    territorial = _territorial_chain(point)
    point_departments = []
    if any(obs.departments is None and not items[obs.check_item].departments.all() for obs in observations):
        point_departments = list(point.departments.all())
    built = []
    for obs in observations:
        item = items[obs.check_item]
        result = _given_result(obs)
        scored = score_observation(
            result=result,
            occurrences=obs.occurrences,
            per_occurrence=item.per_occurrence,
            cap=item.cap,
            deduction=None if obs.deduction is None else Decimal(str(obs.deduction)),
        )
        built.append(
            Observation(
                inspection=inspection,
                campaign_id=round_.campaign_id,
                check_item=item,
                indicator_id=item.indicator_id,
                point=point,
                result=result,
                occurrences=obs.occurrences if result != Result.FAIL else max(obs.occurrences, 1),
                note=obs.note.strip(),
                deduction=scored.deduction,
                deduction_given=obs.deduction is not None,
                loss=scored.loss,
                score=scored.score,
                observed_at=observed_at,
            )
        )
    Observation.objects.bulk_create(built)
    photo_owner = {
        pid: observation.pk for observation, obs in zip(built, observations, strict=True) for pid in obs.photos
    }
    if photo_owner:
        Photo.objects.filter(pk__in=photo_owner).update(
            observation_id=Case(
                *(When(pk=pid, then=Value(owner)) for pid, owner in photo_owner.items()), output_field=IntegerField()
            )
        )
        # A photo whose EXIF GPS lies far from the point is flagged: one INSERT, none when all is well.
        photo_checks.store_flags(
            photo_checks.place_flags(
                [photos[pid] for pid in photo_owner], latitude=point.latitude, longitude=point.longitude
            )
        )
    charges = Charge.objects.bulk_create(
        [
            Charge(observation=observation, unit=unit, kind=kind)
            for observation, obs in zip(built, observations, strict=True)
            for unit, kind in (
                _charges_for(territorial=territorial, item_departments=list(obs.departments), point_departments=[])
                if obs.departments is not None
                else _charges_for(
                    territorial=territorial,
                    item_departments=list(observation.check_item.departments.all()),
                    point_departments=point_departments,
                )
            )
        ]
    )
    failing = [
        (observation, items[obs.check_item], obs)
        for observation, obs in zip(built, observations, strict=True)
        if observation.result != Result.PASS
    ]
    problems = []
    if failing and open_problems:
        problems = _open_or_attach_problems(round_=round_, point=point, failing=failing, user=user)
    inspection.submitted_observations = _as_read(
        built=built, observations=observations, charges=charges, photos=photos, problems=problems
    )
    moments = [observed_at] + ([supersedes.submitted_at] if supersedes else [])
    campaign_id = round_.campaign_id
    transaction.on_commit(
        lambda: observations_changed.send(
            sender=Inspection, campaign_id=campaign_id, moments=moments, reason=f"督查记录 #{inspection.pk}"
        )
    )
    return inspection, True


def _with_cache(model, rows: list):
    """A queryset already evaluated to `rows`, as prefetch_related leaves one."""
    queryset = model.objects.all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    return queryset


def _as_read(*, built, observations, charges, photos, problems) -> list[Observation]:
    """The observations just written, as a read would give them (in check-item order, with their
    charges, photos and opened problem already in place): the answer to a submission needs no read
    of what was just written."""
    charges_of: dict[int, list[Charge]] = {}
    for charge in sorted(charges, key=lambda c: c.unit_id):
        charges_of.setdefault(charge.observation_id, []).append(charge)
    problem_of = {problem.observation_id: problem for problem in problems}
    problem_cache = Observation.problem.related
    for observation, obs in zip(built, observations, strict=True):
        owned = sorted((photos[pid] for pid in obs.photos), key=lambda p: (p.uploaded_at, p.pk))
        for photo in owned:
            photo.observation_id = observation.pk
        observation._prefetched_objects_cache = {
            "charges": _with_cache(Charge, charges_of.get(observation.pk, [])),
            "photos": _with_cache(Photo, owned),
        }
        problem_cache.set_cached_value(observation, problem_of.get(observation.pk))
    return sorted(built, key=lambda o: (o.check_item.order, o.pk))


OPEN_PROBLEM_STATUSES = (ProblemStatus.NEW, ProblemStatus.ASSIGNED, ProblemStatus.RECTIFYING, ProblemStatus.REVIEWING)


def _open_or_attach_problems(*, round_, point, failing, user) -> list[Problem]:
    """Each failing observation (of distinct check items at one point) opens a problem — unless the
    same item at the same point already has an open one (it becomes another sighting of it, the
    oldest open one). A problem closed within the rebound window that fails again is linked as a
    rebound (反弹), and both show it. A few queries whatever the number of failures."""
    found_at = failing[0][0].observed_at
    item_ids = [item.pk for _, item, _ in failing]
    open_by_item: dict[int, int] = {}
    for item_id, problem_id in (
        Problem.objects.select_for_update()
        .filter(point=point, check_item_id__in=item_ids, status__in=OPEN_PROBLEM_STATUSES)
        .order_by("found_at", "pk")
        .values_list("check_item_id", "pk")
    ):
        open_by_item.setdefault(item_id, problem_id)
    fresh = [line for line in failing if line[1].pk not in open_by_item]
    rebound_by_item: dict[int, int] = {}
    if fresh:
        window = datetime.timedelta(days=settings.REBOUND_WINDOW_DAYS)
        for item_id, problem_id in (
            Problem.objects.filter(
                point=point,
                check_item_id__in=[item.pk for _, item, _ in fresh],
                status=ProblemStatus.CLOSED,
                closed_at__gte=found_at - window,
                closed_at__lte=found_at,
            )
            .order_by("-closed_at", "-pk")
            .values_list("check_item_id", "pk")
        ):
            rebound_by_item.setdefault(item_id, problem_id)
    problems = Problem.objects.bulk_create(
        Problem(
            campaign_id=round_.campaign_id,
            source=ProblemSource.INSPECTION,
            point=point,
            check_item=item,
            indicator_id=item.indicator_id,
            observation=observation,
            unit=point.unit,
            description=f"{point.name}：{item.text}" + (f"（{obs.note.strip()}）" if obs.note.strip() else ""),
            severity=Severity.SEVERE if obs.result == Result.SEVERE else item.severity,
            deduction=observation.deduction,
            found_at=found_at,
            created_by=user,
            rebound_of_id=rebound_by_item.get(item.pk),
        )
        for observation, item, obs in fresh
    )
    problem_of = {problem.check_item_id: problem.pk for problem in problems} | open_by_item
    photo_links = [
        Problem.photos.through(problem_id=problem_of[item.pk], photo_id=pid)
        for _, item, obs in failing
        for pid in obs.photos
    ]
    if photo_links:
        Problem.photos.through.objects.bulk_create(photo_links, ignore_conflicts=True)
    sightings = [
        Problem.sightings.through(problem_id=open_by_item[item.pk], observation_id=observation.pk)
        for observation, item, _ in failing
        if item.pk in open_by_item
    ]
    if sightings:
        Problem.sightings.through.objects.bulk_create(sightings, ignore_conflicts=True)
    return problems


# --- Problems the office registers --------------------------------------------------------------

TERRITORIAL_KINDS = (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY)
OFFICE_SOURCES = tuple(value for value in ProblemSource.values if value != ProblemSource.INSPECTION)


@transaction.atomic
def problem_create(
    *,
    campaign: Campaign,
    source: str,
    unit: Unit | None,
    description: str,
    severity: str = Severity.NORMAL,
    point: Point | None = None,
    check_item: CheckItem | None = None,
    photos=(),
    found_at: datetime.datetime | None = None,
    created_by,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    address: str = "",
    copied_photos=(),
) -> Problem:
    """Register a problem the office learnt of elsewhere (领导交办, 12345转办, 市民随手拍, 上级通报) as
    待交办, ready for the rectification workflow. With a point, the located unit defaults to the
    point's and the check item must apply to its type; the indicator is the check item's. It costs
    no points (deduction 0): scores come from inspections only. `photos` are ids of photos the
    creator uploaded (photo_upload) that nothing cites yet; `copied_photos` are photos another
    record already cites and the problem cites too (a citizen's report's, on acceptance), taken as
    they are. `latitude`/`longitude`/`address` say where the problem is when that is not its point
    (a report's location). Everything is checked before writing."""
    if not scope_for(created_by).is_office:
        raise PermissionDenied("只有创建办可以登记问题。")
    errors: dict[str, str] = {}
    if campaign is None:
        errors["campaign"] = "请选择创建活动。"
    if source == ProblemSource.INSPECTION:
        errors["source"] = "督查发现的问题由督查记录生成，请选择其他来源。"
    elif source not in OFFICE_SOURCES:
        labels = "、".join(ProblemSource(value).label for value in OFFICE_SOURCES)
        errors["source"] = f"未知的问题来源，可选：{labels}。"
    if point is not None and unit is None:
        unit = point.unit
    if unit is None:
        errors["unit"] = "请选择属地单位（区县、街道或社区）。"
    elif unit.kind not in TERRITORIAL_KINDS:
        errors["unit"] = f"属地单位应为区县、街道(乡镇)或社区(村)，“{unit.name}”是{unit.get_kind_display()}。"
    elif not unit.active:
        errors["unit"] = f"单位“{unit.name}”已停用。"
    elif point is not None and not point.unit.path.startswith(unit.path):
        errors["unit"] = f"点位“{point.name}”不在“{unit.name}”辖区内。"
    if check_item is not None:
        if not check_item.active:
            errors["check_item"] = f"测评细则“{check_item.text}”已停用。"
        elif point is not None and check_item.point_type_id != point.point_type_id:
            errors["check_item"] = f"测评细则“{check_item.text}”不适用于{point.point_type.name}类点位。"
        elif (
            campaign is not None
            and not Indicator.objects.filter(pk=check_item.indicator_id, system__campaign=campaign).exists()
        ):
            errors["check_item"] = f"测评细则“{check_item.text}”不属于创建活动“{campaign.name}”的测评体系。"
    description = (description or "").strip()
    if not description:
        errors["description"] = "请填写问题描述。"
    if severity not in Severity.values:
        errors["severity"] = "严重程度只能是一般或严重。"
    now = timezone.now()
    if found_at is not None and found_at > now + datetime.timedelta(minutes=5):
        errors["found_at"] = "发现时间不能晚于现在。"
    photo_ids = [int(pid) if not isinstance(pid, Photo) else pid.pk for pid in photos]
    if photo_ids:
        usable = set(
            Photo.objects.filter(
                pk__in=photo_ids, uploaded_by=created_by, observation__isnull=True, problems__isnull=True
            ).values_list("pk", flat=True)
        )
        unusable = [str(pid) for pid in photo_ids if pid not in usable]
        if unusable:
            errors["photos"] = f"照片 {'、'.join(unusable)} 不存在、已被使用或不是您上传的。"
        elif len(set(photo_ids)) != len(photo_ids):
            errors["photos"] = "同一张照片不能重复上传。"
    if (latitude is None) != (longitude is None):
        errors["latitude"] = "经度和纬度需同时填写。"
    elif latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors["latitude"] = "经纬度超出范围（纬度 -90 到 90，经度 -180 到 180）。"
    address = (address or "").strip()
    if len(address) > Problem._meta.get_field("address").max_length:
        errors["address"] = "地址不能超过 300 个字。"
    if errors:
        raise ValidationError(errors)
    problem = Problem.objects.create(
        campaign=campaign,
        source=source,
        status=ProblemStatus.NEW,
        point=point,
        check_item=check_item,
        indicator=check_item.indicator if check_item is not None else None,
        unit=unit,
        description=description,
        severity=severity,
        deduction=Decimal(0),
        found_at=found_at or now,
        created_by=created_by,
        latitude=latitude,
        longitude=longitude,
        address=address,
    )
    problem.photos.set([*photo_ids, *(p.pk if isinstance(p, Photo) else int(p) for p in copied_photos)])
    return problem


def photos_for_evidence(*, user, photos) -> list[Photo]:
    """The photos (ids or objects) a user cites as evidence for an appeal or a commitment: their
    own uploads not already used by an inspection; anything else refuses the whole request."""
    ids = [photo.pk if isinstance(photo, Photo) else photo for photo in photos or ()]
    if not ids:
        return []
    try:
        ids = [int(pk) for pk in ids]
    except (TypeError, ValueError):
        raise ValidationError({"photos": "照片编号无效。"}) from None
    found = list(Photo.objects.filter(pk__in=ids, uploaded_by=user, observation__isnull=True))
    if len(found) != len(set(ids)):
        raise ValidationError({"photos": "只能使用本人上传、未用于检查记录的照片作为佐证。"})
    return found
