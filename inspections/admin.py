"""Back-office editing of points and check items for the office. Facts (inspections, observations,
charges) are read-only here: a correction is a new inspection, made on the inspection page."""

from django.contrib import admin
from import_export.admin import ExportMixin

from campaign.admin import OfficeAdminMixin

from .models import CheckItem, Inspection, InspectionRound, Observation, Photo, Point, PointType, Problem


@admin.register(PointType)
class PointTypeAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "order", "national", "active"]
    list_editable = ["order", "active"]
    filter_horizontal = ["departments"]


@admin.register(Point)
class PointAdmin(OfficeAdminMixin, ExportMixin, admin.ModelAdmin):
    list_display = ["name", "point_type", "unit", "key_point", "active"]
    list_filter = ["point_type", "key_point", "active"]
    search_fields = ["name", "address"]
    autocomplete_fields = ["unit", "sponsor"]
    filter_horizontal = ["departments"]


@admin.register(CheckItem)
class CheckItemAdmin(OfficeAdminMixin, ExportMixin, admin.ModelAdmin):
    list_display = ["text", "point_type", "indicator", "per_occurrence", "cap", "severity", "active"]
    list_filter = ["point_type", "severity", "active"]
    search_fields = ["text"]
    filter_horizontal = ["departments"]


@admin.register(InspectionRound)
class InspectionRoundAdmin(OfficeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "start_date", "end_date", "sample_seed"]
    list_filter = ["kind", "campaign"]
    filter_horizontal = ["inspectors", "points"]


class ReadOnlyAdmin(OfficeAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "point", "round", "inspector", "submitted_at", "far_from_point", "current"]
    list_filter = ["round", "current", "far_from_point"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "point", "check_item", "result", "occurrences", "deduction", "observed_at", "current"]
    list_filter = ["result", "current"]


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["id", "original_name", "width", "height", "taken_at", "uploaded_by", "uploaded_at"]


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ["id", "description", "status", "source", "unit", "found_at"]
    list_filter = ["status", "source", "severity"]
    search_fields = ["description"]
