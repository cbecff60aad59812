"""Generic views every app reuses: list (filters, search, pagination, Excel export), detail, form,
delete and import-with-preview. A concrete screen is a few declarative lines on one of these."""

from __future__ import annotations

import datetime
import io
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
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView

from .importing import Column as ImportColumn
from .importing import megabytes
from .permissions import can_manage


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

    def export_xlsx(self) -> HttpResponse:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(self.title[:31] or "导出")
        sheet.append([col.header for col in self.columns])
        for obj in self.get_queryset().iterator(chunk_size=1000):
            sheet.append([format_cell(col.value(obj)) for col in self.columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return xlsx_response(buffer.getvalue(), f"{self.export_name}-{timezone.localdate():%Y%m%d}.xlsx")


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
    """Private storage for uploads between preview and confirm; never served."""
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "imports")


class ImportView(OfficeRequiredMixin, LoginRequiredMixin, View):
    """Upload → preview (every row error, every change) → confirm. The upload is kept privately
    between the two steps, so the confirmed import is exactly the previewed file."""

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

    def context(self, **extra) -> dict:
        return {"title": self.title, "columns": self.columns, "help_text": self.help_text, **extra}

    def get(self, request, *args, **kwargs):
        if request.GET.get("template"):
            return self.template_file()
        return render(request, self.template_name, self.context())

    def template_file(self) -> HttpResponse:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.append([col.header for col in self.columns])
        for row in self.sample_rows:
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return xlsx_response(buffer.getvalue(), self.template_filename)

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
        result = self.call_importer(upload, True)
        token = ""
        if result.ok:
            token = f"{uuid.uuid4().hex}"
            upload.seek(0)
            import_storage().save(token, ContentFile(upload.read()))
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
        result = self.call_importer(data, False)
        import_storage().delete(token)
        del request.session[f"import-{token}"]
        if not result.ok:
            return render(request, self.template_name, self.context(result=result), status=400)
        messages.success(request, result.summary)
        return HttpResponseRedirect(reverse(self.success_url_name))
