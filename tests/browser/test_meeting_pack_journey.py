"""The 调度会材料 journey (issue 16 item 1, "done when"): the office publishes a week with 北塘区 on
the 黑榜, opens the week's pack from 调度会材料, generates its PDF (eager Celery: rendered when the
request commits) and downloads it; records two commitments for 北塘区 through the pack's 登记承诺事项
(the form pre-filled with the unit and the week). Time moves on: the commitments were made the next
week, one of them due within it; the next week is published and its pack lists both under 北塘区,
进行中 and 逾期. The overdue one still open at the following week's end, publishing that week raises
a 承诺事项逾期 case for 北塘区, which its pack shows under 未结问责事项. At 375 px the toolbar stays
inside the screen; the office adds 东湖区 through 添加单位 (reason 创建办添加); a leader reads the
pack without the office's controls.

Weeks: W0 three weeks ago (observations: 北塘区 failing, 东湖区 fine), W1 two weeks ago, W2 last
week — all ended, so all publishable."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.commitments import last_working_day_before
from accountability.models import AccountabilityCase, Commitment, RollupVersion
from accountability.rollup import rollup_compute, rollup_publish
from campaign.models import Unit
from inspections.selectors import iso_week_of
from tests.browser.conftest import login, logout
from tests.browser.weeks import at, good_and_bad_week

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
FIRST, SECOND = "两周内完成运河沿线背街小巷清理", "月底前补齐垃圾分类收集点"


@pytest.fixture
def weeks(demo_city):
    """Three weeks ago: a point of 东湖区 fine, one of 北塘区 failing (with a photo), as the ranking
    journey sets them up. Returns the campaign, the three weeks' Mondays, 北塘区 and the office."""
    users = demo_city["users"]
    today = timezone.localdate()
    monday0 = today - datetime.timedelta(days=today.weekday() + 21)
    campaign, beitang = good_and_bad_week(users, monday0, "第一周督查")
    mondays = [monday0 + datetime.timedelta(days=7 * n) for n in range(3)]
    return campaign, mondays, beitang, users["office"]


def section(page, unit: Unit):
    return page.locator(f'[data-testid="pack-unit"][data-unit="{unit.pk}"]')


