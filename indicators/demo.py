"""Demo 测评体系 for 示范市: the demo sheet imported through the real importer, materials in every
review state, the negative list and a few risk events."""

from __future__ import annotations

import datetime
import random

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaign.demo import demo_liaison, step
from campaign.files import minimal_pdf

from . import services
from .models import Assignment

# 负面清单 as the campaign speeches describe it: 30 items, 10 of them 一票否决.
NEGATIVE_LIST = [
    ("发生重大安全生产责任事故", True),
    ("发生重大食品药品安全事故", True),
    ("发生重大环境污染事件", True),
    ("发生严重影响社会稳定的群体性事件", True),
    ("发生重大刑事案件且社会影响恶劣", True),
    ("市级领导班子成员发生严重违纪违法问题", True),
    ("发生重大意识形态领域事件", True),
    ("发生重大电信网络诈骗案件并造成恶劣影响", True),
    ("发生严重失信行为被全国通报", True),
    ("测评中弄虚作假、组织应付检查", True),
    ("发生较大安全生产事故", False),
    ("发生较大火灾事故", False),
    ("发生较大道路交通事故", False),
    ("发生校园欺凌事件并造成不良影响", False),
    ("发生医患纠纷并造成不良影响", False),
    ("发生拖欠农民工工资群体性事件", False),
    ("发生虐待老人儿童事件并造成不良影响", False),
    ("出现侵害未成年人权益的重大事件", False),
    ("出现严重损害群众利益的不正之风", False),
    ("窗口单位发生严重服务质量问题被曝光", False),
    ("发生重大网络舆情事件处置不力", False),
    ("公益广告设施出现严重错误内容", False),
    ("发生重大违法建设事件", False),
    ("河道水体出现大面积黑臭", False),
    ("空气质量出现严重污染且处置不力", False),
    ("发生非法集资事件并造成恶劣影响", False),
    ("发生重大文物损毁事件", False),
    ("发生重大动物疫情", False),
    ("发生严重违反殡葬管理规定事件", False),
    ("发生志愿服务领域重大负面事件", False),
]

PDF_BYTES = minimal_pdf("demo")


def _png_bytes(seed: int) -> bytes:
    """A small placeholder photo made by code (a coloured tile)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), ((seed * 53) % 200 + 30, (seed * 97) % 200 + 30, (seed * 31) % 200 + 30))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 300, 180), outline=(255, 255, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@transaction.atomic  # one commit, not one per service call: SQLite syncs the disk on each
def seed(context: dict) -> None:
    from .demo_sheet import build_demo_sheet
    from .importing import indicators_import

    campaign, users = context["campaign"], context["users"]
    system = services.indicator_system_create(
        campaign=campaign,
        name="全国文明城市测评体系（2026年版）",
        kind="national",
        year=2026,
        note="演示数据：按国家测评体系结构编写的示范市任务分解表。",
    )
    result = indicators_import(
        system=system, file=ContentFile(build_demo_sheet(), name="任务分解表.xlsx"), dry_run=False
    )
    if not result.ok:
        raise RuntimeError(f"demo sheet does not import: {[e.as_dict() for e in result.errors[:5]]}")
    step(context, "测评体系（任务分解表导入）")

    for order, (title, veto) in enumerate(NEGATIVE_LIST, start=1):
        services.negative_item_create(system=system, title=title, code=f"{order:02d}", veto=veto, order=order)
    items = {item.title: item for item in system.negative_items.all()}
    units = context["units"]
    office = users["office"]
    resolved = services.risk_event_create(
        user=office,
        item=items["发生较大火灾事故"],
        unit=units["西山区"],
        occurred_on=datetime.date(2026, 9, 14),
        description="翠屏街道某沿街商铺夜间起火，无人员伤亡。",
    )
    services.risk_event_resolve(user=office, event=resolved, resolution="已完成调查处理，开展消防安全专项整治。")
    services.risk_event_create(
        user=office,
        item=items["发生重大网络舆情事件处置不力"],
        unit=units["北塘区"],
        occurred_on=datetime.date(2026, 11, 18),
        description="运河街道背街小巷垃圾堆积被网民曝光，正在处置。",
    )
    # An open 一票否决 event in the last complete week: 南湖区's row shows 否决 in that week's ranking,
    # the 黑榜, the bulletin and the forecast (no title while it is open).
    today = timezone.localdate()
    services.risk_event_create(
        user=office,
        item=items["发生重大环境污染事件"],
        unit=units["南湖区"],
        occurred_on=today - datetime.timedelta(days=today.weekday() + 5),
        description="南塘镇某化工企业夜间偷排废水致河道污染，已立案调查，正在处置。",
    )
    step(context, "负面清单与风险事件")

    # Materials in every review state, for the units that answer for declaration indicators.
    rng = random.Random(2026)
    pairs = (
        Assignment.objects.filter(indicator__system=system, indicator__is_declaration=True)
        .select_related("unit", "indicator")
        .order_by("unit__path", "indicator__path")
    )
    seen = set()
    for number, assignment in enumerate(pairs):
        key = (assignment.unit_id, assignment.indicator_id)
        if key in seen:
            continue
        seen.add(key)
        roll = rng.random()
        if roll < 0.35:
            continue  # not submitted yet
        unit, indicator = assignment.unit, assignment.indicator
        actor = demo_liaison(unit, context)
        files = [SimpleUploadedFile(f"{indicator.code or '材料'}-工作方案.pdf", PDF_BYTES)]
        if number % 3 == 0:
            files.append(SimpleUploadedFile(f"{indicator.code or '材料'}-现场照片.png", _png_bytes(number)))
        material = services.material_submit(
            user=actor,
            indicator=indicator,
            unit=unit,
            description=f"{unit.display_name}关于“{indicator.title}”的佐证材料",
            files=files,
        )
        if roll < 0.5:
            continue  # 待审核
        if roll < 0.62:
            services.material_review(
                user=office, material=material, approve=False, reason="佐证照片不清晰，缺少工作台账，请补充后重新提交。"
            )
            continue  # 退回
        if roll < 0.7:
            services.material_review(user=office, material=material, approve=False, reason="工作方案未盖章。")
            old = material.files.filter(current=True, content_type="application/pdf").first()
            services.material_submit(
                user=actor,
                indicator=indicator,
                unit=unit,
                description=material.description + "（已补充盖章件）",
                replace={old.pk: SimpleUploadedFile(old.original_name.replace(".pdf", "-盖章.pdf"), PDF_BYTES)},
            )
            continue  # 重新提交，待审核
        services.material_review(user=office, material=material, approve=True)
    context["indicator_system"] = system
    step(context, "申报材料（各审核状态）")
