"""Back-office editing of the 测评体系 for the office; writes that keep derived fields go through services."""

from django.contrib import admin
from import_export.resources import ModelResource

from campaign.admin import ExportMixin, OfficeAdminMixin, readonly_field

from . import services
from .models import (
    Assignment,
    Indicator,
    IndicatorSystem,
    Material,
    MaterialEvent,
    MaterialFile,
    NegativeListItem,
    RiskEvent,
)


class IndicatorResource(ModelResource):
    class Meta:
        model = Indicator
        fields = ("id", "system__name", "level", "code", "title", "weight", "effective_weight", "veto", "requirements")


@admin.register(IndicatorSystem)
class IndicatorSystemAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "campaign", "kind", "year"]
    list_filter = ["campaign", "kind"]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ["unit"]
    readonly_fields = ["inherited"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(inherited=False)


@admin.register(Indicator)
class IndicatorAdmin(OfficeAdminMixin, ExportMixin, admin.ModelAdmin):
    resource_classes = [IndicatorResource]
    list_display = ["code", "title", "level", "system", "weight", "effective_weight", "veto"]
    list_filter = ["system", "level", "veto"]
    search_fields = ["code", "title"]
    # Derived by indicator_system_rebuild: shown, never edited (under their Chinese labels).
    exclude = ["path", "top", "effective_weight", "children_weight", "share_weight", "is_leaf", "is_declaration"]
    readonly_fields = [readonly_field(name) for name in exclude]
    inlines = [AssignmentInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Weights, paths and inherited units are derived: rebuild after any back-office edit.
        services.indicator_system_rebuild(system=form.instance.system)


class MaterialFileInline(admin.TabularInline):
    model = MaterialFile
    extra = 0
    readonly_fields = ["original_name", "content_type", "size", "version", "current", "uploaded_by", "uploaded_at"]
    fields = readonly_fields
    can_delete = False


class MaterialEventInline(admin.TabularInline):
    model = MaterialEvent
    extra = 0
    readonly_fields = ["action", "actor", "note", "status_after", "at"]
    can_delete = False


@admin.register(Material)
class MaterialAdmin(OfficeAdminMixin, admin.ModelAdmin):
    """Read-only here: review goes through the material page so every step is recorded."""

    list_display = ["indicator", "unit", "status", "submitted_at", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["indicator__title", "unit__name"]
    inlines = [MaterialFileInline, MaterialEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(NegativeListItem)
class NegativeListItemAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["code", "title", "system", "veto", "order"]
    list_filter = ["system", "veto"]


@admin.register(RiskEvent)
class RiskEventAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_on", "item", "unit", "status"]
    list_filter = ["status", "item__veto"]
    autocomplete_fields = ["unit"]
