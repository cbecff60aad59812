"""The 26 national point types (点位类别), editable afterwards. Departments are set per city."""

from django.db import migrations

NAMES = [
    "新时代文明实践中心", "政务大厅", "银行网点", "窗口单位", "公交站点", "公交车", "出租车", "室外公共厕所",
    "公共广场", "宾馆酒店", "公园", "社区", "建筑工地", "景区景点", "中小学校", "商场超市", "医院",
    "公共文化设施", "主要交通路口", "背街小巷", "商业大街", "主次干道", "城乡接合部", "集贸(农贸)市场", "小区", "乡镇",
]


def create(apps, schema_editor):
    PointType = apps.get_model("inspections", "PointType")
    for order, name in enumerate(NAMES, start=1):
        PointType.objects.get_or_create(name=name, defaults={"order": order, "national": True})


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
