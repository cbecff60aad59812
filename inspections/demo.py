"""Demo field work for 示范市: about 150 points, check items for ten point types, and eight past
weeks of inspection rounds with believable patterns (北塘区 persistently weaker, a few items that
fail often), with placeholder photos made by code; and a few problems the office registered from
other sources (领导交办, 12345转办, 市民随手拍, 上级通报). Everything goes through the services."""

from __future__ import annotations

import csv
import datetime
import io
import random
import uuid
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.demo import step
from campaign.models import Unit
from indicators.models import Indicator

from . import services
from .choices import ProblemSource, Result, RoundKind, Severity
from .importing import POINT_COLUMNS, find_indicator, indicator_index, points_import
from .models import Point, PointType
from .services import ObservationInput

CENTER = (Decimal("31.490000"), Decimal("120.310000"))
DISTRICT_OFFSETS = {
    "DH": (0.03, 0.04),
    "XS": (0.01, -0.05),
    "NH": (-0.04, 0.01),
    "BT": (0.05, -0.01),
    "BJ": (-0.02, 0.08),
}
WEAK_DISTRICT = "BT"

# Point type → its check items: (测评标准, text, counting rule, per occurrence, cap, often failing?).
# Each item hangs under the standard whose text it checks, named as the check-items import names it
# (the content's code and the standard's, "Ⅲ-24/1)" = 商场超市安全出口畅通，消防设施完好), so the
# leaders' 指标失分 charge losses to the standard really failed. An item no standard of the demo
# sheet words for its place hangs under the 测评内容 or 指标 that covers its topic (Ⅲ-4 公益广告宣传,
# Ⅱ-9 市容环境 …), never under a standard about something else.
CATALOG: dict[str, list[tuple[str, str, str, str, str, bool]]] = {
    "集贸(农贸)市场": [
        ("Ⅲ-6/2)", "核心价值观公益广告不少于2处，两处间隔10米以上", "每少1处扣0.5分", "0.5", "1", False),
        ("Ⅲ-20/1)", "无占道经营、无乱堆乱放", "每处扣0.5分，扣完为止", "0.5", "2", True),
        ("Ⅲ-19/1)", "地面干净，无积水、无垃圾", "每处扣0.5分", "0.5", "2", False),
        ("Ⅲ-20/2)", "明码标价，公平秤设置规范", "不符合扣1分", "1", "1", False),
    ],
    "背街小巷": [
        ("Ⅲ-25/1)", "路面平整，无坑洼积水", "每处扣0.5分", "0.5", "2", False),
        ("Ⅲ-25/2)", "无乱搭乱建、乱贴乱画", "每处扣0.5分，扣完为止", "0.5", "2", True),
        ("Ⅲ-25/3)", "垃圾桶摆放整齐，垃圾及时清运", "每处扣0.5分", "0.5", "1.5", False),
    ],
    "小区": [
        ("Ⅱ-9", "从大门步行200米，抽查2个楼道：楼道整洁无杂物", "每个楼道不合格扣1分", "1", "2", True),
        ("Ⅲ-4", "公益广告不少于3处", "每少1处扣0.5分", "0.5", "1.5", False),
        ("Ⅲ-31/3)", "车辆停放有序", "每处扣0.5分", "0.5", "1", False),
    ],
    "公交站点": [
        ("Ⅲ-32/1)", "站牌信息清晰完整", "不符合扣1分", "1", "1", False),
        ("Ⅲ-32/1)", "候车亭整洁，无小广告", "每处扣0.5分", "0.5", "1", False),
        ("Ⅲ-4/2)", "设置公益广告", "未设置扣1分", "1", "1", False),
    ],
    "主次干道": [
        ("Ⅲ-4/1)", "200米内至少1处公益广告", "每少1处扣0.5分", "0.5", "1", False),
        ("Ⅲ-27/1)", "机动车、非机动车停放有序", "每处扣0.5分，扣完为止", "0.5", "2", True),
        ("Ⅲ-27", "道路设施完好", "每处扣0.5分", "0.5", "1.5", False),
    ],
    "室外公共厕所": [
        ("Ⅲ-26/2)", "厕所干净无异味", "不符合扣1分", "1", "1", False),
        ("Ⅲ-26/2)", "无障碍设施完好可用", "不符合扣1分", "1", "1", False),
        ("Ⅲ-26/1)", "标识醒目", "不符合扣0.5分", "0.5", "0.5", False),
    ],
    "商场超市": [
        ("Ⅲ-6/2)", "核心价值观公益广告不少于2处", "每少1处扣0.5分", "0.5", "1", False),
        ("Ⅲ-24/1)", "安全出口畅通", "不符合扣1分", "1", "1", False),
        ("Ⅲ-24", "服务文明规范", "每处扣0.5分", "0.5", "1", False),
    ],
    "公园": [
        ("Ⅲ-30/1)", "园内干净整洁，无乱扔垃圾、无不文明行为", "每处扣0.5分", "0.5", "1.5", False),
        ("Ⅲ-30/1)", "设施完好，标识规范", "每处扣0.5分", "0.5", "1", False),
        ("Ⅱ-2", "核心价值观主题宣传", "未设置扣1分", "1", "1", False),
    ],
    "医院": [
        ("Ⅲ-23/1)", "导诊服务规范，候诊秩序良好", "不符合扣1分", "1", "1", False),
        ("Ⅲ-34/2)", "无障碍设施完好", "不符合扣1分", "1", "1", False),
        ("Ⅲ-14/1)", "志愿服务站标识醒目，有人值守", "每处扣0.5分", "0.5", "1", False),
    ],
    "中小学校": [
        ("Ⅲ-38/2)", "校门口交通秩序良好", "不符合扣1分", "1", "1", False),
        ("Ⅲ-38/1)", "校园周边200米内无网吧、无游戏厅", "每处扣1分", "1", "2", False),
        ("Ⅲ-37/2)", "核心价值观宣传氛围浓厚", "不符合扣0.5分", "0.5", "0.5", False),
    ],
}
POINTS_PER_STREET = [("集贸(农贸)市场", 1), ("背街小巷", 2), ("小区", 1), ("公交站点", 1), ("主次干道", 1)]
CITY_POINTS = [("室外公共厕所", 8), ("商场超市", 6), ("公园", 5), ("医院", 5), ("中小学校", 6)]
STREET_WORDS = ["和平", "人民", "解放", "中山", "建设", "胜利", "文化", "健康", "青年", "友谊", "团结", "光明"]


