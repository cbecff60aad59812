from campaign.commands import ImportCommand
from campaign.services import units_import


class Command(ImportCommand):
    help = "从 Excel (.xlsx) 或 CSV 导入单位；先加 --dry-run 预览。任何一行有错则不写入。"
    file_help = "单位表格文件路径"

    def run_import(self, handle, dry_run, options):
        return units_import(file=handle, dry_run=dry_run)
