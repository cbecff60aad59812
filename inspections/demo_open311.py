"""Demo data for Open311 (issue 15 item 4): an API key whose raw value is known — `demo-open311-key`,
for the demo city only (`seed_demo` prints it; the README's curl examples use it) — and, when the
campaign has public categories, one request filed through it, so /open311/v2/requests.json lists
an OP report beside the 随手拍 ones. A real key is only ever made by `intake_key_issue`, which
draws it at random; here the row is written with the hash of the known value."""

from __future__ import annotations

from .choices import ReportChannel
from .intake import report_submit
from .intake_keys import PREFIX_LENGTH, intake_key_hash
from .models import IntakeKey, Point, PublicCategory

DEMO_OPEN311_KEY = "demo-open311-key"


def seed(context: dict) -> None:
    campaign, office = context["campaign"], context["users"]["office"]
    key = IntakeKey.objects.create(
        campaign=campaign,
        name="演示用 Open311 客户端",
        prefix=DEMO_OPEN311_KEY[:PREFIX_LENGTH],
        key_hash=intake_key_hash(DEMO_OPEN311_KEY),
        created_by=office,
    )
    context.setdefault("notes", []).append(
        f"Open311 接口（/open311/v2/）的演示密钥：{DEMO_OPEN311_KEY}（仅演示数据使用，正式密钥由创建办在“接口密钥”页签发）"
    )
    categories = PublicCategory.objects.filter(campaign=campaign, active=True).order_by("order", "id")
    category = categories.filter(name__contains="乱堆").first() or categories.first()
    if category is None:
        return
    point = Point.objects.filter(active=True, latitude__isnull=False).order_by("id").first()
    report_submit(
        campaign=campaign,
        channel=ReportChannel.OPEN311,
        category=category,
        description=f"区网格化平台转来（{category.name}）：人行道上堆放杂物，占用盲道，请尽快处理。",
        latitude=point.latitude if point else None,
        longitude=point.longitude if point else None,
        address=f"{point.name}附近" if point else "人民路与解放路交叉口东北角",
        reporter_name="网格员 刘",
        intake_key=key,
    )
