"""Demo data of the 群众反映 intake (issue 15): eight public categories mapped to the demo's check
items and point types, and reports in every state — pending 随手拍 with a photo near demo points,
12345 tickets with 工单编号 and 办理时限 (one overdue, one whose category the campaign does not
know), one that duplicates an open demo problem — plus one accepted, one merged and one rejected.
Called at the end of the inspections demo (inspections.demo.seed); everything goes through the
intake and triage services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from . import services, triage
from .choices import ProblemStatus, ReportChannel
from .models import CheckItem, Point, PointType, Problem, PublicCategory

# (code, name, group, check items whose text contains any of these words, point types)
CATEGORIES = [
    ("zdjy", "占道经营", "市容秩序", ("占道经营",), ("集贸(农贸)市场", "商业大街")),
    ("ldlf", "乱堆乱放", "市容秩序", ("乱堆乱放", "楼道整洁无杂物"), ("小区", "背街小巷")),
    ("ljbl", "垃圾暴露", "环境卫生", ("垃圾",), ("背街小巷", "室外公共厕所")),
    ("wgtc", "违规停车", "交通秩序", ("停放",), ("主次干道",)),
    ("xggl", "小广告乱贴", "市容秩序", ("小广告", "乱贴乱画"), ("公交站点",)),
    ("ggss", "公共设施损坏", "公共设施", ("设施完好",), ("公园",)),
    ("bwmxw", "不文明行为", "文明风尚", ("不文明行为", "服务文明"), ()),
    ("qt", "其他", "其他", (), ()),
]


def _photo(seed: int, caption: str):
    from .demo import _jpeg

    upload = SimpleUploadedFile(f"随手拍_{seed}.jpg", _jpeg(seed, caption), content_type="image/jpeg")
    return services.photo_upload(user=None, file=upload)


def _near(point: Point, metres_north: float) -> tuple[Decimal, Decimal]:
    lat = (point.latitude + Decimal(metres_north / 111_195)).quantize(Decimal("0.000001"))
    return lat, point.longitude


def seed_categories(campaign) -> dict[str, PublicCategory]:
    items = list(CheckItem.objects.filter(indicator__system__campaign=campaign, active=True).only("pk", "text"))
    types = {t.name: t for t in PointType.objects.all()}
    found = {}
    for order, (code, name, group, words, type_names) in enumerate(CATEGORIES, start=1):
        found[code] = triage.public_category_save(
            campaign=campaign,
            code=code,
            name=name,
            group=group,
            order=order * 10,
            check_items=[item for item in items if any(word in item.text for word in words)],
            point_types=[types[n] for n in type_names if n in types],
        )
    return found


def _point(type_name: str, index: int = 0) -> Point | None:
    points = Point.objects.filter(point_type__name=type_name, active=True, latitude__isnull=False)
    return points.select_related("unit").order_by("name", "id")[index : index + 1].first()


def seed(context: dict) -> None:
    from .intake import report_submit

    campaign, office = context["campaign"], context["users"]["office"]
    categories = seed_categories(campaign)
    now = timezone.now()
    reports = {}

    def citizen(key, code, point, metres, description, hours_ago, photo=True, address=""):
        latitude = longitude = None
        if point is not None:
            latitude, longitude = _near(point, metres)
        reports[key] = report_submit(
            campaign=campaign,
            channel=ReportChannel.CITIZEN,
            category=categories[code],
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address or (point.address if point is not None else ""),
            reporter_phone="13900001234",
            photos=[_photo(7000 + len(reports), f"report-{key}")] if photo else (),
            submitted_at=now - datetime.timedelta(hours=hours_ago),
        )

    market, alley, road = _point("集贸(农贸)市场"), _point("背街小巷"), _point("主次干道")
    if market is not None:
        citizen("market", "zdjy", market, 40, "菜场东门外有三四个流动摊贩占道卖菜，行人只能走机动车道。", 3)
    if alley is not None:
        citizen("alley", "ljbl", alley, 25, "巷子口垃圾桶满了两天没人清运，气味很大。", 5)
    # One that duplicates an open demo problem: at its point, of a category of its check item.
    duplicate_of = (
        Problem.objects.filter(
            campaign=campaign, point__latitude__isnull=False, check_item__public_categories__isnull=False
        )
        .filter(~Q(status__in=[ProblemStatus.CLOSED, ProblemStatus.VOID]))
        .select_related("point")
        .order_by("-found_at", "id")
        .first()
    )
    if duplicate_of is not None:
        category = duplicate_of.check_item.public_categories.filter(campaign=campaign).order_by("order").first()
        citizen(
            "duplicate",
            category.code,
            duplicate_of.point,
            15,
            f"{duplicate_of.point.name}附近：{duplicate_of.check_item.text.split('，')[0]}的问题还在，请尽快处理。",
            2,
        )
    citizen(
        "no-place", "bwmxw", None, 0, "公园南门晚上有人在绿化带里烧烤，烟很大。", 8, photo=False, address="滨湖公园南门"
    )

    # 12345 tickets: due in two days, overdue, and one whose category the campaign does not know.
    day = timezone.localdate()
    tickets = []
    if road is not None:
        lat, lng = _near(road, -30)
        tickets.append(
            triage.TicketInput(
                row=1,
                ticket_no=f"12345-{day:%Y%m%d}-0101",
                called_at=now - datetime.timedelta(hours=6),
                due_at=now + datetime.timedelta(days=2),
                reporter_name="王先生",
                reporter_phone="13700005678",
                category="违规停车",
                description="路口人行道上长期停放多辆电动车和私家车，轮椅和婴儿车过不去。",
                address=road.address or road.name,
                latitude=lat,
                longitude=lng,
            )
        )
    tickets += [
        triage.TicketInput(
            row=2,
            ticket_no=f"12345-{day - datetime.timedelta(days=4):%Y%m%d}-0042",
            called_at=now - datetime.timedelta(days=4),
            due_at=now - datetime.timedelta(days=1),
            reporter_name="李女士",
            reporter_phone="13600009876",
            category="小广告乱贴",
            description="小区对面公交站候车亭贴满了开锁、办证小广告，反映多次未清理。",
            address="人民路公交站",
        ),
        triage.TicketInput(
            row=3,
            ticket_no=f"12345-{day - datetime.timedelta(days=1):%Y%m%d}-0077",
            called_at=now - datetime.timedelta(days=1),
            due_at=now + datetime.timedelta(days=5),
            reporter_name="赵先生",
            reporter_phone="13500002468",
            category="井盖缺失",
            description="健康路与青年路交叉口井盖缺失，已有行人险些摔倒。",
            address="健康路与青年路交叉口",
        ),
    ]
    result, _references = triage.tickets_upsert(campaign=campaign, tickets=tickets, dry_run=False)
    if not result.ok:  # pragma: no cover - the demo's own data
        raise RuntimeError(f"demo tickets: {[e.message for e in result.errors]}")

    # Triaged already: one accepted (a problem 待交办), one merged into it, one rejected.
    if market is not None:
        citizen("accepted", "zdjy", market, 60, "菜场西门早市摊位摆到了马路上。", 30)
        problem = triage.report_accept(report=reports["accepted"], user=office, unit=market.unit)
        citizen("merged", "zdjy", market, 55, "菜场西门马路上又有人摆摊卖菜。", 26)
        triage.report_merge(report=reports["merged"], problem=problem, user=office)
    citizen("rejected", "qt", None, 0, "楼上邻居装修太吵。", 28, photo=False, address="柳岸小区")
    triage.report_reject(report=reports["rejected"], user=office, reason="属于邻里纠纷，请联系所在社区或物业协调处理。")
