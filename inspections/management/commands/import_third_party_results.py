import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from campaign.commands import ImportCommand
from inspections.models import InspectionRound
from inspections.third_party import round_problems, third_party_results_import


class Command(ImportCommand):
    help = (
        "把第三方测评机构的结果表（每行一条测评结果）导入一个类型为“第三方测评”的督查批次；"
        "先加 --dry-run 预览。任何一行有错则不写入；重复导入同一文件不会产生变化。"
    )
    file_help = "第三方测评结果表格文件路径"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--round", type=int, required=True, help="第三方测评批次编号 (ID)")
        parser.add_argument("--date", help="检查时间留空的行记在这一天 (YYYY-MM-DD)")
        parser.add_argument("--create-points", action="store_true", help="创建表中缺少的点位")
        parser.add_argument("--open-problems", action="store_true", help="不合格项生成待交办问题")
        parser.add_argument("--user", help="以该创建办账号的名义导入（默认：批次的创建人）")

    def run_import(self, handle, dry_run, options):
        round_ = InspectionRound.objects.select_related("campaign", "created_by").filter(pk=options["round"]).first()
        if round_ is None:
            raise CommandError(f"找不到编号为 {options['round']} 的督查批次。")
        problem = round_problems(round_)
        if problem:
            raise CommandError(problem)
        day = None
        if options.get("date"):
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date 的格式应为 YYYY-MM-DD。") from exc
        user = round_.created_by
        if options.get("user"):
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"找不到账号“{options['user']}”。")
        return third_party_results_import(
            round_=round_,
            file=handle,
            dry_run=dry_run,
            user=user,
            observed_on=day,
            create_points=options["create_points"],
            open_problems=options["open_problems"],
        )
