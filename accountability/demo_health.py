"""Demo: 示范市 also runs 国家卫生城市复审 over the same units (多城联创), so the separation of
campaigns is visible: switch to it in the header and the rankings, dashboard and problems show
its numbers only.

Its own small 测评体系 (six 测评项目 of the 国家卫生城市标准, two levels, marked current), its own
check items on the point types the city already has (农贸市场, 背街小巷, 公厕, 小区, 医院), the
lead departments' declaration materials and a satisfaction survey, two weekly 暗访 rounds drawn
by quota and recorded through `inspection_submit` (some failing, which opens their problems), a
few of those problems moved through the workflow, and the two weeks computed and published
through `rollup_compute` / `rollup_publish`, as `demo_rankings` does for the main campaign. Its rules differ from the main campaign's (a smaller minimum sample, a
heavier 按期整改率), and it is evaluated later, so the main campaign stays the default.

Also one archived campaign (the 省级文明城市 cycle the city finished), readable and refusing new
work. Kept small: the whole step costs a few seconds of `make run`."""

from __future__ import annotations

import datetime
import random
import uuid
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaign import services as campaign_services
from campaign.choices import CampaignLevel, PhaseKind, UnitKind
from campaign.demo import demo_liaison, step
from campaign.importing import SheetRow
from campaign.models import Campaign, Unit
from indicators import services as indicator_services
from indicators.choices import AssignmentRole, Method
from indicators.models import Assignment
from inspections import services as inspection_services
from inspections.choices import ProblemSource, ProblemStatus, Result, RoundKind
from inspections.demo import _jpeg
from inspections.models import Point, PointType, Problem
from inspections.selectors import iso_week_of
from inspections.services import ObservationInput

from .choices import Action as A
from .demo import _after_photo
from .rollup import rollup_compute, rollup_publish
from .workflow import TransitionInput, default_handler, problem_transition

NAME = "示范市国家卫生城市复审"
WEEKS = 2  # the two complete weeks before this one, both published

# 国家卫生城市标准 (2021版), abridged: 测评项目 (weight, lead department) → 指标名称 (weight,
# methods, point types). Weights sum to 100.
SYSTEM = [
    (
        "一",
        "爱国卫生组织管理",
        "市卫健委",
        [
            ("1", "爱国卫生工作纳入政府议事日程，组织机构健全、经费保障到位", 4, [Method.REVIEW], ""),
            ("2", "爱国卫生月和群众性爱国卫生运动常态化开展", 4, [Method.ONLINE], ""),
        ],
    ),
    (
        "二",
        "健康教育和健康促进",
        "市卫健委",
        [
            ("3", "健康教育网络健全，居民健康素养水平达标", 4, [Method.ONLINE, Method.SURVEY], ""),
            ("4", "无烟环境建设：公共场所禁烟标识醒目、无吸烟现象", 4, [Method.FIELD], "医院"),
        ],
    ),
    (
        "三",
        "市容环境卫生",
        "市城管局",
        [
            ("5", "城市道路及背街小巷清扫保洁到位", 8, [Method.FIELD], "背街小巷"),
            ("6", "生活垃圾分类投放、日产日清", 6, [Method.FIELD], "背街小巷、小区"),
            ("7", "公共厕所数量充足、管理规范、干净无异味", 6, [Method.FIELD], "室外公共厕所"),
            ("8", "环卫设施建设与维护规划落实", 6, [Method.REVIEW], ""),
        ],
    ),
    (
        "四",
        "农贸市场",
        "市市场监管局",
        [
            ("9", "农贸市场布局合理、划行归市、无占道经营", 6, [Method.FIELD], "集贸(农贸)市场"),
            ("10", "活禽销售区域相对隔离，宰杀间独立设置", 5, [Method.FIELD], "集贸(农贸)市场"),
            ("11", "市场内外环境整洁，垃圾日产日清", 5, [Method.FIELD], "集贸(农贸)市场"),
        ],
    ),
    (
        "五",
        "食品安全",
        "市市场监管局",
        [
            ("12", "食品经营者亮证经营，从业人员持有效健康证明", 6, [Method.FIELD], "集贸(农贸)市场"),
            ("13", "餐饮服务单位“明厨亮灶”覆盖率达标", 6, [Method.ONLINE], ""),
            ("14", "生活饮用水卫生监测覆盖城乡", 6, [Method.REVIEW], ""),
        ],
    ),
    (
        "六",
        "病媒生物防制",
        "市卫健委",
        [
            ("15", "鼠密度控制水平达到国家标准C级", 8, [Method.FIELD], "小区、集贸(农贸)市场"),
            ("16", "蚊蝇孳生地治理：无积水容器、无暴露垃圾", 8, [Method.FIELD], "背街小巷、小区"),
            ("17", "防鼠板、灭蝇灯等防制设施完好", 8, [Method.FIELD], "集贸(农贸)市场"),
        ],
    ),
]

