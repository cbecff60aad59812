"""Which campaign a request reads: `?campaign=`, the header switcher (session), else the default."""

import datetime

import pytest
from django.urls import reverse

from campaign import services
from campaign.choices import CampaignLevel
from campaign.selection import SESSION_KEY
from campaign.selectors import campaign_current, campaign_from_param

pytestmark = pytest.mark.django_db


@pytest.fixture
def health(campaign):
    return services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.HEALTH,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 9, 30),
    )


def test_outside_a_request_the_default_is_the_active_campaign_evaluated_soonest(campaign, health):
    assert campaign_current() == campaign


def test_the_campaign_parameter_names_the_current_one_every_one_or_an_id(campaign, health):
    from django.core.exceptions import ValidationError

    assert campaign_from_param("") == campaign_from_param(None) == campaign_current()
    assert campaign_from_param("all") is None
    assert campaign_from_param(f" {health.pk} ") == health
    for bad in ("999999", "abc", "²"):
        with pytest.raises(ValidationError) as refused:
            campaign_from_param(bad)
        assert refused.value.messages == [f"创建活动（campaign）“{bad}”不存在。"]


def test_the_header_names_the_default_campaign_and_offers_the_others(web, office, campaign, health):
    html = web(office).get(reverse("home")).content.decode()
    assert 'data-testid="campaign-switcher"' in html
    assert html.count('data-testid="campaign-choice"') == 2
    assert "国家卫生城市复审" in html


def test_a_query_parameter_selects_the_campaign_for_that_request_only(web, office, campaign, health):
    client = web(office)
    page = client.get(reverse("home"), {"campaign": health.pk})
    assert page.context["current_campaign"] == health
    assert client.get(reverse("home")).context["current_campaign"] == campaign


def test_the_switcher_keeps_the_choice_for_the_session_and_returns_where_the_user_was(web, office, campaign, health):
    client = web(office)
    answer = client.post(
        reverse("campaign-switch"), {"campaign": health.pk, "next": f"/rankings/?campaign={campaign.pk}&week=2026-W47"}
    )
    assert answer.status_code == 302
    # The old ?campaign= would override the choice: it is dropped, the rest of the address kept.
    assert answer["Location"] == "/rankings/?week=2026-W47"
    assert client.session[SESSION_KEY] == health.pk
    assert client.get(reverse("home")).context["current_campaign"] == health


def test_the_switcher_refuses_an_unknown_campaign_and_a_foreign_next(web, office, campaign, health):
    client = web(office)
    assert client.post(reverse("campaign-switch"), {"campaign": 999999}).status_code == 404
    assert SESSION_KEY not in client.session
    answer = client.post(reverse("campaign-switch"), {"campaign": health.pk, "next": "https://evil.example/"})
    assert answer["Location"] == reverse("home")


def test_the_switcher_needs_a_login_and_a_post(client, web, office, campaign, health):
    answer = client.post(reverse("campaign-switch"), {"campaign": health.pk})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session
    signed_in = web(office)
    assert signed_in.get(reverse("campaign-switch"), {"campaign": health.pk}).status_code == 405
    assert SESSION_KEY not in signed_in.session


def test_the_dashboard_and_surveys_follow_the_switcher(web, office, campaign, health):
    """Pages with their own campaign picker start from the header's choice, not the default."""
    client = web(office)
    client.post(reverse("campaign-switch"), {"campaign": health.pk})
    assert client.get("/dashboard/").context["campaign"] == health
    assert client.get("/surveys/").context["campaign"] == health
    assert client.get("/dashboard/", {"campaign": campaign.pk}).context["campaign"] == campaign
    assert client.get("/dashboard/", {"campaign": 999999}).status_code == 404


def test_an_unknown_selected_campaign_falls_back_to_the_default(web, office, campaign, health):
    client = web(office)
    assert client.get(reverse("home"), {"campaign": 999999}).context["current_campaign"] == campaign
