"""Evidence checks of field photos: fingerprints (sha256 and a perceptual hash), the multi-index
lookup of near-duplicates, and the place and time checks. Each doubt is a `PhotoFlag` row with its
reason in Chinese; flags never refuse a photo, they tell the reviewer what to look at.

Near-duplicates: imagehash's pHash (64 bits; a re-encoded or resized copy of a photo lies within 2
bits in our test, different scenes 20 or more apart) split into `PHASH_CHUNKS` (5) chunks, each an
indexed column. Two hashes within Hamming distance d < 5 share at least one chunk exactly
(pigeonhole), so the candidates are the rows equal on any chunk — one query, an OR of five indexed
equalities, bounded by `PHOTO_CANDIDATES_MAX` — and the exact distance is then computed here."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import PHASH_CHUNKS, Photo, PhotoFlag

Code = PhotoFlag.Code

# Bits per chunk, high bits first: 13 + 13 + 13 + 13 + 12 = 64.
CHUNK_BITS = (13, 13, 13, 13, 12)
assert len(CHUNK_BITS) == PHASH_CHUNKS and sum(CHUNK_BITS) == 64
# Phone clocks drift and EXIF keeps whole seconds: a photo within this margin of a moment is not
# "after the upload" nor "before the assignment".
CLOCK_TOLERANCE = datetime.timedelta(minutes=10)


def duplicate_distance() -> int:
    return getattr(settings, "PHOTO_DUPLICATE_DISTANCE", 4)


def max_age_days() -> int:
    return getattr(settings, "PHOTO_MAX_AGE_DAYS", 3)


def max_distance_m() -> int:
    return getattr(settings, "PHOTO_MAX_DISTANCE_M", 500)


def candidates_max() -> int:
    return getattr(settings, "PHOTO_CANDIDATES_MAX", 2000)


# --- Hashing ----------------------------------------------------------------------------------


def perceptual_hash(image) -> int:
    """The unsigned 64-bit pHash of a Pillow image (orientation applied, as a viewer sees it)."""
    import imagehash
    from PIL import ImageOps

    bits = imagehash.phash(ImageOps.exif_transpose(image)).hash.flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def chunks(value: int) -> list[int]:
    """The chunks of an unsigned 64-bit hash, high bits first."""
    out, shift = [], 64
    for bits in CHUNK_BITS:
        shift -= bits
        out.append((value >> shift) & ((1 << bits) - 1))
    return out


def fingerprint_fields(value: int) -> dict:
    """The Photo fields that store an unsigned 64-bit hash."""
    return {"phash": to_signed(value), **{f"phash_{i}": c for i, c in enumerate(chunks(value))}}


def hamming(a: int, b: int) -> int:
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()


def low_detail(value: int) -> bool:
    """A flat picture (one colour, a blank screen) hashes to the DC bit alone: its hash says
    nothing about its content, so only its sha256 is compared."""
    return hamming(value, 1 << 63) <= duplicate_distance()


def near_candidates_q(value: int) -> Q:
    """Rows sharing at least one chunk with the hash: one OR of indexed equalities."""
    q = Q()
    for i, c in enumerate(chunks(value)):
        q |= Q(**{f"phash_{i}": c})
    return q


# --- Duplicates -------------------------------------------------------------------------------


def _where(photo_id: int) -> str:
    """Where an earlier photo is cited: its problem(s) and inspection, for the flag's message."""
    rows = list(
        Photo.objects.filter(pk=photo_id).values_list("problems", "problem_events__problem", "observation__inspection")
    )
    problems = sorted({p for row in rows for p in row[:2] if p})
    inspections = sorted({row[2] for row in rows if row[2]})
    parts = []
    if problems:
        parts.append("问题 " + "、".join(f"#{p}" for p in problems[:3]))
    if inspections:
        parts.append("督查记录 " + "、".join(f"#{i}" for i in inspections[:3]))
    return "，".join(parts) or "尚未被引用"


def _when(photo: Photo) -> str:
    moment = photo.taken_at or photo.uploaded_at
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def near_duplicates(value: int, *, queryset=None) -> list[tuple[int, Photo]]:
    """(distance, photo) of the photos whose hash lies within PHOTO_DUPLICATE_DISTANCE of the
    unsigned hash `value`, nearest (then oldest) first: one query on the chunk indexes reading
    only (id, hash), bounded, the exact distance here, then the few matches read by id."""
    queryset = Photo.objects.all() if queryset is None else queryset
    limit = duplicate_distance()
    rows = queryset.filter(near_candidates_q(value)).values_list("pk", "phash")[: candidates_max()]
    near = sorted((hamming(value, phash), pk) for pk, phash in rows if phash is not None)
    near = [(distance, pk) for distance, pk in near if distance <= limit]
    if not near:
        return []
    photos = Photo.objects.only("pk", "taken_at", "uploaded_at", "phash").in_bulk([pk for _, pk in near])
    return [(distance, photos[pk]) for distance, pk in near]


