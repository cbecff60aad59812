from campaign.commands import ImportCommand
from inspections.importing import points_import


class Command(ImportCommand):
    help = "从 Excel (.xlsx) 或 CSV 导入点位；先加 --dry-run 预览。任何一行有错则不写入。"
    file_help = "点位表格文件路径"

    def run_import(self, handle, dry_run, options):
        return points_import(file=handle, dry_run=dry_run)
