"""One world for the access matrix, built once per module through the services.

The conftest city (甲区 → 甲街道 → 甲一社区, 甲二社区; 乙区 → 乙街道 → 乙一社区; 市城管局, 市文明办)
with the seven personas, and of every kind of object one in district A (甲) and one in district B
(乙): points, inspections with photos, problems with workflow events and event photos, materials
with files, risk events, cases, survey results, notifications. The department (市城管局) supervises
the market type, so district A's point, inspection and problem are charged to it; district B's point
is of a type no department supervises, so nothing of B is the department's.

Objects named `乙区专用…XYZ` exist only in district B, objects named `甲区专用…XYZ` only in district A
(some of them charged to the department): a 200 page read by 甲街道's liaison or the department's
must never name the first, one read by 乙街道's liaison never the second (the leak check).

The world is built inside one transaction opened for the module and rolled back at its end; each
test runs in a savepoint inside it (pytest-django's `db`), so a write a test lets through is undone
before the next one. Work queued with `on_commit` never runs here: the 周通报's files are never
rendered, and the download routes answer what they answer without them.
"""

from __future__ import annotations

import datetime
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from accountability.choices import Action
from accountability.models import (
    AccountabilityCase,
    Appeal,
    Commitment,
    CommitmentEvent,
    Delivery,
    Notification,
    Recheck,
    RecheckDraw,
    RollupVersion,
    UnitChannel,
)
from accountability.rollup import rollup_compute, rollup_publish
from accountability.surveys import survey_import
from accountability.workflow import TransitionInput, problem_transition
from campaign import services
from campaign.celery import app as celery_app
from campaign.choices import Role, UnitKind
from campaign.importing import SheetRow
from campaign.models import Membership
from indicators import services as indicator_services
from indicators.choices import AssignmentRole, Method
from inspections import services as inspection_services
from inspections.choices import NATIONAL_POINT_TYPES, ProblemSource, ReportChannel
from inspections.intake import report_submit
from inspections.intake_keys import intake_key_issue
from inspections.models import PointType, Problem, PublicCategory
from tests.conftest import City, _user, create_campaign

MARKER_A = "甲区专用"  # names of objects of district A only (the department's are among them)
MARKER_B = "乙区专用"  # names of objects of district B only
PERSONAS = ("anon", "office", "inspector", "leader", "liaison_a", "liaison_b", "dept")


