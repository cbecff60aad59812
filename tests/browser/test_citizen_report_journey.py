"""市民随手拍 on a phone (issue 15, item 1): a citizen, not signed in, opens /report/ at 375 px, picks a
category, takes a photo, lets the phone locate them, describes the problem and submits; the receipt
shows the reference number; the status page opened from it says 待分拣 and shows no personal data.
(The rest of the journey — triage, assignment, closing, 已办结 — is the lead engineer's.)"""

import io

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from inspections.intake import REFERENCE_PATTERN
from inspections.models import PublicCategory, Report

pytestmark = [pytest.mark.browser]

PHONE = {"width": 375, "height": 812}
HERE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (40, 120, 60)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_citizen_reports_from_a_phone_and_reads_the_status(page, live_server, demo_city, shot):
    cache.clear()
    campaign = demo_city["campaign"]
    PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱扔", group="环境卫生", order=1)
    PublicCategory.objects.create(campaign=campaign, code="parking", name="车辆乱停", group="交通秩序", order=2)

    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(HERE)
    page.goto(f"{live_server.url}/report/")
    expect(page.get_by_test_id("public-report-form")).to_be_visible()
    expect(page.get_by_test_id("privacy-note")).to_have_text("电话仅用于回访，不会公开。")
    _no_horizontal_scroll(page)

    page.get_by_text("垃圾乱扔", exact=True).click()
    expect(page.get_by_test_id("category-litter")).to_be_checked()
    page.get_by_test_id("photo-input").set_input_files(
        files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    expect(page.get_by_test_id("photo-preview")).to_have_count(1)
    expect(page.locator("#public-report-form")).to_have_attribute("data-photos-ready", "1")
    # Resized on the phone: at most 1600 px on its long side, a JPEG.
    width = page.evaluate(
        "new Promise(r => createImageBitmap(document.getElementById('photo-input').files[0]).then(b => r(b.width)))"
    )
    assert width == 1600

    page.get_by_test_id("locate-button").click()
    expect(page.get_by_test_id("locate-status")).to_contain_text("已定位：30.274100，120.155100")
    expect(page.get_by_test_id("latitude")).to_have_value("30.274100")
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)
    page.get_by_test_id("address").fill("湖滨路与平海路交叉口")
    page.get_by_test_id("description").fill("路口东北角垃圾堆积，已有两三天没人清理。")
    page.get_by_test_id("phone").fill("13800138000")
    shot(page, "citizen-report-form-phone")
    page.get_by_test_id("report-submit").click()

    reference = page.get_by_test_id("done-reference")
    expect(reference).to_be_visible()
    number = reference.inner_text().strip()
    assert REFERENCE_PATTERN.match(number)
    expect(page.get_by_test_id("copy-reference")).to_be_visible()
    _no_horizontal_scroll(page)
    shot(page, "citizen-report-done-phone")

    report = Report.objects.get(reference=number)
    assert report.category.code == "litter" and report.reporter_phone == "13800138000"
    assert float(report.latitude) == pytest.approx(30.2741) and float(report.longitude) == pytest.approx(120.1551)
    photo = report.photos.get()
    assert photo.content_type == "image/jpeg" and max(photo.width, photo.height) == 1600

    page.get_by_test_id("status-link").click()
    expect(page.get_by_test_id("public-reference")).to_have_text(number)
    expect(page.get_by_test_id("public-status-label")).to_contain_text("待分拣")
    expect(page.get_by_test_id("public-category")).to_have_text("垃圾乱扔")
    expect(page.get_by_test_id("public-step")).to_have_count(4)
    content = page.content()
    assert "13800138000" not in content and "湖滨路" not in content
    _no_horizontal_scroll(page)
    shot(page, "citizen-report-status-phone")

    # The look-up finds it as a citizen would type it.
    page.get_by_test_id("public-lookup-link").click()
    page.get_by_test_id("public-lookup-input").fill(number.lower())
    page.get_by_test_id("public-lookup-submit").click()
    expect(page.get_by_test_id("public-reference")).to_have_text(number)
