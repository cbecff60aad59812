"""The fictional demo city 示范市: units, people and a campaign, built through the services.

Each app may add a `demo.py` with `seed(context)`; `seed_demo` calls them in dependency order, so
later features extend the same city.
"""

from __future__ import annotations

import datetime
import importlib
import time

from django.db import connection, transaction

from . import services
from .choices import CampaignLevel, PhaseKind, Role, UnitKind

DEMO_PASSWORD = "demo-pass-2026"

# District → its streets (街道/镇) → communities per street.
DISTRICTS = [
    ("示范市东湖区", "东湖区", "DH", ["湖滨街道", "柳岸街道", "新华街道", "望湖街道", "东门街道"]),
    ("示范市西山区", "西山区", "XS", ["山前街道", "翠屏街道", "枫林街道", "西关街道", "石桥镇"]),
    ("示范市南湖区", "南湖区", "NH", ["南苑街道", "莲花街道", "明珠街道", "长乐街道", "南塘镇"]),
    ("示范市北塘区", "北塘区", "BT", ["北门街道", "运河街道", "广益街道", "惠山街道"]),
    ("示范市滨江县", "滨江县", "BJ", ["城关镇", "江滨街道", "白沙镇", "临江镇"]),
]
COMMUNITY_NAMES = [
    "幸福",
    "和平",
    "阳光",
    "春晖",
    "翠竹",
    "金桂",
    "玉兰",
    "锦绣",
    "康乐",
    "青山",
    "绿水",
    "丰收",
    "景苑",
    "晨光",
    "长虹",
    "友谊",
    "育才",
    "同心",
    "兴隆",
    "嘉禾",
    "福田",
    "梅园",
    "松鹤",
    "荷塘",
]

DEPARTMENTS = [
    ("示范市文明办", "市文明办"),
    ("中共示范市委宣传部", "市委宣传部"),
    ("中共示范市委组织部", "市委组织部"),
    ("示范市城市管理局", "市城管局"),
    ("示范市市场监督管理局", "市市场监管局"),
    ("示范市卫生健康委员会", "市卫健委"),
    ("示范市住房和城乡建设局", "市住建局"),
    ("示范市交通运输局", "市交通运输局"),
    ("示范市公安局", "市公安局"),
    ("示范市公安局交通警察支队", "市公安局交警支队"),
    ("示范市教育局", "市教育局"),
    ("示范市民政局", "市民政局"),
    ("示范市生态环境局", "市生态环境局"),
    ("示范市商务局", "市商务局"),
    ("示范市文化广电和旅游局", "市文广旅局"),
    ("示范市自然资源和规划局", "市自然资源局"),
    ("示范市水利局", "市水利局"),
    ("示范市农业农村局", "市农业农村局"),
    ("示范市应急管理局", "市应急管理局"),
    ("示范市园林绿化局", "市园林局"),
    ("示范市体育局", "市体育局"),
    ("示范市人力资源和社会保障局", "市人社局"),
    ("示范市财政局", "市财政局"),
    ("示范市政务服务管理办公室", "市政务办"),
    ("示范市总工会", "市总工会"),
    ("共青团示范市委员会", "团市委"),
    ("示范市妇女联合会", "市妇联"),
    ("示范市残疾人联合会", "市残联"),
]

# 区直部门: departments of a district, charged, ranked (their own population by default) and scoped
# like the city's. (district short name, name, short name, code, liaison account, liaison's name,
# the demo point type whose points of the district it supervises — None: no points, 样本不足).
DISTRICT_DEPARTMENTS = [
    ("东湖区", "东湖区政务服务管理办公室", "东湖区政务办", "DH-D01", "dhzw", "钱政务", None),
    ("东湖区", "东湖区卫生健康局", "东湖区卫健局", "DH-D02", "dhwj", "孙卫健", "集贸(农贸)市场"),
    ("东湖区", "东湖区城市管理局", "东湖区城管局", "DH-D03", "dhcg", "吴城管", "主次干道"),
    ("西山区", "西山区住房和城乡建设局", "西山区住建局", "XS-D01", "xszj", "郑住建", "小区"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "建国",
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
]

WORK_GROUPS = [
    (
        "综合协调组",
        "统筹协调、任务分解、材料汇总与网上申报审核。",
        ["市文明办", "市委宣传部", "市委组织部", "市政务办"],
    ),
    (
        "宣传教育组",
        "公益广告、志愿服务、未成年人思想道德建设。",
        ["市委宣传部", "市教育局", "团市委", "市妇联", "市文广旅局"],
    ),
    (
        "城市建设管理组",
        "市容环境、背街小巷、农贸市场、交通秩序整治。",
        ["市城管局", "市住建局", "市交通运输局", "市公安局交警支队", "市市场监管局", "市园林局", "市生态环境局"],
    ),
    (
        "社会事业组",
        "窗口服务、医院学校、社区服务与公共文化设施。",
        ["市卫健委", "市民政局", "市人社局", "市体育局", "市残联"],
    ),
    ("督查组", "每周督查暗访、问题交办与整改复查。", ["市文明办"]),
]


def _person(index: int) -> str:
    return SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]


