"""A campaign's current indicator system (issue 11, part 3): the office switches it, an audited
act; a new edition never takes over by itself; the board and the task lists read it.

The fixtures' `system` (测评体系2026, with the `tree`) is the campaign's first, so its current one;
`edition_2027` is a newer, empty edition of the same campaign (not current)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaign import services as campaign_services
from campaign.choices import CampaignLevel
from indicators import services
from indicators.models import IndicatorSystem
from indicators.selectors import system_current


@pytest.fixture
def edition_2027(campaign):
    return services.indicator_system_create(campaign=campaign, name="测评体系2027", kind="national", year=2027)


@pytest.fixture
def health(db):
    """Another campaign, evaluated later (so not the default), with its own system."""
    return campaign_services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.HEALTH,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 10, 31),
    )


def currents(campaign) -> list[str]:
    return list(IndicatorSystem.objects.filter(campaign=campaign, is_current=True).values_list("name", flat=True))


def snapshot() -> list[tuple]:
    """Every system's flag and how many history rows it has: a refused switch changes neither."""
    return [(system.pk, system.is_current, system.history.count()) for system in IndicatorSystem.objects.order_by("pk")]


# ---------------------------------------------------------------- a new edition


def test_a_campaigns_first_system_is_current_and_a_new_empty_edition_is_not(campaign, system, edition_2027):
    system.refresh_from_db()
    assert system.is_current and not edition_2027.is_current
    assert currents(campaign) == ["测评体系2026"]
    # The selector follows the mark, not the newest edition (the bug: an empty 2027 system
    # dropped the forecast's 网上申报 to 0 %).
    assert system_current(campaign=campaign) == system


def test_another_campaigns_first_system_is_its_own_current(campaign, system, health):
    other = services.indicator_system_create(campaign=health, name="国家卫生城市标准", kind="national", year=2026)
    assert other.is_current
    assert currents(campaign) == ["测评体系2026"] and currents(health) == ["国家卫生城市标准"]


# ---------------------------------------------------------------- the service


def test_the_office_switches_the_current_system_and_the_history_says_who_and_what(
    campaign, system, edition_2027, office
):
    services.system_set_current(user=office, system=edition_2027)

    assert currents(campaign) == ["测评体系2027"]
    assert system_current(campaign=campaign) == edition_2027
    for record, before, after in ((edition_2027.history.first(), False, True), (system.history.first(), True, False)):
        assert record.history_user == office
        assert record.history_change_reason == "设为当前测评体系"
        changes = {c.field: (c.old, c.new) for c in record.diff_against(record.prev_record).changes}
        assert changes == {"is_current": (before, after)}

    # Back again: one current still, and two more rows.
    services.system_set_current(user=office, system=system)
    assert currents(campaign) == ["测评体系2026"]
    assert (system.history.count(), edition_2027.history.count()) == (3, 3)


def test_setting_the_current_system_again_writes_nothing(campaign, system, office):
    before = system.history.count()
    services.system_set_current(user=office, system=system)
    assert system.history.count() == before and currents(campaign) == ["测评体系2026"]


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia"])
def test_only_the_office_switches(campaign, system, edition_2027, persona, request):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="只有创建办可以设定当前测评体系"):
        services.system_set_current(user=request.getfixturevalue(persona), system=edition_2027)
    assert snapshot() == before


def test_an_archived_campaign_keeps_its_current_system(campaign, system, edition_2027, office):
    campaign_services.campaign_update(campaign=campaign, active=False)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.system_set_current(user=office, system=edition_2027)
    assert caught.value.message_dict == {
        "campaign": ["创建活动“创建全国文明城市”已归档（已结束），不能更换当前测评体系；已有体系仍可查看。"]
    }
    assert snapshot() == before


# ---------------------------------------------------------------- pages


def test_the_office_switches_from_the_page_with_its_name_in_the_history(web, campaign, system, edition_2027, office):
    client = web(office)
    html = client.get("/indicators/").content.decode()
    assert html.count('data-testid="current-system"') == 1 and html.count('data-testid="set-current"') == 1
    detail = client.get(f"/indicators/systems/{edition_2027.pk}/").content.decode()
    assert 'data-testid="set-current"' in detail and "当前使用的测评体系是" in detail

    response = client.post(f"/indicators/systems/{edition_2027.pk}/set-current/", {"next": "/indicators/"})
    assert response.status_code == 302 and response["Location"] == "/indicators/"
    assert currents(campaign) == ["测评体系2027"]
    assert edition_2027.history.first().history_user == office
    page = client.get(f"/indicators/systems/{edition_2027.pk}/").content.decode()
    assert "已将“测评体系2027”设为“创建全国文明城市”的当前测评体系。" in page
    assert 'data-testid="current-system"' in page and 'data-testid="set-current"' not in page


def test_an_outside_next_is_ignored(web, system, edition_2027, office):
    response = web(office).post(f"/indicators/systems/{edition_2027.pk}/set-current/", {"next": "https://example.com/"})
    assert response["Location"] == f"/indicators/systems/{edition_2027.pk}/"


