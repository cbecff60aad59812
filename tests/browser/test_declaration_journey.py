"""The declaration journey in a real browser: the office imports a 任务分解表, the 湖滨街道 liaison
uploads a PDF from its 任务单, the office returns it, the liaison resubmits a replacement, the
office approves, and the completeness board moves from 0% to 100%."""

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from campaign.files import minimal_pdf
from campaign.models import Unit
from indicators.models import IndicatorSystem, Material
from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
SYSTEM_NAME = "示范市测评体系（申报演练）"
HEADERS = [
    "测评项目",
    "指标名称",
    "测评内容",
    "分值",
    "测评标准",
    "测评方法",
    "牵头单位",
    "责任单位",
    "材料要求",
    "完成时限",
]
ROWS = [
    [
        "Ⅰ-1 思想道德建设",
        "Ⅱ-1 公益广告",
        "Ⅲ-1 公益广告宣传",
        6,
        "1) 主要街道、公共场所公益广告数量充足、内容规范",
        "网上申报",
        "市文明办",
        "湖滨街道",
        "工作方案、现场照片（加盖公章）",
        "2026-12-31",
    ],
    [
        "Ⅰ-1 思想道德建设",
        "Ⅱ-1 公益广告",
        "Ⅲ-1 公益广告宣传",
        6,
        "2) 公益广告设施完好，无破损、无错字",
        "实地考察",
        "市城管局",
        "",
        "",
        "",
    ],
    [
        "Ⅰ-2 规范守信的市场环境",
        "Ⅱ-2 诚信建设",
        "Ⅲ-2 信用体系建设",
        4,
        "1) 建立信用信息共享平台并常态运行",
        "材料审核",
        "市城管局",
        "市城管局",
        "平台建设文件",
        "2027-03-31",
    ],
]


def both_sizes(page, shot, name: str) -> None:
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} overflows on a phone"
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_declaration_journey(page, live_server, demo_city, shot, tmp_path):
    page.set_viewport_size(DESKTOP)
    sheet = tmp_path / "任务分解表.xlsx"
    workbook = Workbook()
    workbook.active.append(HEADERS)
    for row in ROWS:
        workbook.active.append(row)
    workbook.save(sheet)
    first_pdf = tmp_path / "公益广告工作方案.pdf"
    first_pdf.write_bytes(minimal_pdf("first"))
    second_pdf = tmp_path / "公益广告工作方案-盖章.pdf"
    second_pdf.write_bytes(minimal_pdf("stamped"))
    hubin = Unit.objects.get(short_name="湖滨街道")

    # The office creates a system for the campaign and imports the sheet: upload → preview → confirm.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/indicators/systems/new/")
    page.fill("#id_name", SYSTEM_NAME)
    page.fill("#id_year", "2027")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("import-system").first).to_be_visible()
    system = IndicatorSystem.objects.get(name=SYSTEM_NAME)
    assert system.campaign == demo_city["campaign"]
    page.get_by_test_id("import-system").first.click()
    page.set_input_files("input[name=file]", str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("indicator-tree")).to_contain_text("主要街道、公共场所公益广告数量充足")
    expect(page.locator('[data-testid="tree-node"][data-code="1)"]').first).to_contain_text("湖滨街道")
    page.get_by_test_id("collapse-all").click()
    expect(page.get_by_text("主要街道、公共场所公益广告数量充足")).to_be_hidden()
    page.get_by_test_id("expand-all").click()
    expect(page.get_by_text("主要街道、公共场所公益广告数量充足")).to_be_visible()
    both_sizes(page, shot, "indicators-tree")

    board_url = f"{live_server.url}/indicators/board/?system={system.pk}"
    hubin_rate = page.locator(f'[data-testid="unit-rate-row"][data-unit="{hubin.name}"] [data-testid="unit-rate"]')
    page.goto(board_url)
    expect(hubin_rate).to_have_text("0%")
    logout(page)

    # The 湖滨街道 liaison opens its 任务单 and uploads a PDF for the row.
    login(page, live_server, "liaison")
    expect(page.get_by_test_id("widget-tasks")).to_contain_text("湖滨街道")
    page.get_by_test_id("main-nav").get_by_role("link", name="任务单", exact=True).click()
    row = page.locator('[data-testid="task-row"][data-code="1)"]')
    expect(row).to_contain_text("工作方案、现场照片（加盖公章）")
    expect(row).to_contain_text("未报送")
    both_sizes(page, shot, "indicators-tasks")
    row.get_by_test_id("upload").click()
    expect(page.get_by_test_id("upload-indicator")).to_contain_text("主要街道、公共场所公益广告数量充足")
    page.fill("#id_description", "湖滨街道公益广告宣传工作方案")
    page.set_input_files("input[name=files]", str(first_pdf))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("material-status").first).to_have_text("待审核")
    expect(page.get_by_test_id("material-files")).to_contain_text("公益广告工作方案.pdf")
    material = Material.objects.get(indicator__system=system, unit=hubin)
    logout(page)

    # The office returns it with a reason.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}{material.get_absolute_url()}")
    page.fill("#id_reason", "工作方案未加盖公章，请补充盖章件后重新提交。")
    page.get_by_test_id("return").click()
    expect(page.get_by_test_id("return-alert")).to_contain_text("工作方案未加盖公章")
    logout(page)

    # The liaison sees the reason on its 任务单 and resubmits with a replacement file.
    login(page, live_server, "liaison")
    page.get_by_test_id("main-nav").get_by_role("link", name="任务单", exact=True).click()
    expect(row.get_by_test_id("return-reason")).to_have_text("工作方案未加盖公章，请补充盖章件后重新提交。")
    row.get_by_test_id("resubmit").click()
    old_file = material.files.get()
    page.fill("#id_description", "湖滨街道公益广告宣传工作方案（已盖章）")
    page.set_input_files(f"input[name=replace_{old_file.pk}]", str(second_pdf))
    page.get_by_test_id("resubmit-submit").click()
    expect(page.get_by_test_id("material-status").first).to_have_text("待审核")
    expect(page.get_by_test_id("material-files")).to_contain_text("公益广告工作方案-盖章.pdf")
    expect(page.get_by_test_id("file-versions")).to_contain_text("历史版本（1）")
    expect(page.get_by_test_id("material-events")).to_contain_text("重新提交")
    both_sizes(page, shot, "indicators-material")
    logout(page)

    # The office approves; the board moves from 0% to 100%.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}{material.get_absolute_url()}")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("material-status").first).to_have_text("通过")
    page.goto(board_url)
    expect(hubin_rate).to_have_text("100%")
    both_sizes(page, shot, "indicators-board")
    material.refresh_from_db()
    assert material.status == "approved"
    assert list(material.files.order_by("version").values_list("version", "current")) == [(1, False), (2, True)]
