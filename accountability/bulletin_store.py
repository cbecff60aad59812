"""The stored 周通报: each published version's PDF and Excel workbook, rendered once by a
background job and then served as files.

`rollup_publish` queues the render when the week is published (`transaction.on_commit`); a
published version without files (older data, the demo's older weeks) is queued on its first
request. A request never renders the PDF or the workbook: it serves the stored file, or answers
"生成中" with the job's progress. A failed render keeps its error; the office renders it again.

Files go through Django's storage API only (`BulletinFile.file`), never a path on disk, so they
can move to S3-compatible storage."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Min
from django.http import FileResponse
from django.utils import timezone

from campaign.choices import JobStatus
from campaign.jobs import job_enqueue
from campaign.models import JobRun
from campaign.selectors import scope_for
from campaign.services import job_run_create, job_run_finish, job_run_start

from .bulletin import XLSX, PdfUnavailable, bulletin_data, bulletin_filename, bulletin_html, bulletin_pdf, bulletin_xlsx
from .choices import BulletinKind, BulletinStatus, VersionStatus
from .models import BulletinFile, RollupVersion

logger = logging.getLogger(__name__)

JOB_NAME = "bulletin_render"
KINDS = (BulletinKind.PDF, BulletinKind.XLSX)
CONTENT_TYPES = {BulletinKind.PDF: "application/pdf", BulletinKind.XLSX: XLSX}
PENDING = (BulletinStatus.QUEUED, BulletinStatus.RENDERING)
# A render queued this long ago and still not finished is taken as lost (a worker that died, a
# broker that dropped it): the office may start it again.
STALE_AFTER = datetime.timedelta(minutes=30)

# The job's progress, in percent, as it goes: data → html → pdf → xlsx.
PROGRESS = {"started": 5, "data": 25, "html": 35, "pdf": 75, "workbook_data": 85}


# --- Reads -------------------------------------------------------------------------------------


@dataclass
class BulletinState:
    """Where a version's files stand, for the page, the JSON status and the API (one query)."""

    version: RollupVersion
    files: dict[str, BulletinFile] = field(default_factory=dict)

    def file(self, kind: str) -> BulletinFile | None:
        return self.files.get(kind)

    def ready(self, kind: str) -> bool:
        row = self.files.get(kind)
        return row is not None and row.status == BulletinStatus.DONE

    @property
    def missing(self) -> bool:
        return any(kind not in self.files for kind in KINDS)

    @property
    def status(self) -> str:
        """queued / rendering while either file is pending, failed when one failed, else done."""
        statuses = {row.status for row in self.files.values()}
        if BulletinStatus.RENDERING in statuses:
            return BulletinStatus.RENDERING
        if self.missing or BulletinStatus.QUEUED in statuses:
            return BulletinStatus.QUEUED
        if BulletinStatus.FAILED in statuses:
            return BulletinStatus.FAILED
        return BulletinStatus.DONE

    @property
    def progress(self) -> int:
        pending = [row.progress for row in self.files.values() if row.status in PENDING]
        if self.missing:
            return 0
        return min(pending) if pending else 100

    @property
    def error(self) -> str:
        return "；".join(
            f"{row.get_kind_display()}：{row.error}"
            for kind in KINDS
            if (row := self.files.get(kind)) and row.status == BulletinStatus.FAILED
        )

    @property
    def stale(self) -> bool:
        cutoff = timezone.now() - STALE_AFTER
        return any(row.status in PENDING and row.queued_at < cutoff for row in self.files.values())

    @property
    def may_regenerate(self) -> bool:
        """Whether a new render may start: nothing pending, or what is pending is lost."""
        return self.status not in PENDING or self.stale

    @property
    def detail(self) -> str:
        status = self.status
        if status == BulletinStatus.DONE:
            return "周通报文件已生成。"
        if status == BulletinStatus.FAILED:
            return f"周通报文件生成失败：{self.error}"
        if status == BulletinStatus.QUEUED:
            return "周通报正在排队生成，请稍候……"
        return f"周通报正在生成（{self.progress}%），请稍候……"