# Point type → (indicator code, item text, counting rule, per occurrence, cap, often failing?,
# department charged besides the point's own).
ITEMS = {
    "集贸(农贸)市场": [
        ("9", "划行归市，摊位整齐，无占道经营", "每处扣0.5分，扣完为止", "0.5", "2", True, None),
        ("10", "活禽区相对隔离，宰杀间独立设置", "不符合扣1分", "1", "1", False, None),
        ("11", "地面无积水、无垃圾，垃圾桶加盖", "每处扣0.5分", "0.5", "2", True, None),
        ("12", "经营户亮证经营，从业人员持有效健康证明", "每户扣0.5分", "0.5", "1.5", False, "市市场监管局"),
        ("17", "防鼠板、灭蝇灯等防制设施完好", "每处缺失扣0.5分", "0.5", "1.5", False, "市卫健委"),
    ],
    "背街小巷": [
        ("5", "路面清扫保洁到位，无垃圾、无污水", "每处扣0.5分，扣完为止", "0.5", "2", True, None),
        ("16", "无积水容器、无卫生死角等蚊蝇孳生地", "每处扣0.5分", "0.5", "1.5", False, "市卫健委"),
        ("6", "垃圾分类投放点整洁，垃圾日产日清", "每处扣0.5分", "0.5", "1.5", False, None),
    ],
    "室外公共厕所": [
        ("7", "厕所内外整洁，无明显异味，设施完好", "每处扣1分", "1", "2", False, None),
    ],
    "小区": [
        ("15", "无鼠洞、鼠迹，垃圾房密闭", "每处扣0.5分", "0.5", "1.5", True, "市卫健委"),
        ("16", "楼道、地下室无积水、无暴露垃圾", "每处扣0.5分", "0.5", "1.5", False, None),
    ],
    "医院": [
        ("4", "禁烟标识醒目，室内无吸烟、无烟头", "每处扣0.5分", "0.5", "1", False, None),
    ],
}
# Points drawn per type and district each week: about twenty visits a week.
QUOTA = {"集贸(农贸)市场": 2, "背街小巷": 1, "室外公共厕所": 1, "小区": 1, "医院": 1}

NEGATIVE_LIST = [
    ("发生重大食品安全事故", True),
    ("发生甲、乙类传染病暴发流行且处置不力", True),
    ("发生重大环境污染或生态破坏事件", True),
    ("病媒生物密度监测连续两次不达标", False),
]


def seed(context: dict) -> None:
    campaign = _campaign_and_system(context)
    _materials_and_surveys(context, campaign)
    _field_work(context, campaign)
    _weeks(context, campaign)
    _archived()
    step(context, "国家卫生城市复审（测评体系、检查项、两周暗访与排名）")