def _jpeg(seed: int, caption: str) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), (rng.randint(90, 160), rng.randint(90, 160), rng.randint(90, 160)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randint(0, 560), rng.randint(0, 400)
        draw.rectangle(
            (x, y, x + rng.randint(40, 120), y + rng.randint(30, 90)),
            fill=(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)),
        )
    draw.rectangle((0, 440, 640, 480), fill=(0, 0, 0))
    draw.text((10, 452), caption.encode("ascii", "ignore").decode() or "photo", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def standards_of(system) -> dict[str, Indicator]:
    """The demo items' 测评标准 in `system`, by the references CATALOG names them by (one query)."""
    index, by_pk = indicator_index(system)
    found = {}
    for rows in CATALOG.values():
        for ref, *_rest in rows:
            node, message = find_indicator(ref, index, by_pk)
            if node is None:
                raise RuntimeError(f"demo check items: {message}")
            found[ref] = node
    return found


def seed(context: dict) -> None:
    _seed(context)
    from .demo_intake import seed as seed_intake

    seed_intake(context)
    step(context, "群众反映与12345工单")
    from . import demo_open311  # after the categories (the Open311 demo request files under one)

    demo_open311.seed(context)


def seed_items_and_points(context: dict, rng: random.Random | None = None) -> tuple[dict[str, list], set[int], list]:
    """The check items (each under the standard it checks) and the points: the demo city's field
    reference data, without the weeks of inspections (tests of imports and exports start here)."""
    system = context["indicator_system"]
    services.point_types_set_default_departments()
    types = {t.name: t for t in PointType.objects.all()}
    standards = standards_of(system)

    # Check items, each under the standard it checks.
    items_by_type: dict[str, list] = {}
    often_failing = set()
    for type_name, rows in CATALOG.items():
        for ref, text, rule, per, cap, often in rows:
            item = services.check_item_create(
                point_type=types[type_name],
                indicator=standards[ref],
                text=text,
                counting_rule=rule,
                per_occurrence=Decimal(per),
                cap=Decimal(cap),
                severity="severe" if per == cap and Decimal(cap) >= 1 else "normal",
            )
            items_by_type.setdefault(type_name, []).append(item)
            if often:
                often_failing.add(item.pk)

    # Points: a sheet of them imported through the real points importer (set-based: its checks
    # for all rows in a few queries and bulk inserts, where a point_create per point cost 11
    # queries; the same rules and the same points).
    rng = rng or random.Random(47)
    streets = list(Unit.objects.filter(kind=UnitKind.STREET).select_related("parent").order_by("path"))
    communities_of: dict[int, list[Unit]] = {}
    for community in Unit.objects.filter(kind=UnitKind.COMMUNITY).order_by("path"):
        communities_of.setdefault(community.parent_id, []).append(community)
    rows: list[dict[str, str]] = []

    def place(district_code: str) -> tuple[Decimal, Decimal]:
        dlat, dlng = DISTRICT_OFFSETS.get(district_code, (0, 0))
        return (
            (CENTER[0] + Decimal(str(dlat + rng.uniform(-0.015, 0.015)))).quantize(Decimal("0.000001")),
            (CENTER[1] + Decimal(str(dlng + rng.uniform(-0.015, 0.015)))).quantize(Decimal("0.000001")),
        )

    word = 0
    for street in streets:
        communities = communities_of.get(street.pk, [])
        for type_name, count in POINTS_PER_STREET:
            for n in range(count):
                word += 1
                lat, lng = place(street.parent.code)
                base = STREET_WORDS[word % len(STREET_WORDS)]
                name = {
                    "集贸(农贸)市场": f"{street.short_name}{base}农贸市场",
                    "背街小巷": f"{base}{'巷' if n % 2 else '弄'}（{street.short_name}）",
                    "小区": f"{base}花园小区（{street.short_name}）",
                    "公交站点": f"{base}路公交站（{street.short_name}）",
                    "主次干道": f"{base}路（{street.short_name}段）",
                }[type_name]
                unit = (
                    communities[n % len(communities)] if type_name in ("小区", "背街小巷") and communities else street
                )
                rows.append(
                    {
                        "名称": name,
                        "类型": type_name,
                        "地址": f"示范市{street.parent.short_name}{base}路{10 + word}号",
                        "经度": str(lng),
                        "纬度": str(lat),
                        "所属社区或街道": unit.code,
                        "负责人": f"{'王李张刘陈'[word % 5]}师傅",
                        "联系电话": f"1390510{word:04d}",
                        "重点点位": "是" if type_name == "集贸(农贸)市场" else "否",
                    }
                )
    for type_name, count in CITY_POINTS:
        for n in range(count):
            street = streets[(n * 7 + len(type_name)) % len(streets)]
            lat, lng = place(street.parent.code)
            label = {
                "室外公共厕所": "公厕",
                "商场超市": "购物中心",
                "公园": "公园",
                "医院": "医院",
                "中小学校": "实验小学",
            }[type_name]
            rows.append(
                {
                    "名称": f"{street.short_name.replace('街道', '').replace('镇', '')}{label}{n + 1}号"
                    if type_name == "室外公共厕所"
                    else f"示范市{street.short_name.replace('街道', '').replace('镇', '')}{label}",
                    "类型": type_name,
                    "地址": f"示范市{street.parent.short_name}{street.short_name}",
                    "经度": str(lng),
                    "纬度": str(lat),
                    "所属社区或街道": street.code,
                    "重点点位": "否",
                }
            )
    sheet = io.StringIO()
    writer = csv.DictWriter(sheet, fieldnames=[column.header for column in POINT_COLUMNS], restval="")
    writer.writeheader()
    writer.writerows(rows)
    result = points_import(file=ContentFile(sheet.getvalue().encode(), name="点位清单.csv"), dry_run=False)
    if not result.ok:
        raise RuntimeError(f"demo points do not import: {[e.as_dict() for e in result.errors[:5]]}")
    points = list(Point.objects.order_by("pk"))
    _district_department_points()
    return items_by_type, often_failing, points


@transaction.atomic  # one commit, not one per service call: SQLite syncs the disk on each
def _seed(context: dict) -> None:
    users, campaign = context["users"], context["campaign"]
    office, inspector = users["office"], users["inspector"]
    rng = random.Random(47)
    items_by_type, often_failing, points = seed_items_and_points(context, rng)
    types = {t.name: t for t in PointType.objects.all()}

    step(context, "检查项与点位")

    # Eight past weeks of weekly rounds, sampled by quota, recorded by the demo inspector.
    today = timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    quota = {types[name].pk: 2 for name in ("集贸(农贸)市场", "背街小巷", "小区", "主次干道")}
    quota.update({types[name].pk: 1 for name in ("公交站点", "室外公共厕所", "商场超市", "公园", "医院", "中小学校")})
    photo_seed = 0
    district_codes = dict(Unit.objects.filter(kind=UnitKind.DISTRICT).values_list("pk", "code"))
    for weeks_ago in range(8, 0, -1):
        monday = this_monday - datetime.timedelta(weeks=weeks_ago)
        week = monday.isocalendar().week
        round_ = services.round_create(
            user=office,
            campaign=campaign,
            name=f"第{week}周督查评比",
            kind=RoundKind.WEEKLY,
            start_date=monday,
            end_date=monday + datetime.timedelta(days=6),
            inspectors=[inspector],
        )
        drawn = services.round_draw(user=office, round_=round_, quota=quota, seed=2026 * 100 + week)
        # The drawn points with their unit and type, in one query rather than two per point.
        loaded = Point.objects.select_related("unit", "point_type").in_bulk([point.pk for point in drawn])
        for index, point in enumerate(loaded[point.pk] for point in drawn):
            weak = district_codes[int(point.unit.path.strip("/").split("/")[0])] == WEAK_DISTRICT
            improving = (8 - weeks_ago) * 0.01
            observations = []
            for item in items_by_type[point.point_type.name]:
                p_fail = 0.12 + (0.18 if weak else 0) + (0.25 if item.pk in often_failing else 0) - improving
                roll = rng.random()
                if roll < p_fail * 0.15:
                    result, occurrences = Result.SEVERE, 1
                elif roll < p_fail:
                    result, occurrences = Result.FAIL, rng.randint(1, 4)
                else:
                    result, occurrences = Result.PASS, 0
                photos = []
                if result != Result.PASS and rng.random() < 0.7:
                    photo_seed += 1
                    photo = services.photo_upload(
                        user=inspector,
                        file=SimpleUploadedFile(
                            f"IMG_{photo_seed:04d}.jpg", _jpeg(photo_seed, f"{point.pk}-{item.pk}")
                        ),
                    )
                    photos.append(photo.pk)
                observations.append(
                    ObservationInput(
                        check_item=item.pk,
                        result=result,
                        occurrences=occurrences,
                        photos=photos,
                        note="现场发现问题，已拍照" if result != Result.PASS else "",
                    )
                )
            at = timezone.make_aware(
                datetime.datetime.combine(
                    monday + datetime.timedelta(days=index % 5), datetime.time(9 + index % 8, (index * 7) % 60)
                )
            )
            services.inspection_submit(
                user=inspector,
                round_=round_,
                point=point,
                observations=observations,
                client_uuid=uuid.uuid4(),
                latitude=point.latitude,
                longitude=point.longitude,
                observed_at=at,
            )
    # This week's round, drawn but not yet visited: what the inspector sees on the phone today.
    round_ = services.round_create(
        user=office,
        campaign=campaign,
        name=f"第{this_monday.isocalendar().week}周督查评比",
        kind=RoundKind.WEEKLY,
        start_date=this_monday,
        end_date=this_monday + datetime.timedelta(days=6),
        inspectors=[inspector],
    )
    services.round_draw(user=office, round_=round_, quota=quota, seed=2026 * 100 + this_monday.isocalendar().week)
    step(context, "八周督查（检查记录、照片、问题）与本周轮次")
    context["points"] = points
    _office_problems(context, items_by_type)
    step(context, "创建办登记的问题")


# Problems the office learnt of elsewhere: (source, street, point type and check item or None,
# description, severity, days ago, with a photo?). Registered as 待交办 with problem_create.
OFFICE_PROBLEMS = [
    (
        ProblemSource.LEADER,
        "湖滨街道",
        ("主次干道", "机动车、非机动车停放有序"),
        "市领导检查时发现：沿街非机动车乱停乱放，占用盲道，请立即整改并建立长效机制。",
        Severity.SEVERE,
        2,
        False,
    ),
    (
        ProblemSource.HOTLINE,
        "柳岸街道",
        ("小区", "从大门步行200米，抽查2个楼道：楼道整洁无杂物"),
        "12345热线转办（工单 2026-1108-0032）：小区楼道堆放纸箱杂物，存在消防隐患。",
        Severity.NORMAL,
        1,
        False,
    ),
    (
        ProblemSource.CITIZEN,
        "山前街道",
        ("公交站点", "候车亭整洁，无小广告"),
        "市民随手拍：公交站候车亭张贴大量小广告，玻璃破损未修复。",
        Severity.NORMAL,
        0,
        True,
    ),
    (
        ProblemSource.SUPERIOR,
        "运河街道",
        None,
        "省文明办暗访通报：辖区背街小巷垃圾堆积、清运不及时，群众反映强烈。",
        Severity.SEVERE,
        4,
        False,
    ),
    (
        ProblemSource.HOTLINE,
        "翠屏街道",
        None,
        "12345热线转办（工单 2026-1110-0115）：夜间渣土车撒漏，道路污染严重。",
        Severity.NORMAL,
        1,
        False,
    ),
    (
        ProblemSource.CITIZEN,
        "新华街道",
        None,
        "市民随手拍：街心游园健身器材损坏，存在安全隐患。",
        Severity.NORMAL,
        0,
        True,
    ),
]


def _office_problems(context: dict, items_by_type: dict[str, list]) -> None:
    office, campaign = context["users"]["office"], context["campaign"]
    now = timezone.now()
    for index, (source, street_name, item_spec, description, severity, days_ago, photo) in enumerate(OFFICE_PROBLEMS):
        street = Unit.objects.get(short_name=street_name, kind=UnitKind.STREET)
        point = check_item = None
        if item_spec is not None:
            type_name, text = item_spec
            check_item = next(item for item in items_by_type[type_name] if item.text == text)
            point = (
                PointType.objects.get(name=type_name)
                .points.filter(unit__path__startswith=street.path)
                .order_by("name")
                .first()
            )
        photos = []
        if photo:
            upload = SimpleUploadedFile(f"随手拍_{index + 1:02d}.jpg", _jpeg(9000 + index, f"citizen-{index}"))
            photos.append(services.photo_upload(user=office, file=upload).pk)
        services.problem_create(
            campaign=campaign,
            source=source,
            unit=None if point is not None else street,
            description=description,
            severity=severity,
            point=point,
            check_item=check_item if point is not None else None,
            photos=photos,
            found_at=now - datetime.timedelta(days=days_ago, hours=index + 1),
            created_by=office,
        )


def _district_department_points() -> None:
    """The demo's 区直部门 (campaign.demo.DISTRICT_DEPARTMENTS) supervise their district's points of
    one type, beside the city's departments: charged by the weekly checks, so the published weeks
    rank them (区直部门排名)."""
    from campaign.demo import DISTRICT_DEPARTMENTS

    for district, _name, short, _code, _username, _full_name, type_name in DISTRICT_DEPARTMENTS:
        if type_name is None:
            continue
        department = Unit.objects.filter(short_name=short, kind=UnitKind.DEPARTMENT).first()
        area = Unit.objects.filter(short_name=district, kind=UnitKind.DISTRICT).first()
        if department is None or area is None:  # a test's city without them
            continue
        for point in Point.objects.filter(unit__path__startswith=area.path, point_type__name=type_name):
            point.departments.add(department)
