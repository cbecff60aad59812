"""Evidence flags in the browser (issue #14): 湖滨街道's liaison reports a rectification with the
very photo the inspector took of the problem; the office sees 疑似重复 beside the pair in the 复查
queue, is refused an approval without a note, and approves with one. Set up through the services;
every wait is on a page element."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accountability.choices import Action as A
from accountability.models import ProblemEvent
from accountability.workflow import TransitionInput, problem_transition
from campaign.models import Unit
from inspections.choices import ProblemStatus as S
from inspections.services import photo_upload
from tests.browser.conftest import login, logout
from tests.browser.test_rectification_journey import DESKTOP, act, scenario
from tests.inspections.test_photo_checks import jpeg, scene

pytestmark = [pytest.mark.browser]


def test_a_reused_photo_is_flagged_and_its_approval_needs_a_note(page, live_server, demo_city, tmp_path):
    users = demo_city["users"]
    problem = scenario(demo_city)
    data = jpeg(scene(41))
    before = photo_upload(user=users["inspector"], file=SimpleUploadedFile("现场.jpg", data))
    problem.photos.add(before)
    hubin = Unit.objects.get(short_name="湖滨街道")
    problem = problem_transition(user=users["office"], problem=problem, data=TransitionInput(A.ASSIGN, handler=hubin))
    problem_transition(user=users["liaison"], problem=problem, data=TransitionInput(A.ACCEPT))
    same = tmp_path / "整改后.jpg"
    same.write_bytes(data)
    page.set_viewport_size(DESKTOP)

    # The liaison reports with the inspector's own photo.
    login(page, live_server, "liaison")
    page.goto(f"{live_server.url}/inspections/problems/{problem.pk}/")
    act(page, "submit", note="已整改完毕。", photo=str(same))
    expect(page.get_by_test_id("problem-status")).to_have_text("待复查")
    expect(page.get_by_test_id("after").get_by_test_id("photo-flags")).to_contain_text("疑似重复")
    logout(page)

    # The office sees the flag beside the pair in 复查, with the earlier photo named.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/problems/review/")
    item = page.get_by_test_id("review-item").filter(has_text=f"#{problem.pk}")
    flags = item.get_by_test_id("after").get_by_test_id("photo-flags")
    expect(flags).to_contain_text("疑似重复")
    expect(flags).to_contain_text(f"照片 #{before.pk}")
    expect(item.get_by_test_id("before")).to_be_visible()

    # Approving without a note is refused, in Chinese; nothing changed.
    def state():
        fields = ("status", "version", "closed_at", "rework_count")
        row = type(problem).objects.filter(pk=problem.pk).values_list(*fields).get()
        return row, list(ProblemEvent.objects.filter(problem=problem).order_by("pk").values_list("pk", "action"))

    before_refusal = state()
    with page.expect_navigation():
        item.get_by_role("button", name="复查通过（销号）").click()
    expect(page.locator("body")).to_contain_text("请填写核实说明")
    problem.refresh_from_db()
    assert problem.status == S.REVIEWING
    assert state() == before_refusal

    # With a note it is approved, and the note is recorded.
    page.goto(f"{live_server.url}/problems/review/")
    item = page.get_by_test_id("review-item").filter(has_text=f"#{problem.pk}")
    item.locator('input[name="note"]').fill("已到现场核实，整改属实。")
    with page.expect_navigation():
        item.get_by_role("button", name="复查通过（销号）").click()
    problem.refresh_from_db()
    assert problem.status == S.CLOSED
    assert ProblemEvent.objects.filter(problem=problem, action=A.APPROVE).get().note == "已到现场核实，整改属实。"


def test_image_bytes_are_a_jpeg():
    from PIL import Image

    assert Image.open(io.BytesIO(jpeg(scene(1)))).format == "JPEG"
