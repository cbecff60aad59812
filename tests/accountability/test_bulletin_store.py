"""The stored 周通报: the PDF and the workbook are rendered once, when a week is published, by a
background job (eager Celery here: the job runs when the transaction's on-commit callbacks do),
stored, and then served as files; the page shows the job's progress while it runs; the office
renders them again. The week is the roll-up tests' hand-computed 2026-W45."""

from __future__ import annotations

import hashlib
import io
import sys

import pytest
from django.core.cache import cache
from openpyxl import load_workbook

from accountability import bulletin, bulletin_store, bulletin_views
from accountability.api import bulletins as bulletins_api
from accountability.bulletin import PdfUnavailable
from accountability.bulletin_store import JOB_NAME, bulletin_queue, bulletin_render
from accountability.choices import BulletinKind, BulletinStatus, VersionStatus
from accountability.models import BulletinFile, RollupVersion
from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import JobStatus
from campaign.models import JobRun
from tests.accountability.rollup_fixtures import WEEK

# A download: the session, the user, the memberships (scope), the version with its campaign, the
# version's file rows. Nothing is rendered.
DOWNLOAD_QUERIES = 5


def publish(campaign, office, capture, execute=True) -> RollupVersion:
    rollup_compute(campaign=campaign, week=WEEK)
    with capture(execute=execute):
        return rollup_publish(campaign=campaign, week=WEEK, user=office)


def files_of(version) -> dict[str, BulletinFile]:
    return {row.kind: row for row in BulletinFile.objects.filter(version=version)}


def snapshot(version) -> list[tuple]:
    return list(
        BulletinFile.objects.filter(version=version)
        .order_by("kind")
        .values_list("kind", "status", "progress", "error", "file", "sha256", "size", "rendered_at", "run_id")
    )


def url(version, suffix: str) -> str:
    return f"/bulletins/{version.campaign_id}/{version.week}{suffix}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The print page keeps its sheet in the cache: each test starts without it."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_rendering(monkeypatch):
    """Make any rendering fail loudly: a download must serve the stored bytes only."""

    def refuse(*args, **kwargs):
        raise AssertionError("rendered during a request")

    # The modules are imported above, so none binds the refusing function for good.
    for module in (bulletin, bulletin_store, bulletin_views, bulletins_api):
        monkeypatch.setattr(module, "bulletin_pdf", refuse, raising=False)
        monkeypatch.setattr(module, "bulletin_xlsx", refuse, raising=False)


@pytest.fixture
def published(campaign, week45, office, django_capture_on_commit_callbacks):
    return publish(campaign, office, django_capture_on_commit_callbacks)


# --- Publish renders once --------------------------------------------------------------------


def test_publish_queues_the_render_on_commit(campaign, week45, office, django_capture_on_commit_callbacks):
    version = publish(campaign, office, django_capture_on_commit_callbacks, execute=False)
    # Nothing before the publish commits: the render is queued by an on-commit callback.
    assert not BulletinFile.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        bulletin_queue(version=version)

    files = files_of(version)
    assert set(files) == {BulletinKind.PDF, BulletinKind.XLSX}
    for kind, row in files.items():
        assert (row.status, row.progress, row.error) == (BulletinStatus.DONE, 100, "")
        content = row.file.read()
        assert len(content) == row.size > 0 and hashlib.sha256(content).hexdigest() == row.sha256
        assert row.file.name.startswith(f"bulletins/{campaign.pk}/{WEEK}/v1-") and row.file.name.endswith(kind)
    assert files[BulletinKind.PDF].file.open("rb").read(4) == b"%PDF"
    run = JobRun.objects.get(name=JOB_NAME)
    assert run.status == JobStatus.SUCCEEDED and run.result["version"] == version.pk
    assert files[BulletinKind.PDF].run == run


def test_published_files_are_done_after_publish(published):
    files = files_of(published)
    assert {row.status for row in files.values()} == {BulletinStatus.DONE}
    workbook = load_workbook(io.BytesIO(files[BulletinKind.XLSX].file.read()))
    assert workbook.sheetnames[:2] == ["概况", "区县排名"]


# --- Download: a file response, nothing rendered ----------------------------------------------


@pytest.mark.parametrize("kind", ["pdf", "xlsx"])
def test_download_is_the_stored_file_and_renders_nothing(
    published, web, liaison_yi, no_rendering, kind, django_assert_num_queries
):
    client = web(liaison_yi)
    stored = files_of(published)[kind]

    with django_assert_num_queries(DOWNLOAD_QUERIES):
        response = client.get(url(published, f".{kind}"))

    assert response.status_code == 200 and response.streaming
    assert response.getvalue() == stored.file.read()
    assert response["Content-Length"] == str(stored.size)
    assert response["Content-Disposition"].startswith(f'attachment; filename="bulletin-{WEEK}.{kind}"')


