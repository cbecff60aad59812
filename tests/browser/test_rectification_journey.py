"""The rectification loop (issue #5) in the browser, with the demo accounts:

1. the office assigns a 待交办 problem from the 交办 queue to 湖滨街道;
2. 湖滨街道's liaison accepts it (签收) and submits a report with an after-photo;
3. the office sends it back (退回返工) with a reason; the liaison resubmits with another photo;
4. the office approves it (销号): 按期销号; the status badge follows every step;
5. the liaison of another district (西山区山前街道) opening the problem gets 404.

And the office registers a 12345 problem with a photo on 登记问题. The scenario is set up through
the services; every wait is on a page element, never a sleep."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from campaign.models import Unit
from indicators import services as indicator_services
from inspections import services
from inspections.models import PointType, Problem
from inspections.services import ObservationInput
from tests.browser.conftest import login, logout

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 800}
POINT_NAME = "湖滨整改广场"
ITEM_TEXT = "地面干净，无垃圾、无积水"


def scenario(demo_city) -> Problem:
    """A point in 湖滨街道 with one check item, an open round, and an inspection that failed the
    item: one problem, 待交办."""
    users, campaign = demo_city["users"], demo_city["campaign"]
    system = indicator_services.indicator_system_create(
        campaign=campaign, name="整改旅程测评体系", kind="national", year=2026
    )
    top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-9", title="公共环境", rebuild=False)
    standard = indicator_services.indicator_create(
        system=system, level=3, code="Ⅲ-9", title="广场环境", parent=top, weight=Decimal(4)
    )
    point_type = PointType.objects.get(name="公共广场")
    item = services.check_item_create(
        point_type=point_type, indicator=standard, text=ITEM_TEXT, per_occurrence=Decimal("0.5"), cap=Decimal(1)
    )
    point = services.point_create(
        name=POINT_NAME, point_type=point_type, unit=Unit.objects.get(short_name="湖滨街道"), address="湖滨路2号"
    )
    today = timezone.localdate()
    round_ = services.round_create(
        user=users["office"],
        campaign=campaign,
        name="湖滨整改旅程督查",
        kind="routine",
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=5),
        inspectors=[users["inspector"]],
        points=[point],
    )
    services.inspection_submit(
        user=users["inspector"],
        round_=round_,
        point=point,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(item.pk, "fail", 2, "东侧垃圾堆积")],
    )
    return Problem.objects.get(point=point)


def photo_file(tmp_path, name: str, colour) -> str:
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buffer, format="JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return str(path)


def act(page, action: str, *, note: str | None = None, photo: str | None = None) -> None:
    """Submit one workflow form of the problem page (opening its fold first) and wait for the page
    it leads back to."""
    form = page.locator(f'form[data-action="{action}"]')
    if not form.is_visible():
        page.locator(f'details:has(form[data-action="{action}"]) > summary').click()
    expect(form).to_be_visible()
    if note is not None:
        form.locator('textarea[name="note"]').fill(note)
    if photo is not None:
        form.locator('input[name="photo_files"]').set_input_files(photo)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()


def test_office_assigns_liaison_rectifies_office_rejects_then_closes(page, live_server, demo_city, shot, tmp_path):
    problem = scenario(demo_city)
    url = f"{live_server.url}/inspections/problems/{problem.pk}/"
    hubin = Unit.objects.get(short_name="湖滨街道")
    status = page.get_by_test_id("problem-status")
    page.set_viewport_size(DESKTOP)

    # 1. The office assigns it from the 交办 queue to 湖滨街道.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/problems/assign/")
    queue = page.get_by_test_id("list-table")
    expect(queue).to_contain_text(POINT_NAME)
    page.locator(f'input[name="problems"][value="{problem.pk}"]').check()
    page.locator("#id_handler").select_option(str(hubin.pk))
    shot(page, "rectification-assign-queue")
    with page.expect_navigation():
        page.get_by_role("button", name="交办所选问题").click()
    expect(page.locator(".alert, [role=alert]").first).to_contain_text("已交办 1 个问题")
    expect(page.get_by_test_id("list-table").locator(f'input[value="{problem.pk}"]')).to_have_count(0)
    page.goto(url)
    expect(status).to_have_text("待签收")
    expect(page.get_by_test_id("workflow-handler")).to_have_text(hubin.name)
    logout(page)

    # 2. 湖滨街道's liaison accepts it and submits a report with an after-photo.
    login(page, live_server, "liaison")
    page.goto(url)
    expect(status).to_have_text("待签收")
    act(page, "accept")
    expect(status).to_have_text("整改中")
    act(
        page,
        "submit",
        note="已清理东侧垃圾，并安排专人保洁。",
        photo=photo_file(tmp_path, "整改后1.jpg", (60, 160, 80)),
    )
    expect(status).to_have_text("待复查")
    expect(page.get_by_test_id("after").locator("img")).to_have_count(1)
    shot(page, "rectification-submitted")
    logout(page)

    # 3. The office sends it back with a reason.
    login(page, live_server, "office")
    page.goto(url)
    expect(status).to_have_text("待复查")
    act(page, "reject", note="西北角仍有积水，请返工。")
    expect(status).to_have_text("整改中")
    expect(page.get_by_test_id("timeline")).to_contain_text("西北角仍有积水，请返工。")
    logout(page)

    # The liaison resubmits with another photo.
    login(page, live_server, "liaison")
    page.goto(url)
    expect(status).to_have_text("整改中")
    act(page, "submit", note="积水已清除，排水口已疏通。", photo=photo_file(tmp_path, "整改后2.jpg", (40, 120, 200)))
    expect(status).to_have_text("待复查")
    logout(page)

    # 4. The office approves: closed on time.
    login(page, live_server, "office")
    page.goto(url)
    expect(status).to_have_text("待复查")
    act(page, "approve")
    expect(status).to_have_text("已销号")
    expect(page.get_by_test_id("deadline-fact")).to_have_text("按期销号")
    expect(page.get_by_test_id("workflow-actions")).to_have_count(0)
    timeline = page.get_by_test_id("timeline")
    for label in ("交办", "签收", "提交整改报告", "复查不通过（返工）", "复查通过（销号）"):
        expect(timeline).to_contain_text(label)
    shot(page, "rectification-closed")
    problem.refresh_from_db()
    assert (problem.status, problem.rework_count, problem.handler_id) == ("closed", 1, hubin.pk)
    assert problem.events.filter(action="submit").count() == 2
    page.goto(f"{live_server.url}/inspections/problems/?point={problem.point_id}")
    expect(page.get_by_test_id("list-table")).to_contain_text("按期销号")
    logout(page)

    # 5. The liaison of another district may not even learn that it exists.
    login(page, live_server, "liaison2")
    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("未找到")
    expect(page.locator("body")).not_to_contain_text(POINT_NAME)


def test_office_registers_a_hotline_problem_with_a_photo(page, live_server, demo_city, shot, tmp_path):
    hubin = Unit.objects.get(short_name="湖滨街道")
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/problems/")
    with page.expect_navigation():
        page.get_by_role("link", name="登记问题").click()
    page.locator("#id_source").select_option("hotline")
    page.locator("#id_description").fill("12345热线转办：湖滨路人行道井盖破损")
    page.locator("#id_unit").select_option(str(hubin.pk))
    page.locator("#id_severity").select_option("severe")
    page.locator("#id_photos").set_input_files(photo_file(tmp_path, "井盖.jpg", (120, 120, 120)))
    shot(page, "rectification-register")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("problem-status")).to_have_text("待交办")
    expect(page.get_by_test_id("problem-description")).to_have_text("12345热线转办：湖滨路人行道井盖破损")
    expect(page.locator(".photo-thumbs img")).to_have_count(1)
    assert page.evaluate("document.querySelector('.photo-thumbs img').naturalWidth") > 0
    problem = Problem.objects.get(source="hotline")
    assert (problem.unit_id, problem.severity, problem.deduction) == (hubin.pk, "severe", 0)

    # Found in the list by its source; waiting in the 交办 queue.
    page.goto(f"{live_server.url}/inspections/problems/?source=hotline")
    expect(page.get_by_test_id("list-table").locator("tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/problems/assign/")
    expect(page.get_by_test_id("list-table")).to_contain_text("湖滨路人行道井盖破损")