def bulletin_state(*, version: RollupVersion) -> BulletinState:
    """The version's file rows (one query); each row's `version` is the given one (no query)."""
    files = {}
    for row in BulletinFile.objects.filter(version=version):
        row.version = version
        files[row.kind] = row
    return BulletinState(version=version, files=files)


def bulletin_file_response(row: BulletinFile) -> FileResponse:
    """A stored file as a download named in Chinese (RFC 5987 `filename*`), with an ASCII
    `filename` for the clients that do not read it. Streams from storage; renders nothing."""
    version = row.version
    response = FileResponse(row.file.open("rb"), content_type=CONTENT_TYPES[row.kind])
    filename = quote(bulletin_filename(version, row.kind))
    response["Content-Disposition"] = (
        f"attachment; filename=\"bulletin-{version.week}.{row.kind}\"; filename*=UTF-8''{filename}"
    )
    response["Content-Length"] = str(row.size)
    return response


# --- Writes ------------------------------------------------------------------------------------


def bulletin_queue(*, version: RollupVersion, user=None, force: bool = False) -> BulletinState:
    """Queue the render of a published version's files, once: while a render of this version is
    queued or running nothing more is queued (idempotent); files already there (made, or failed)
    are left alone unless `force` (the office's 重新生成). The job is handed to a worker when the
    transaction commits, through the jobs' outbox (campaign.jobs): a broker that is down leaves
    the run and its files queued for the sweeper, and never fails the publish that queued it; with
    eager Celery (no broker) it runs then, in this process."""
    with transaction.atomic():
        # One queue at a time per version (a no-op on SQLite, which serialises writers anyway).
        locked = RollupVersion.objects.select_for_update().filter(pk=version.pk).values_list("status", flat=True)
        if list(locked) != [VersionStatus.PUBLISHED]:
            raise ValidationError("只有已发布的周评比才有周通报。")
        state = bulletin_state(version=version)
        if state.files and state.status in PENDING and not state.stale:
            return state
        if not force and not state.missing:
            return state
        run = job_run_create(
            name=JOB_NAME,
            params={"version": version.pk, "campaign": version.campaign_id, "week": version.week},
            user=user,
        )
        now = timezone.now()
        for kind in KINDS:
            BulletinFile.objects.update_or_create(
                version=version,
                kind=kind,
                defaults={
                    "status": BulletinStatus.QUEUED,
                    "progress": 0,
                    "error": "",
                    "queued_at": now,
                    "run": run,
                },
            )
        # job_dispatch never raises: a failing render (recorded on its rows) or a broker that is
        # down must not fail the publish that queued it.
        job_enqueue(run)
    return bulletin_state(version=version)


def bulletin_ensure(*, version: RollupVersion) -> BulletinState:
    """The files' state; a published version that has none yet (older data, the demo's older
    weeks) is queued now. With eager Celery the render runs here; with a worker, there."""
    state = bulletin_state(version=version)
    if state.missing:
        with contextlib.suppress(ValidationError):  # superseded between the two reads: shown as it is
            state = bulletin_queue(version=version)
    return state


def bulletin_requeue_lost(*, version: RollupVersion) -> BulletinState:
    """A file recorded as made is missing from storage: its version is rendered again."""
    logger.warning("bulletin file missing from storage, rendering again: version %s", version.pk)
    with contextlib.suppress(ValidationError):
        return bulletin_queue(version=version, force=True)
    return bulletin_state(version=version)