def test_a_file_missing_from_storage_is_made_again(published, web, leader, django_capture_on_commit_callbacks):
    stored = files_of(published)["pdf"]
    stored.file.storage.delete(stored.file.name)
    client = web(leader)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url(published, ".pdf"))
    assert response.status_code == 202 and "正在生成" in response.content.decode()

    again = files_of(published)["pdf"]
    assert again.status == BulletinStatus.DONE and again.file.storage.exists(again.file.name)
    assert client.get(url(published, ".pdf")).getvalue() == again.file.read()


def test_the_status_json_when_done(published, web, leader, no_rendering):
    response = web(leader).get(url(published, "/status/"))
    state = response.json()
    assert (state["status"], state["progress"], state["detail"]) == ("done", 100, "周通报文件已生成。")
    assert state["files"]["pdf"]["url"] == url(published, ".pdf")
    assert state["files"]["xlsx"]["size"] == files_of(published)["xlsx"].size


# --- While it is being made ------------------------------------------------------------------


def test_queued_then_rendering_shows_progress(
    campaign, week45, office, web, leader, django_capture_on_commit_callbacks
):
    version = publish(campaign, office, django_capture_on_commit_callbacks, execute=False)
    with django_capture_on_commit_callbacks(execute=False):
        bulletin_queue(version=version)  # queued; the job has not run
    client = web(leader)

    state = client.get(url(version, "/status/")).json()
    assert (state["status"], state["progress"]) == ("queued", 0)
    assert "排队" in state["detail"]
    page = client.get(url(version, "/")).content.decode()
    assert 'data-testid="bulletin-progress"' in page and "排队中…" in page
    assert f'href="{url(version, ".pdf")}"' not in page  # no link yet (the script adds it when done)
    download = client.get(url(version, ".pdf"))
    assert download.status_code == 202 and "正在生成" in download.content.decode()

    BulletinFile.objects.filter(version=version).update(status=BulletinStatus.RENDERING, progress=35)
    state = client.get(url(version, "/status/")).json()
    assert (state["status"], state["progress"]) == ("rendering", 35)
    assert state["detail"] == "周通报正在生成（35%），请稍候……"
    page = client.get(url(version, "/")).content.decode()
    assert "生成中…" in page and 'aria-valuenow="35"' in page and "width:35%" in page


def test_the_job_reports_its_progress_as_it_goes(
    published, web, leader, monkeypatch, django_capture_on_commit_callbacks
):
    """What the page polls while the PDF is being made: rendering, past the data and the page."""
    client = web(leader)
    seen = []
    real_pdf = bulletin_store.bulletin_pdf

    def pdf(**kwargs):
        seen.append(client.get(url(published, "/status/")).json())
        return real_pdf(**kwargs)

    monkeypatch.setattr(bulletin_store, "bulletin_pdf", pdf)
    with django_capture_on_commit_callbacks(execute=True):
        bulletin_queue(version=published, force=True)

    assert [(state["status"], state["progress"]) for state in seen] == [("rendering", 35)]
    assert {row.status for row in files_of(published).values()} == {BulletinStatus.DONE}


# --- A failed PDF ----------------------------------------------------------------------------