def test_the_page_says_why_an_archived_campaign_refuses(web, campaign, system, edition_2027, office):
    campaign_services.campaign_update(campaign=campaign, active=False)
    client = web(office)
    assert 'data-testid="set-current"' not in client.get(f"/indicators/systems/{edition_2027.pk}/").content.decode()
    response = client.post(f"/indicators/systems/{edition_2027.pk}/set-current/", follow=True)
    assert "已归档（已结束），不能更换当前测评体系" in response.content.decode()
    assert currents(campaign) == ["测评体系2026"]


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia"])
def test_others_see_the_badge_but_no_button_and_get_403(web, campaign, system, edition_2027, persona, request):
    client = web(request.getfixturevalue(persona))
    html = client.get("/indicators/").content.decode()
    assert 'data-testid="current-system"' in html and 'data-testid="set-current"' not in html
    before = snapshot()
    response = client.post(f"/indicators/systems/{edition_2027.pk}/set-current/")
    assert response.status_code == 403
    assert "只有创建办可以设定当前测评体系" in response.content.decode()
    assert snapshot() == before


def test_the_campaign_page_names_its_current_system(web, campaign, system, edition_2027, leader):
    html = web(leader).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "测评体系2026" in html and "测评体系2027" in html
    assert html.count('data-testid="current-system"') == 1
    assert '测评体系2026</a> <span class="badge bg-green-lt" data-testid="current-system">当前使用' in html


# ---------------------------------------------------------------- the API


def test_the_api_switches_for_the_office(api, campaign, system, edition_2027, office):
    response = api(office).post(f"/api/v1/indicator-systems/{edition_2027.pk}/set-current/")
    assert response.status_code == 200
    assert response.json()["is_current"] is True and response.json()["id"] == edition_2027.pk
    assert currents(campaign) == ["测评体系2027"]
    # An API client is authenticated by DRF, after simple-history's middleware: the service names the user.
    assert edition_2027.history.first().history_user == office
    assert system.history.first().history_user == office


@pytest.mark.parametrize("persona", ["inspector", "leader", "liaison_jia"])
def test_the_api_refuses_others_with_403(api, campaign, system, edition_2027, persona, request):
    before = snapshot()
    response = api(request.getfixturevalue(persona)).post(f"/api/v1/indicator-systems/{edition_2027.pk}/set-current/")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "detail"}
    assert snapshot() == before


def test_the_api_refuses_an_archived_campaign_with_400(api, campaign, system, edition_2027, office):
    campaign_services.campaign_update(campaign=campaign, active=False)
    response = api(office).post(f"/api/v1/indicator-systems/{edition_2027.pk}/set-current/")
    assert response.status_code == 400
    assert "已归档（已结束），不能更换当前测评体系" in response.json()["detail"]
    assert currents(campaign) == ["测评体系2026"]


def test_the_api_filters_the_current_systems(api, campaign, system, edition_2027, leader):
    response = api(leader).get(f"/api/v1/indicator-systems/?campaign={campaign.pk}&is_current=true")
    assert [row["name"] for row in response.json()["results"]] == ["测评体系2026"]


def test_is_current_is_read_only_in_the_api(api, campaign, system, edition_2027, office):
    response = api(office).patch(
        f"/api/v1/indicator-systems/{edition_2027.pk}/", {"is_current": True, "note": "下一版"}, format="json"
    )
    assert response.status_code == 200 and response.json()["is_current"] is False
    assert currents(campaign) == ["测评体系2026"]


# ---------------------------------------------------------------- the board and the task lists


def test_board_and_tasks_read_the_current_system_not_the_newest(
    web, campaign, tree, system, edition_2027, city, office, liaison_jia
):
    client = web(office)
    assert client.get("/indicators/board/").context["system"] == system
    assert client.get("/indicators/tasks/").context["system"] == system
    assert client.get(f"/indicators/tasks/{city.street_jia.pk}/").context["system"] == system
    assert web(liaison_jia).get("/indicators/tasks/").context["system"] == system
    # The choices are the campaign's editions, the current one first and named so.
    response = web(office).get("/indicators/board/")
    assert [s.name for s in response.context["systems"]] == ["测评体系2026", "测评体系2027"]
    assert "测评体系2026（当前使用）" in response.content.decode()

    services.system_set_current(user=office, system=edition_2027)
    assert web(office).get("/indicators/board/").context["system"] == edition_2027
    assert web(liaison_jia).get("/indicators/tasks/").context["system"] == edition_2027


def test_board_and_tasks_follow_the_selected_campaign(web, campaign, tree, system, health, office):
    other = services.indicator_system_create(campaign=health, name="国家卫生城市标准", kind="national", year=2026)
    client = web(office)
    assert client.get("/indicators/board/").context["system"] == system  # the default campaign
    response = client.get(f"/indicators/board/?campaign={health.pk}")
    assert response.context["system"] == other
    assert [s.name for s in response.context["systems"]] == ["国家卫生城市标准"]
    assert client.get(f"/indicators/tasks/?campaign={health.pk}").context["system"] == other


def test_a_campaign_without_a_system_shows_none_of_another(web, campaign, tree, system, health, office):
    response = web(office).get(f"/indicators/board/?campaign={health.pk}")
    assert response.status_code == 200 and response.context["system"] is None