def test_pack_pdf_commitments_carried_and_the_overdue_case(page, live_server, shot, weeks):
    campaign, mondays, beitang, office = weeks
    w0, w1, w2 = (iso_week_of(monday) for monday in mondays)
    page.set_viewport_size(DESKTOP)

    # The office publishes W0 on the ranking page.
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/rankings/")
    page.select_option("#run-week", w0)
    page.click('[data-testid="run-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("草稿")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="publish-week"]')
    expect(page.get_by_test_id("version-status")).to_contain_text("已发布")
    expect(page.get_by_test_id("meeting-link")).to_have_attribute("href", f"/meetings/{campaign.pk}/{w0}/")

    # 调度会材料 lists the week; its pack calls 北塘区 for the 黑榜.
    page.goto(f"{live_server.url}/meetings/")
    table = page.get_by_test_id("meeting-table")
    expect(table).to_contain_text("尚未生成 PDF")
    table.get_by_role("link", name="查看 / 打印").click()
    expect(page).to_have_url(f"{live_server.url}/meetings/{campaign.pk}/{w0}/")
    black = section(page, beitang)
    expect(black).to_contain_text("上黑榜")
    expect(black.get_by_test_id("unit-row")).to_contain_text("黑榜")
    expect(page.get_by_test_id("meeting-pdf")).to_have_attribute("data-status", "none")

    # 生成 PDF: rendered on commit, then downloaded.
    page.get_by_test_id("generate").click()
    expect(page.get_by_test_id("meeting-messages")).to_contain_text("已开始生成调度会材料 PDF")
    download = page.get_by_test_id("download-pdf")
    expect(download).to_be_visible()
    assert download.get_attribute("href") == f"/meetings/{campaign.pk}/{w0}.pdf"
    pdf = page.request.get(live_server.url + download.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    expect(page.get_by_test_id("generate")).to_have_text("重新生成 PDF")
    shot(page, "meeting-pack-office-desktop")

    # Two commitments for 北塘区 through the pack's 登记承诺事项: the unit and the week pre-filled.
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    for content in (FIRST, SECOND):
        page.goto(f"{live_server.url}/meetings/{campaign.pk}/{w0}/")
        section(page, beitang).get_by_test_id("record-commitment").click()
        expect(page.locator("#id_unit")).to_have_value(str(beitang.pk))
        expect(page.locator("#id_week")).to_have_value(w0)
        page.fill("#id_content", content)
        page.fill("#id_due_date", due)
        page.fill("#id_answerer", "北塘区分管副区长")
        page.click("form.card button[type=submit]")
        expect(page.get_by_test_id("commitment-content")).to_have_text(content)
    assert set(Commitment.objects.filter(unit=beitang, week=w0).values_list("content", flat=True)) == {FIRST, SECOND}

    # Time moves on: both were made in W1, the first due on W1's last working day (the calendar's,
    # holidays included); W1 is published.
    Commitment.objects.filter(unit=beitang).update(created_at=at(mondays[1]))
    Commitment.objects.filter(content=FIRST).update(due_date=last_working_day_before(mondays[2]))
    rollup_compute(campaign=campaign, week=w1)
    rollup_publish(campaign=campaign, week=w1, user=office, bulletin=False)
    page.goto(f"{live_server.url}/meetings/{campaign.pk}/{w1}/")
    carried = section(page, beitang)
    expect(carried).to_contain_text("有承诺事项")
    rows = carried.get_by_test_id("unit-commitments").locator("tbody tr")
    expect(rows).to_have_count(2)
    late, on_time = rows.filter(has_text=FIRST), rows.filter(has_text=SECOND)
    expect(late.get_by_test_id("commitment-week-end")).to_have_text("逾期")
    expect(late.get_by_test_id("commitment-now")).to_contain_text("逾期")
    expect(on_time.get_by_test_id("commitment-week-end")).to_have_text("进行中")
    expect(on_time.get_by_test_id("commitment-now")).to_have_text("进行中")
    assert not AccountabilityCase.objects.filter(rule="commitment_overdue").exists()  # overdue one week only

    # Still open at W2's end: publishing W2 raises 承诺事项逾期 for 北塘区, shown under 未结问责事项.
    rollup_compute(campaign=campaign, week=w2)
    rollup_publish(campaign=campaign, week=w2, user=office, bulletin=False)
    case = AccountabilityCase.objects.get(rule="commitment_overdue")
    assert (case.unit_id, case.week, case.status) == (beitang.pk, w2, "pending")
    page.goto(f"{live_server.url}/meetings/{campaign.pk}/{w2}/")
    cases = section(page, beitang).get_by_test_id("unit-cases")
    expect(cases.locator("tbody tr").filter(has_text="承诺事项逾期")).to_have_count(1)
    expect(cases).to_contain_text("承诺事项连续两周逾期未完成 1 项")

    # At 375 px the toolbar wraps inside the screen.
    page.set_viewport_size(PHONE)
    toolbar = page.get_by_test_id("meeting-toolbar")
    expect(toolbar).to_be_visible()
    box = toolbar.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert toolbar.evaluate("el => el.scrollWidth <= el.clientWidth")
    for testid in ("meeting-toolbar", "meeting-add"):
        assert page.get_by_test_id(testid).evaluate(
            "el => [...el.querySelectorAll('a, button, select')].every(c => c.getBoundingClientRect().right <= 375)"
        ), testid
    shot(page, "meeting-pack-office-375")
    page.set_viewport_size(DESKTOP)

    # 添加单位: 东湖区 joins the pack, reason 创建办添加.
    donghu = Unit.objects.get(name="示范市东湖区")
    expect(section(page, donghu)).to_have_count(0)
    page.select_option('[data-testid="add-unit-select"]', str(donghu.pk))
    page.get_by_test_id("add-unit").click()
    expect(page.get_by_test_id("meeting-messages")).to_contain_text("已将示范市东湖区列入本次调度会")
    added = section(page, donghu)
    expect(added).to_contain_text("创建办添加")
    expect(added.get_by_test_id("remove-unit")).to_be_visible()
    expect(page.locator(f'[data-testid="pack-index"] tr[data-unit="{donghu.pk}"]')).to_contain_text("创建办添加")
    page.goto(f"{live_server.url}/")  # the pack is a standalone A4 sheet: sign out from the site's menu
    logout(page)

    # A leader reads the pack, without 生成 PDF or 添加单位.
    login(page, live_server, "leader")
    page.goto(f"{live_server.url}/meetings/{campaign.pk}/{w2}/")
    expect(section(page, beitang).get_by_test_id("unit-cases")).to_contain_text("承诺事项逾期")
    expect(section(page, donghu)).to_contain_text("创建办添加")
    expect(page.get_by_test_id("meeting-toolbar")).to_be_visible()
    expect(page.get_by_test_id("generate")).to_have_count(0)
    expect(page.get_by_test_id("meeting-add")).to_have_count(0)
    expect(page.get_by_test_id("add-unit-select")).to_have_count(0)
    expect(page.get_by_test_id("remove-unit")).to_have_count(0)
    shot(page, "meeting-pack-leader-desktop")
    assert RollupVersion.objects.filter(campaign=campaign, status="published").count() == 3