def _phone(index: int) -> str:
    return f"0510-8{index:03d}{(index * 37) % 10000:04d}"


def demo_liaison(unit, context: dict | None = None):
    """The demo liaison of a unit: its named demo account where there is one, else a silent
    account (no usable password) so that every unit can act in the demo. With the seed's
    `context`, each unit's liaison is looked up once per seed, not once per problem or material."""
    from django.contrib.auth import get_user_model

    from .models import Membership

    known = context.setdefault("liaisons", {}) if context is not None else {}
    if unit.pk in known:
        return known[unit.pk]
    membership = Membership.objects.filter(role=Role.LIAISON, unit=unit).select_related("user").first()
    if membership is not None:
        known[unit.pk] = membership.user
        return membership.user
    user = get_user_model()(username=f"demo-{unit.code.lower()}", first_name=f"{unit.display_name}联络员")
    user.set_unusable_password()
    user.save()
    services.membership_create(user=user, role=Role.LIAISON, unit=unit)
    known[unit.pk] = user
    return user


def _row_count() -> int:
    """Rows in every table of the project's models (one query): what a seed step wrote."""
    from django.apps import apps

    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
        & set(connection.introspection.table_names())
    )
    if not tables:
        return 0
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables))
        return cursor.fetchone()[0]


class Progress:
    """Prints one line per seed step — its name, the seconds it took and the rows it wrote — so
    that `make run` shows where it is instead of staying silent."""

    def __init__(self, stdout=None):
        self.stdout = stdout
        self.started = self.last = time.monotonic()
        self.first_rows = self.rows = _row_count() if stdout is not None else 0

    def _write(self, name: str, seconds: float, rows: int) -> None:
        # With its newline: a management command's stdout adds none to a line that has one, a plain
        # stream adds none at all.
        self.stdout.write(f"[seed] {name} … {seconds:.1f} s ({rows} 行)\n")
        flush = getattr(self.stdout, "flush", None)
        if flush is not None:
            flush()

    def step(self, name: str) -> None:
        if self.stdout is None:
            return
        now, rows = time.monotonic(), _row_count()
        self._write(name, now - self.last, rows - self.rows)
        self.last, self.rows = now, rows

    def total(self) -> None:
        if self.stdout is not None:
            self._write("合计", time.monotonic() - self.started, _row_count() - self.first_rows)


def step(context: dict, name: str) -> None:
    """Report a finished seed step (a no-op when nobody listens)."""
    progress = context.get("progress")
    if progress is not None:
        progress.step(name)


def database_is_empty() -> bool:
    from .models import Campaign, Unit

    return not Unit.objects.exists() and not Campaign.objects.exists()


