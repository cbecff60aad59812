"""django-import-export resources for the admin's export of reference data (natural keys)."""

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Unit


class UnitResource(resources.ModelResource):
    """Units with the same columns as the unit import, so an export can be edited and re-imported."""

    name = fields.Field(attribute="name", column_name="名称")
    short_name = fields.Field(attribute="short_name", column_name="简称")
    code = fields.Field(attribute="code", column_name="编码")
    kind = fields.Field(attribute="get_kind_display", column_name="类型", readonly=True)
    parent = fields.Field(attribute="parent", column_name="上级单位", widget=ForeignKeyWidget(Unit, field="code"))
    leader_name = fields.Field(attribute="leader_name", column_name="主要负责人")
    liaison_name = fields.Field(attribute="liaison_name", column_name="联络员")
    phone = fields.Field(attribute="phone", column_name="联系电话")

    class Meta:
        model = Unit
        fields = ("name", "short_name", "code", "kind", "parent", "leader_name", "liaison_name", "phone")
        export_order = fields
        import_id_fields = ("code",)
