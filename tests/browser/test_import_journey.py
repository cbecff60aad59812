"""A big points import in a real browser: the office uploads a 2,500-row 点位 sheet (over the 500
rows that make an import a background job), the page shows a progress bar that polls the job's
status, then the preview; the confirm runs as a job too and ends on the result and the point list.

The worker is a thread started by the queued task (Celery is eager in tests, which would run the
import inside the request and show the result at once), so the page really waits and polls."""

import contextlib
import threading
import time

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from campaign.choices import UnitKind
from campaign.models import JobRun, Unit
from inspections.importing import POINT_COLUMNS
from inspections.models import Point
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

ROWS = 2_500


class ThreadWorker:
    """Stands in for a Celery worker: runs the queued import a moment later, in another thread."""

    def __init__(self):
        self.threads = []

    def delay(self, run_id):
        from django.db import connections

        from campaign.generic import import_job_run

        def work():
            time.sleep(3)
            try:
                import_job_run(run_id=run_id)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self.threads.append(thread)


def test_a_big_points_import_shows_its_progress_then_the_result(
    page, live_server, demo_city, shot, tmp_path, monkeypatch
):
    worker = ThreadWorker()
    from campaign.tasks import import_job_task

    # The jobs' outbox (campaign.jobs) sends the registered task: this worker takes what it sends.
    monkeypatch.setattr(import_job_task, "apply_async", lambda args=None, **options: worker.delay(*args))
    communities = list(Unit.objects.filter(kind=UnitKind.COMMUNITY).values_list("code", flat=True))
    sheet = tmp_path / "点位导入.xlsx"
    workbook = Workbook(write_only=True)
    rows = workbook.create_sheet("点位")
    rows.append([column.header for column in POINT_COLUMNS])
    for i in range(ROWS):
        rows.append([f"导入旅程点位{i:04d}", "背街小巷", f"旅程路{i}号", "", "", communities[i % len(communities)]])
    workbook.save(sheet)
    statuses = []

    def polled(response):
        if "format=json" in response.url:
            with contextlib.suppress(Exception):  # the last one's page has already moved on to the result
                statuses.append(response.json())

    page.on("response", polled)

    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/points/import/")
    page.set_input_files("input[name=file]", str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    job = page.get_by_test_id("import-job")
    expect(job).to_contain_text(f"文件共约 {ROWS + 1} 行，已转为后台任务运行")  # the request did not wait
    # The track shows at once; its bar may still be 0 % wide (then zero-sized, which Playwright
    # calls hidden) while the job waits for a worker, so the bar is checked by its attributes.
    expect(job.locator(".progress")).to_be_visible()
    expect(job.get_by_role("progressbar")).to_have_attribute("aria-valuemax", "100")
    expect(page.get_by_test_id("import-job-progress")).to_contain_text("已处理")
    shot(page, "import-job-progress")

    expect(page.get_by_test_id("import-summary")).to_have_text(
        f"预览：将新增 {ROWS} 条，更新 0 条，0 条不变。", timeout=90_000
    )
    expect(page.get_by_test_id("import-hidden-rows")).to_contain_text(f"另有 {ROWS - 1000} 行变化未列出")
    assert Point.objects.filter(name__startswith="导入旅程点位").count() == 0
    shot(page, "import-job-preview")

    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-job")).to_be_visible()
    expect(page.get_by_test_id("import-summary")).to_have_text(
        f"已新增 {ROWS} 条，更新 0 条，0 条不变。", timeout=90_000
    )
    expect(page.get_by_test_id("import-job-progress")).to_contain_text("100%")
    shot(page, "import-job-done")
    page.get_by_test_id("import-done").click()
    expect(page).to_have_url(f"{live_server.url}/inspections/points/")
    for thread in worker.threads:
        thread.join(timeout=30)

    assert Point.objects.filter(name__startswith="导入旅程点位").count() == ROWS
    runs = list(JobRun.objects.filter(name="import").order_by("pk").values_list("status", "progress", "rows_done"))
    assert runs == [("succeeded", 100, ROWS), ("succeeded", 100, ROWS)]
    assert any(not status["finished"] for status in statuses)  # the page polled while the job ran
