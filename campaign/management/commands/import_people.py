from campaign.commands import ImportCommand
from campaign.people import people_import


class Command(ImportCommand):
    help = (
        "从 Excel (.xlsx) 或 CSV 导入人员与角色（姓名、手机号、账号、角色、单位、工作组）；先加 --dry-run 预览。"
        "任何一行有错则不写入。新账号的一次性初始密码只在本次输出中显示一次。"
    )
    file_help = "人员表格文件路径"

    def run_import(self, handle, dry_run, options):
        result = people_import(file=handle, dry_run=dry_run)
        if result.ok and result.passwords:
            self.stdout.write("新账号的初始密码（只显示这一次，首次登录须修改）：")
            self.stdout.write("账号\t姓名\t初始密码")
            for entry in result.passwords:
                self.stdout.write(f"{entry.username}\t{entry.full_name}\t{entry.password}")
        return result
