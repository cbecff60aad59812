"""Generic views every app reuses: list (filters, search, pagination, Excel export), detail, form,
delete and import-with-preview. A concrete screen is a few declarative lines on one of these."""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views import View
from django.views.generic import ListView, TemplateView

from .choices import JobStatus
from .exporting import workbook_bytes
from .importing import Column as ImportColumn
from .importing import ImportFileError, ImportResult, check_sheet_limits, megabytes, progress_to, sheet_row_count
from .models import JobRun
from .permissions import can_manage

logger = logging.getLogger(__name__)


@dataclass
class Col:
    """A column of a list: its header, how to read the value, and whether it links to the object."""

    header: str
    accessor: str | Callable[[Any], Any]
    link: bool = False

    def value(self, obj) -> Any:
        if callable(self.accessor):
            return self.accessor(obj)
        value = obj
        for part in self.accessor.split("."):
            if value is None:
                return ""
            display = getattr(value, f"get_{part}_display", None)
            value = display() if display else getattr(value, part)
        return value() if callable(value) else value


def format_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


class OfficeRequiredMixin:
    """Pages that change reference data: the office only. Others get a Chinese 403 page."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return LoginRequiredMixin.handle_no_permission(self)
        if not can_manage(request.user):
            raise PermissionDenied("只有创建办可以进行该操作。")
        return super().dispatch(request, *args, **kwargs)


class ObjectListView(LoginRequiredMixin, ListView):
    """A filtered, searchable, paginated list with an Excel export of everything that matches."""

    template_name = "generic/list.html"
    filterset_class = None
    columns: list[Col] = []
    title = ""
    paginate_by = 50
    add_url_name: str | None = None
    import_url_name: str | None = None
    export_name: str | None = None
    empty_message = "暂无数据。"
    empty_hint = ""

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        queryset = self.base_queryset()
        if self.filterset_class is None:
            self.filterset = None
            return queryset
        self.filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
        return self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else queryset

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            return self.export_xlsx()
        return super().get(request, *args, **kwargs)

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a page number past the end (or not a number) answers the last
        (or first) page instead of a 404: a bookmarked deep page stays usable when rows go away."""
        paginator = self.get_paginator(queryset, page_size, orphans=self.get_paginate_orphans())
        page = paginator.get_page(self.request.GET.get(self.page_kwarg) or 1)
        return paginator, page, page.object_list, page.has_other_pages()

    def can_add(self) -> bool:
        return can_manage(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        if self.filterset is not None and hasattr(self.filterset, "prepare_form"):
            self.filterset.prepare_form()
        rows = [(obj, [(col, col.value(obj)) for col in self.columns]) for obj in context["object_list"]]
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            title=self.title,
            columns=self.columns,
            rows=rows,
            filter=self.filterset,
            total=page.paginator.count if page else len(rows),
            querystring=query.urlencode(),
            add_url=reverse(self.add_url_name) if self.add_url_name and self.can_add() else None,
            import_url=reverse(self.import_url_name) if self.import_url_name and self.can_add() else None,
            export_enabled=bool(self.export_name),
            empty_message=self.empty_message,
            empty_hint=self.empty_hint if self.can_add() else "",
            filtered=any(v for k, v in self.request.GET.items() if k != "page"),
        )
        return context

    def export_xlsx(self, columns: list[Col] | None = None) -> HttpResponse:
        """Everything that matches, in `columns` (the page's by default)."""
        columns = columns or self.columns
        rows = (
            [format_cell(col.value(obj)) for col in columns] for obj in self.get_queryset().iterator(chunk_size=1000)
        )
        data = workbook_bytes([col.header for col in columns], rows, title=self.title)
        return xlsx_response(data, f"{self.export_name}-{timezone.localdate():%Y%m%d}.xlsx")


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class ScopedObjectMixin:
    """Fetch the object through a selector that scopes by the user: out of scope is a 404."""

    def get_scoped_object(self, pk):
        raise NotImplementedError

    def get_object(self):
        try:
            return self.get_scoped_object(self.kwargs["pk"])
        except ObjectDoesNotExist as exc:
            raise Http404("未找到该对象，或您无权查看。") from exc


