"""Playwright against Debian's chromium and Django's live server, with the demo city loaded.

Screenshots of the tested pages go to test-artifacts/screenshots/ (printed at the end of the run).
"""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason="Debian 的 chromium 未安装（apt-get install chromium）")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--lang=zh-CN",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def demo_city(transactional_db):
    """The demo city's units, campaign and accounts (not its indicators or field work: journeys
    create what they test, and seeding everything costs twenty seconds a test)."""
    from campaign.demo import seed_all
    from inspections.services import point_types_set_default_departments

    context = seed_all(only=("campaign",))
    # A transactional test's flush empties every table, including the 26 point types that a
    # migration loads: put them back.
    point_types_set_default_departments()
    return context


@pytest.fixture
def shot():
    """shot(page, name): a full-page screenshot kept for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, live_server, username: str, password: str = "demo-pass-2026") -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector('[data-testid="home-title"]')


def logout(page) -> None:
    page.click('[data-testid="user-menu"]')
    page.click('[data-testid="logout"]')
    page.wait_for_selector("#id_username")
