"""Nightly housekeeping: ended push records past DELIVERY_KEEP_DAYS are deleted (pending ones and
recent ones stay); a superseded week's 周通报 files and 调度会材料 PDF leave storage (the published
version's stay), the pack row staying for the units the office added. The week is the roll-up
tests' hand-computed 2026-W45, published, then republished after a late observation."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accountability.choices import ChannelKind, DeliveryStatus, VersionStatus
from accountability.housekeeping import housekeeping_run
from accountability.meeting import meeting_pack_generate, pack_of
from accountability.models import BulletinFile, Delivery, MeetingPack
from accountability.rollup import rollup_compute, rollup_publish
from tests.accountability.rollup_fixtures import WEEK


def delivery(user, status: str, age_days: int) -> Delivery:
    return Delivery.objects.create(
        channel=ChannelKind.EMAIL,
        user=user,
        title="整改提醒",
        message="您有问题即将到期",
        target="x@example.com",
        status=status,
        created_at=timezone.now() - datetime.timedelta(days=age_days),
    )


def test_ended_push_records_past_the_keep_days_are_deleted(liaison_jia, settings):
    settings.DELIVERY_KEEP_DAYS = 30
    old_sent = delivery(liaison_jia, DeliveryStatus.SENT, 40)
    old_given_up = delivery(liaison_jia, DeliveryStatus.GIVEN_UP, 40)
    old_pending = delivery(liaison_jia, DeliveryStatus.PENDING, 40)  # still to send: kept
    recent = delivery(liaison_jia, DeliveryStatus.SENT, 10)
    assert housekeeping_run()["deliveries"] == 2
    left = set(Delivery.objects.values_list("pk", flat=True))
    assert left == {old_pending.pk, recent.pk} and not {old_sent.pk, old_given_up.pk} & left


def test_a_superseded_weeks_files_leave_storage_and_the_published_ones_stay(
    campaign, week45, office, market, observe, django_capture_on_commit_callbacks
):
    rollup_compute(campaign=campaign, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        first = rollup_publish(campaign=campaign, week=WEEK, user=office)  # the 周通报 rendered on commit
        meeting_pack_generate(version=first, user=office)
    old_files = [row.file.name for row in BulletinFile.objects.filter(version=first)]
    old_pack = pack_of(first).file.name
    storage = pack_of(first).file.storage
    assert len(old_files) == 2 and all(storage.exists(name) for name in [*old_files, old_pack])

    observe(market, ["0.5"])  # a late observation: the week is published again
    rollup_compute(campaign=campaign, week=WEEK)
    with django_capture_on_commit_callbacks(execute=True):
        second = rollup_publish(campaign=campaign, week=WEEK, user=office)
        meeting_pack_generate(version=second, user=office)
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    kept = [row.file.name for row in BulletinFile.objects.filter(version=second)] + [pack_of(second).file.name]

    assert housekeeping_run() == {"deliveries": 0, "bulletin_files": 2, "meeting_pdfs": 1}
    assert not any(storage.exists(name) for name in [*old_files, old_pack])
    assert all(storage.exists(name) for name in kept)
    assert not BulletinFile.objects.filter(version=first).exists()
    assert MeetingPack.objects.filter(version=first, file="").exists()  # the row stays
    assert housekeeping_run() == {"deliveries": 0, "bulletin_files": 0, "meeting_pdfs": 0}  # nothing twice


def test_the_beat_runs_it_every_night(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["housekeeping"]
    assert entry["task"] == "accountability.housekeeping"
    from accountability.tasks import housekeeping_task

    assert housekeeping_task.name == "accountability.housekeeping"
