"""Photo evidence checks: fingerprints, duplicates by sha256 and perceptual hash (multi-index),
EXIF time and place flags, and the API's `flags`."""

import datetime
import io
import random
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter
from rest_framework.test import APIClient

from inspections import photo_checks, services
from inspections.models import Photo, PhotoFlag, check_duplicate_distance
from inspections.services import ObservationInput


def scene(seed: int, size=(1200, 900)) -> Image.Image:
    """A photo-like picture: blurred coloured shapes, different for each seed."""
    rnd = random.Random(seed)
    image = Image.new("RGB", size, (rnd.randint(0, 255),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rnd.randint(0, size[0]), rnd.randint(0, size[1])
        box = [x, y, x + rnd.randint(40, 400), y + rnd.randint(40, 300)]
        draw.ellipse(box, fill=tuple(rnd.randint(0, 255) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(3))


def jpeg(image: Image.Image, *, quality=90, taken: datetime.datetime | None = None, gps=None) -> bytes:
    exif = Image.Exif()
    if taken is not None:
        exif[0x0132] = timezone.localtime(taken).strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lng = gps
        exif[0x8825] = {1: "N", 2: (float(lat), 0.0, 0.0), 3: "E", 4: (float(lng), 0.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif)
    return buffer.getvalue()


def upload(user, data: bytes, name="现场.jpg") -> Photo:
    return services.photo_upload(user=user, file=SimpleUploadedFile(name, data))


def codes(photo) -> set[str]:
    return set(PhotoFlag.objects.filter(photo=photo).values_list("code", flat=True))


NOW = timezone.now


# --- Hashing and the multi-index ---------------------------------------------------------------


def test_chunks_round_trip_and_signed_storage():
    for value in (0, 1, (1 << 64) - 1, 0x8000_0000_0000_0000, 0x1234_5678_9ABC_DEF0):
        parts = photo_checks.chunks(value)
        assert len(parts) == 5
        rebuilt, shift = 0, 64
        for bits, part in zip(photo_checks.CHUNK_BITS, parts, strict=True):
            shift -= bits
            rebuilt |= part << shift
        assert rebuilt == value
        signed = photo_checks.to_signed(value)
        assert -(1 << 63) <= signed < 1 << 63 and photo_checks.to_unsigned(signed) == value


def test_any_hash_within_the_distance_shares_a_chunk():
    rnd = random.Random(7)
    for _ in range(500):
        value = rnd.getrandbits(64)
        other = value
        for bit in rnd.sample(range(64), 4):
            other ^= 1 << bit
        assert set(enumerate(photo_checks.chunks(value))) & set(enumerate(photo_checks.chunks(other)))


def test_a_distance_the_index_cannot_honour_is_refused_at_startup(settings):
    settings.PHOTO_DUPLICATE_DISTANCE = 5
    with pytest.raises(ImproperlyConfigured, match="PHOTO_DUPLICATE_DISTANCE=5"):
        check_duplicate_distance()
    settings.PHOTO_DUPLICATE_DISTANCE = 4
    check_duplicate_distance()


# --- Duplicates ------------------------------------------------------------------------------


def test_an_identical_upload_is_flagged_naming_the_earlier_photo(inspector):
    data = jpeg(scene(1), taken=NOW())
    first = upload(inspector, data)
    assert first.phash is not None and codes(first) == set()
    second = upload(inspector, data)
    (flag,) = second.new_flags
    assert flag.code == "duplicate" and flag.earlier_photo_id == first.pk
    assert f"照片 #{first.pk}" in flag.message and "疑似重复" in flag.message
    assert codes(second) == {"duplicate"}


@pytest.mark.parametrize(("quality", "scale"), [(60, 1.0), (40, 0.5), (75, 0.25)])
def test_a_re_encoded_or_resized_copy_is_flagged_near_duplicate(inspector, quality, scale):
    original = scene(2)
    first = upload(inspector, jpeg(original, taken=NOW()))
    small = original.resize((int(original.width * scale), int(original.height * scale)))
    copy = upload(inspector, jpeg(small, quality=quality, taken=NOW()))
    (flag,) = copy.new_flags
    assert flag.code == "near_duplicate" and flag.earlier_photo_id == first.pk
    assert "高度相似" in flag.message


def test_a_different_photo_is_not_flagged(inspector):
    upload(inspector, jpeg(scene(3), taken=NOW()))
    other = upload(inspector, jpeg(scene(4), taken=NOW()))
    assert other.new_flags == [] and codes(other) == set()


def test_flat_pictures_are_compared_by_sha256_only(inspector):
    def flat(colour):
        buffer = io.BytesIO()
        Image.new("RGB", (800, 600), colour).save(buffer, format="JPEG", quality=85, exif=Image.Exif())
        return buffer.getvalue()

    upload(inspector, flat((60, 160, 80)))
    assert [f.code for f in upload(inspector, flat((40, 120, 200))).new_flags] == ["no_exif"]
    assert [f.code for f in upload(inspector, flat((60, 160, 80))).new_flags] == ["duplicate", "no_exif"]


def test_the_duplicate_names_the_problem_and_inspection_of_the_earlier_photo(
    inspector, round_, market, ads_item, campaign
):
    before = upload(inspector, jpeg(scene(5), taken=NOW(), gps=(31.5, 120.3)))
    inspection, _ = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        observations=[ObservationInput(check_item=ads_item.pk, result="fail", occurrences=1, photos=[before.pk])],
        client_uuid=uuid.uuid4(),
    )
    problem = before.problems.get()
    again = upload(inspector, jpeg(scene(5), taken=NOW(), gps=(31.5, 120.3)))
    (flag,) = again.new_flags
    assert f"问题 #{problem.pk}" in flag.message and f"督查记录 #{inspection.pk}" in flag.message


def test_undecodable_images_are_still_refused(inspector):
    with pytest.raises(ValidationError):
        upload(inspector, b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not Photo.objects.exists()


# --- Time and place --------------------------------------------------------------------------


def test_no_exif_is_flagged(inspector):
    buffer = io.BytesIO()
    scene(6).save(buffer, format="PNG")
    photo = upload(inspector, buffer.getvalue(), name="a.png")
    assert codes(photo) == {"no_exif"}


def test_an_old_photo_and_one_from_the_future_are_flagged(inspector, settings):
    settings.PHOTO_MAX_AGE_DAYS = 3
    old = upload(inspector, jpeg(scene(7), taken=NOW() - datetime.timedelta(days=5)))
    assert codes(old) == {"old"} and "早 5 天" in old.new_flags[0].message
    recent = upload(inspector, jpeg(scene(8), taken=NOW() - datetime.timedelta(days=2)))
    assert codes(recent) == set()
    future = upload(inspector, jpeg(scene(9), taken=NOW() + datetime.timedelta(hours=3)))
    assert codes(future) == {"future"}


def test_exif_gps_40_km_from_the_point_is_flagged_when_the_inspection_cites_it(
    inspector, round_, market, ads_item, stall_item
):
    # The market lies at 31.5, 120.3; 31.86 N is about 40 km north.
    far = upload(inspector, jpeg(scene(10), taken=NOW(), gps=(31.86, 120.3)))
    near = upload(inspector, jpeg(scene(11), taken=NOW(), gps=(31.5, 120.3)))
    services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        observations=[
            ObservationInput(check_item=ads_item.pk, result="fail", occurrences=1, photos=[far.pk]),
            ObservationInput(check_item=stall_item.pk, result="pass", photos=[near.pk]),
        ],
        client_uuid=uuid.uuid4(),
    )
    assert codes(far) == {"far"} and codes(near) == set()
    message = PhotoFlag.objects.get(photo=far).message
    assert "公里" in message and "超过 500 米" in message


# --- The backfill ----------------------------------------------------------------------------


def test_photos_fingerprint_fills_old_photos_and_flags_them(inspector):
    data = jpeg(scene(12), taken=NOW())
    first, second = upload(inspector, data), upload(inspector, data)
    Photo.objects.update(phash=None, phash_0=None, phash_1=None, phash_2=None, phash_3=None, phash_4=None)
    PhotoFlag.objects.all().delete()
    out = io.StringIO()
    call_command("photos_fingerprint", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "已补算 2 张照片的指纹。"
    assert not Photo.objects.filter(phash__isnull=True).exists()
    assert codes(first) == set() and codes(second) == {"duplicate"}
    call_command("photos_fingerprint", stdout=io.StringIO())  # nothing left: changes nothing
    assert PhotoFlag.objects.count() == 1


# --- The API ---------------------------------------------------------------------------------


def test_the_api_answers_flags_with_the_earlier_photo(inspector, leader):
    client = APIClient()
    client.force_authenticate(inspector)
    data = jpeg(scene(13), taken=NOW())
    first = client.post("/api/v1/photos/", {"file": SimpleUploadedFile("a.jpg", data)}, format="multipart")
    assert first.status_code == 201 and first.json()["flags"] == []
    second = client.post("/api/v1/photos/", {"file": SimpleUploadedFile("b.jpg", data)}, format="multipart")
    assert second.status_code == 201
    (flag,) = second.json()["flags"]
    assert flag["code"] == "duplicate" and flag["earlier_photo"] == first.json()["id"]
    assert "疑似重复" in flag["message"]
    read = client.get(f"/api/v1/photos/{second.json()['id']}/")
    assert read.json()["flags"] == second.json()["flags"]


@pytest.mark.parametrize("persona", ["leader", "anonymous"])
def test_who_may_not_upload_changes_nothing(request, persona, db):
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(request.getfixturevalue(persona))
    response = client.post(
        "/api/v1/photos/", {"file": SimpleUploadedFile("a.jpg", jpeg(scene(14)))}, format="multipart"
    )
    assert response.status_code in (401, 403)
    assert not Photo.objects.exists() and not PhotoFlag.objects.exists()
