from campaign.commands import ImportCommand
from inspections.importing import point_types_import


class Command(ImportCommand):
    help = (
        "从 Excel (.xlsx) 或 CSV 导入点位类别（名称、分类、默认责任部门、排序、启用）；先加 --dry-run 预览。"
        "任何一行有错则不写入。"
    )
    file_help = "点位类别表格文件路径"

    def run_import(self, handle, dry_run, options):
        return point_types_import(file=handle, dry_run=dry_run)
