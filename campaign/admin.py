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


# Admin labels of model fields that carry no Chinese verbose name (derived and bookkeeping fields:
# renaming them on the models would be a migration). Used for list columns and form labels.
ADMIN_LABELS = {
    "id": "编号",
    "path": "路径",
    "depth": "层级",
    "top": "所属一级指标",
    "effective_weight": "有效分值",
    "children_weight": "下级分值合计",
    "share_weight": "占总分比重",
    "is_leaf": "末级指标",
    "is_declaration": "申报类",
    "indicator": "测评指标",
    "material": "申报材料",
    "uploaded_by": "上传人",
    "uploaded_at": "上传时间",
    "actor": "操作人",
    "status_after": "操作后状态",
    "created_by": "创建人",
    "created_at": "创建时间",
    "inspection": "督查记录",
    "observation": "观测记录",
    "charged_units": "计分单位",
    "original_name": "原文件名",
    "content_type": "文件类型",
    "extension": "扩展名",
    "size": "大小（字节）",
    "width": "宽（像素）",
    "height": "高（像素）",
    "sha256": "文件校验值",
    "exif_latitude": "拍摄纬度",
    "exif_longitude": "拍摄经度",
    "campaign": "创建活动",
    "version": "版本号",
    "problem": "问题",
    "user": "用户",
    "unit": "单位",
    "kind": "类型",
    "key": "提醒键",
    "read_at": "已读时间",
    "run": "计算任务",
    "rollup": "评比版本",
}


def _admin_label(model, name: str) -> str | None:
    """The Chinese label of a field whose verbose name has none, else None (its own name stands)."""
    try:
        verbose = str(model._meta.get_field(name).verbose_name)
    except Exception:  # not a model field: a method or a callable names itself
        return None
    return None if any("\u4e00" <= ch <= "\u9fff" for ch in verbose) else ADMIN_LABELS.get(name)


def _column(model, name):
    label = _admin_label(model, name) if isinstance(name, str) else None
    if label is None:
        return name

    @admin.display(description=label, ordering=name)
    def column(obj):
        return getattr(obj, name)

    return column


def readonly_field(name: str):
    """A derived field shown read-only under its Chinese label (ADMIN_LABELS): list it in
    `readonly_fields` and its name in `exclude`; yes/no reads 是/否."""

    @admin.display(description=ADMIN_LABELS[name])
    def field(obj):
        value = getattr(obj, name)
        return ("是" if value else "否") if isinstance(value, bool) else value

    return field


class OfficeAdminMixin:
    """The admin is for office staff: their role, not Django's per-model permissions, grants access.
    Fields without a Chinese verbose name read in Chinese in its lists and forms (ADMIN_LABELS)."""

    def get_list_display(self, request):
        return [_column(self.model, name) for name in super().get_list_display(request)]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        label = _admin_label(db_field.model, db_field.name)
        if label:
            kwargs.setdefault("label", label)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
