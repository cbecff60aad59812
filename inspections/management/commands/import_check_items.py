from django.core.management.base import CommandError

from campaign.commands import ImportCommand
from indicators.models import IndicatorSystem
from inspections.importing import check_items_import


class Command(ImportCommand):
    help = "从 Excel (.xlsx) 或 CSV 导入测评细则（检查项）；先加 --dry-run 预览。任何一行有错则不写入。"
    file_help = "测评细则表格文件路径"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--system", type=int, required=True, help="测评体系编号 (ID)")

    def run_import(self, handle, dry_run, options):
        system = IndicatorSystem.objects.filter(pk=options["system"]).first()
        if system is None:
            raise CommandError(f"找不到编号为 {options['system']} 的测评体系。")
        return check_items_import(system=system, file=handle, dry_run=dry_run)
