"""The public 随手拍 pages (no login): the form, multipart photos checked by content, size and rate
limits, the receipt, the status page (no personal data) and the look-up."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from inspections import services
from inspections.choices import ProblemSource, ProblemStatus, ReportStatus
from inspections.models import Photo, Problem, PublicCategory, Report

URL = "/report/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def image(fmt="JPEG", name="shot.jpg", colour=(30, 140, 90), size=(80, 60)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def categories(campaign):
    litter = PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱扔", group="环境卫生", order=1)
    parking = PublicCategory.objects.create(
        campaign=campaign, code="parking", name="乱停乱放", group="交通秩序", order=2
    )
    PublicCategory.objects.create(campaign=campaign, code="old", name="已停用类别", active=False)
    return litter, parking


def body(category, **overrides):
    data = {
        "category": str(category.pk),
        "description": "人行道上垃圾堆积",
        "address": "湖滨路 12 号",
        "reporter_phone": "13800138000",
        "latitude": "30.274100",
        "longitude": "120.155100",
    }
    data.update(overrides)
    return data


def assert_nothing_written():
    assert not Report.objects.exists()
    assert not Photo.objects.exists()


def test_the_form_shows_active_categories_grouped_to_anyone(client, categories):
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "垃圾乱扔" in page and "乱停乱放" in page and "环境卫生" in page and "交通秩序" in page
    assert "已停用类别" not in page
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert "电话仅用于回访，不会公开" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "vendor/leaflet/leaflet.js" in page and "js/public-report.js" in page


def test_no_campaign_or_no_category_is_closed(client, campaign):
    response = client.get(URL)
    assert response.status_code == 200 and "暂未开放" in response.content.decode()
    response = client.post(URL, {"description": "x"})
    assert response.status_code == 200 and "暂未开放" in response.content.decode()
    assert_nothing_written()


def test_an_archived_campaign_is_closed(client, categories, campaign):
    campaign.active = False
    campaign.save(update_fields=["active"])
    response = client.get(URL)
    assert "暂未开放" in response.content.decode() and "已结束" in response.content.decode()


def test_a_citizen_reports_with_a_photo_and_reads_the_receipt(client, categories):
    litter, _ = categories
    response = client.post(URL, {**body(litter), "photos": [image(), image(colour=(200, 10, 10))]})
    assert response.status_code == 302
    report = Report.objects.get()
    assert response["Location"] == reverse("public-report-done", kwargs={"reference": report.reference})
    assert report.status == ReportStatus.PENDING and report.category == litter
    assert report.channel == "citizen" and report.reporter_phone == "13800138000"
    assert report.photos.count() == 2
    assert all(photo.uploaded_by_id is None for photo in report.photos.all())
    done = client.get(response["Location"]).content.decode()
    assert report.reference in done and "复制编号" in done
    assert reverse("public-report-status", kwargs={"reference": report.reference}) in done


def test_a_png_named_jpg_is_taken_by_its_content(client, categories):
    response = client.post(URL, {**body(categories[0]), "photos": [image(fmt="PNG", name="shot.jpg")]})
    assert response.status_code == 302
    assert Report.objects.get().photos.get().content_type == "image/png"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("notes.jpg", "这不是图片".encode(), content_type="image/jpeg"), "不是图片"),
        ("truncated", "图片"),
    ],
)
def test_a_non_image_or_a_truncated_jpeg_is_refused_and_nothing_is_kept(client, categories, upload, message, settings):
    if upload == "truncated":
        data = image(size=(400, 300)).read()
        upload = SimpleUploadedFile("cut.jpg", data[: len(data) // 2], content_type="image/jpeg")
    good = image(colour=(5, 5, 200))
    response = client.post(URL, {**body(categories[0]), "photos": [good, upload]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "第 2 张照片" in page and message in page
    assert_nothing_written()
    media = settings.MEDIA_ROOT
    assert not [p for p in media.rglob("*") if p.is_file()] if media.exists() else True


def test_an_oversize_photo_is_refused(client, categories, settings):
    settings.PHOTO_MAX_BYTES = 500
    response = client.post(URL, {**body(categories[0]), "photos": [image(size=(300, 300))]})
    page = response.content.decode()
    assert response.status_code == 200 and "照片过大" in page and "兆" in page and "MB" not in page
    assert_nothing_written()


def test_an_oversize_request_is_refused_before_it_is_read(client, categories, settings):
    settings.REPORT_MAX_REQUEST_BYTES = 2000
    response = client.post(URL, {**body(categories[0]), "photos": [image(size=(600, 600))]})
    assert response.status_code == 413
    assert "提交的内容过大" in response.content.decode()
    assert_nothing_written()


def test_too_many_photos_are_refused(client, categories, settings):
    settings.REPORT_MAX_PHOTOS = 1
    response = client.post(URL, {**body(categories[0]), "photos": [image(), image(colour=(1, 1, 1))]})
    assert response.status_code == 200 and "最多上传 1 张照片" in response.content.decode()
    assert_nothing_written()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"description": "<script>alert(1)</script>"}, "请勿在描述中填写网页代码"),
        ({"description": ""}, "请填写问题描述"),
        ({"category": ""}, "请选择问题类别"),
        ({"category": "999999"}, "请选择问题类别"),
        ({"reporter_phone": "abc"}, "联系电话格式不正确"),
        ({"latitude": "100"}, "纬度应在 -90 到 90 之间"),
        ({"longitude": ""}, "同时有经度和纬度"),
        ({"address": "路" * 301}, "地址不能超过 300 字"),
    ],
)
def test_bad_input_shows_its_message_and_keeps_what_was_typed(client, categories, overrides, message):
    response = client.post(URL, {**body(categories[0]), **overrides, "photos": [image()]})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "湖滨路 12 号" in page or "address" in overrides  # what was typed is kept (on the form only)
    assert "<script>alert(1)</script>" not in page
    assert "请重新选择照片" in page
    assert_nothing_written()


def test_an_inactive_category_is_refused(client, categories):
    old = PublicCategory.objects.get(code="old")
    response = client.post(URL, {**body(categories[0]), "category": str(old.pk)})
    assert "请选择问题类别" in response.content.decode()
    assert_nothing_written()


def test_429_after_the_hourly_limit_per_address(client, categories, settings):
    settings.REPORT_RATE_PER_IP = 2
    for n in range(2):
        assert client.post(URL, body(categories[0], reporter_phone=f"1380013800{n}")).status_code == 302
    response = client.post(URL, {**body(categories[0], reporter_phone="13800138009"), "photos": [image()]})
    assert response.status_code == 429
    assert "提交过于频繁，请稍后再试" in response.content.decode()
    assert Report.objects.count() == 2 and not Photo.objects.exists()


def test_429_after_the_hourly_limit_per_phone(client, categories, settings):
    settings.REPORT_RATE_PER_PHONE = 1
    assert client.post(URL, body(categories[0]), REMOTE_ADDR="10.1.1.1").status_code == 302
    response = client.post(URL, body(categories[0]), REMOTE_ADDR="10.1.1.2")
    assert response.status_code == 429
    assert Report.objects.count() == 1


def test_refused_input_does_not_use_up_the_limit(client, categories, settings):
    settings.REPORT_RATE_PER_IP = 1
    for _ in range(3):
        assert client.post(URL, body(categories[0], description="")).status_code == 200
    assert client.post(URL, body(categories[0])).status_code == 302


def test_refusals_have_their_own_hourly_limit(client, categories, settings):
    settings.REPORT_REFUSED_PER_IP = 2
    for _ in range(2):
        assert client.post(URL, body(categories[0], description="")).status_code == 200
    assert client.post(URL, {**body(categories[0]), "photos": [image()]}).status_code == 429
    assert client.get(URL).status_code == 200  # the form still shows
    assert_nothing_written()


# --- Status page -----------------------------------------------------------------------------


@pytest.fixture
def report(client, categories):
    client.post(URL, {**body(categories[0], description="垃圾堆积在路口"), "photos": [image()]})
    return Report.objects.get()


def status_url(report) -> str:
    return reverse("public-report-status", kwargs={"reference": report.reference})


def test_the_status_page_shows_no_personal_data(client, report):
    Report.objects.filter(pk=report.pk).update(reporter_name="张三丰")
    response = client.get(status_url(report))
    assert response.status_code == 200
    page = response.content.decode()
    assert report.reference in page and "垃圾乱扔" in page and "已收到，待分拣" in page
    for step in ("已提交", "已受理", "已交办", "已办结"):
        assert step in page
    assert "13800138000" not in page and "张三丰" not in page
    assert "photos/" not in page and "<img" not in page
    assert "垃圾堆积在路口" not in page  # the description is not republished either
    assert "湖滨路" not in page


def test_the_status_page_follows_the_problem(client, report, campaign, city, office):
    problem = services.problem_create(
        campaign=campaign, source=ProblemSource.CITIZEN, unit=city.street_jia, description="垃圾", created_by=office
    )
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.ACCEPTED, problem=problem, triaged_at=timezone.now())
    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.RECTIFYING, handler=city.street_jia)
    page = client.get(status_url(report)).content.decode()
    assert "办理中" in page and "已交办至甲街道" in page
    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.CLOSED, closed_at=timezone.now())
    Report.objects.filter(pk=report.pk).update(reply="已清理完毕")
    page = client.get(status_url(report)).content.decode()
    assert "已办结" in page and "已清理完毕" in page


def test_a_rejected_report_shows_its_reason(client, report):
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.REJECTED, reject_reason="不在本市范围", triaged_at=timezone.now()
    )
    page = client.get(status_url(report)).content.decode()
    assert "不予受理" in page and "不在本市范围" in page


def test_an_unknown_reference_is_a_chinese_404(client, db):
    response = client.get("/report/SP000000ABCDEF/")
    assert response.status_code == 404
    assert "未找到该受理编号" in response.content.decode()
    assert client.get("/report/%3Cscript%3E/").status_code == 404


def test_the_lookup_form_finds_a_number_as_typed(client, report):
    assert client.get("/report/status/").status_code == 200
    typed = report.reference.lower()
    response = client.get("/report/status/", {"ref": f" {typed[:4]}-{typed[4:]} "})
    assert response.status_code == 302 and response["Location"] == status_url(report)
    response = client.get("/report/status/", {"ref": "SP000000ZZZZZZ"})
    assert response.status_code == 404 and "未找到该受理编号" in response.content.decode()


def test_guessing_numbers_is_limited_per_address(client, report, settings):
    settings.REPORT_LOOKUP_MISSES_PER_IP = 3
    for n in range(3):
        assert client.get(f"/report/SP00000{n}ABCDEF/").status_code == 404
    assert client.get("/report/SP000009ABCDEF/").status_code == 429
    assert client.get(status_url(report)).status_code == 429
    assert client.get(status_url(report), REMOTE_ADDR="10.9.9.9").status_code == 200


def test_reads_are_bounded(client, report, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        client.get(status_url(report))


def test_the_status_page_after_triage(client, report, city, office):
    """With the office's triage services (inspections/triage.py): accepted → 办理中, its photo copied
    onto the problem stays off the public page; a rejection shows its reason."""
    from inspections import triage

    problem = triage.report_accept(report=report, user=office, unit=city.street_jia)
    page = client.get(status_url(report)).content.decode()
    assert "办理中" in page and "已受理" in page and "<img" not in page
    assert problem.photos.count() == 1
    other = Report.objects.create(
        campaign=report.campaign,
        channel="citizen",
        reference="SP260101ABCDEF",
        description="重复",
        submitted_at=timezone.now(),
    )
    triage.report_reject(report=other, user=office, reason="与已受理的问题重复")
    page = client.get(status_url(other)).content.decode()
    assert "不予受理" in page and "与已受理的问题重复" in page


def test_the_form_s_queries_are_bounded(client, categories, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert client.get(URL).status_code == 200
    # A submission: the campaign, the categories, the reference check, the insert, the photos' rows
    # and flags — a fixed number whatever the city's size.
    with django_assert_max_num_queries(30):
        assert client.post(URL, {**body(categories[0]), "photos": [image()]}).status_code == 302


def test_an_unreadable_content_length_is_no_server_error(client, categories):
    response = client.post(URL, {**body(categories[0])}, CONTENT_LENGTH="abc")
    assert response.status_code == 200 and "请选择问题类别" in response.content.decode()


def test_rendering_a_bulletin_pdf_does_not_make_truncated_photos_acceptable(db):
    """WeasyPrint's import sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process (a truncated
    upload then decodes, padded grey); the bulletin's import puts it back, so after a PDF render a
    truncated photo is still refused."""
    pytest.importorskip("weasyprint")
    from django.core.exceptions import ValidationError
    from PIL import ImageFile

    from accountability.bulletin import _keep_truncated_images_refused
    from inspections.services import photo_upload

    data = image(size=(400, 300)).read()
    cut = SimpleUploadedFile("cut.jpg", data[: len(data) // 2], content_type="image/jpeg")
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what `import weasyprint` did to the process
    try:
        _keep_truncated_images_refused()
        with pytest.raises(ValidationError):
            photo_upload(user=None, file=cut)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