@transaction.atomic  # one commit (SQLite syncs the disk on each)
def _campaign_and_system(context: dict) -> Campaign:
    units = context["units"]
    campaign = campaign_services.campaign_create(
        name=NAME,
        level=CampaignLevel.HEALTH,
        start_date=datetime.date(2026, 1, 1),
        # Later than the 创文 evaluation: the main campaign stays the default one.
        evaluation_date=datetime.date(2027, 9, 30),
        description="国家卫生城市每三年复审一次：以农贸市场、背街小巷、病媒生物防制为重点开展暗访整改。",
        share_declaration=30,
        share_field=60,
        share_survey=10,
        weight_score=60,
        weight_process=40,
        min_sample=3,
    )
    campaign_services.campaign_set_phases(
        campaign=campaign,
        phases=[
            (PhaseKind.LAUNCH, datetime.date(2026, 1, 1), datetime.date(2026, 3, 31), "复审动员、对照标准自查"),
            (PhaseKind.RECTIFY, datetime.date(2026, 4, 1), datetime.date(2027, 3, 31), "重点场所整治、每周暗访"),
            (PhaseKind.CONSOLIDATE, datetime.date(2027, 4, 1), datetime.date(2027, 9, 30), "迎接省级评估与国家复审"),
        ],
    )
    system = indicator_services.indicator_system_create(
        campaign=campaign,
        name="国家卫生城市标准（2021版）复审细则",
        kind="national",
        year=2026,
        note="演示数据：按《国家卫生城镇标准（2021版）》节选的复审测评细则。",
    )
    indicators = {}
    for p_order, (code, title, lead, children) in enumerate(SYSTEM, start=1):
        project = indicator_services.indicator_create(
            system=system, level=1, code=code, title=title, order=p_order, rebuild=False
        )
        indicator_services.indicator_set_units(
            indicator=project, role=AssignmentRole.LEAD, units=[units[lead]], rebuild=False
        )
        for c_order, (c_code, c_title, weight, methods, point_types) in enumerate(children, start=1):
            indicators[c_code] = indicator_services.indicator_create(
                system=system,
                level=2,
                code=c_code,
                title=c_title,
                parent=project,
                weight=Decimal(weight),
                methods=methods,
                order=c_order,
                point_types=point_types,
                rebuild=False,
            )
    indicator_services.indicator_system_rebuild(system=system)
    for order, (title, veto) in enumerate(NEGATIVE_LIST, start=1):
        indicator_services.negative_item_create(system=system, title=title, code=f"{order:02d}", veto=veto, order=order)

    types = {t.name: t for t in PointType.objects.filter(name__in=ITEMS)}
    items: dict[str, list] = {}
    often: set[int] = set()
    for type_name, rows in ITEMS.items():
        for code, text, rule, per, cap, frequent, department in rows:
            item = inspection_services.check_item_create(
                point_type=types[type_name],
                indicator=indicators[code],
                text=text,
                counting_rule=rule,
                per_occurrence=Decimal(per),
                cap=Decimal(cap),
                severity="severe" if per == cap else "normal",
                departments=[units[department]] if department else (),
            )
            items.setdefault(type_name, []).append(item)
            if frequent:
                often.add(item.pk)
    context["health"] = {"campaign": campaign, "system": system, "items": items, "often": often, "types": types}
    return campaign


# District short name → 群众对城市卫生状况满意率 of last month's survey.
SATISFACTION = {"东湖区": 91.2, "西山区": 89.6, "南湖区": 92.4, "北塘区": 84.7, "滨江县": 88.1}


@transaction.atomic
def _materials_and_surveys(context: dict, campaign: Campaign) -> None:
    """The lead departments' declaration materials (most approved, one waiting, one returned, one
    not yet sent) and last month's satisfaction survey, so that 创卫's forecast has all three parts."""
    from indicators.demo import PDF_BYTES

    from .demo_surveys import survey_dates
    from .surveys import survey_import

    office = context["users"]["office"]
    system = context["health"]["system"]
    leads = (
        Assignment.objects.filter(indicator__system=system, indicator__is_declaration=True, role=AssignmentRole.LEAD)
        .select_related("unit", "indicator")
        .order_by("indicator__path")
    )
    for index, assignment in enumerate(leads):
        if index == 5:
            break  # the last one not sent yet
        indicator, unit = assignment.indicator, assignment.unit
        material = indicator_services.material_submit(
            user=demo_liaison(unit, context),
            indicator=indicator,
            unit=unit,
            description=f"{unit.display_name}关于“{indicator.title}”的复审佐证材料",
            files=[SimpleUploadedFile(f"创卫-{indicator.code}-工作台账.pdf", PDF_BYTES)],
        )
        if index == 3:
            continue  # 待审核
        indicator_services.material_review(
            user=office,
            material=material,
            approve=index != 4,
            reason="" if index != 4 else "缺少近三个月的监测数据，请补充后重新提交。",
        )

    day = survey_dates(timezone.localdate())[-1]
    rows = [
        SheetRow(
            number=number,
            values={
                "unit": district,
                "date": day.isoformat(),
                "satisfaction": f"{rate:.1f}",
                "sample_size": str(400 + 30 * number),
                "awareness": f"{min(rate + 4.5, 99.5):.1f}",
                "support": f"{min(rate + 6.0, 99.5):.1f}",
                "participation": f"{rate - 12.0:.1f}",
            },
        )
        for number, (district, rate) in enumerate(SATISFACTION.items(), start=2)
    ]
    result = survey_import(campaign=campaign, user=office, rows=rows)
    if not result.ok:  # pragma: no cover - the demo city always has these districts
        raise RuntimeError(f"demo health surveys: {[e.message for e in result.errors]}")


