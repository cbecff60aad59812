"""Pages of the people: the members list (姓名 first, in the people import's layout, exported as a
sheet that re-imports unchanged) and 导入人员, whose confirmation shows the one-time passwords once."""

from __future__ import annotations

import base64

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from . import people
from .exporting import workbook_bytes
from .filters import MembershipFilterSet
from .generic import Col, ImportView, ObjectListView, OfficeRequiredMixin, xlsx_response
from .models import Membership


class MembershipListView(OfficeRequiredMixin, ObjectListView):
    title = "成员与角色"
    filterset_class = MembershipFilterSet
    add_url_name = "membership-create"
    import_url_name = "membership-import"
    export_name = "人员"
    columns = [Col(header, lambda m, i=i: m.people_cells[i]) for i, header in enumerate(people.PEOPLE_HEADERS)]
    template_name = "campaign/membership_list.html"

    def base_queryset(self):
        return Membership.objects.select_related("user", "unit").order_by("user__username", "role", "id")

    def paginate_queryset(self, queryset, page_size):
        """The page's rows as the import reads them (profiles and led groups read once a page)."""
        paginator, page, objects, is_paginated = super().paginate_queryset(queryset, page_size)
        objects = list(objects)
        cells = dict(people.people_export_rows(Membership.objects.filter(pk__in=[m.pk for m in objects])))
        for membership in objects:
            membership.people_cells = cells[membership.pk]
        return paginator, page, objects, is_paginated

    def export_xlsx(self):
        rows = (row for _pk, row in people.people_export_rows(self.get_queryset()))
        data = workbook_bytes(people.PEOPLE_HEADERS, rows, title="人员")
        return xlsx_response(data, f"{self.export_name}-{timezone.localdate():%Y%m%d}.xlsx")


class PeopleImportView(ImportView):
    title = "导入人员"
    importer = staticmethod(people.people_import)
    columns = people.PEOPLE_COLUMNS
    template_filename = "人员导入模板.xlsx"
    success_url_name = "membership-list"
    help_text = people.PEOPLE_IMPORT_HELP
    # Rows that import into the demo city as they are (and change nothing the second time).
    sample_rows = [
        ["张晓明", "139 0000 0001", "", "单位联络员", "东湖区湖滨街道", ""],
        ["王副市长", "13900000002", "wangfsz", "领导", "", "综合协调组"],
    ]

    def job_rows(self) -> int:
        """Never a background job: the one-time passwords are shown in the response, never stored."""
        return settings.IMPORT_MAX_ROWS

    def call_importer(self, file, dry_run: bool):
        result = super().call_importer(file, dry_run)
        self.passwords = [] if dry_run else result.passwords
        return result

    def confirm(self, token: str):
        response = super().confirm(token)
        if not getattr(self, "passwords", None):
            return response
        rows = [[p.username, p.full_name, p.password] for p in self.passwords]
        sheet = workbook_bytes(["账号", "姓名", "初始密码"], rows, title="初始密码")
        context = {
            "title": self.title,
            "passwords": self.passwords,
            "sheet": base64.b64encode(sheet).decode(),
            "sheet_name": f"初始密码-{timezone.localtime():%Y%m%d%H%M}.xlsx",
            "done_url": self.success_url(),
        }
        response = render(self.request, "campaign/people_passwords.html", context)
        response["Cache-Control"] = "no-store"
        return response
