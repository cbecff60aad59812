from django.core.management.base import BaseCommand, CommandError

from indicators.importing import indicators_import
from indicators.models import IndicatorSystem


class Command(BaseCommand):
    help = "从 Excel (.xlsx) 或 CSV 导入任务分解表（测评体系）；先加 --dry-run 预览。任何一行有错则不写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="任务分解表文件路径")
        parser.add_argument("--system", type=int, required=True, help="测评体系编号 (ID)")
        parser.add_argument("--dry-run", action="store_true", help="只检查和预览，不写入")

    def handle(self, *args, file, system, dry_run=False, **options):
        target = IndicatorSystem.objects.filter(pk=system).first()
        if target is None:
            raise CommandError(f"找不到编号为 {system} 的测评体系。")
        try:
            with open(file, "rb") as handle:
                result = indicators_import(system=target, file=handle, dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"无法打开文件：{exc}") from exc
        for error in result.errors:
            where = f"第 {error.row} 行" if error.row else "文件"
            column = f" [{error.column}]" if error.column else ""
            self.stderr.write(f"{where}{column} {error.value}：{error.message}")
        for row in result.rows:
            if row.action != "unchanged":
                changes = "；".join(
                    f"{k}: {old or '（空）'} → {new or '（空）'}" for k, (old, new) in row.changes.items()
                )
                self.stdout.write(f"第 {row.row} 行 {row.action_label} {row.label} {changes}".rstrip())
        if not result.ok:
            raise CommandError(result.summary)
        self.stdout.write(self.style.SUCCESS(result.summary))
