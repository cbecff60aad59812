"""The shared shape of every `import_*` management command: preview with --dry-run, row errors on
stderr with the spreadsheet's row numbers, all or nothing."""

from django.core.management.base import BaseCommand, CommandError


class ImportCommand(BaseCommand):
    """Subclasses set `help` and `file_help` and implement `run_import(handle, dry_run, options)`."""

    file_help = "表格文件路径"

    def add_arguments(self, parser):
        parser.add_argument("file", help=self.file_help)
        parser.add_argument("--dry-run", action="store_true", help="只检查和预览，不写入")

    def run_import(self, handle, dry_run: bool, options: dict):
        raise NotImplementedError

    def handle(self, *args, file, dry_run=False, **options):
        try:
            with open(file, "rb") as handle:
                result = self.run_import(handle, dry_run, options)
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
