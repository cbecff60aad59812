from accountability.calendar import calendar_import
from campaign.commands import ImportCommand


class Command(ImportCommand):
    help = (
        "从 Excel (.xlsx) 或 CSV 导入节假日与调休（列：日期、类型〔休/班〕、名称）；先加 --dry-run 预览。"
        "按日期匹配，已有日期就地更新。任何一行有错则不写入。"
    )
    file_help = "节假日与调休表格文件路径"

    def run_import(self, handle, dry_run, options):
        return calendar_import(file=handle, dry_run=dry_run)