def bulletin_regenerate(*, version: RollupVersion, user) -> BulletinState:
    """The office renders a version's files again (after a failure, or to refresh them)."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以重新生成周通报。")
    state = bulletin_state(version=version)
    if not state.may_regenerate:
        raise ValidationError("周通报正在生成，请稍候再试。")
    return bulletin_queue(version=version, user=user, force=True)


LOST_RENDER = "生成任务的执行节点失联或超时，已多次重试仍未完成，请点击“重新生成”。"


def bulletin_sweep(*, now: datetime.datetime) -> dict:
    """The jobs sweeper's pass over the 周通报's files (campaign.jobs, JOB_SWEEPERS), after it has
    re-queued or failed the runs whose worker was lost: files still 生成中 under a run queued again
    go back to 排队中 (so the next delivery claims them); files pending under a run failed for good
    fail with it; files pending with no live run (older data, a run finished without them) get a
    new run, which the sweeper then dispatches. A few UPDATEs, one run per such version."""
    live = (JobStatus.QUEUED, JobStatus.RUNNING)
    requeued = BulletinFile.objects.filter(status=BulletinStatus.RENDERING, run__status=JobStatus.QUEUED).update(
        status=BulletinStatus.QUEUED, progress=0
    )
    failed = BulletinFile.objects.filter(status__in=PENDING, run__status=JobStatus.FAILED).update(
        status=BulletinStatus.FAILED, error=LOST_RENDER
    )
    late = now - datetime.timedelta(minutes=settings.JOB_REDISPATCH_MINUTES)
    orphans = dict(
        BulletinFile.objects.filter(status__in=PENDING, queued_at__lt=late, version__status=VersionStatus.PUBLISHED)
        .exclude(run__status__in=live)
        .order_by()
        .values("version_id")
        .annotate(first=Min("queued_at"))
        .values_list("version_id", "first")
    )
    versions = RollupVersion.objects.filter(pk__in=orphans).only("pk", "campaign_id", "week")
    for version in versions:  # rare (a lost run): one run per version, not per file
        run = job_run_create(
            name=JOB_NAME, params={"version": version.pk, "campaign": version.campaign_id, "week": version.week}
        )
        # Queued when its files were: past the grace of a fresh run, so this sweep dispatches it.
        JobRun.objects.filter(pk=run.pk).update(queued_at=orphans[version.pk])
        BulletinFile.objects.filter(version=version, status__in=PENDING).update(
            status=BulletinStatus.QUEUED, progress=0, run=run
        )
    return {"bulletin_requeued": requeued, "bulletin_failed": failed, "bulletin_adopted": len(orphans)}


def _claim(version: RollupVersion) -> tuple[JobRun, list[BulletinFile]] | None:
    """Mark the version's files as rendering by one run; None when there is nothing to do: another
    render is running, or nothing is queued (a task delivered twice finds its files made)."""
    with transaction.atomic():
        RollupVersion.objects.select_for_update().filter(pk=version.pk).exists()
        rows = {row.kind: row for row in BulletinFile.objects.filter(version=version).select_related("run")}
        cutoff = timezone.now() - STALE_AFTER
        if any(row.status == BulletinStatus.RENDERING and row.queued_at >= cutoff for row in rows.values()):
            return None
        queued = any(row.status == BulletinStatus.QUEUED for row in rows.values())
        if not queued and all(kind in rows for kind in KINDS):
            return None
        queued_runs = [row.run for row in rows.values() if row.run and row.run.status == JobStatus.QUEUED]
        run = queued_runs[0] if queued_runs else None
        if run is None:
            run = job_run_create(
                name=JOB_NAME, params={"version": version.pk, "campaign": version.campaign_id, "week": version.week}
            )
        now = timezone.now()
        for kind in KINDS:
            row = rows.get(kind) or BulletinFile(version=version, kind=kind, queued_at=now)
            row.status, row.progress, row.error, row.run = BulletinStatus.RENDERING, PROGRESS["started"], "", run
            row.save()
            rows[kind] = row
    return run, [rows[kind] for kind in KINDS]


def _progress(version: RollupVersion, step: str) -> None:
    # Committed at once (no surrounding transaction), so the page's polling sees it.
    BulletinFile.objects.filter(version=version, status=BulletinStatus.RENDERING).update(progress=PROGRESS[step])


def _store(row: BulletinFile, content: bytes) -> None:
    old = row.file.name if row.file else ""
    row.sha256, row.size = hashlib.sha256(content).hexdigest(), len(content)
    row.file.save(f"{row.kind}", ContentFile(content), save=False)  # named by bulletin_upload_to
    row.status, row.progress, row.error, row.rendered_at = BulletinStatus.DONE, 100, "", timezone.now()
    row.save(update_fields=["file", "sha256", "size", "status", "progress", "error", "rendered_at"])
    if old and old != row.file.name:
        with contextlib.suppress(OSError):  # a stale copy left behind is harmless
            row.file.storage.delete(old)


def _fail(row: BulletinFile, message: str) -> None:
    row.status, row.error = BulletinStatus.FAILED, message
    row.save(update_fields=["status", "error"])


def _error_text(exc: Exception) -> str:
    if isinstance(exc, PdfUnavailable):
        return PdfUnavailable.message
    return f"生成时出错（{type(exc).__name__}: {exc}），请重新生成；仍然失败请联系管理员。"


def bulletin_render(version_id: int) -> dict:
    """Render a published version's PDF and workbook and store them, recording a JobRun and the
    progress on the files as it goes (data → html → pdf → xlsx). Safe to run twice: a second run
    while one is rendering, or once the files are made, does nothing (the office's 重新生成 queues
    them again). A superseded version is not rendered. A PDF that cannot
    be made (no WeasyPrint on this worker) fails alone; the workbook is still made."""
    version = RollupVersion.objects.select_related("campaign").filter(pk=version_id).first()
    if version is None:
        return {"version": version_id, "skipped": "deleted"}
    if version.status != VersionStatus.PUBLISHED:
        BulletinFile.objects.filter(version=version, status__in=PENDING).update(
            status=BulletinStatus.FAILED, error="该周评比版本已被替换或未发布，不再生成。"
        )
        return {"version": version.pk, "skipped": "not_published"}
    claimed = _claim(version)
    if claimed is None:
        return {"version": version.pk, "skipped": "rendering or nothing queued"}
    run, (pdf_row, xlsx_row) = claimed
    job_run_start(run=run)
    result: dict = {"version": version.pk, "week": version.week, "number": version.number}
    try:
        data = bulletin_data(version=version)
        _progress(version, "data")
        html = bulletin_html(data=data, for_pdf=True)
        _progress(version, "html")
        try:
            pdf = bulletin_pdf(version=version, html=html)
        except PdfUnavailable as exc:
            _fail(pdf_row, _error_text(exc))
        else:
            _store(pdf_row, pdf)
            result["pdf_bytes"] = len(pdf)
        _progress(version, "pdf")
        full = bulletin_data(version=version, full=True)
        _progress(version, "workbook_data")
        workbook = bulletin_xlsx(version=version, data=full)
        _store(xlsx_row, workbook)
        result["xlsx_bytes"] = len(workbook)
    except Exception as exc:
        for row in (pdf_row, xlsx_row):
            if row.status == BulletinStatus.RENDERING:
                _fail(row, _error_text(exc))
        job_run_finish(run=run, result=result, error=repr(exc))
        raise
    job_run_finish(run=run, result=result, error=pdf_row.error)
    logger.info("bulletin rendered: %s", result)
    return result


def bulletin_files_prune_superseded(*, limit: int) -> int:
    """Housekeeping: the files and rows of superseded versions' 周通报 (nothing serves them: only a
    published version is readable); at most `limit` rows a call."""
    rows = list(BulletinFile.objects.filter(version__status=VersionStatus.SUPERSEDED).order_by("pk")[:limit])
    for row in rows:
        if row.file:
            with contextlib.suppress(OSError):  # already gone
                row.file.storage.delete(row.file.name)
    BulletinFile.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)
