"""群众反映 triage journey (issue 15): the office opens the 待分拣 queue, opens a pending 随手拍, merges
it into the open problem the page names as its duplicate, then opens another and accepts it at the
unit the nearest point suggests: the new problem's page says 市民随手拍 and 待交办 and its history
names the report."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from inspections import services
from inspections.choices import ProblemSource, ReportChannel, ReportStatus
from inspections.demo import _jpeg
from inspections.intake import report_submit
from inspections.models import Problem, PublicCategory, Report
from tests.browser.conftest import login
from tests.browser.test_inspection_journey import field_setup

pytestmark = [pytest.mark.browser]


def test_office_merges_one_report_and_accepts_another(page, live_server, demo_city, shot):
    field = field_setup(demo_city)
    point, items = field["point"], field["items"]
    campaign, office = demo_city["campaign"], demo_city["users"]["office"]
    category = PublicCategory.objects.create(campaign=campaign, code="zdjy", name="占道经营")
    category.check_items.set([items[0]])
    problem = services.problem_create(
        campaign=campaign,
        source=ProblemSource.LEADER,
        unit=None,
        point=point,
        check_item=items[0],
        description="广场东侧有摊贩占道经营",
        created_by=office,
    )
    photo = services.photo_upload(
        user=None, file=SimpleUploadedFile("随手拍.jpg", _jpeg(1, "citizen"), content_type="image/jpeg")
    )
    now = timezone.now()
    first = report_submit(
        campaign=campaign,
        channel=ReportChannel.CITIZEN,
        category=category,
        description="广场东侧又有人摆摊，占了半条人行道",
        latitude=point.latitude + Decimal("0.000200"),
        longitude=point.longitude,
        reporter_phone="13900001234",
        photos=[photo],
        submitted_at=now - datetime.timedelta(hours=2),
    )
    second = report_submit(
        campaign=campaign,
        channel=ReportChannel.CITIZEN,
        category=category,
        description="广场西门绿化带被踩出一条路，草皮全秃了",
        latitude=point.latitude - Decimal("0.000900"),
        longitude=point.longitude,
        submitted_at=now - datetime.timedelta(hours=1),
    )

    login(page, live_server, "office")
    expect(page.get_by_test_id("nav-badge-reports")).to_have_text("2")
    expect(page.get_by_test_id("nav-badge-reports")).to_have_attribute("title", "2 条待分拣")
    page.goto(f"{live_server.url}/inspections/reports/")
    expect(page.get_by_test_id("tab-pending")).to_contain_text("2")
    shot(page, "triage-queue")
    page.get_by_role("link", name=first.reference).click()
    expect(page.get_by_test_id("report-title")).to_contain_text(first.reference)
    duplicate = page.get_by_test_id("duplicate")
    expect(duplicate).to_have_count(1)
    expect(duplicate).to_contain_text(f"问题 #{problem.pk}")
    shot(page, "triage-report-duplicate")
    page.get_by_test_id(f"merge-{problem.pk}").click()
    expect(page.get_by_test_id("report-status")).to_have_text("已合并")
    expect(page.get_by_test_id("report-problem")).to_contain_text(f"问题 #{problem.pk}")
    assert Report.objects.get(pk=first.pk).status == ReportStatus.MERGED
    assert list(Problem.objects.get(pk=problem.pk).photos.all()) == [photo]

    page.goto(f"{live_server.url}/inspections/reports/")
    page.get_by_role("link", name=second.reference).click()
    expect(page.get_by_test_id("nearest-point")).to_contain_text(point.name)
    page.fill("#id_description", "广场西门绿化带被踩踏，草皮损毁")
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("problem-title")).to_be_visible()
    created = Problem.objects.get(reports=second)
    expect(page.get_by_test_id("problem-title")).to_have_text(f"问题 #{created.pk}")
    expect(page.get_by_test_id("problem-status")).to_have_text("待交办")
    expect(page.get_by_text("市民随手拍", exact=True)).to_be_visible()
    expect(page.get_by_test_id("report-sighting")).to_contain_text(second.reference)
    shot(page, "triage-accepted-problem")
    assert (created.unit, created.source, created.description) == (
        point.unit,
        ProblemSource.CITIZEN,
        "广场西门绿化带被踩踏，草皮损毁",
    )
