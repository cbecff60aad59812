"""The intake services (issue 15, 随手拍): report_submit's refusals (each with its message, nothing
written), reference numbers, the public status of every state, and the rate limits."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from campaign.models import Campaign
from inspections import intake, services
from inspections.choices import ProblemSource, ProblemStatus, ReportChannel, ReportStatus
from inspections.models import Photo, Problem, PublicCategory, Report
from inspections.selectors import photo_visible_to


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def jpeg(colour=(200, 60, 40), size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return SimpleUploadedFile("shot.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def category(campaign):
    return PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱扔", group="环境卫生")


def submit(campaign, category, **overrides):
    values = {
        "campaign": campaign,
        "channel": ReportChannel.CITIZEN,
        "category": category,
        "description": "湖滨路菜场门口垃圾堆积",
    }
    values.update(overrides)
    return intake.report_submit(**values)


def refused(campaign, category, field, message, **overrides):
    before = Report.objects.count()
    with pytest.raises(ValidationError) as caught:
        submit(campaign, category, **overrides)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert message in errors[field][0], errors
    assert Report.objects.count() == before
    return errors


def test_a_citizen_report_is_stored_pending_with_a_reference(campaign, category):
    photo = services.photo_upload(user=None, file=jpeg())
    report = submit(
        campaign,
        category,
        description="  垃圾\x00堆积\r\n很久了\x07 ",
        latitude="30.274100",
        longitude=120.155100,
        address="湖滨路 12 号",
        reporter_name="张三",
        reporter_phone="138 0013 8000",
        photos=[photo],
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.PENDING
    assert report.description == "垃圾堆积\n很久了"
    assert report.reporter_phone == "13800138000"
    assert report.latitude == Decimal("30.274100") and report.longitude == Decimal("120.155100")
    assert list(report.photos.all()) == [photo]
    assert report.category_text == "垃圾乱扔"
    assert photo.uploaded_by is None
    today = timezone.localdate()
    assert intake.REFERENCE_PATTERN.match(report.reference)
    assert report.reference.startswith(f"SP{today:%y%m%d}")


def test_references_are_unique_prefixed_by_channel_and_readable(campaign, category):
    refs = {submit(campaign, category).reference for _ in range(20)}
    assert len(refs) == 20
    hotline = submit(campaign, None, channel=ReportChannel.HOTLINE, category_text="市容环境")
    assert hotline.reference.startswith("RX") and hotline.category_text == "市容环境"
    assert submit(campaign, category, channel=ReportChannel.OPEN311).reference.startswith("OP")
    for ref in refs:
        assert not set(ref[8:]) & set("ILOU")
    one = next(iter(refs))
    typed = f" {one[:4].lower()}-{one[4:8]} {one[8:].lower()} ".replace("0", "o").replace("1", "l")
    assert intake.reference_normalize(typed) == one
    assert intake.report_by_reference(typed).reference == one
    assert intake.report_by_reference("SP000000AAAAAA") is None
    assert intake.report_by_reference("<script>") is None


def test_a_collision_draws_again(campaign, category, monkeypatch):
    first = submit(campaign, category)
    draws = iter([first.reference, first.reference, "SP991231ABCDEF"])
    monkeypatch.setattr(intake, "reference_new", lambda **kw: next(draws))
    assert submit(campaign, category).reference == "SP991231ABCDEF"


@pytest.mark.parametrize(
    ("field", "message", "overrides"),
    [
        ("description", "请填写问题描述", {"description": "  \x00 "}),
        ("description", "不能超过 1000 字", {"description": "脏" * 1001}),
        ("description", "请勿在描述中填写网页代码", {"description": "看这里<script>alert(1)</script>"}),
        ("description", "请勿在描述中填写网页代码", {"description": '点击 <a href="http://x">这里</a>'}),
        ("description", "请勿在描述中填写网页代码", {"description": "<img src=x onerror=alert(1)>"}),
        ("description", "请勿在描述中填写网页代码", {"description": "&lt;script&gt;"}),
        ("address", "地址不能超过 300 字", {"address": "路" * 301}),
        ("address", "请勿在地址中填写网页代码", {"address": "<b>湖滨路</b>"}),
        ("reporter_name", "姓名不能超过 50 字", {"reporter_name": "名" * 51}),
        ("reporter_phone", "联系电话格式不正确", {"reporter_phone": "12345"}),
        ("reporter_phone", "联系电话格式不正确", {"reporter_phone": "1380013800a"}),
        ("reporter_phone", "联系电话格式不正确", {"reporter_phone": "12800138000"}),
        ("reporter_phone", "联系电话格式不正确", {"reporter_phone": "1" * 21}),
        ("latitude", "纬度应在 -90 到 90 之间", {"latitude": "91", "longitude": "120"}),
        ("longitude", "经度应在 -180 到 180 之间", {"latitude": "30", "longitude": "-181"}),
        ("latitude", "位置坐标格式不正确", {"latitude": "北纬30", "longitude": "120"}),
        ("latitude", "同时有经度和纬度", {"latitude": "30.1"}),
        ("latitude", "同时有经度和纬度", {"longitude": "120.1"}),
        ("channel", "未知的反映渠道", {"channel": "fax"}),
        ("submitted_at", "不能晚于现在", {"submitted_at": timezone.now() + datetime.timedelta(hours=1)}),
    ],
)
def test_bad_input_is_refused_with_its_message(campaign, category, field, message, overrides):
    refused(campaign, category, field, message, **overrides)


def test_good_phones_pass(campaign, category):
    for phone in ["13800138000", "+8613800138000", "0571-87654321", "057187654321", "87654321", "010-6512345-801"]:
        assert submit(campaign, category, reporter_phone=phone).reporter_phone == phone


def test_the_category_must_be_active_and_of_the_campaign(campaign, category):
    refused(campaign, None, "category", "请选择问题类别")
    other = Campaign.objects.create(
        name="另一个创建活动", start_date=datetime.date(2026, 1, 1), evaluation_date=datetime.date(2027, 1, 1)
    )
    foreign = PublicCategory.objects.create(campaign=other, code="x", name="别的类别")
    refused(campaign, foreign, "category", "请选择问题类别")
    category.active = False
    category.save()
    refused(campaign, category, "category", "请选择问题类别")


def test_an_archived_or_missing_campaign_is_refused(campaign, category):
    with pytest.raises(ValidationError, match="暂未开放"):
        submit(None, category)
    Campaign.objects.filter(pk=campaign.pk).update(active=False)
    campaign.refresh_from_db()
    refused(campaign, category, "campaign", "已结束")


def test_photos_limited_and_unused(campaign, category, settings):
    settings.REPORT_MAX_PHOTOS = 2
    photos = [services.photo_upload(user=None, file=jpeg(colour=(i * 40, 10, 10))) for i in range(3)]
    refused(campaign, category, "photos", "最多上传 2 张照片", photos=photos)
    refused(campaign, category, "photos", "不能重复", photos=[photos[0], photos[0]])
    refused(campaign, category, "photos", "不存在或已被使用", photos=[999999])
    submit(campaign, category, photos=[photos[0]])
    refused(campaign, category, "photos", "不存在或已被使用", photos=[photos[0]])
    assert Report.objects.count() == 1


def test_an_inspector_s_photo_is_no_citizen_s(campaign, category, inspector):
    photo = services.photo_upload(user=inspector, file=jpeg(colour=(9, 9, 9)))
    refused(campaign, category, "photos", "不存在或已被使用", photos=[photo])
    assert not Report.objects.exists()


def test_photo_upload_for_a_citizen_checks_content(db):
    with pytest.raises(ValidationError, match="不是图片"):
        services.photo_upload(user=None, file=SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"))
    assert not Photo.objects.exists()


# --- Public status ---------------------------------------------------------------------------


@pytest.fixture
def problem(campaign, city, office):
    return services.problem_create(
        campaign=campaign,
        source=ProblemSource.CITIZEN,
        unit=city.street_jia,
        description="垃圾堆积",
        created_by=office,
    )


def _triaged(report, status, problem=None, **fields):
    Report.objects.filter(pk=report.pk).update(status=status, problem=problem, triaged_at=timezone.now(), **fields)
    return intake.report_by_reference(report.reference)


def _personal_free(status, report):
    text = " ".join(str(value) for value in (status.code, status.label, status.note))
    assert report.reporter_phone not in text and report.reporter_name not in text


def test_public_status_of_every_state(campaign, category, problem, city):
    report = submit(campaign, category, reporter_phone="13800138000", reporter_name="张三")
    status = intake.report_public_status(report)
    assert (status.code, status.label, status.open311_status) == ("pending", "已收到，待分拣", "open")
    assert status.updated_at == report.submitted_at
    assert [s.done for s in intake.report_public_steps(report)] == [True, False, False, False]
    _personal_free(status, report)

    rejected = _triaged(report, ReportStatus.REJECTED, reject_reason="不属于城市管理范围")
    status = intake.report_public_status(rejected)
    assert (status.code, status.label, status.open311_status) == ("rejected", "不予受理", "closed")
    assert "不属于城市管理范围" in status.note
    assert [s.label for s in intake.report_public_steps(rejected)] == ["已提交", "不予受理"]

    for report_status in (ReportStatus.ACCEPTED, ReportStatus.MERGED):
        accepted = _triaged(report, report_status, problem, reject_reason="")
        status = intake.report_public_status(accepted)
        assert (status.code, status.label, status.open311_status) == ("in_progress", "办理中", "open")
        assert "安排办理单位" in status.note
        assert [s.done for s in intake.report_public_steps(accepted)] == [True, True, False, False]

    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.ASSIGNED, handler=city.dept_cg)
    assigned = intake.report_by_reference(report.reference)
    status = intake.report_public_status(assigned)
    assert status.label == "办理中" and status.note.startswith("已交办至示范市城市管理局")
    assert [s.done for s in intake.report_public_steps(assigned)] == [True, True, True, False]
    _personal_free(status, assigned)

    closed_at = timezone.now()
    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.CLOSED, closed_at=closed_at)
    closed = intake.report_by_reference(report.reference)
    status = intake.report_public_status(closed)
    assert (status.code, status.label, status.open311_status) == ("closed", "已办结", "closed")
    assert status.updated_at == closed_at
    assert [s.done for s in intake.report_public_steps(closed)] == [True, True, True, True]
    Report.objects.filter(pk=report.pk).update(reply="垃圾已清运，感谢反映", replied_at=timezone.now())
    assert intake.report_public_status(intake.report_by_reference(report.reference)).note == "垃圾已清运，感谢反映"

    Report.objects.filter(pk=report.pk).update(reply="", replied_at=None)
    Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.VOID)
    void = intake.report_public_status(intake.report_by_reference(report.reference))
    assert (void.code, void.label, void.open311_status) == ("handled", "已处理", "closed")
    assert "无需另行办理" in void.note


# --- Rate limits -----------------------------------------------------------------------------


def test_rate_limit_per_ip(settings):
    settings.REPORT_RATE_PER_IP = 3
    for _ in range(3):
        intake.rate_limit_check(ip="10.0.0.1")
    with pytest.raises(ValidationError, match="提交过于频繁，请稍后再试"):
        intake.rate_limit_check(ip="10.0.0.1")
    intake.rate_limit_check(ip="10.0.0.2")  # another address is not held back


def test_rate_limit_per_phone_across_addresses(settings):
    settings.REPORT_RATE_PER_IP = 100
    settings.REPORT_RATE_PER_PHONE = 2
    intake.rate_limit_check(ip="10.0.0.1", phone="13800138000")
    intake.rate_limit_check(ip="10.0.0.2", phone="138 0013 8000")
    with pytest.raises(ValidationError, match="提交过于频繁"):
        intake.rate_limit_check(ip="10.0.0.3", phone="13800138000")
    intake.rate_limit_check(ip="10.0.0.4", phone="13900139000")


def test_the_window_is_per_hour(settings, monkeypatch):
    settings.REPORT_RATE_PER_IP = 1
    intake.rate_limit_check(ip="10.0.0.1")
    with pytest.raises(ValidationError):
        intake.rate_limit_check(ip="10.0.0.1")
    later = timezone.now() + datetime.timedelta(hours=1)
    monkeypatch.setattr(intake.timezone, "now", lambda: later)
    intake.rate_limit_check(ip="10.0.0.1")


def test_lookups_are_limited_by_misses(settings):
    settings.REPORT_LOOKUP_MISSES_PER_IP = 2
    intake.lookup_check(ip="10.0.0.1")
    intake.lookup_missed(ip="10.0.0.1")
    intake.lookup_missed(ip="10.0.0.1")
    with pytest.raises(ValidationError, match="查询过于频繁"):
        intake.lookup_check(ip="10.0.0.1")
    intake.lookup_check(ip="10.0.0.9")


# --- Photos of reports -----------------------------------------------------------------------


def test_a_pending_report_s_photo_is_the_office_s_and_leaders_only(
    campaign, category, office, leader, inspector, liaison_jia
):
    from django.contrib.auth.models import AnonymousUser

    photo = services.photo_upload(user=None, file=jpeg())
    submit(campaign, category, photos=[photo])
    assert photo_visible_to(user=office, photo=photo)
    assert photo_visible_to(user=leader, photo=photo)
    assert not photo_visible_to(user=liaison_jia, photo=photo)
    assert not photo_visible_to(user=inspector, photo=photo)
    assert not photo_visible_to(user=AnonymousUser(), photo=photo)
    loose = services.photo_upload(user=None, file=jpeg(colour=(1, 2, 3)))
    assert not photo_visible_to(user=AnonymousUser(), photo=loose)
