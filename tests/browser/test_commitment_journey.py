"""The 承诺事项 journey (issue 16 item 2): the office records two commitments for 湖滨街道 after the
调度会; the street's liaison reports one done with a photo; the office confirms it; the list then
reads 已完成 for that one and 进行中 for the other."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accountability.models import Commitment
from campaign.models import Membership
from tests.browser.conftest import login, logout

pytestmark = [pytest.mark.browser]


def jpeg(tmp_path) -> str:
    path = tmp_path / "整改后.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 160, 90)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_office_records_liaison_reports_office_confirms(page, live_server, shot, demo_city, tmp_path):
    street = Membership.objects.get(user=demo_city["users"]["liaison"]).unit
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    login(page, live_server, "office")
    for content in ("两周内完成楼道堆物清理", "月底前补齐垃圾分类收集点"):
        page.goto(f"{live_server.url}/commitments/new/")
        page.select_option("#id_unit", str(street.pk))
        page.fill("#id_content", content)
        page.fill("#id_due_date", due)
        page.fill("#id_answerer", "湖滨街道分管领导")
        page.click("form.card button[type=submit]")
        expect(page.get_by_test_id("commitment-content")).to_have_text(content)
    first = Commitment.objects.get(content="两周内完成楼道堆物清理")
    logout(page)

    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server, "liaison")
    page.goto(f"{live_server.url}/commitments/")
    expect(page.get_by_test_id("commitment-row")).to_have_count(2)
    page.get_by_role("link", name="两周内完成楼道堆物清理").click()
    page.fill("#report-note", "已清理 12 个楼道，附清理后照片")
    page.set_input_files("#report-photos", jpeg(tmp_path))
    page.get_by_test_id("commitment-report").click()
    expect(page.get_by_test_id("commitment-status")).to_have_text("已完成（待确认）")
    expect(page.get_by_test_id("commitment-photo")).to_have_count(1)
    expect(page.get_by_test_id("commitment-decide-form")).to_have_count(0)  # not its own to confirm
    shot(page, "commitment-reported-375")
    logout(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/commitments/{first.pk}/")
    page.get_by_test_id("commitment-confirm").click()
    expect(page.get_by_test_id("commitment-status")).to_have_text("已完成")
    page.goto(f"{live_server.url}/commitments/?unit={street.pk}")
    statuses = page.get_by_test_id("commitment-status")
    expect(statuses).to_have_count(2)
    expect(page.get_by_test_id("commitment-row").filter(has_text="两周内完成楼道堆物清理")).to_contain_text("已完成")
    expect(page.get_by_test_id("commitment-row").filter(has_text="月底前补齐垃圾分类收集点")).to_contain_text("进行中")
    shot(page, "commitment-list")
    first.refresh_from_db()
    assert first.status == "done" and [e.action for e in first.events.all()] == ["登记", "报告完成", "确认完成"]
