"""导入人员 in a real browser: the office uploads a people sheet, previews it, confirms, and sees
the new accounts' one-time passwords once; a new liaison signs in with one, is sent to the
password change, sets its own and lands on its home — its name, not its login, in the header."""

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from campaign.people import PEOPLE_HEADERS
from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser

NEW_PASSWORD = "湖滨新密码Xy2026"


def test_office_imports_people_and_a_new_liaison_changes_its_password(page, live_server, demo_city, shot, tmp_path):
    sheet = tmp_path / "人员导入.xlsx"
    workbook = Workbook()
    workbook.active.append(PEOPLE_HEADERS)
    workbook.active.append(["林小湖", "139 0510 0001", "", "单位联络员", "东湖区湖滨街道", ""])
    workbook.active.append(["高督查", "13905100002", "gaodc", "督查员", "市文明办", ""])
    workbook.save(sheet)

    login(page, live_server, "office")
    page.goto(f"{live_server.url}/members/")
    page.get_by_role("link", name="导入").click()
    expect(page).to_have_url(f"{live_server.url}/members/import/")
    page.set_input_files("input[name=file]", str(sheet))
    page.click("[data-testid=import-upload] button[type=submit]")
    expect(page.get_by_test_id("import-summary")).to_have_text("预览：将新增 2 条，更新 0 条，0 条不变。")
    shot(page, "people-import-preview")
    page.get_by_test_id("import-confirm").click()

    rows = page.get_by_test_id("initial-password-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("initial-passwords")).to_contain_text("只在本页显示这一次")
    expect(page.get_by_test_id("initial-passwords-download")).to_be_visible()
    liaison_row = rows.filter(has_text="林小湖")
    expect(liaison_row).to_contain_text("13905100001")
    password = liaison_row.get_by_test_id("initial-password").inner_text().strip()
    assert len(password) == 10
    shot(page, "people-import-passwords")
    page.get_by_test_id("import-done").click()
    expect(page.locator("table")).to_contain_text("林小湖")
    expect(page.locator("body")).not_to_contain_text(password)
    logout(page)

    # The new liaison: the one-time password, then its own.
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "13905100001")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("password-change-required")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/password/")
    page.goto(f"{live_server.url}/units/")  # any page leads back to the change
    expect(page).to_have_url(f"{live_server.url}/password/")
    shot(page, "people-forced-password-change")
    page.fill("#id_old_password", password)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("[data-testid=password-change] button[type=submit]")
    expect(page.get_by_test_id("home-title")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("user-menu")).to_contain_text("林小湖")
    expect(page.get_by_test_id("user-menu")).not_to_contain_text("13905100001")
    shot(page, "people-liaison-home")
    page.goto(f"{live_server.url}/units/")
    expect(page).to_have_url(f"{live_server.url}/units/")
    logout(page)
    login(page, live_server, "13905100001", NEW_PASSWORD)
