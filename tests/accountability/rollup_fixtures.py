"""Fixtures of the roll-up tests: a hand-computed week, 2026-W45 (see test_rollup.py's docstring)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from campaign import services as campaign_services
from inspections.choices import ProblemSource, ProblemStatus
from inspections.models import Charge, Inspection, InspectionRound, Observation, Problem
from inspections.services import charged_units

__all__ = ["WEEK", "MONDAY", "at", "week_round", "observe", "week45"]

WEEK = "2026-W45"
MONDAY = datetime.date(2026, 11, 2)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def week_round(campaign, office, inspector, market, market_yi):
    round_ = InspectionRound.objects.create(
        campaign=campaign,
        name="第45周",
        kind="weekly",
        start_date=datetime.date(2026, 10, 19),
        end_date=datetime.date(2026, 11, 29),
        created_by=office,
    )
    round_.inspectors.add(inspector)
    return round_


@pytest.fixture
def observe(week_round, inspector, ads_item):
    """observe(point, [scores], day): one inspection with one observation per score, charged as the
    service charges them. A score below 1 fails."""

    def make(point, scores, day=MONDAY + datetime.timedelta(days=1), item=ads_item):
        created = []
        for score in scores:
            inspection = Inspection.objects.create(
                round=week_round, point=point, inspector=inspector, client_uuid=uuid.uuid4(), submitted_at=at(day)
            )
            score = Decimal(str(score))
            loss = 1 - score
            observation = Observation.objects.create(
                inspection=inspection,
                campaign_id=week_round.campaign_id,
                check_item=item,
                indicator=item.indicator,
                point=point,
                result="pass" if score == 1 else "fail",
                occurrences=0 if score == 1 else 1,
                deduction=loss * item.cap,
                loss=loss,
                score=score,
                observed_at=at(day),
            )
            Charge.objects.bulk_create(
                Charge(observation=observation, unit=unit, kind=kind)
                for unit, kind in charged_units(point=point, check_item=item)
            )
            created.append(observation)
        return created

    return make


@pytest.fixture
def week45(campaign, city, office, market, market_yi, observe, ads_item):
    campaign_services.campaign_update(campaign=campaign, min_sample=2)
    observe(market, [1, 1, "0.75", "0.25"])
    observe(market_yi, [1, 1, 1])
    common = {
        "campaign": campaign,
        "source": ProblemSource.INSPECTION,
        "point": market,
        "check_item": ads_item,
        "indicator": ads_item.indicator,
        "unit": city.community_jia1,
        "handler": city.street_jia,
        "created_by": office,
        "deadline": MONDAY + datetime.timedelta(days=4),
    }
    closed = Problem.objects.create(
        description="公益广告缺失",
        found_at=at(MONDAY),
        status=ProblemStatus.CLOSED,
        closed_at=at(MONDAY + datetime.timedelta(days=3)),
        **common,
    )
    still_open = Problem.objects.create(
        description="公益广告破损", found_at=at(MONDAY), status=ProblemStatus.RECTIFYING, **common
    )
    # A void problem never counts.
    Problem.objects.create(description="重复登记", found_at=at(MONDAY), status=ProblemStatus.VOID, **common)
    return closed, still_open