def test_a_failed_pdf_still_makes_the_workbook_and_says_why(
    campaign, week45, office, web, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if WeasyPrint or pango were missing
    version = publish(campaign, office, django_capture_on_commit_callbacks)

    files = files_of(version)
    assert (files["pdf"].status, files["pdf"].error, files["pdf"].file.name) == (
        BulletinStatus.FAILED,
        PdfUnavailable.message,
        "",
    )
    assert files["xlsx"].status == BulletinStatus.DONE and files["xlsx"].size > 0
    assert JobRun.objects.get(name=JOB_NAME).status == JobStatus.FAILED

    client = web(office)
    state = client.get(url(version, "/status/")).json()
    assert state["status"] == "failed" and "pango" in state["detail"]
    page = client.get(url(version, "/")).content.decode()
    assert 'data-testid="bulletin-error"' in page and "pango" in page
    assert 'data-testid="download-xlsx"' in page and 'data-testid="download-pdf"' not in page
    assert 'data-testid="regenerate"' in page  # the office may try again
    response = client.get(url(version, ".pdf"))
    assert response.status_code == 503 and "WeasyPrint 与 pango" in response.content.decode()
    assert client.get(url(version, ".xlsx")).status_code == 200


# --- Republish and a superseded version ---------------------------------------------------------


def test_a_republished_week_renders_again(
    published, campaign, office, market, observe, web, leader, django_capture_on_commit_callbacks
):
    first = files_of(published)
    observe(market, ["0.5"])  # a late observation: a second version
    second = publish(campaign, office, django_capture_on_commit_callbacks)
    published.refresh_from_db()
    assert second.number == 2 and published.status == VersionStatus.SUPERSEDED

    files = files_of(second)
    assert {row.status for row in files.values()} == {BulletinStatus.DONE}
    assert files["pdf"].file.name.startswith(f"bulletins/{campaign.pk}/{WEEK}/v2-")
    assert files["pdf"].file.name != first["pdf"].file.name
    response = web(leader).get(url(second, ".pdf"))
    assert response.getvalue() == files["pdf"].file.read()


def test_a_superseded_versions_render_is_skipped(
    campaign, week45, office, django_capture_on_commit_callbacks, monkeypatch
):
    version = publish(campaign, office, django_capture_on_commit_callbacks, execute=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bulletin_queue(version=version)
    RollupVersion.objects.filter(pk=version.pk).update(status=VersionStatus.SUPERSEDED)

    def refuse(**kwargs):
        raise AssertionError("a superseded version rendered")

    monkeypatch.setattr(bulletin_store, "bulletin_pdf", refuse)
    for callback in callbacks:
        callback()

    files = files_of(version)
    assert {row.status for row in files.values()} == {BulletinStatus.FAILED}
    assert all("已被替换" in row.error and not row.file for row in files.values())
    assert bulletin_render(version.pk)["skipped"] == "not_published"


# --- Idempotency -------------------------------------------------------------------------------


def test_a_second_queue_while_pending_does_nothing(campaign, week45, office, django_capture_on_commit_callbacks):
    version = publish(campaign, office, django_capture_on_commit_callbacks, execute=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bulletin_queue(version=version)
        before = snapshot(version)
        bulletin_queue(version=version)
        bulletin_queue(version=version, force=True)  # even forced: one render at a time
    assert len(callbacks) == 1 and JobRun.objects.filter(name=JOB_NAME).count() == 1
    assert snapshot(version) == before


def test_done_files_are_not_rendered_again_unless_forced(published, no_rendering, django_capture_on_commit_callbacks):
    before = snapshot(published)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bulletin_queue(version=published)
    assert callbacks == [] and snapshot(published) == before
    # A task delivered twice finds its files made and does nothing.
    assert bulletin_render(published.pk)["skipped"]
    assert snapshot(published) == before


# --- 重新生成: the office only --------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["liaison_jia", "inspector", "leader"])
def test_only_the_office_regenerates(published, web, persona, request, django_capture_on_commit_callbacks):
    client = web(request.getfixturevalue(persona))
    before, runs = snapshot(published), JobRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(published, "/regenerate/"))

    assert response.status_code == 403
    assert snapshot(published) == before and JobRun.objects.count() == runs
    assert 'data-testid="regenerate"' not in client.get(url(published, "/")).content.decode()


def test_regenerate_refuses_a_user_without_a_role_and_anonymous(published, web, client):
    before = snapshot(published)
    nobody = campaign_services.user_create(username="nobody", password="test-pass-2026", full_name="无角色")
    assert web(nobody).post(url(published, "/regenerate/")).status_code == 403
    client.logout()
    response = client.post(url(published, "/regenerate/"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert snapshot(published) == before


def test_regenerate_of_an_unpublished_week_is_404(published, web, office):
    RollupVersion.objects.filter(pk=published.pk).update(status=VersionStatus.SUPERSEDED)
    before = snapshot(published)
    assert web(office).post(url(published, "/regenerate/")).status_code == 404
    assert snapshot(published) == before


def test_the_office_regenerates(published, web, office, django_capture_on_commit_callbacks):
    client = web(office)
    before = files_of(published)
    assert 'data-testid="regenerate"' in client.get(url(published, "/")).content.decode()
    assert client.get(url(published, "/regenerate/")).status_code == 405  # POST only

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(published, "/regenerate/"))

    assert response.status_code == 302 and response["Location"] == url(published, "/")
    after = files_of(published)
    assert {row.status for row in after.values()} == {BulletinStatus.DONE}
    assert after["pdf"].rendered_at > before["pdf"].rendered_at and after["pdf"].run_id != before["pdf"].run_id
    assert JobRun.objects.filter(name=JOB_NAME).count() == 2
    assert JobRun.objects.filter(name=JOB_NAME).latest("pk").created_by == office


def test_regenerate_while_rendering_is_refused_in_chinese(published, web, office):
    BulletinFile.objects.filter(version=published).update(status=BulletinStatus.RENDERING, progress=40)
    before = snapshot(published)
    response = web(office).post(url(published, "/regenerate/"))
    assert response.status_code == 409 and response.content.decode() == "周通报正在生成，请稍候再试。"
    assert snapshot(published) == before