class ObjectDetailView(LoginRequiredMixin, ScopedObjectMixin, TemplateView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        return context

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)


class ObjectFormView(LoginRequiredMixin, View):
    """Create or edit through a plain form whose `perform` calls the service. Service errors land on the form."""

    template_name = "generic/form.html"
    form_class = None
    title = ""
    object = None

    def get_form_kwargs(self) -> dict:
        return {}

    def get_initial(self) -> dict:
        return {}

    def check_permission(self) -> None:
        if not can_manage(self.request.user):
            raise PermissionDenied("只有创建办可以进行该操作。")

    def load_object(self):
        return None

    def perform(self, form):
        raise NotImplementedError

    def get_success_url(self, result) -> str:
        return result.get_absolute_url()

    def cancel_url(self) -> str:
        return (
            self.object.get_absolute_url()
            if self.object is not None and hasattr(self.object, "get_absolute_url")
            else self.request.META.get("HTTP_REFERER", "/")
        )

    def render_form(self, form, status=200):
        context = {"form": form, "title": self.title, "object": self.object, "cancel_url": self.cancel_url()}
        context.update(self.extra_context())
        return render(self.request, self.template_name, context, status=status)

    def extra_context(self) -> dict:
        return {}

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return LoginRequiredMixin.handle_no_permission(self)
        try:
            self.object = self.load_object()
        except ObjectDoesNotExist as exc:
            raise Http404("未找到该对象，或您无权查看。") from exc
        self.check_permission()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_form(self.form_class(initial=self.get_initial(), **self.get_form_kwargs()))

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST, request.FILES, initial=self.get_initial(), **self.get_form_kwargs())
        if form.is_valid():
            try:
                result = self.perform(form)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, f"{self.title}：已保存。")
                return HttpResponseRedirect(self.get_success_url(result))
        return self.render_form(form, status=400)


def apply_validation_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class ObjectDeleteView(LoginRequiredMixin, ScopedObjectMixin, View):
    template_name = "generic/delete.html"
    success_url_name = "home"

    def perform_delete(self, obj) -> None:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return LoginRequiredMixin.handle_no_permission(self)
        self.object = self.get_object()
        if not can_manage(request.user):
            raise PermissionDenied("只有创建办可以删除。")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return render(
            request, self.template_name, {"object": self.object, "cancel_url": self.object.get_absolute_url()}
        )

    def post(self, request, *args, **kwargs):
        label = str(self.object)
        try:
            self.perform_delete(self.object)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(self.object.get_absolute_url())
        messages.success(request, f"已删除“{label}”。")
        return HttpResponseRedirect(reverse(self.success_url_name))


def import_storage() -> FileSystemStorage:
    """Private storage for uploads between preview and confirm (and for an import run as a job);
    never served. A worker on another machine needs MEDIA_ROOT shared with the web servers."""
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "imports")


IMPORT_JOB_NAME = "import"
# Where each stage of a job's import lands on its progress bar: (from %, to %, label).
IMPORT_STAGES = {
    True: {"read": (0, 55, "读取文件"), "validate": (55, 99, "校验")},
    False: {"read": (0, 45, "读取文件"), "validate": (45, 75, "校验"), "write": (75, 99, "写入")},
}
# Rows shown in the list of changes; every error is listed whatever the number.
IMPORT_ROWS_SHOWN = 1000


def import_job_rows() -> int:
    """Files with more rows than this are previewed and imported as background jobs. 500: the
    slowest importer that writes row by row (units, through unit_create and its history) takes
    about 40 ms a row on a loaded 2-core machine, so a request stays well under 30 s."""
    return getattr(settings, "IMPORT_JOB_ROWS", 500)