def png(colour=(200, 30, 30)) -> SimpleUploadedFile:
    """A real PNG (it parses whole, as the photo and material checks demand)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@dataclass
class World:
    """The built world: users by persona, and objects by kind, each as {"A": …, "B": …, "D": …}
    (D: the department's own; A when not given)."""

    campaign: object
    city: City
    users: dict
    objects: dict = field(default_factory=dict)
    week: str = ""
    clients: dict = field(default_factory=dict)

    def obj(self, kind: str, side: str):
        sides = self.objects[kind]
        return sides.get(side) or sides["A"]

    def sign_in(self) -> None:
        """One client per persona, signed in while the world is built: a session created inside a
        test would be rolled back with the test's savepoint."""
        for persona in PERSONAS:
            self.clients[persona] = Client()
            if persona != "anon":
                self.clients[persona].force_login(self.users[persona])

    def client(self, persona: str) -> Client:
        return self.clients[persona]


def _city() -> City:
    """The conftest `city`, built the same way (a module-scoped world cannot use that fixture)."""
    create = services.unit_create
    jia = create(name="甲区", code="JIA", kind=UnitKind.DISTRICT)
    jia_street = create(name="甲街道", code="JIA-1", kind=UnitKind.STREET, parent=jia)
    jia_c1 = create(name="甲一社区", code="JIA-1-1", kind=UnitKind.COMMUNITY, parent=jia_street)
    jia_c2 = create(name="甲二社区", code="JIA-1-2", kind=UnitKind.COMMUNITY, parent=jia_street)
    yi = create(name="乙区", code="YI", kind=UnitKind.DISTRICT)
    yi_street = create(name="乙街道", code="YI-1", kind=UnitKind.STREET, parent=yi)
    yi_c1 = create(name="乙一社区", code="YI-1-1", kind=UnitKind.COMMUNITY, parent=yi_street)
    cg = create(name="示范市城市管理局", short_name="市城管局", code="D-CG", kind=UnitKind.DEPARTMENT)
    office = create(name="示范市文明办", short_name="市文明办", code="D-WM", kind=UnitKind.DEPARTMENT)
    return City(jia, jia_street, jia_c1, jia_c2, yi, yi_street, yi_c1, cg, office)


def build_world() -> World:
    today = timezone.localdate()
    last_monday = today - datetime.timedelta(days=today.weekday() + 7)
    observed = datetime.datetime.combine(
        last_monday + datetime.timedelta(days=2), datetime.time(10), tzinfo=timezone.get_default_timezone()
    )
    week = f"{last_monday.isocalendar()[0]}-W{last_monday.isocalendar()[1]:02d}"

    for order, (name, _departments) in enumerate(NATIONAL_POINT_TYPES, start=1):
        PointType.objects.get_or_create(name=name, defaults={"order": order, "national": True})
    city = _city()
    users = {
        "office": _user("office_clerk", Role.OFFICE, city.dept_office),
        "inspector": _user("inspector_zhou", Role.INSPECTOR, city.dept_office),
        "leader": _user("leader_wang", Role.LEADER, None),
        "liaison_a": _user("liaison_jia", Role.LIAISON, city.street_jia),
        "liaison_b": _user("liaison_yi", Role.LIAISON, city.street_yi),
        "dept": _user("liaison_cg", Role.LIAISON, city.dept_cg),
    }
    office = users["office"]
    campaign = create_campaign()
    services.campaign_update(campaign=campaign, min_sample=1)
    group = services.work_group_create(
        campaign=campaign, name="宣传组", leaders=[users["leader"]], units=[city.street_jia, city.dept_cg]
    )

    # 测评体系: a leaf per district plus one the department leads.
    system = indicator_services.indicator_system_create(
        campaign=campaign, name="测评体系2026", kind="national", year=2026
    )
    create = indicator_services.indicator_create
    top = create(system=system, level=1, code="Ⅰ-1", title="市场环境", rebuild=False)
    leaf_a = create(
        system=system, level=3, code="Ⅲ-1", title="农贸市场秩序", parent=top, weight=Decimal(5), rebuild=False,
        methods=[Method.FIELD, Method.ONLINE],
    )  # fmt: skip
    leaf_b = create(
        system=system, level=3, code="Ⅲ-2", title="小区环境", parent=top, weight=Decimal(5), rebuild=False,
        methods=[Method.FIELD, Method.ONLINE],
    )  # fmt: skip
    indicator_services.indicator_set_units(
        indicator=leaf_a, role=AssignmentRole.RESPONSIBLE, units=[city.street_jia], rebuild=False
    )
    indicator_services.indicator_set_units(
        indicator=leaf_a, role=AssignmentRole.LEAD, units=[city.dept_cg], rebuild=False
    )
    indicator_services.indicator_set_units(
        indicator=leaf_b, role=AssignmentRole.RESPONSIBLE, units=[city.street_yi], rebuild=False
    )
    indicator_services.indicator_system_rebuild(system=system)
    if not system.is_current:
        indicator_services.system_set_current(user=office, system=system)

    def submit(persona, indicator, unit, description):
        return indicator_services.material_submit(
            user=users[persona], indicator=indicator, unit=unit, description=description, files=[png()]
        )

    material_a = submit("liaison_a", leaf_a, city.street_jia, f"{MARKER_A}材料XYZ")
    material_b = submit("liaison_b", leaf_b, city.street_yi, f"{MARKER_B}材料XYZ")
    material_d = submit("dept", leaf_a, city.dept_cg, "市城管局牵头材料")
    negative = indicator_services.negative_item_create(system=system, title="重大安全事故", veto=True)
    occurred = today - datetime.timedelta(days=1)
    risk_a = indicator_services.risk_event_create(
        user=office, item=negative, unit=city.street_jia, occurred_on=occurred, description=f"{MARKER_A}风险XYZ"
    )
    risk_b = indicator_services.risk_event_create(
        user=office, item=negative, unit=city.street_yi, occurred_on=occurred, description=f"{MARKER_B}风险XYZ"
    )

    # Points, check items, a round around last week, an inspection per district.
    market_type = PointType.objects.get(name="集贸(农贸)市场")
    market_type.departments.set([city.dept_cg])
    estate_type = PointType.objects.get(name="小区")
    estate_type.departments.set([])
    point_a = inspection_services.point_create(
        name=f"{MARKER_A}点位XYZ", point_type=market_type, unit=city.community_jia1,
        latitude=Decimal("31.500000"), longitude=Decimal("120.300000"),
    )  # fmt: skip
    point_b = inspection_services.point_create(
        name=f"{MARKER_B}点位XYZ", point_type=estate_type, unit=city.community_yi1,
        latitude=Decimal("31.600000"), longitude=Decimal("120.400000"),
    )  # fmt: skip
    item_a = inspection_services.check_item_create(
        point_type=market_type, indicator=leaf_a, text="核心价值观公益广告不少于2处",
        per_occurrence=Decimal("0.5"), cap=Decimal(2), counting_rule="每缺一处扣0.5分",
    )  # fmt: skip
    item_b = inspection_services.check_item_create(
        point_type=estate_type, indicator=leaf_b, text="楼道无堆物", per_occurrence=Decimal(1), cap=Decimal(1)
    )
    round_ = inspection_services.round_create(
        user=office, campaign=campaign, name="第一轮督查", kind="weekly",
        start_date=last_monday - datetime.timedelta(days=1), end_date=today + datetime.timedelta(days=3),
        inspectors=[users["inspector"]], points=[point_a, point_b],
    )  # fmt: skip

    def inspect(point, item, note):
        photo = inspection_services.photo_upload(user=users["inspector"], file=png())
        inspection, _ = inspection_services.inspection_submit(
            user=users["inspector"],
            round_=round_,
            point=point,
            client_uuid=uuid.uuid4(),
            observations=[inspection_services.ObservationInput(item.pk, "fail", 1, note, [photo.pk])],
            observed_at=observed,
        )
        return inspection, photo

    inspection_a, photo_a = inspect(point_a, item_a, "缺一处")
    inspection_b, photo_b = inspect(point_b, item_b, f"{MARKER_B}记录XYZ")
    problem_a = Problem.objects.get(point=point_a)
    problem_b = Problem.objects.get(point=point_b)
    Problem.objects.filter(pk=problem_a.pk).update(description=f"{MARKER_A}问题XYZ")
    Problem.objects.filter(pk=problem_b.pk).update(description=f"{MARKER_B}问题XYZ")
    problem_a.refresh_from_db()
    problem_b.refresh_from_db()
    # One the office registered in district B: a second problem no one of A may learn of.
    inspection_services.problem_create(
        campaign=campaign, source=ProblemSource.HOTLINE, unit=city.community_yi1,
        description=f"{MARKER_B}热线问题XYZ", created_by=office,
    )  # fmt: skip

    def work(problem, handler, liaison):
        problem = problem_transition(user=office, problem=problem, data=TransitionInput(Action.ASSIGN, handler=handler))
        problem = problem_transition(user=users[liaison], problem=problem, data=TransitionInput(Action.ACCEPT))
        photo = inspection_services.photo_upload(user=users[liaison], file=png((30, 200, 30)))
        problem = problem_transition(
            user=users[liaison], problem=problem, data=TransitionInput(Action.SUBMIT, note="已整改", photos=(photo.pk,))
        )
        return problem, photo

    problem_a, event_photo_a = work(problem_a, city.street_jia, "liaison_a")
    problem_b, event_photo_b = work(problem_b, city.street_yi, "liaison_b")

    # The week: computed and published (cases raised by the rules), plus a case per district.
    rollup_compute(campaign=campaign, week=week)
    version = rollup_publish(campaign=campaign, week=week, user=office)
    case_a, _ = AccountabilityCase.objects.get_or_create(
        campaign=campaign, week=week, unit=city.street_jia, rule="overdue",
        defaults={"level": "remind", "reason": f"{MARKER_A}问责XYZ"},
    )  # fmt: skip
    case_b, _ = AccountabilityCase.objects.get_or_create(
        campaign=campaign, week=week, unit=city.street_yi, rule="overdue",
        defaults={"level": "remind", "reason": f"{MARKER_B}问责XYZ"},
    )  # fmt: skip
    # 申诉: one per district on its observation (filed before the week closed; written directly).
    appeal_photo_a = inspection_services.photo_upload(user=users["liaison_a"], file=png((200, 30, 30)))
    appeal_photo_b = inspection_services.photo_upload(user=users["liaison_b"], file=png((30, 30, 200)))
    appeals = {}
    for side, inspection, unit, persona, photo in (
        ("A", inspection_a, city.street_jia, "liaison_a", appeal_photo_a),
        ("B", inspection_b, city.street_yi, "liaison_b", appeal_photo_b),
    ):
        marker = MARKER_A if side == "A" else MARKER_B
        appeals[side] = Appeal.objects.create(
            campaign=campaign, week=week, observation=inspection.observations.get(), unit=unit,
            reason=f"{marker}申诉XYZ", filed_by=users[persona],
        )  # fmt: skip
        appeals[side].photos.add(photo)
    # 承诺事项: one per street, reported done with an evidence photo, awaiting confirmation (written directly).
    commitments, commitment_photos = {}, {}
    for side, unit, persona, colour in (
        ("A", city.street_jia, "liaison_a", (200, 200, 30)),
        ("B", city.street_yi, "liaison_b", (30, 200, 200)),
    ):
        marker = MARKER_A if side == "A" else MARKER_B
        commitments[side] = Commitment.objects.create(
            campaign=campaign, unit=unit, week=week, content=f"{marker}承诺XYZ", due_date=datetime.date(2027, 1, 29),
            status="reported", reported_at=timezone.now(), created_by=office,
        )  # fmt: skip
        commitment_photos[side] = inspection_services.photo_upload(user=users[persona], file=png(colour))
        CommitmentEvent.objects.create(
            commitment=commitments[side], action="报告完成", actor=users[persona], note=f"{marker}已完成XYZ"
        ).photos.add(commitment_photos[side])
    # 抽查复核: one draw with one pending re-check per district's problem (written directly).
    draw = RecheckDraw.objects.create(campaign=campaign, week_from=week, week_to=week, seed=1, created_by=office)
    rechecks = {side: Recheck.objects.create(draw=draw, problem=p) for side, p in (("A", problem_a), ("B", problem_b))}
    survey_import(
        campaign=campaign,
        user=office,
        rows=[
            SheetRow(2, {"unit": "甲区", "date": "2026-09-15", "awareness": "92.5"}),
            SheetRow(3, {"unit": "乙区", "date": "2026-09-15", "awareness": "90"}),
        ],
    )
    notifications = {
        persona: Notification.objects.create(user=users[persona], key=f"access-{persona}", message=f"{persona} 的提醒")
        for persona in ("liaison_a", "liaison_b", "dept", "office")
    }
    job = services.job_run_create(name="worker_check", user=office)
    intake_key, _raw_key = intake_key_issue(campaign=campaign, name="访问矩阵的接口密钥", user=office)
    # Issue 15 item 5: a street's group robot (disabled; a local address nobody listens on) and one
    # push in the delivery log.
    unit_channel = UnitChannel.objects.create(
        unit=city.street_jia, kind="wecom", name="甲街道工作群", webhook_url="http://127.0.0.1:9/robot", enabled=False
    )
    delivery = Delivery.objects.create(
        notification=notifications["office"],
        channel="sms",
        user=office,
        title="提醒",
        message="提醒",
        target="138****0000",
    )
    # Issue 15: a public category and a citizen's pending report (its status page is public).
    public_category = PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱扔", group="环境卫生")
    report = report_submit(
        campaign=campaign,
        channel=ReportChannel.CITIZEN,
        category=public_category,
        description="路口垃圾堆积",
        reporter_phone="13800138000",
    )
    membership_b = Membership.objects.get(user=users["liaison_b"])
    membership_a = Membership.objects.get(user=users["liaison_a"])

    world = World(campaign=campaign, city=city, users=users, week=week)
    world.objects = {
        "unit": {"A": city.street_jia, "B": city.street_yi, "D": city.dept_cg},
        "campaign": {"A": campaign},
        "workgroup": {"A": group},
        "membership": {"A": membership_a, "B": membership_b},
        "system": {"A": system},
        "indicator": {"A": leaf_a, "B": leaf_b},
        "material": {"A": material_a, "B": material_b, "D": material_d},
        "material_file": {
            "A": material_a.files.get(),
            "B": material_b.files.get(),
            "D": material_d.files.get(),
        },
        "negative": {"A": negative},
        "risk": {"A": risk_a, "B": risk_b},
        "point_type": {"A": market_type, "B": estate_type},
        "point": {"A": point_a, "B": point_b},
        "check_item": {"A": item_a, "B": item_b},
        "round": {"A": round_},
        "inspection": {"A": inspection_a, "B": inspection_b},
        "observation": {"A": inspection_a.observations.get(), "B": inspection_b.observations.get()},
        "photo": {"A": photo_a, "B": photo_b},
        "event_photo": {"A": event_photo_a, "B": event_photo_b},
        "problem": {"A": problem_a, "B": problem_b},
        "case": {"A": case_a, "B": case_b},
        "appeal": appeals,
        "appeal_photo": {"A": appeal_photo_a, "B": appeal_photo_b},
        "recheck": rechecks,
        "commitment": commitments,
        "commitment_photo": commitment_photos,
        "version": {"A": version},
        "notification": {"A": notifications["liaison_a"], "B": notifications["liaison_b"]},
        "job": {"A": job},
        "intake_key": {"A": intake_key},
        "unit_channel": {"A": unit_channel},
        "delivery": {"A": delivery},
        "public_category": {"A": public_category},
        "report": {"A": report},
    }
    assert RollupVersion.objects.filter(pk=version.pk, status="published").exists()
    world.sign_in()
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once per module inside a transaction that is rolled back at its end."""
    media = tmp_path_factory.mktemp("access-media")
    celery_app.conf.task_always_eager = True  # as the root conftest's autouse, which runs after this
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        built = build_world()
        built.media_root = media
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _world_media(request, _eager_celery, settings):
    """The files the world stored live in its own MEDIA_ROOT (the root conftest points every test at
    a fresh one)."""
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world").media_root
