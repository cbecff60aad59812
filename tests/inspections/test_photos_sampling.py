"""Photos checked by content with EXIF kept; reproducible sampling of points."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaign import services as campaign_services
from campaign.choices import UnitKind
from inspections import services
from inspections.models import Photo, Point, PointType


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (1200, 800), (200, 60, 60))
    exif = Image.Exif()
    exif[0x0132] = "2026:11:20 09:30:15"
    gps = {1: "N", 2: (31.0, 30.0, 0.0), 3: "E", 4: (120.0, 18.0, 0.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_jpeg_keeps_its_exif_time_and_gps_and_gets_a_thumbnail(inspector):
    photo = services.photo_upload(user=inspector, file=SimpleUploadedFile("现场.jpg", jpeg_with_exif()))
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 1200, 800)
    assert (
        photo.taken_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        == "2026-11-20 09:30"
    )
    assert (str(photo.exif_latitude), str(photo.exif_longitude)) == ("31.500000", "120.300000")
    thumb = Image.open(photo.thumbnail)
    assert max(thumb.size) == 480


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(inspector, fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format=fmt)
    photo = services.photo_upload(user=inspector, file=SimpleUploadedFile(f"a.{fmt.lower()}", buffer.getvalue()))
    assert photo.taken_at is None and photo.exif_latitude is None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("假照片.jpg", "这不是图片".encode(), "该文件不是图片"),
        ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None),
        ("a.pdf", b"%PDF-1.4\n%%EOF", "该文件不是图片"),
    ],
)
def test_what_is_not_a_photo_is_refused(inspector, name, data, message):
    with pytest.raises(ValidationError) as info:
        services.photo_upload(user=inspector, file=SimpleUploadedFile(name, data))
    if message:
        assert message in info.value.message_dict["file"][0]
    assert not Photo.objects.exists()


def test_photo_size_limit(inspector, settings):
    settings.PHOTO_MAX_BYTES = 100
    with pytest.raises(ValidationError):
        services.photo_upload(user=inspector, file=SimpleUploadedFile("a.jpg", jpeg_with_exif()))
    assert not Photo.objects.exists()


def test_leaders_do_not_upload(leader):
    with pytest.raises(PermissionDenied):
        services.photo_upload(user=leader, file=SimpleUploadedFile("a.jpg", jpeg_with_exif()))


@pytest.fixture
def many_markets(city, market_type):
    points = []
    for street, _district in ((city.street_jia, city.district_jia), (city.street_yi, city.district_yi)):
        for i in range(6):
            points.append(services.point_create(name=f"{street.name}市场{i}", point_type=market_type, unit=street))
    return points


def test_sampling_is_reproducible_and_respects_the_quota(many_markets, market_type):
    first = services.sample_points(seed=42, quota={market_type.pk: 3})
    again = services.sample_points(seed=42, quota={market_type.pk: 3})
    other = services.sample_points(seed=7, quota={market_type.pk: 3})
    assert [p.pk for p in first] == [p.pk for p in again]
    assert [p.pk for p in first] != [p.pk for p in other]
    per_district = {}
    for point in first:
        per_district[point.unit.parent.name] = per_district.get(point.unit.parent.name, 0) + 1
    assert per_district == {"甲区": 3, "乙区": 3}


def test_a_quota_larger_than_the_points_takes_them_all(many_markets, market_type):
    assert len(services.sample_points(seed=1, quota={market_type.pk: 50})) == 12


def test_round_draw_records_seed_and_quota(many_markets, market_type, round_, office):
    points = services.round_draw(user=office, round_=round_, quota={market_type.pk: 2}, seed=99)
    round_.refresh_from_db()
    assert (round_.sample_seed, round_.sample_quota) == (99, {str(market_type.pk): 2})
    assert sorted(p.pk for p in round_.points.all()) == sorted(p.pk for p in points)
    assert len(points) == 4


def test_point_must_sit_in_a_community_or_street(city, market_type):
    # Or directly under a district, when the city's data has no street for it (issue 13).
    assert services.point_create(name="x", point_type=market_type, unit=city.district_jia).unit == city.district_jia
    dept_point = PointType.objects.get(name="政务大厅")
    points = sorted(Point.objects.values_list("pk", "name", "unit_id"))
    with pytest.raises(ValidationError):
        services.point_create(name="y", point_type=dept_point, unit=city.dept_cg)
    assert sorted(Point.objects.values_list("pk", "name", "unit_id")) == points
    campaign_services.unit_create(name="网格", code="G", kind=UnitKind.OTHER)
