"""Long imports as jobs: a file of more than IMPORT_JOB_ROWS rows is previewed and imported by a
Celery task recorded as a JobRun; the page shows a progress bar polling a JSON status, then the
result as a small file's page does. Only the office starts one or reads its status.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaign.choices import JobStatus
from campaign.importing import sheet_row_count
from campaign.models import JobRun, Unit
from inspections.models import Point, PointType
from tests.campaign.xlsx import make_xlsx, upload
from tests.conftest import unit_snapshot
from tests.inspections.test_imports import POINT_HEADER

POINTS_URL = "/inspections/points/import/"
UNITS_URL = "/units/import/"
UNIT_HEADER = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]


@pytest.fixture(autouse=True)
def small_job_threshold(settings):
    """Files of more than 5 rows run as jobs here (the default is 500)."""
    settings.IMPORT_JOB_ROWS = 5


@pytest.fixture
def point_types(db):
    for order, name in enumerate(("集贸(农贸)市场", "背街小巷"), start=1):
        PointType.objects.get_or_create(name=name, defaults={"order": order, "national": True})


def point_rows(count: int, prefix: str = "作业点位") -> list[list[str]]:
    units = ["甲一社区", "JIA-1-2", "乙街道"]
    return [
        [
            f"{prefix}{i:03d}",
            "农贸市场" if i % 2 else "背街小巷",
            "",
            "",
            "",
            units[i % 3],
            "",
            "",
            "",
            f"138{i:04d}",
            "否",
        ]
        for i in range(count)
    ]


def points_file(rows):
    return upload("点位.xlsx", make_xlsx([POINT_HEADER, *rows]))


def run_jobs(capture):
    """Run what the request queued (Celery is eager in tests; on_commit waits for the test's
    transaction, so the callbacks are run here)."""
    return capture(execute=True)


def point_names() -> list[str]:
    return sorted(Point.objects.values_list("name", flat=True))


def test_a_big_points_file_is_previewed_then_imported_as_jobs_with_progress(
    web, city, office, point_types, django_capture_on_commit_callbacks
):
    client = web(office)
    with run_jobs(django_capture_on_commit_callbacks):
        response = client.post(POINTS_URL, {"file": points_file(point_rows(8))})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="import-job"' in html and 'role="progressbar"' in html  # the request did not wait
    preview_run = JobRun.objects.get(name="import")
    assert (preview_run.params["dry_run"], preview_run.params["rows"], preview_run.created_by) == (True, 9, office)

    preview_run.refresh_from_db()
    assert (preview_run.status, preview_run.progress, preview_run.rows_done) == (JobStatus.SUCCEEDED, 100, 8)
    assert preview_run.result == {  # the counts; every row's change is kept in the private storage
        "dry_run": True,
        "created": 8,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "summary": "预览：将新增 8 条，更新 0 条，0 条不变。",
        "detail": f"result-{preview_run.pk}.json",
    }
    assert point_names() == []  # a preview writes nothing

    status = client.get(POINTS_URL, {"job": preview_run.pk, "format": "json"}).json()
    assert status | {"page_url": None} == {
        "id": preview_run.pk,
        "status": "succeeded",
        "status_label": "成功",
        "finished": True,
        "percent": 100,
        "rows_done": 8,
        "rows_total": 8,
        "stage": "完成",
        "dry_run": True,
        "page_url": None,
        "summary": "预览：将新增 8 条，更新 0 条，0 条不变。",
        "created": 8,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    page = client.get(status["page_url"])
    assert page.status_code == 200
    assert "预览：将新增 8 条，更新 0 条，0 条不变。" in page.content.decode()
    token = page.context["token"]
    assert token == preview_run.params["token"]

    with run_jobs(django_capture_on_commit_callbacks):
        confirm = client.post(POINTS_URL, {"token": token})
    assert confirm.status_code == 200 and 'data-testid="import-job"' in confirm.content.decode()
    import_run = JobRun.objects.filter(name="import").exclude(pk=preview_run.pk).get()
    assert import_run.params["dry_run"] is False
    import_run.refresh_from_db()
    assert import_run.status == JobStatus.SUCCEEDED
    assert len(point_names()) == 8
    done = client.get(POINTS_URL, {"job": import_run.pk})
    html = done.content.decode()
    assert "已新增 8 条，更新 0 条，0 条不变。" in html
    assert f'href="{reverse("point-list")}"' in html and 'name="token"' not in html

    again = client.post(POINTS_URL, {"token": token})  # a token is used once
    assert again.status_code == 400 and "预览已过期" in again.content.decode()

    jobs = client.get("/jobs/")  # the job list shows the counts, not every row
    assert jobs.status_code == 200 and "新增：8" in jobs.content.decode()  # the run's counts, in Chinese
    assert len(jobs.content) < 100_000


def test_the_job_reports_its_progress_stage_by_stage(web, city, office, point_types, monkeypatch):
    from campaign import services

    seen = []
    real = services.job_run_progress

    def spy(**kwargs):
        seen.append((kwargs["stage"], kwargs["percent"], kwargs["rows_done"]))
        return real(**kwargs)

    monkeypatch.setattr(services, "job_run_progress", spy)
    monkeypatch.setattr("inspections.importing.PROGRESS_EVERY", 4)
    from campaign.generic import import_job_run, import_storage
    from campaign.services import job_run_create

    import_storage().save("abc123", points_file(point_rows(12)))
    run = job_run_create(
        name="import",
        user=office,
        params={
            "view": "inspections.views.PointImportView",
            "path": POINTS_URL,
            "kwargs": {},
            "query": "",
            "token": "abc123",
            "filename": "点位.xlsx",
            "dry_run": False,
            "rows": 13,
        },
    )
    monkeypatch.setattr("campaign.generic.time.monotonic", iter(range(0, 1000, 10)).__next__)
    import_job_run(run_id=run.pk)
    # read 0–45 %, validate 45–75 % (every 4 rows here), write 75–99 % (not from inside the
    # import's transaction, where nobody could see it); 100 % when finished
    assert seen == [
        ("处理中", 45, 13),  # the sheet read (under 1,000 rows: no report while reading)
        ("校验", 55, 4),
        ("校验", 65, 8),
        ("校验", 75, 12),
        ("校验", 75, 12),
        ("写入", 75, 0),
        ("完成", 99, 12),
    ]
    run.refresh_from_db()
    assert (run.status, run.progress, len(point_names())) == (JobStatus.SUCCEEDED, 100, 12)
    assert not import_storage().exists("abc123")  # the kept upload goes once imported


def test_row_errors_of_a_big_file_are_listed_and_nothing_can_be_confirmed(
    web, city, office, point_types, django_capture_on_commit_callbacks
):
    client = web(office)
    rows = point_rows(8)
    rows[3][5] = "不存在社区"
    rows[6][1] = "菜场摊"
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(POINTS_URL, {"file": points_file(rows)})
    run = JobRun.objects.get(name="import")
    page = client.get(POINTS_URL, {"job": run.pk})
    assert page.status_code == 400
    html = page.content.decode()
    assert "文件有 2 处错误，未写入任何数据。" in html
    assert "第 5 行" in html and "第 8 行" in html and "未知的点位类型“菜场摊”" in html
    assert 'name="token"' not in html
    from campaign.generic import import_storage

    assert not import_storage().exists(run.params["token"])
    assert point_names() == []


def test_a_small_file_still_previews_in_the_request(web, city, office, point_types):
    response = web(office).post(POINTS_URL, {"file": points_file(point_rows(3))})
    assert response.status_code == 200 and response.context["result"].created == 3
    assert not JobRun.objects.exists()


def test_units_import_runs_as_a_job_too(web, city, office, django_capture_on_commit_callbacks):
    rows = [["丙区", "", "BING", "区", "", "", "", ""]] + [
        [f"丙{i}街道", "", f"BING-{i}", "街道", "BING", "", "", ""] for i in range(1, 7)
    ]
    client = web(office)
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(UNITS_URL, {"file": upload("units.xlsx", make_xlsx([UNIT_HEADER, *rows]))})
    run = JobRun.objects.get(name="import")
    token = client.get(UNITS_URL, {"job": run.pk}).context["token"]
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(UNITS_URL, {"token": token})
    assert Unit.objects.filter(code__startswith="BING").count() == 7


def test_the_check_items_job_keeps_the_chosen_system(web, office, campaign, city, django_capture_on_commit_callbacks):
    from indicators import services as indicator_services
    from inspections.models import CheckItem

    point_type, _ = PointType.objects.get_or_create(name="集贸(农贸)市场", defaults={"order": 1, "national": True})
    systems = [
        indicator_services.indicator_system_create(campaign=campaign, name=name, kind="national", year=2026)
        for name in ("体系甲", "体系乙")
    ]
    for system in systems:
        indicator_services.indicator_create(system=system, level=1, code="Ⅲ-1", title="标准", rebuild=False)
    header = [
        "点位类型",
        "测评标准编码",
        "检查内容",
        "计分规则",
        "每处扣分",
        "最高扣分",
        "严重程度",
        "责任部门",
        "说明",
    ]
    rows = [[point_type.name, "Ⅲ-1", f"细则{i}", "", "1", "", "", "", ""] for i in range(7)]
    url = f"/inspections/check-items/import/?system={systems[1].pk}"
    client = web(office)
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(url, {"file": upload("c.xlsx", make_xlsx([header, *rows]))})
    run = JobRun.objects.get(name="import")
    assert run.params["query"] == f"system={systems[1].pk}"
    token = client.get("/inspections/check-items/import/", {"system": systems[1].pk, "job": run.pk}).context["token"]
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(url, {"token": token})
    assert set(CheckItem.objects.values_list("indicator__system", flat=True)) == {systems[1].pk}
    assert CheckItem.objects.count() == 7


def test_a_kept_upload_that_is_gone_fails_the_job_with_a_chinese_message(
    web, city, office, point_types, django_capture_on_commit_callbacks
):
    from campaign.generic import import_storage

    client = web(office)
    client.post(POINTS_URL, {"file": points_file(point_rows(8))})  # queued, not run yet
    run = JobRun.objects.get(name="import")
    import_storage().delete(run.params["token"])
    from campaign.generic import import_job_run

    import_job_run(run_id=run.pk)
    status = client.get(POINTS_URL, {"job": run.pk, "format": "json"}).json()
    assert (status["status"], status["summary"]) == ("failed", "上传的文件已不存在，请重新上传。")
    assert "上传的文件已不存在" in client.get(POINTS_URL, {"job": run.pk}).content.decode()


def test_an_importer_that_fails_fails_the_job_and_keeps_nothing(
    web, city, office, point_types, monkeypatch, django_capture_on_commit_callbacks
):
    from campaign.generic import import_storage
    from inspections.views import PointImportView

    def broken(*, file, dry_run):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(PointImportView, "importer", staticmethod(broken))
    client = web(office)
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(POINTS_URL, {"file": points_file(point_rows(8))})
    run = JobRun.objects.get(name="import")
    run.refresh_from_db()
    assert (run.status, run.error) == (JobStatus.FAILED, "导入失败：磁盘已满")
    assert not import_storage().exists(run.params["token"])
    page = client.get(POINTS_URL, {"job": run.pk})
    assert "导入失败：磁盘已满" in page.content.decode() and 'name="token"' not in page.content.decode()


def test_a_result_whose_detail_is_gone_still_shows_its_summary(
    web, city, office, point_types, django_capture_on_commit_callbacks
):
    from campaign.generic import import_storage

    client = web(office)
    with run_jobs(django_capture_on_commit_callbacks):
        client.post(POINTS_URL, {"file": points_file(point_rows(8))})
    run = JobRun.objects.get(name="import")
    run.refresh_from_db()
    import_storage().delete(run.result["detail"])
    page = client.get(POINTS_URL, {"job": run.pk})
    assert page.status_code == 200
    assert "预览：将新增 8 条，更新 0 条，0 条不变。（逐行明细已清理）" in page.content.decode()
    assert 'name="token"' not in page.content.decode()


def test_a_job_is_read_only_through_its_own_import_page(web, city, office, point_types):
    client = web(office)
    client.post(POINTS_URL, {"file": points_file(point_rows(8))})
    run = JobRun.objects.get(name="import")
    assert client.get(UNITS_URL, {"job": run.pk}).status_code == 404
    assert client.get(POINTS_URL, {"job": run.pk + 1}).status_code == 404
    assert client.get(POINTS_URL, {"job": "x"}).status_code == 404
    queued = client.get(POINTS_URL, {"job": run.pk, "format": "json"}).json()
    assert (queued["status"], queued["finished"], queued["percent"], queued["rows_total"]) == ("queued", False, 0, 9)


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia", "liaison_dept"])
def test_only_the_office_starts_an_import_job_or_reads_its_status(
    web, request, city, office, point_types, persona, django_capture_on_commit_callbacks
):
    client = web(office)
    client.post(POINTS_URL, {"file": points_file(point_rows(8))})
    run = JobRun.objects.get(name="import")
    token = run.params["token"]
    before = (unit_snapshot(), point_names(), list(JobRun.objects.values_list("pk", "status", "progress")))

    other = web(request.getfixturevalue(persona))
    with run_jobs(django_capture_on_commit_callbacks):
        assert other.post(POINTS_URL, {"file": points_file(point_rows(8, "别人的"))}).status_code == 403
        assert other.post(POINTS_URL, {"token": token}).status_code == 403
    assert other.get(POINTS_URL, {"job": run.pk}).status_code == 403
    assert other.get(POINTS_URL, {"job": run.pk, "format": "json"}).status_code == 403
    assert (unit_snapshot(), point_names(), list(JobRun.objects.values_list("pk", "status", "progress"))) == before


def test_anonymous_is_sent_to_login_for_a_job_status(client, city):
    response = client.get(POINTS_URL, {"job": 1, "format": "json"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_row_count_of_a_sheet_without_reading_it():
    from openpyxl import Workbook

    assert sheet_row_count(make_xlsx([POINT_HEADER, *point_rows(7)])) == 8
    workbook = Workbook(write_only=True)  # no <dimension>: the rows are counted
    sheet = workbook.create_sheet("x")
    for i in range(2500):
        sheet.append([i, "a"])
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    assert sheet_row_count(buffer.getvalue()) == 2500
    assert sheet_row_count("名称,类型\n甲,乙\n丙,丁\n".encode()) == 3
    assert sheet_row_count(b"PK\x03\x04 not a zip") == 0


@pytest.mark.django_db(transaction=True)
def test_with_eager_celery_and_no_surrounding_transaction_the_result_is_shown_at_once(client, city, office):
    # As under `make run` without Redis: the task runs in the request and the page shows the result.
    client.force_login(office)
    rows = [["丙区", "", "BING", "区", "", "", "", ""]] + [
        [f"丙{i}街道", "", f"BING-{i}", "街道", "BING", "", "", ""] for i in range(1, 7)
    ]
    response = client.post(UNITS_URL, {"file": upload("units.xlsx", make_xlsx([UNIT_HEADER, *rows]))})
    html = response.content.decode()
    assert response.status_code == 200
    assert "预览：将新增 7 条，更新 0 条，0 条不变。" in html and 'data-status="succeeded"' in html
    confirm = client.post(UNITS_URL, {"token": response.context["token"]})
    assert "已新增 7 条，更新 0 条，0 条不变。" in confirm.content.decode()
    assert Unit.objects.filter(code__startswith="BING").count() == 7


def test_a_progress_write_that_cannot_take_its_lock_is_skipped_not_fatal(db, monkeypatch):
    """SQLite answers "database table is locked" while a page reads the run: the job goes on."""
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    from campaign.models import JobRun
    from campaign.services import job_run_create, job_run_progress

    run = job_run_create(name="import")
    real_update = QuerySet.update

    def locked(self, **kwargs):
        if self.model is JobRun:
            raise OperationalError("database table is locked: campaign_jobrun")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", locked)
    job_run_progress(run=run, percent=40, rows_done=4, rows_total=10, stage="检查")
    monkeypatch.setattr(QuerySet, "update", real_update)

    run.refresh_from_db()
    assert run.progress == 0 and run.stage == ""  # nothing written, nothing raised
    job_run_progress(run=run, percent=40, rows_done=4, rows_total=10, stage="检查")
    run.refresh_from_db()
    assert (run.progress, run.rows_done, run.stage) == (40, 4, "检查")