class ImportView(OfficeRequiredMixin, LoginRequiredMixin, View):
    """Upload → preview (every row error, every change) → confirm. The upload is kept privately
    between the two steps, so the confirmed import is exactly the previewed file.

    A file of more than IMPORT_JOB_ROWS (500) rows is previewed and imported by a Celery task
    recorded as a JobRun: the page shows a progress bar (percentage, rows done) polling
    `?job=<id>&format=json` and then the result, as the small file's page does. The task rebuilds
    this view with the upload's URL arguments, query string and user, so `call_importer` works
    unchanged."""

    template_name = "generic/import.html"
    title = ""
    importer: Callable = None  # (file=, dry_run=) -> ImportResult
    columns: list[ImportColumn] = []
    sample_rows: list[list[str]] = []
    template_filename = "导入模板.xlsx"
    success_url_name = "home"
    help_text = ""

    def call_importer(self, file, dry_run: bool):
        return type(self).importer(file=file, dry_run=dry_run)

    def job_rows(self) -> int:
        """Above this many rows the file is previewed and imported as a job (a page whose importer
        is much faster or slower than the units' may say otherwise)."""
        return import_job_rows()

    def context(self, **extra) -> dict:
        result = extra.get("result")
        if result is not None and "shown_rows" not in extra:
            changed = [row for row in result.rows if row.action != "unchanged"]
            extra.update(shown_rows=changed[:IMPORT_ROWS_SHOWN], hidden_rows=max(len(changed) - IMPORT_ROWS_SHOWN, 0))
        return {"title": self.title, "columns": self.columns, "help_text": self.help_text, **extra}

    def get(self, request, *args, **kwargs):
        if request.GET.get("template"):
            return self.template_file()
        if request.GET.get("job"):
            run = self.job_run(request.GET["job"])
            if request.GET.get("format") == "json":
                return JsonResponse(self.job_status(run))
            return self.job_page(run)
        return render(request, self.template_name, self.context())

    def template_file(self) -> HttpResponse:

        data = workbook_bytes([col.header for col in self.columns], self.sample_rows, title="导入模板")
        return xlsx_response(data, self.template_filename)

    def post(self, request, *args, **kwargs):
        token = request.POST.get("token", "")
        if token:
            return self.confirm(token)
        upload = request.FILES.get("file")
        if upload is None:
            return render(
                request, self.template_name, self.context(upload_error="请选择要上传的 Excel 文件。"), status=400
            )
        if upload.size > settings.IMPORT_MAX_BYTES:
            message = f"文件过大（{megabytes(upload.size)}），上限为 {megabytes(settings.IMPORT_MAX_BYTES)}。"
            return render(request, self.template_name, self.context(upload_error=message), status=400)
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        try:
            check_sheet_limits(data)
        except ImportFileError as exc:
            return render(request, self.template_name, self.context(upload_error=exc.message), status=400)
        rows = sheet_row_count(data)
        if rows > self.job_rows():
            token = uuid.uuid4().hex
            import_storage().save(token, ContentFile(data))
            request.session[f"import-{token}"] = upload.name
            return self.job_page(self.job_start(token=token, filename=upload.name, dry_run=True, rows=rows))
        result = self.call_importer(upload, True)
        token = ""
        if result.ok:
            token = f"{uuid.uuid4().hex}"
            import_storage().save(token, ContentFile(data))
            request.session[f"import-{token}"] = upload.name
        return render(
            request,
            self.template_name,
            self.context(result=result, token=token, filename=upload.name),
            status=200 if result.ok else 400,
        )

    def confirm(self, token: str):
        request = self.request
        if not token.isalnum() or f"import-{token}" not in request.session or not import_storage().exists(token):
            return render(
                request, self.template_name, self.context(upload_error="预览已过期，请重新上传文件。"), status=400
            )
        with import_storage().open(token, "rb") as handle:
            data = ContentFile(handle.read(), name=request.session[f"import-{token}"])
        rows = sheet_row_count(data.read())
        if rows > self.job_rows():
            filename = request.session.pop(f"import-{token}")  # a token is used once
            return self.job_page(self.job_start(token=token, filename=filename, dry_run=False, rows=rows))
        result = self.call_importer(data, False)
        import_storage().delete(token)
        del request.session[f"import-{token}"]
        if not result.ok:
            return render(request, self.template_name, self.context(result=result), status=400)
        messages.success(request, result.summary)
        return HttpResponseRedirect(self.success_url())

    def success_url(self) -> str:
        """Where a finished import leads (the redirect of a small file, 完成 on a job's result)."""
        return reverse(self.success_url_name)

    # --- An import as a job ---------------------------------------------------------------------

    @classmethod
    def view_path(cls) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    def job_start(self, *, token: str, filename: str, dry_run: bool, rows: int) -> JobRun:
        from .jobs import job_enqueue
        from .services import job_run_create

        request = self.request
        run = job_run_create(
            name=IMPORT_JOB_NAME,
            user=request.user,
            params={
                "view": self.view_path(),
                "title": str(self.title),
                "path": request.path,
                "kwargs": dict(self.kwargs),
                "query": request.GET.urlencode(),
                "token": token,
                "filename": filename,
                "dry_run": dry_run,
                "rows": rows,
            },
        )
        return job_enqueue(run)  # after commit; a broker that is down leaves it queued for the sweeper

    def job_run(self, pk) -> JobRun:
        """A run of this import page (any office member's), else 404."""
        run = JobRun.objects.filter(pk=pk if str(pk).isdigit() else None, name=IMPORT_JOB_NAME).first()
        if run is None or run.params.get("view") != self.view_path():
            raise Http404("未找到该导入任务。")
        return run

    def job_url(self, run: JobRun, **extra) -> str:
        query = QueryDict(run.params.get("query", ""), mutable=True)
        query["job"] = str(run.pk)
        query.update(extra)
        return f"{run.params.get('path') or self.request.path}?{query.urlencode()}"

    def job_status(self, run: JobRun) -> dict:
        finished = run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
        status = {
            "id": run.pk,
            "status": run.status,
            "status_label": run.get_status_display(),
            "finished": finished,
            "percent": run.progress,
            "rows_done": run.rows_done,
            "rows_total": run.rows_total if run.rows_total is not None else run.params.get("rows"),
            "stage": run.stage,
            "dry_run": bool(run.params.get("dry_run")),
            "page_url": self.job_url(run),
        }
        if finished:
            status["summary"] = run.result.get("summary", "") if not run.error else run.error
            for key in ("created", "updated", "unchanged"):
                status[key] = run.result.get(key)
            status["errors"] = run.result.get("errors", 0)
        return status

    def job_page(self, run: JobRun):
        request = self.request
        run.refresh_from_db()  # an eager task has already run by now
        params = run.params
        context = {
            "job": run,
            "job_status": self.job_status(run),
            "job_status_url": self.job_url(run, format="json"),
            "filename": params.get("filename", ""),
        }
        status = 200
        result = self.job_result(run)
        if result is not None:
            token = params.get("token", "")
            usable = (
                result.ok and result.dry_run and f"import-{token}" in request.session and import_storage().exists(token)
            )
            context.update(result=result, token=token if usable else "", done_url=self.success_url())
            status = 200 if result.ok else 400
        return render(request, self.template_name, self.context(**context), status=status)

    @staticmethod
    def job_result(run: JobRun) -> ImportResult | None:
        """A finished run's full result (every change and error), from the private storage."""
        detail = run.result.get("detail", "") if run.status == JobStatus.SUCCEEDED else ""
        if not detail or not import_storage().exists(detail):
            return None
        with import_storage().open(detail, "rb") as handle:
            return ImportResult.from_dict(json.loads(handle.read()))

    @classmethod
    def for_job(cls, run: JobRun) -> ImportView:
        """This view as the upload's request had it: its URL arguments, query string and user."""
        from django.contrib.auth.models import AnonymousUser

        request = HttpRequest()
        request.method = "POST"
        request.path = request.path_info = run.params.get("path", "")
        request.GET = QueryDict(run.params.get("query", ""))
        request.user = run.created_by or AnonymousUser()
        request.session = {}
        view = cls()
        view.setup(request, **run.params.get("kwargs", {}))
        return view