@transaction.atomic
def seed(context: dict) -> None:
    """Units, the campaign with its phases and work groups, and the demo accounts."""
    counter = 0
    units: dict[str, object] = {}
    for name, short, code, streets in DISTRICTS:
        counter += 1
        district = services.unit_create(
            name=name,
            short_name=short,
            code=code,
            kind=UnitKind.DISTRICT,
            leader_name=_person(counter),
            liaison_name=_person(counter + 50),
            phone=_phone(counter),
        )
        units[short] = district
        for s_index, street_name in enumerate(streets, start=1):
            counter += 1
            street = services.unit_create(
                name=f"{short}{street_name}",
                short_name=street_name,
                code=f"{code}-{s_index:02d}",
                kind=UnitKind.STREET,
                parent=district,
                leader_name=_person(counter),
                liaison_name=_person(counter + 50),
                phone=_phone(counter),
            )
            units[street_name] = street
            for c_index in range(1, 4):
                counter += 1
                village = street_name.endswith("镇") and c_index == 3
                base = COMMUNITY_NAMES[(counter * 5) % len(COMMUNITY_NAMES)]
                community_name = f"{base}村" if village else f"{base}社区"
                services.unit_create(
                    name=f"{street_name}{community_name}",
                    short_name=community_name,
                    code=f"{code}-{s_index:02d}-{c_index:02d}",
                    kind=UnitKind.COMMUNITY,
                    parent=street,
                    liaison_name=_person(counter + 50),
                    phone=_phone(counter),
                )
    step(context, "单位（区县、街道、社区）")
    for d_index, (name, short) in enumerate(DEPARTMENTS, start=1):
        counter += 1
        units[short] = services.unit_create(
            name=name,
            short_name=short,
            code=f"D{d_index:02d}",
            kind=UnitKind.DEPARTMENT,
            leader_name=_person(counter),
            liaison_name=_person(counter + 50),
            phone=_phone(counter),
        )
    for district, name, short, code, _username, full_name, _point_type in DISTRICT_DEPARTMENTS:
        counter += 1
        units[short] = services.unit_create(
            name=name,
            short_name=short,
            code=code,
            kind=UnitKind.DEPARTMENT,
            parent=units[district],
            leader_name=_person(counter),
            liaison_name=full_name,
            phone=_phone(counter),
        )

    campaign = services.campaign_create(
        name="示范市创建全国文明城市",
        level=CampaignLevel.NATIONAL,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 6, 30),
        description="三年创建周期的第一年：以实地考察点位整治为重点，同步推进网上申报材料准备。",
    )
    services.campaign_set_phases(
        campaign=campaign,
        phases=[
            (PhaseKind.LAUNCH, datetime.date(2026, 3, 1), datetime.date(2026, 5, 31), "动员部署、任务分解"),
            (PhaseKind.RECTIFY, datetime.date(2026, 6, 1), datetime.date(2026, 12, 31), "点位集中整治、每周督查评比"),
            (PhaseKind.CONSOLIDATE, datetime.date(2027, 1, 1), datetime.date(2027, 4, 30), "查漏补缺、模拟测评"),
            (PhaseKind.LONG_TERM, datetime.date(2027, 5, 1), datetime.date(2027, 12, 31), "常态长效管理"),
        ],
    )

    accounts = [
        ("office", "陈文明", Role.OFFICE, units["市文明办"]),
        ("inspector", "周督查", Role.INSPECTOR, units["市文明办"]),
        ("leader", "王市长", Role.LEADER, None),
        ("liaison", "李湖滨", Role.LIAISON, units["湖滨街道"]),
        ("liaison2", "赵山前", Role.LIAISON, units["山前街道"]),
        ("dept", "刘城管", Role.LIAISON, units["市城管局"]),
        *(
            (username, full_name, Role.LIAISON, units[short])
            for _district, _name, short, _code, username, full_name, _type in DISTRICT_DEPARTMENTS
        ),
    ]
    # One password hash for every demo account (the same password): PBKDF2 is slow on purpose, so
    # hashing it six times cost seconds of the seed. Production hashing is untouched.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    hashed = make_password(DEMO_PASSWORD)
    users = {}
    for username, full_name, role, unit in accounts:
        user = get_user_model()(username=username, first_name=full_name, password=hashed)
        user.full_clean(exclude=["password"])
        user.save()
        services.membership_create(user=user, role=role, unit=unit)
        users[username] = user
    # Each demo person's mobile number (as 导入人员 records it); the demo passwords are not one-time.
    from .models import UserProfile

    UserProfile.objects.bulk_create(
        [UserProfile(user=user, phone=f"1380510{index:04d}") for index, user in enumerate(users.values(), start=1)]
    )

    for order, (name, duties, members) in enumerate(WORK_GROUPS, start=1):
        services.work_group_create(
            campaign=campaign,
            name=name,
            duties=duties,
            order=order,
            leaders=[users["leader"]] if name in {"综合协调组", "城市建设管理组"} else [],
            units=[units[m] for m in members],
        )

    context.update(campaign=campaign, units=units, users=users)
    step(context, "部门、创建活动、工作组、演示账号")


# The project's own apps, lowest layer first.
DEMO_APPS = ("campaign", "indicators", "inspections", "accountability")


def seed_all(*, stdout=None, only: tuple[str, ...] = DEMO_APPS) -> dict:
    """Run every app's demo seeder, lowest layer first; `only` limits it to the first layers
    (browser tests that bring their own data seed just the kernel). With `stdout`, each step
    prints a progress line: `[seed] <step> … <seconds> s (<rows> 行)`."""
    progress = Progress(stdout)
    context: dict = {"progress": progress}
    for name in DEMO_APPS:
        if name not in only:
            continue
        try:
            module = importlib.import_module(f"{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.demo":
                raise
            continue
        module.seed(context)
    progress.total()
    return context
