"""群众反映 API and pages per persona (issue 15): the office and leaders read (the reporter's phone
the office only), the office accepts / merges / rejects (409 on a race), others 403; refusals
change nothing; pinned query counts for the queue page and the API list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections import triage
from inspections.choices import ProblemSource, ProblemStatus, ReportChannel, ReportStatus
from inspections.models import Problem, PublicCategory, Report
from tests.inspections.test_triage import LAT, LNG, make_problem, make_report, metres_north

PERSONAS = ["office", "leader", "inspector", "liaison_jia", "liaison_dept"]


@pytest.fixture
def category(campaign, stall_item, market_type):
    found = PublicCategory.objects.create(campaign=campaign, code="zdjy", name="占道经营")
    found.check_items.set([stall_item])
    return found


@pytest.fixture
def queue(campaign, category, office, city, stall_item, market):
    """A pending report beside an open problem of its category, a pending 12345 ticket, a rejected one."""
    problem = make_problem(campaign, office, city.community_jia1, item=stall_item, lat=LAT, lng=LNG)
    pending = make_report(campaign, category, lat=metres_north(30), lng=LNG)
    ticket = make_report(campaign, category, channel=ReportChannel.HOTLINE, ticket_no="12345-0001", lat=None, lng=None)
    rejected = make_report(campaign, category)
    triage.report_reject(report=rejected, user=office, reason="重复反映")
    return {"problem": problem, "pending": pending, "ticket": ticket, "rejected": rejected}


def state():
    return sorted(Report.objects.values_list("pk", "status", "version", "problem_id", "reject_reason"))


# --- API reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_detail_per_persona(request, persona, api, queue):
    user = request.getfixturevalue(persona)
    client = api(user)
    listing = client.get("/api/v1/reports/")
    detail = client.get(f"/api/v1/reports/{queue['pending'].pk}/")
    if persona in ("office", "leader"):
        assert listing.status_code == 200 and detail.status_code == 200
        rows = listing.json()["results"]
        assert {row["reference"] for row in rows} == {r.reference for k, r in queue.items() if k != "problem"}
        phone = {row["reporter_phone"] for row in rows}
        assert phone == ({"13800000001"} if persona == "office" else {None})
        body = detail.json()
        assert [d["id"] for d in body["duplicates"]] == [queue["problem"].pk]
        assert 25 <= body["duplicates"][0]["distance_m"] <= 35
    else:
        assert listing.status_code == 403 and detail.status_code == 403
        assert "13800000001" not in listing.content.decode() + detail.content.decode()


def test_list_filters(api, office, queue):
    client = api(office)
    pending = client.get("/api/v1/reports/", {"status": "pending"}).json()["results"]
    assert {row["id"] for row in pending} == {queue["pending"].pk, queue["ticket"].pk}
    hotline = client.get("/api/v1/reports/", {"channel": "hotline"}).json()["results"]
    assert [row["ticket_no"] for row in hotline] == ["12345-0001"]
    assert client.get("/api/v1/reports/", {"status": "nope"}).status_code == 400


def test_api_list_query_count_is_pinned(api, office, campaign, category, django_assert_max_num_queries):
    for n in range(12):
        make_report(campaign, category, lat=metres_north(n), lng=LNG)
    client = api(office)
    # scope + campaigns + count + page + photos.
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/reports/")
    assert response.status_code == 200 and response.json()["count"] == 12


# --- API writes --------------------------------------------------------------------------------


def test_office_accepts_merges_and_rejects(api, office, queue, city, stall_item):
    client = api(office)
    accepted = client.post(
        f"/api/v1/reports/{queue['ticket'].pk}/accept/",
        {"unit": city.street_jia.pk, "check_item": stall_item.pk, "version": 0},
        format="json",
    )
    assert accepted.status_code == 200, accepted.json()
    problem = Problem.objects.get(pk=accepted.json()["problem"])
    assert (problem.source, problem.status, problem.unit) == (ProblemSource.HOTLINE, ProblemStatus.NEW, city.street_jia)
    merged = client.post(
        f"/api/v1/reports/{queue['pending'].pk}/merge/", {"problem": queue["problem"].pk}, format="json"
    )
    assert merged.status_code == 200 and merged.json()["status"] == ReportStatus.MERGED
    again = client.post(f"/api/v1/reports/{queue['pending'].pk}/reject/", {"reason": "重复"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_bad_input_is_a_chinese_400_and_changes_nothing(api, office, queue):
    client = api(office)
    before = state()
    pk = queue["pending"].pk
    for path, body in (
        ("reject", {"reason": ""}),
        ("reject", {"reason": "长" * 301}),
        ("merge", {"problem": 999999}),
        ("accept", {"unit": 999999}),
        ("accept", {"bogus": 1}),
    ):
        response = client.post(f"/api/v1/reports/{pk}/{path}/", body, format="json")
        assert response.status_code == 400, (path, body, response.json())
        assert not response.json()["detail"].isascii()
    assert state() == before


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_others_may_not_triage(request, persona, api, queue, city):
    client = api(request.getfixturevalue(persona))
    before = state()
    pk = queue["pending"].pk
    assert client.post(f"/api/v1/reports/{pk}/reject/", {"reason": "越权"}, format="json").status_code == 403
    assert client.post(f"/api/v1/reports/{pk}/accept/", {"unit": city.street_jia.pk}, format="json").status_code == 403
    assert state() == before and Problem.objects.count() == 1


def test_public_categories_api(api, office, leader, campaign, category, ads_item):
    assert [c["code"] for c in api(leader).get("/api/v1/public-categories/").json()["results"]] == ["zdjy"]
    refused = api(leader).post("/api/v1/public-categories/", {"code": "x", "name": "越权"}, format="json")
    assert refused.status_code == 403 and PublicCategory.objects.count() == 1
    created = api(office).post(
        "/api/v1/public-categories/", {"code": "gg", "name": "公益广告", "check_items": [ads_item.pk]}, format="json"
    )
    assert created.status_code == 201, created.json()
    duplicate = api(office).post("/api/v1/public-categories/", {"code": "gg", "name": "另一个"}, format="json")
    assert duplicate.status_code == 400 and "已被" in duplicate.json()["detail"]
    patched = api(office).patch(f"/api/v1/public-categories/{created.json()['id']}/", {"active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False


# --- Pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_per_persona(request, persona, web, queue):
    client = web(request.getfixturevalue(persona))
    listing = client.get(reverse("report-list"))
    detail = client.get(reverse("report-detail", args=[queue["pending"].pk]))
    if persona in ("office", "leader"):
        assert listing.status_code == 200 and detail.status_code == 200
        html = listing.content.decode()
        assert queue["pending"].reference in html and "12345-0001" in html
        assert queue["rejected"].reference not in html  # 待分拣 tab first
        page = detail.content.decode()
        assert ('data-testid="merge-' in page) == (persona == "office")
        assert ("13800000001" in page) == (persona == "office")
    else:
        assert listing.status_code == 403 and detail.status_code == 403


def test_page_actions(web, office, queue, city):
    client = web(office)
    pending, ticket = queue["pending"], queue["ticket"]
    refused = client.post(reverse("report-triage", args=[ticket.pk]), {"action": "reject", "reason": ""})
    assert refused.status_code == 400 and "请填写不予受理的理由" in refused.content.decode()
    merged = client.post(
        reverse("report-triage", args=[pending.pk]),
        {"action": "merge", "problem": queue["problem"].pk, "version": 0},
    )
    assert merged.status_code == 302
    stale = client.post(
        reverse("report-triage", args=[pending.pk]),
        {"action": "merge", "problem": queue["problem"].pk, "version": 0},
        follow=True,
    )
    assert "已被他人分拣" in stale.content.decode()
    accepted = client.post(
        reverse("report-triage", args=[ticket.pk]),
        {"action": "accept", "unit": city.community_jia1.pk, "description": "热线：摊贩占道", "version": 0},
    )
    problem = Problem.objects.get(reports=ticket)
    assert accepted.status_code == 302 and accepted["Location"] == problem.get_absolute_url()
    page = client.get(problem.get_absolute_url()).content.decode()
    assert ticket.reference in page and 'data-testid="report-sighting"' in page


def test_leader_may_not_post(web, leader, queue):
    before = state()
    response = web(leader).post(
        reverse("report-triage", args=[queue["pending"].pk]), {"action": "reject", "reason": "越权"}
    )
    assert response.status_code == 403 and state() == before


def test_queue_query_count_is_pinned(web, office, campaign, category, django_assert_max_num_queries):
    for n in range(25):
        make_report(campaign, category, lat=metres_north(n), lng=LNG, channel="hotline", ticket_no=f"T{n}")
    client = web(office)
    client.get(reverse("report-list"))  # warm the session
    # session + user + scope + campaigns + the menu's 待分拣 count + the other menus' + tab counts +
    # categories (filter) + count + keys + rows: 11, whatever the rows.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("report-list"))
    assert response.status_code == 200 and response.content.decode().count('data-testid="ticket-no"') == 25


def test_queue_empty_state_says_what_to_do(web, office, campaign):
    html = web(office).get(reverse("report-list")).content.decode()
    assert "暂无待分拣的反映" in html and "/report/" in html


def test_categories_pages(web, office, leader, campaign, category, stall_item):
    client = web(office)
    assert "占道经营" in client.get(reverse("publiccategory-list")).content.decode()
    response = client.post(
        reverse("publiccategory-create"),
        {"code": "ljbl", "name": "垃圾暴露", "order": 2, "active": "on", "check_items": [stall_item.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PublicCategory.objects.get(code="ljbl").check_items.get() == stall_item
    assert web(leader).get(reverse("publiccategory-list")).status_code == 403


def test_the_problem_api_names_its_reports(api, office, queue):
    triage.report_merge(report=queue["pending"], problem=queue["problem"], user=office)
    body = api(office).get(f"/api/v1/problems/{queue['problem'].pk}/").json()
    assert body["reports"] == [
        {
            "reference": queue["pending"].reference,
            "channel": "citizen",
            "channel_label": "市民随手拍",
            "status": "merged",
            "submitted_at": body["reports"][0]["submitted_at"],
        }
    ]


def test_queue_filters_likely_duplicates_and_marks_overdue_tickets(web, office, queue):
    client = web(office)
    html = client.get(reverse("report-list"), {"duplicates": "true"}).content.decode()
    assert queue["pending"].reference in html and queue["ticket"].reference not in html
    html = client.get(reverse("report-list"), {"duplicates": "false"}).content.decode()
    assert queue["pending"].reference not in html and queue["ticket"].reference in html
    Report.objects.filter(pk=queue["ticket"].pk).update(ticket_due_at=timezone.now() - timedelta(hours=1))
    html = client.get(reverse("report-list"), {"channel": "hotline"}).content.decode()
    assert html.count('data-testid="ticket-overdue"') == 1 and queue["pending"].reference not in html
    html = client.get(reverse("report-list"), {"status": "rejected"}).content.decode()
    assert queue["rejected"].reference in html and queue["pending"].reference not in html


def test_the_queue_s_likely_duplicates_count_a_problem_accepted_from_a_report_of_the_category(
    web, office, campaign, city
):
    unmapped = PublicCategory.objects.create(campaign=campaign, code="qt", name="其他")
    triage.report_accept(report=make_report(campaign, unmapped), user=office, unit=city.community_jia1)
    later = make_report(campaign, unmapped, lat=metres_north(30), lng=LNG)
    assert triage.report_duplicates(later)
    html = web(office).get(reverse("report-list"), {"duplicates": "true"}).content.decode()
    assert later.reference in html


def test_the_office_merges_by_problem_number_when_no_duplicate_is_found(web, office, queue):
    client = web(office)
    ticket, problem = queue["ticket"], queue["problem"]
    page = client.get(reverse("report-detail", args=[ticket.pk])).content.decode()
    assert 'data-testid="merge-by-number"' in page and 'data-testid="duplicate"' not in page
    before = state()
    refused = client.post(
        reverse("report-triage", args=[ticket.pk]), {"action": "merge", "problem": "abc", "version": 0}, follow=True
    )
    assert "请选择要合并到的问题" in refused.content.decode() and state() == before
    for odd in ("²", "9" * 30):
        response = client.post(
            reverse("report-triage", args=[ticket.pk]), {"action": "merge", "problem": odd, "version": "²"}
        )
        assert response.status_code == 302 and state() == before
    merged = client.post(
        reverse("report-triage", args=[ticket.pk]), {"action": "merge", "problem": problem.pk, "version": 0}
    )
    ticket.refresh_from_db()
    assert merged.status_code == 302 and (ticket.status, ticket.problem) == (ReportStatus.MERGED, problem)