class _JobProgress:
    """Receives an importer's (stage, rows done, rows in stage) and writes the run's progress, at
    most twice a second and at every change of stage, never from inside the import's transaction."""

    def __init__(self, run: JobRun):
        from django.db import connection

        self.run = run
        self.stages = IMPORT_STAGES[bool(run.params.get("dry_run"))]
        self.last = (None, 0.0)
        self.depth = len(connection.atomic_blocks)
        self.rows = 0  # the sheet's data rows, once the importer has said how many it validates

    def __call__(self, stage: str, done: int, total: int) -> None:
        from django.db import connection

        from .services import job_run_progress

        if stage == "validate":
            self.rows = total
        if stage not in self.stages or len(connection.atomic_blocks) > self.depth:
            return  # inside the import's own transaction nobody could see it (and it would hold the row)
        now = time.monotonic()
        if stage == self.last[0] and now - self.last[1] < 0.5 and done < total:
            return
        low, high, label = self.stages[stage]
        if stage == "read" and done >= total:
            label = "处理中"  # the sheet is read; an importer that reports no more is at work until it ends
        percent = low + (high - low) * (done / total if total else 1)
        job_run_progress(run=self.run, percent=int(percent), rows_done=done, rows_total=total, stage=label)
        self.last = (stage, now)