@transaction.atomic
def _field_work(context: dict, campaign: Campaign) -> None:
    """Two weekly 暗访 rounds by quota, recorded through the real submission (scoring, charges, a
    problem per failure); the older week's problems assigned, most accepted, some closed."""
    office, inspector = context["users"]["office"], context["users"]["inspector"]
    health = context["health"]
    items, often, types = health["items"], health["often"], health["types"]
    quota = {types[name].pk: count for name, count in QUOTA.items()}
    rng = random.Random(2027)
    today = timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    weak = Unit.objects.filter(kind=UnitKind.DISTRICT, code="BT").values_list("path", flat=True).first() or "-"
    for weeks_ago in range(WEEKS, 0, -1):
        monday = this_monday - datetime.timedelta(weeks=weeks_ago)
        week = monday.isocalendar().week
        round_ = inspection_services.round_create(
            user=office,
            campaign=campaign,
            name=f"第{week}周创卫暗访",
            kind=RoundKind.WEEKLY,
            start_date=monday,
            end_date=monday + datetime.timedelta(days=6),
            inspectors=[inspector],
        )
        drawn = inspection_services.round_draw(user=office, round_=round_, quota=quota, seed=2027 * 100 + week)
        loaded = Point.objects.select_related("unit", "point_type").in_bulk([point.pk for point in drawn])
        for index, point in enumerate(loaded[point.pk] for point in drawn):
            observations = []
            for item in items[point.point_type.name]:
                p_fail = 0.15 + (0.2 if point.unit.path.startswith(weak) else 0) + (0.25 if item.pk in often else 0)
                roll = rng.random()
                if roll < p_fail * 0.15:
                    result, occurrences = Result.SEVERE, 1
                elif roll < p_fail:
                    result, occurrences = Result.FAIL, rng.randint(1, 3)
                else:
                    result, occurrences = Result.PASS, 0
                photos = []
                if result != Result.PASS and rng.random() < 0.4:
                    upload = SimpleUploadedFile(
                        f"创卫_{point.pk}_{item.pk}.jpg", _jpeg(7000 + point.pk * 31 + item.pk, f"health-{point.pk}")
                    )
                    photos.append(inspection_services.photo_upload(user=inspector, file=upload).pk)
                observations.append(
                    ObservationInput(
                        check_item=item.pk,
                        result=result,
                        occurrences=occurrences,
                        photos=photos,
                        note="暗访发现问题，已拍照" if photos else "",
                    )
                )
            at = timezone.make_aware(
                datetime.datetime.combine(
                    monday + datetime.timedelta(days=index % 5), datetime.time(8 + index % 9, (index * 11) % 60)
                )
            )
            inspection_services.inspection_submit(
                user=inspector,
                round_=round_,
                point=point,
                observations=observations,
                client_uuid=uuid.uuid4(),
                latitude=point.latitude,
                longitude=point.longitude,
                observed_at=at,
            )

    # The office has assigned the older week's problems; the last week's still wait (待交办).
    older = this_monday - datetime.timedelta(weeks=WEEKS - 1)
    problems = (
        Problem.objects.filter(
            campaign=campaign, status=ProblemStatus.NEW, source=ProblemSource.INSPECTION, found_at__date__lt=older
        )
        .select_related("unit", "check_item")
        .order_by("found_at", "pk")
    )
    for index, problem in enumerate(problems):
        handler = default_handler(problem)
        problem = problem_transition(
            user=office,
            problem=problem,
            data=TransitionInput(A.ASSIGN, handler=handler, deadline=today + datetime.timedelta(days=3 + index % 5)),
        )
        roll = rng.random()
        if roll < 0.2:
            continue  # 待签收
        liaison = demo_liaison(handler, context)
        problem = problem_transition(user=liaison, problem=problem, data=TransitionInput(A.ACCEPT))
        if roll < 0.6:
            continue  # 整改中
        problem = problem_transition(
            user=liaison,
            problem=problem,
            data=TransitionInput(
                A.SUBMIT, note="已完成清理整改，防制设施已补齐。", photos=(_after_photo(liaison, 5000 + index),)
            ),
        )
        if roll < 0.8:
            continue  # 待复查
        problem_transition(user=office, problem=problem, data=TransitionInput(A.APPROVE))


def _weeks(context: dict, campaign: Campaign) -> None:
    office = context["users"]["office"]
    today = timezone.localdate()
    for back in range(WEEKS, 0, -1):
        week = iso_week_of(today - datetime.timedelta(days=7 * back))
        rollup_compute(campaign=campaign, week=week)
        # The 周通报 files render on their first request: the seed stays quick.
        rollup_publish(campaign=campaign, week=week, user=office, bulletin=False)


def _archived() -> None:
    """The 省级文明城市 cycle the city finished: archived, so it is read-only and refuses new work."""
    campaign_services.campaign_create(
        name="示范市创建省级文明城市（2023—2025）",
        level=CampaignLevel.PROVINCIAL,
        start_date=datetime.date(2023, 3, 1),
        evaluation_date=datetime.date(2025, 10, 31),
        description="已于2025年通过省级测评并授牌，转入长效管理；数据留档备查。",
        active=False,
    )
