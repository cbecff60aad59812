"""Honest weeks (issue 11, part 5) and finished campaigns (part 2).

The week still in progress (the ISO week containing today, Asia/Shanghai) can be computed as a
preview labelled 本周进行中 but never published: the service, the page and the API refuse it and
nothing changes. A past week still publishes. A campaign marked finished (active=False) refuses
roll-ups and publishes and stays readable.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accountability.choices import VersionStatus
from accountability.models import RollupVersion, UnitWeekScore
from accountability.rollup import rollup_compute, rollup_enqueue, rollup_publish
from campaign.models import JobRun
from campaign.weeks import week_label
from inspections.selectors import iso_week_of
from tests.accountability.rollup_fixtures import WEEK

PUBLISH_URL = "/api/v1/rankings/publish/"


def state() -> tuple:
    return (
        list(RollupVersion.objects.order_by("pk").values_list("pk", "status", "number", "published_at")),
        UnitWeekScore.objects.count(),
        JobRun.objects.count(),
    )


@pytest.fixture
def this_week() -> str:
    return iso_week_of(timezone.localdate())


@pytest.fixture
def preview(campaign, city, this_week):
    version, outcome = rollup_compute(campaign=campaign, week=this_week)
    assert outcome == "created" and version.status == VersionStatus.DRAFT
    return version


def test_service_refuses_to_publish_the_week_in_progress(campaign, office, this_week, preview):
    before = state()
    with pytest.raises(ValidationError) as refused:
        rollup_publish(campaign=campaign, week=this_week, user=office)
    assert "本周尚未结束" in refused.value.messages[0] and week_label(this_week) in refused.value.messages[0]
    assert "下周一起可发布" in refused.value.messages[0]
    assert state() == before
    preview.refresh_from_db()
    assert preview.status == VersionStatus.DRAFT and preview.published_at is None


def test_page_offers_no_publish_and_refuses_the_post(web, office, campaign, this_week, preview):
    client = web(office)
    page = client.get("/rankings/", {"campaign": campaign.pk, "week": this_week}).content.decode()
    assert 'data-testid="week-in-progress"' in page and "本周进行中" in page
    assert 'data-testid="publish-week"' not in page
    before = state()
    response = client.post("/rankings/publish/", {"campaign": campaign.pk, "week": this_week}, follow=True)
    assert "本周尚未结束" in response.content.decode()
    assert state() == before


def test_api_answers_400_for_the_week_in_progress(api, office, campaign, this_week, preview):
    before = state()
    response = api(office).post(PUBLISH_URL, {"campaign": campaign.pk, "week": this_week}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and "本周尚未结束" in str(body["detail"])
    assert state() == before
    assert RollupVersion.objects.get().status == VersionStatus.DRAFT


def test_a_past_week_still_publishes_without_the_label(web, api, office, campaign, week45):
    rollup_compute(campaign=campaign, week=WEEK)
    page = web(office).get("/rankings/", {"campaign": campaign.pk, "week": WEEK}).content.decode()
    assert 'data-testid="publish-week"' in page and "本周进行中" not in page
    response = api(office).post(PUBLISH_URL, {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 200 and response.json()["published"] is True
    assert RollupVersion.objects.get().status == VersionStatus.PUBLISHED


def test_an_archived_campaign_refuses_compute_and_enqueue(campaign, city, office, week45):
    campaign.active = False
    campaign.save(update_fields=["active"])
    for run in (
        lambda: rollup_compute(campaign=campaign, week=WEEK),
        lambda: rollup_enqueue(campaign=campaign, week=WEEK, user=office),
    ):
        with pytest.raises(ValidationError) as refused:
            run()
        assert "已归档" in refused.value.messages[0] and campaign.name in refused.value.messages[0]
    assert state() == ([], 0, 0)


def test_an_archived_campaign_refuses_publish_and_stays_readable(web, api, office, leader, campaign, week45):
    rollup_compute(campaign=campaign, week=WEEK)
    campaign.active = False
    campaign.save(update_fields=["active"])
    before = state()
    with pytest.raises(ValidationError) as refused:
        rollup_publish(campaign=campaign, week=WEEK, user=office)
    assert "已归档" in refused.value.messages[0]
    response = api(office).post(PUBLISH_URL, {"campaign": campaign.pk, "week": WEEK}, format="json")
    assert response.status_code == 400 and "已归档" in str(response.json()["detail"])
    assert state() == before
    page = web(office).get("/rankings/", {"campaign": campaign.pk, "week": WEEK})
    assert page.status_code == 200 and 'data-testid="publish-week"' not in page.content.decode()


def test_office_home_never_shows_a_draft_as_the_weeks_ranking(web, office, campaign, week45, this_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    rollup_compute(campaign=campaign, week=this_week)
    page = web(office).get("/").content.decode()
    widget = page[page.index('data-testid="widget-rankings-office"') :]
    assert WEEK in widget and "已发布" in widget
    assert "草稿，待发布" not in widget.split("待处理问责事项")[0]
    assert 'data-testid="draft-waiting"' in widget and this_week in widget


def test_the_ranking_page_opens_on_the_latest_finished_week_not_the_preview(web, office, campaign, week45, this_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    rollup_compute(campaign=campaign, week=this_week)
    page = web(office).get("/rankings/").content.decode()
    assert f"周评比排名 · {week_label(WEEK)}" in page
    asked = web(office).get(f"/rankings/?week={this_week}").content.decode()
    assert f"周评比排名 · {week_label(this_week)}" in asked and "本周进行中" in asked


def test_dashboard_reads_only_published_weeks(web, leader, office, campaign, week45, this_week):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office)
    rollup_compute(campaign=campaign, week=this_week)
    page = web(leader).get("/dashboard/").content.decode()
    assert WEEK in page and this_week not in page
