"""A week of field data for the browser journeys that publish rankings: a 背街小巷 standard and
check item in a fresh 测评体系, a weekly round, and observations charged as the service charges them
(`observe`); `good_and_bad_week` puts one point of 东湖区 (湖滨) that passes and one of 北塘区 that fails,
with a photo, on the Wednesday of a week."""

from __future__ import annotations

import datetime
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from campaign.models import Campaign, Unit
from indicators import services as indicator_services
from inspections import services
from inspections.models import Charge, CheckItem, Inspection, InspectionRound, Observation, PointType


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (160, 60, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("scene.jpg", buffer.getvalue(), content_type="image/jpeg")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_default_timezone())


@dataclass
class Backstreets:
    campaign: Campaign
    point_type: PointType
    item: CheckItem


def backstreets() -> Backstreets:
    """The active campaign (a sample of one is enough to rank) with a 背街小巷 check item."""
    campaign = Campaign.objects.filter(active=True).first()
    campaign.min_sample = 1
    campaign.save(update_fields=["min_sample"])
    system = indicator_services.indicator_system_create(campaign=campaign, name="测评体系", kind="national", year=2026)
    top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-1", title="公共环境", rebuild=False)
    standard = indicator_services.indicator_create(
        system=system, level=3, code="Ⅲ-7", title="背街小巷环境卫生", parent=top, weight=Decimal(5)
    )
    point_type = PointType.objects.get(name="背街小巷")
    item = services.check_item_create(
        point_type=point_type, indicator=standard, text="无乱堆乱放", per_occurrence=Decimal(1), cap=Decimal(2)
    )
    return Backstreets(campaign, point_type, item)


def weekly_round(campaign: Campaign, office, monday: datetime.date, name: str) -> InspectionRound:
    return InspectionRound.objects.create(
        campaign=campaign,
        name=name,
        kind="weekly",
        start_date=monday,
        end_date=monday + datetime.timedelta(days=6),
        created_by=office,
    )


def observe(round_: InspectionRound, inspector, item: CheckItem, point, score: Decimal, moment) -> Observation:
    """One inspection of the point with one observation of the item, charged as the service charges."""
    inspection = Inspection.objects.create(
        round=round_, point=point, inspector=inspector, client_uuid=uuid.uuid4(), submitted_at=moment
    )
    observation = Observation.objects.create(
        inspection=inspection, campaign=round_.campaign, check_item=item, indicator=item.indicator, point=point,
        result="pass" if score == 1 else "fail", occurrences=0 if score == 1 else 1,
        deduction=(1 - score) * item.cap, loss=1 - score, score=score, observed_at=moment,
    )  # fmt: skip
    Charge.objects.bulk_create(
        Charge(observation=observation, unit=unit, kind=kind)
        for unit, kind in services.charged_units(point=point, check_item=item)
    )
    return observation


def good_and_bad_week(users, monday: datetime.date, round_name: str) -> tuple[Campaign, Unit]:
    """湖滨一巷 (东湖区) passes and 运河二巷 (北塘区) fails, with a photo, on the week's Wednesday.
    Returns the campaign and 北塘区."""
    world = backstreets()
    beitang = Unit.objects.get(name="示范市北塘区")
    good = services.point_create(
        name="湖滨一巷",
        point_type=world.point_type,
        unit=Unit.objects.filter(kind="community", name__contains="湖滨").first(),
    )
    bad = services.point_create(
        name="运河二巷",
        point_type=world.point_type,
        unit=Unit.objects.filter(kind="community", path__startswith=beitang.path).first(),
    )
    round_ = weekly_round(world.campaign, users["office"], monday, round_name)
    moment = at(monday + datetime.timedelta(days=2))
    observe(round_, users["inspector"], world.item, good, Decimal(1), moment)
    failing = observe(round_, users["inspector"], world.item, bad, Decimal("0.5"), moment)
    photo = services.photo_upload(user=users["inspector"], file=jpeg())
    photo.observation = failing
    photo.save(update_fields=["observation"])
    return world.campaign, beitang
