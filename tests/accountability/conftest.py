"""A problem opened by an inspection, ready for the workflow tests (see tests/inspections/conftest.py)."""

import datetime
import uuid

import pytest

from inspections.models import Problem
from inspections.services import ObservationInput, inspection_submit
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week
from tests.inspections.conftest import *  # noqa: F403 - the same points, check items and round


@pytest.fixture
def problem(inspector, round_, market, ads_item):
    inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 2)],
    )
    return Problem.objects.get()


@pytest.fixture
def later():
    return datetime.date.today() + datetime.timedelta(days=10)
