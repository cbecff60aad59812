"""Shared fixtures: a small city and the named personas every test speaks of.

甲区 → 甲街道 → 甲一社区, 甲二社区; 乙区 → 乙街道 → 乙一社区; departments 市城管局 and 市文明办.
Personas: the office clerk, an inspector, a leader, the liaison of 甲街道, the liaison of 乙街道
(who must be refused anything of 甲街道) and the liaison of 市城管局.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from campaign import services
from campaign.celery import app as celery_app
from campaign.choices import CampaignLevel, PhaseKind, Role, UnitKind
from campaign.models import Campaign, Unit

PASSWORD = "test-pass-2026"


@pytest.fixture(autouse=True)
def _eager_celery(settings, tmp_path):
    """Unit tests run tasks in-process; the integration tests switch to a real worker themselves."""
    celery_app.conf.task_always_eager = True
    settings.MEDIA_ROOT = tmp_path / "media"
    yield


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_teardown(django_db_setup, django_db_blocker):
    """On PostgreSQL, end any session still open on the test database (a thread's or a worker's)
    before pytest-django drops it, so the drop cannot fail with "being accessed by other users"."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@dataclass
class City:
    district_jia: Unit
    street_jia: Unit
    community_jia1: Unit
    community_jia2: Unit
    district_yi: Unit
    street_yi: Unit
    community_yi1: Unit
    dept_cg: Unit
    dept_office: Unit


@pytest.fixture
def city(db) -> City:
    jia = services.unit_create(name="甲区", code="JIA", kind=UnitKind.DISTRICT)
    jia_street = services.unit_create(name="甲街道", code="JIA-1", kind=UnitKind.STREET, parent=jia)
    jia_c1 = services.unit_create(name="甲一社区", code="JIA-1-1", kind=UnitKind.COMMUNITY, parent=jia_street)
    jia_c2 = services.unit_create(name="甲二社区", code="JIA-1-2", kind=UnitKind.COMMUNITY, parent=jia_street)
    yi = services.unit_create(name="乙区", code="YI", kind=UnitKind.DISTRICT)
    yi_street = services.unit_create(name="乙街道", code="YI-1", kind=UnitKind.STREET, parent=yi)
    yi_c1 = services.unit_create(name="乙一社区", code="YI-1-1", kind=UnitKind.COMMUNITY, parent=yi_street)
    cg = services.unit_create(name="示范市城市管理局", short_name="市城管局", code="D-CG", kind=UnitKind.DEPARTMENT)
    office = services.unit_create(name="示范市文明办", short_name="市文明办", code="D-WM", kind=UnitKind.DEPARTMENT)
    return City(jia, jia_street, jia_c1, jia_c2, yi, yi_street, yi_c1, cg, office)


def _user(username: str, role: str, unit: Unit | None):
    user = services.user_create(username=username, password=PASSWORD, full_name=username)
    services.membership_create(user=user, role=role, unit=unit)
    return user


@pytest.fixture
def office(city):
    return _user("office_clerk", Role.OFFICE, city.dept_office)


@pytest.fixture
def inspector(city):
    return _user("inspector_zhou", Role.INSPECTOR, city.dept_office)


@pytest.fixture
def leader(city):
    return _user("leader_wang", Role.LEADER, None)


@pytest.fixture
def liaison_jia(city):
    return _user("liaison_jia", Role.LIAISON, city.street_jia)


@pytest.fixture
def liaison_yi(city):
    return _user("liaison_yi", Role.LIAISON, city.street_yi)


@pytest.fixture
def liaison_dept(city):
    return _user("liaison_cg", Role.LIAISON, city.dept_cg)


@pytest.fixture
def campaign(db) -> Campaign:
    return create_campaign()


def create_campaign() -> Campaign:
    """The tests' campaign: 创建全国文明城市, evaluated 2027-06-30, with its launch and rectify phases."""
    campaign = services.campaign_create(
        name="创建全国文明城市",
        level=CampaignLevel.NATIONAL,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 6, 30),
    )
    services.campaign_set_phases(
        campaign=campaign,
        phases=[
            (PhaseKind.LAUNCH, datetime.date(2026, 3, 1), datetime.date(2026, 5, 31), ""),
            (PhaseKind.RECTIFY, datetime.date(2026, 6, 1), datetime.date(2026, 12, 31), ""),
        ],
    )
    return campaign


@pytest.fixture
def api():
    """An API client factory: api(user) is authenticated as that user, api() anonymous."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def web(client):
    """A browser-like client factory logged in as the given user."""

    def make(user):
        client.force_login(user)
        return client

    return make


def unit_snapshot() -> list[tuple]:
    """Every unit field that matters, to assert that a refused write changed nothing."""
    return list(
        Unit.objects.order_by("pk").values_list(
            "pk",
            "name",
            "short_name",
            "code",
            "kind",
            "parent_id",
            "path",
            "active",
            "leader_name",
            "liaison_name",
            "phone",
        )
    )
