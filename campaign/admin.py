"""Back-office editing for the office (创建办). Writes that keep invariants go through the services."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from import_export.admin import ExportMixin as _ExportMixin
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .exporting import SafeCSV, SafeXLSX
from .models import Campaign, JobRun, Membership, Phase, Unit, WorkGroup
from .permissions import can_manage
from .resources import UnitResource

admin.site.site_header = "创城指挥平台 · 后台管理"
admin.site.site_title = "创城指挥平台"
admin.site.index_title = "后台管理"


def _office_has_permission(request) -> bool:
    return request.user.is_active and can_manage(request.user)


admin.site.has_permission = _office_has_permission


class ExportMixin(_ExportMixin):
    """django-import-export's 导出, offering only formats that write risky text (=, +, -, @ …) as
    text (`campaign/exporting.py`): its own formula escaping deletes the leading "="."""

    export_formats = [SafeXLSX, SafeCSV]


class OfficeAdminMixin:
    """The admin is for office staff: their role, not Django's per-model permissions, grants access."""

    def has_module_permission(self, request):
        return can_manage(request.user)

    def has_view_permission(self, request, obj=None):
        return can_manage(request.user)

    def has_add_permission(self, request, obj=None):
        return can_manage(request.user)

    def has_change_permission(self, request, obj=None):
        return can_manage(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_manage(request.user)


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(OfficeAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "level", "start_date", "evaluation_date", "active"]
    list_filter = ["level", "active"]
    search_fields = ["name"]
    inlines = [PhaseInline]


@admin.register(Unit)
class UnitAdmin(OfficeAdminMixin, ExportMixin, SimpleHistoryAdmin):
    resource_classes = [UnitResource]
    list_display = ["name", "short_name", "code", "kind", "parent", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "short_name", "code"]
    autocomplete_fields = ["parent"]
    ordering = ["path"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.UNIT_FIELDS if f in form.cleaned_data}
        if change:
            services.unit_update(unit=Unit.objects.get(pk=obj.pk), **data)
        else:
            created = services.unit_create(**data)
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth

    def delete_model(self, request, obj):
        services.unit_delete(unit=obj)


@admin.register(Membership)
class MembershipAdmin(OfficeAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "role", "unit", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__name"]
    autocomplete_fields = ["user", "unit"]


@admin.register(WorkGroup)
class WorkGroupAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "campaign", "order"]
    list_filter = ["campaign"]
    filter_horizontal = ["leaders", "units"]


@admin.register(JobRun)
class JobRunAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["id", "name", "status", "worker", "queued_at", "finished_at"]
    list_filter = ["name", "status"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class OfficeUserAdmin(OfficeAdminMixin, UserAdmin):
    pass


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["key", "user", "created"]
    search_fields = ["user__username"]
