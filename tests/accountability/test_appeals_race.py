"""Two deciders decide one appeal at once, on PostgreSQL (row lock + version): exactly one wins,
the other gets a conflict and changes nothing. Skipped on SQLite, which has no row locks."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from accountability import appeals
from accountability.appeals import AppealConflict, appeal_decide, appeal_file
from accountability.models import Appeal, AppealEvent
from accountability.rollup import rollup_compute
from campaign import services as campaign_services
from campaign.choices import Role
from inspections.models import Observation
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def test_racing_decisions_exactly_one_wins(transactional_db, campaign, week45, liaison_jia, office, city, monkeypatch):
    monkeypatch.setattr(appeals, "_now", lambda: at(MONDAY + datetime.timedelta(days=7)))
    rollup_compute(campaign=campaign, week=WEEK)
    appeal = appeal_file(user=liaison_jia, observation=Observation.objects.get(score=Decimal("0.25")), reason="理由")
    second = campaign_services.user_create(username="office2", password="long-pass-2026")
    campaign_services.membership_create(user=second, role=Role.OFFICE, unit=city.dept_office)
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index, user, decision):
        try:
            barrier.wait()
            appeal_decide(user=user, appeal=appeal, decision=decision, note="裁定", expected_version=0)
            outcomes[index] = decision
        except AppealConflict:
            outcomes[index] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, office, "grant")),
        threading.Thread(target=run, args=(1, second, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "conflict" in outcomes and len(set(outcomes)) == 2, outcomes
    winner = next(outcome for outcome in outcomes if outcome != "conflict")
    decided = Appeal.objects.get()
    assert (decided.status, decided.version) == ({"grant": "granted", "reject": "rejected"}[winner], 1)
    assert AppealEvent.objects.filter(appeal=decided).count() == 2
    assert Observation.objects.filter(appeal_granted=True).exists() == (winner == "grant")
