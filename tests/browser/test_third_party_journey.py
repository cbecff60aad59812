"""第三方测评结果导入 in a real browser: the office opens the page from a 第三方测评 round, asks for
the missing points to be created, uploads the evaluator's sheet, reads the preview (the points it
will create, every row), confirms, and lands on the round with the result."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaign.choices import UnitKind
from campaign.models import Campaign, Unit
from indicators import services as indicator_services
from inspections import services
from inspections.models import Inspection, Observation, Point, PointType
from tests.browser.conftest import login
from tests.campaign.xlsx import make_xlsx

pytestmark = pytest.mark.browser


def test_the_office_imports_an_evaluators_sheet(page, live_server, demo_city, shot, tmp_path):
    from django.contrib.auth import get_user_model

    office = get_user_model().objects.get(username="office")
    campaign = Campaign.objects.filter(active=True).order_by("evaluation_date").first()
    system = indicator_services.indicator_system_create(
        campaign=campaign, name="旅程测评体系", kind="national", year=2026
    )
    top = indicator_services.indicator_create(system=system, level=1, code="T-1", title="公共环境", rebuild=False)
    standard = indicator_services.indicator_create(
        system=system, level=3, code="T-1-1", title="药店环境", parent=top, weight=Decimal(1)
    )
    pharmacy = services.point_type_save(name="药店", order=90)
    services.check_item_create(
        point_type=pharmacy, indicator=standard, text="店内整洁", per_occurrence=Decimal(1), cap=Decimal(1)
    )
    today = timezone.localdate()
    round_ = services.round_create(
        user=office,
        campaign=campaign,
        name="旅程第三方测评",
        kind="third_party",
        start_date=today - datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=2),
    )
    street = Unit.objects.filter(kind=UnitKind.STREET).order_by("path").first()
    district = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("path").first()
    departments = list(Unit.objects.filter(kind=UnitKind.DEPARTMENT).order_by("path")[:2])
    sheet = tmp_path / "第三方测评结果.xlsx"
    sheet.write_bytes(
        make_xlsx(
            [
                ["点位名称", "点位类型", "所在单位", "测评标准", "扣分", "责任部门", "检查时间", "备注"],
                ["旅程大药房", "药店", street.code, "T-1-1", "0.3", " ".join(d.name for d in departments), "", ""],
                ["旅程平价药店", "药店", district.code, "T-1-1", "0", "", "", "无街道"],
            ]
        )
    )

    login(page, live_server, "office")
    page.goto(f"{live_server.url}{round_.get_absolute_url()}")
    page.get_by_test_id("round-third-party-import").click()
    expect(page.get_by_test_id("third-party-options")).to_contain_text("旅程第三方测评")
    page.get_by_label("创建缺少的点位（按所填类型和所在单位）").check()
    page.get_by_test_id("third-party-apply").click()
    page.wait_for_url("**create_points=1**")
    page.set_input_files("input[name=file]", str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("预览：将新增督查记录 2 次（观测 2 条）")
    expect(summary).to_contain_text("新建点位 2 个")
    expect(page.get_by_test_id("third-party-new-points")).to_contain_text("旅程大药房（药店）")
    assert Inspection.objects.count() == 0
    shot(page, "third-party-preview")
    page.get_by_test_id("import-confirm").click()
    page.wait_for_url(f"**{round_.get_absolute_url()}")
    expect(page.get_by_text("已新增督查记录 2 次（观测 2 条）")).to_be_visible()
    expect(page.get_by_test_id("round-name")).to_have_text("旅程第三方测评")
    shot(page, "third-party-done")
    assert Point.objects.get(name="旅程平价药店").unit == district
    given = Observation.objects.get(point__name="旅程大药房")
    assert (given.deduction, given.deduction_given) == (Decimal("0.30"), True)
    assert PointType.objects.filter(name="药店").exists()
