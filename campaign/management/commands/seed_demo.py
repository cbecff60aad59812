from django.core.management.base import BaseCommand, CommandError

from campaign.demo import DEMO_PASSWORD, database_is_empty, seed_all


class Command(BaseCommand):
    help = "生成演示城市“示范市”：单位、创建活动、工作组和演示账号（密码 demo-pass-2026）。"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="数据库已有数据时跳过，不报错。")

    def handle(self, *args, if_empty=False, **options):
        if not database_is_empty():
            if if_empty:
                self.stdout.write("数据库已有数据，跳过演示数据。")
                return
            raise CommandError("数据库已有数据；演示数据只能写入空数据库（或使用 --if-empty 跳过）。")
        context = seed_all(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成。所有演示账号的密码：{DEMO_PASSWORD}"))
        for note in context.get("notes", ()):  # what an app's seeder wants the demo's user to know
            self.stdout.write(note)