def duplicate_flags(photo: Photo) -> list[PhotoFlag]:
    """An identical (same sha256) or near-identical (pHash within PHOTO_DUPLICATE_DISTANCE) earlier
    photo, across problems, units and rounds. Two queries at most, plus one to name where the
    earlier photo is cited."""
    earlier = Photo.objects.filter(pk__lt=photo.pk).only("pk", "taken_at", "uploaded_at", "phash")
    same = earlier.filter(sha256=photo.sha256).order_by("pk").first()
    if same is not None:
        message = f"疑似重复：与此前的照片 #{same.pk}（{_where(same.pk)}，{_when(same)}）完全相同。"
        return [PhotoFlag(photo=photo, code=Code.DUPLICATE, message=message[:300], earlier_photo=same)]
    if photo.phash is None or low_detail(photo.phash):
        return []
    near = near_duplicates(to_unsigned(photo.phash), queryset=earlier)
    if not near:
        return []
    distance, row = near[0]
    message = f"疑似重复：与此前的照片 #{row.pk}（{_where(row.pk)}，{_when(row)}）高度相似（差异 {distance}/64）。"
    return [PhotoFlag(photo=photo, code=Code.NEAR_DUPLICATE, message=message[:300], earlier_photo=row)]


# --- Time and place ---------------------------------------------------------------------------


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def time_flags(photo: Photo, *, claimed=None) -> list[PhotoFlag]:
    """EXIF time against the claimed time (default: the upload): older than PHOTO_MAX_AGE_DAYS, or
    after it; no EXIF time nor GPS at all."""
    if photo.taken_at is None and photo.exif_latitude is None:
        return [PhotoFlag(photo=photo, code=Code.NO_EXIF, message="照片没有拍摄信息（EXIF），无法核对拍摄时间和地点。")]
    if photo.taken_at is None:
        return []
    claimed = claimed or photo.uploaded_at or timezone.now()
    days = max_age_days()
    if photo.taken_at < claimed - datetime.timedelta(days=days):
        age = (claimed - photo.taken_at).days
        message = f"拍摄时间 {_local(photo.taken_at)} 比上传早 {age} 天（超过 {days} 天）。"
        return [PhotoFlag(photo=photo, code=Code.OLD, message=message)]
    if photo.taken_at > claimed + CLOCK_TOLERANCE:
        message = f"拍摄时间 {_local(photo.taken_at)} 晚于上传时间 {_local(claimed)}。"
        return [PhotoFlag(photo=photo, code=Code.FUTURE, message=message)]
    return []


def place_flags(photos, *, latitude, longitude, label: str = "点位") -> list[PhotoFlag]:
    """EXIF GPS farther than PHOTO_MAX_DISTANCE_M from the place (a point's or a problem's)."""
    from .services import distance_m

    if latitude is None or longitude is None:
        return []
    limit = max_distance_m()
    flags = []
    for photo in photos:
        if photo.exif_latitude is None or photo.exif_longitude is None:
            continue
        metres = distance_m(photo.exif_latitude, photo.exif_longitude, latitude, longitude)
        if metres > limit:
            away = f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{metres} 米"
            message = f"拍摄位置距{label}约 {away}（超过 {limit} 米）。"
            flags.append(PhotoFlag(photo=photo, code=Code.FAR, message=message))
    return flags


def before_assigned_flags(photos, *, assigned_at) -> list[PhotoFlag]:
    """A rectification photo taken before the problem was assigned cannot show the fix."""
    if assigned_at is None:
        return []
    return [
        PhotoFlag(
            photo=photo,
            code=Code.BEFORE_ASSIGNED,
            message=f"拍摄时间 {_local(photo.taken_at)} 早于问题交办时间 {_local(assigned_at)}，不能证明已整改。",
        )
        for photo in photos
        if photo.taken_at is not None and photo.taken_at < assigned_at - CLOCK_TOLERANCE
    ]


def store_flags(flags: list[PhotoFlag]) -> None:
    """One INSERT for all; a photo already flagged with the same code keeps its first flag."""
    if flags:
        PhotoFlag.objects.bulk_create(flags, ignore_conflicts=True)


def flags_on_upload(photo: Photo) -> list[PhotoFlag]:
    """The checks a photo needs no context for: duplicates and its EXIF time."""
    flags = duplicate_flags(photo) + time_flags(photo)
    store_flags(flags)
    return flags


def fingerprint_missing(*, batch_size: int = 500, limit: int | None = None) -> int:
    """Fill the perceptual hash of photos stored before it existed, in batches (read from
    storage), and flag them as at upload. Returns how many were done."""
    from PIL import Image

    done = 0
    while limit is None or done < limit:
        rows = list(Photo.objects.filter(phash__isnull=True).order_by("pk")[:batch_size])
        if not rows:
            break
        unreadable = set()
        for photo in rows:
            try:
                with photo.file.open("rb") as handle:
                    image = Image.open(handle)
                    image.load()
                value = perceptual_hash(image)
            except (OSError, ValueError, SyntaxError):
                value = 0  # unreadable in storage: a zero hash, so it is not read again
                unreadable.add(photo.pk)
            for field, v in fingerprint_fields(value).items():
                setattr(photo, field, v)
        Photo.objects.bulk_update(rows, ["phash", *[f"phash_{i}" for i in range(PHASH_CHUNKS)]])
        for photo in rows:
            if photo.pk not in unreadable:
                flags_on_upload(photo)
        done += len(rows)
    return done