def import_job_run(*, run_id: int) -> dict:
    """Run on a worker (or in-process when Celery is eager): the import a JobRun describes, from
    the kept upload, writing its progress as it goes and its result (ImportResult.as_dict() and
    the summary) at the end. A run already started is left alone (a redelivered task)."""
    from .audit import acting_for
    from .services import job_run_claim, job_run_finish, job_run_progress

    if job_run_claim(run_id=run_id) is None:  # delivered twice, or already taken
        return JobRun.objects.filter(pk=run_id).values_list("result", flat=True).first() or {}
    run = JobRun.objects.select_related("created_by").get(pk=run_id)
    params = run.params
    storage, token = import_storage(), params.get("token", "")
    try:
        view_class = import_string(params["view"])
        if not (isinstance(view_class, type) and issubclass(view_class, ImportView)):
            raise TypeError(f"not an import view: {params['view']}")
        if not token.isalnum() or not storage.exists(token):
            job_run_finish(run=run, error="上传的文件已不存在，请重新上传。")
            return {}
        with storage.open(token, "rb") as handle:
            data = ContentFile(handle.read(), name=params.get("filename", ""))
        progress = _JobProgress(run)
        view = view_class.for_job(run)
        with progress_to(progress), acting_for(view.request):  # history rows name who uploaded
            result = view.call_importer(data, bool(params.get("dry_run")))
    except Exception as exc:  # recorded on the run for the page; the worker's log has the traceback
        logger.exception("import job %s failed", run_id)
        job_run_finish(run=run, error=f"导入失败：{exc}")
        if token.isalnum():
            storage.delete(token)  # nothing can be confirmed from a run that failed
        return {}
    if not (result.ok and result.dry_run):  # kept only for the confirm of a good preview
        storage.delete(token)
    # Every row's change and error (megabytes for a big file) goes to the private storage; the run
    # keeps the counts, which the job list shows.
    detail = storage.save(f"result-{run.pk}.json", ContentFile(json.dumps(result.as_dict(), ensure_ascii=False)))
    payload = {
        "dry_run": result.dry_run,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": len(result.errors),
        "summary": result.summary,
        "detail": detail,
    }
    rows = progress.rows or len(result.rows)
    job_run_progress(run=run, percent=99, rows_done=rows, rows_total=rows, stage="完成")
    job_run_finish(run=run, result=payload)
    return {key: payload[key] for key in ("dry_run", "created", "updated", "unchanged")}
