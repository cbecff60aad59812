"""The rectification pages, persona by persona: queues, 我的问题, the problem page's forms,
bulk 交办, notifications, and refusals that change nothing."""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accountability.choices import Action as A
from accountability.models import Notification, ProblemEvent
from accountability.workflow import default_deadline, default_handler
from inspections.choices import ProblemStatus as S
from inspections.models import Problem
from inspections.services import ObservationInput, inspection_submit
from tests.accountability.test_workflow import act, photo, snapshot


def jpeg(name="after.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def open_problem(inspector, round_, point, item):
    inspection_submit(
        user=inspector,
        round_=round_,
        point=point,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(item.pk, "fail", 1)],
    )
    return Problem.objects.filter(point=point).latest("pk")


def transition(client, problem, action, **fields):
    return client.post(f"/problems/{problem.pk}/transition/", {"action": action, **fields})


@pytest.fixture
def assigned(problem, office, city, later):
    return act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)


@pytest.fixture
def reviewing(assigned, liaison_jia):
    problem = act(liaison_jia, assigned, A.ACCEPT)
    return act(liaison_jia, problem, A.SUBMIT, note="已清理", photos=(photo(liaison_jia),))


@pytest.mark.parametrize("url", ["/problems/assign/", "/problems/review/"])
def test_office_queues(web, office, leader, inspector, liaison_jia, problem, url):
    assert web(office).get(url).status_code == 200
    assert web(leader).get(url).status_code == 200  # leaders read
    assert web(inspector).get(url).status_code == 403
    assert web(liaison_jia).get(url).status_code == 403


def test_assign_queue_lists_new_problems_and_exports(web, office, problem):
    client = web(office)
    html = client.get("/problems/assign/").content.decode()
    assert f'name="problems" value="{problem.pk}"' in html
    response = client.get("/problems/assign/?export=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")


def test_my_problems_only_for_liaisons_with_deadlines_and_overdue_in_red(
    web, office, liaison_jia, liaison_yi, assigned
):
    assert web(office).get("/problems/mine/").status_code == 403
    html = web(liaison_yi).get("/problems/mine/").content.decode()
    assert f"#{assigned.pk}" not in html
    Problem.objects.filter(pk=assigned.pk).update(deadline=datetime.date.today() - datetime.timedelta(days=2))
    html = web(liaison_jia).get("/problems/mine/").content.decode()
    assert f"#{assigned.pk}" in html and 'data-testid="overdue"' in html and "已超期" in html
    html = web(liaison_jia).get("/problems/mine/?status=closed").content.decode()
    assert f"#{assigned.pk}" not in html


def test_overdue_is_one_definition_on_every_page(web, office, liaison_jia, reviewing):
    """Past its deadline, not shelved, not closed: 我的问题, its tab, the home counts and the problem
    list's overdue filter agree (a 待复查 problem is still overdue; a shelved one is not)."""
    past = datetime.date.today() - datetime.timedelta(days=2)
    Problem.objects.filter(pk=reviewing.pk).update(deadline=past)
    mine = web(liaison_jia).get("/problems/mine/?status=overdue")
    assert f"#{reviewing.pk}" in mine.content.decode() and {t[0]: t[2] for t in mine.context["tabs"]}["overdue"] == 1
    home = web(liaison_jia).get("/").content.decode()
    assert 'data-testid="overdue"' in home
    office_home = web(office).get("/").content.decode()
    assert 'data-testid="count-overdue">1<' in office_home
    assert web(office).get("/inspections/problems/", {"overdue": "true"}).context["total"] == 1
    Problem.objects.filter(pk=reviewing.pk).update(shelved=True)
    mine = web(liaison_jia).get("/problems/mine/?status=overdue")
    assert f"#{reviewing.pk}" not in mine.content.decode()
    assert 'data-testid="count-overdue">0<' in web(office).get("/").content.decode()


def test_the_whole_loop_through_the_page_forms(web, office, liaison_jia, problem, city, later):
    page = f"/inspections/problems/{problem.pk}/"
    html = web(office).get(page).content.decode()
    # The 交办 form is prefilled with the default handler and deadline.
    assert 'data-action="assign"' in html and f'value="{default_deadline(problem):%Y-%m-%d}"' in html
    assert f'<option value="{default_handler(problem).pk}" selected>' in html
    response = transition(web(office), problem, "assign", handler=city.street_jia.pk, deadline=later.isoformat())
    assert response.status_code == 302 and response["Location"] == page
    client = web(liaison_jia)
    html = client.get(page).content.decode()
    assert 'data-action="accept"' in html and 'data-action="assign"' not in html
    assert transition(client, problem, "accept").status_code == 302
    html = client.get(page).content.decode()
    assert 'capture="environment"' in html
    response = transition(client, problem, "submit", note="已清理", photo_files=[jpeg()])
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == S.REVIEWING
    after = ProblemEvent.objects.get(problem=problem, action=A.SUBMIT).photos.get()
    html = web(office).get(page).content.decode()
    assert f"/problems/photos/{after.pk}/thumb/" in html and 'data-testid="timeline"' in html
    assert web(office).get(f"/problems/photos/{after.pk}/thumb/").status_code == 200
    assert transition(web(office), problem, "approve").status_code == 302
    problem.refresh_from_db()
    assert problem.status == S.CLOSED
    assert list(ProblemEvent.objects.filter(problem=problem).values_list("action", flat=True)) == [
        A.ASSIGN,
        A.ACCEPT,
        A.SUBMIT,
        A.APPROVE,
    ]


def test_a_refused_transition_says_why_and_changes_nothing(web, liaison_jia, assigned):
    client = web(liaison_jia)
    problem = act(liaison_jia, assigned, A.ACCEPT)
    before = snapshot(problem)
    response = transition(client, problem, "submit", note="")  # no note, no photo
    assert response.status_code == 302 and snapshot(problem) == before
    html = client.get(response["Location"]).content.decode()
    assert "请填写整改情况说明" in html


def test_a_stale_form_is_a_conflict(web, office, liaison_jia, assigned):
    before = snapshot(assigned)
    response = transition(web(liaison_jia), assigned, "accept", version=assigned.version - 1)
    assert snapshot(assigned) == before
    assert "已被他人处理" in web(liaison_jia).get(response["Location"]).content.decode()


def test_other_personas_are_refused_and_nothing_changes(web, leader, inspector, liaison_yi, assigned, reviewing):
    before = snapshot(reviewing)
    assert transition(web(liaison_yi), reviewing, "approve").status_code == 404
    assert web(liaison_yi).get(f"/inspections/problems/{reviewing.pk}/").status_code == 404
    assert transition(web(leader), reviewing, "approve").status_code == 403
    after = ProblemEvent.objects.get(problem=reviewing, action=A.SUBMIT).photos.get()
    assert web(liaison_yi).get(f"/problems/photos/{after.pk}/thumb/").status_code == 404
    html = web(leader).get(f"/inspections/problems/{reviewing.pk}/").content.decode()
    assert 'data-testid="workflow-actions"' not in html  # leaders read only
    assert web(liaison_yi).get("/problems/review/").status_code == 403
    assert snapshot(reviewing) == before


def test_review_queue_shows_before_and_after_photos(web, office, reviewing, django_assert_num_queries):
    before = reviewing.photos.first()
    after = ProblemEvent.objects.get(problem=reviewing, action=A.SUBMIT).photos.get()
    client = web(office)
    client.get("/problems/review/")  # warm the session
    # session, user, memberships (scope), count, page, before photos, submit events, their photos,
    # the flags of all those photos (one query); campaign, unread notifications, 待分拣 reports and
    # veto banners (nav)
    with django_assert_num_queries(13) as captured:
        html = client.get("/problems/review/").content.decode()
    item = html.split('data-testid="review-item"')[1]
    before_html, after_html = item.split('data-testid="after"')
    if before is not None:
        assert f"/problems/photos/{before.pk}/thumb/" in before_html.split('data-testid="before"')[1]
    assert f"/problems/photos/{after.pk}/thumb/" in after_html
    assert captured  # the count is pinned above


def test_review_queue_queries_do_not_grow_with_rows(
    web, office, liaison_yi, city, reviewing, inspector, round_, market_yi, ads_item, django_assert_num_queries
):
    second = open_problem(inspector, round_, market_yi, ads_item)
    second = act(office, second, A.ASSIGN, handler=city.street_yi)
    second = act(liaison_yi, second, A.ACCEPT)
    act(liaison_yi, second, A.SUBMIT, note="已整改", photos=(photo(liaison_yi), photo(liaison_yi)))
    client = web(office)
    client.get("/problems/review/")
    with django_assert_num_queries(13):
        html = client.get("/problems/review/").content.decode()
    assert html.count('data-testid="review-item"') == 2


def test_assign_queue_queries_are_pinned(
    web, office, problem, inspector, round_, market_yi, ads_item, django_assert_num_queries
):
    open_problem(inspector, round_, market_yi, ads_item)
    client = web(office)
    client.get("/problems/assign/")
    # session, user, memberships, count, page; campaign, unread notifications, 待分拣 reports, veto
    # banners (nav); the handler choices (count and rows)
    with django_assert_num_queries(11):
        html = client.get("/problems/assign/").content.decode()
    assert html.count('name="problems"') == 2


def test_bulk_assign(web, office, problem, city, later, inspector, round_, market_yi, ads_item):
    second = open_problem(inspector, round_, market_yi, ads_item)
    response = web(office).post(
        "/problems/assign/", {"problems": [problem.pk, second.pk], "handler": city.street_jia.pk, "deadline": later}
    )
    assert response.status_code == 302
    rows = set(Problem.objects.values_list("status", "handler", "deadline"))
    assert rows == {(S.ASSIGNED, city.street_jia.pk, later)}
    html = web(office).get("/problems/assign/").content.decode()
    assert "已交办 2 个问题" in html


def test_bulk_assign_by_default_handler_and_deadline_reports_failures(web, office, problem, city, liaison_jia):
    response = web(office).post("/problems/assign/", {"problems": [problem.pk], "handler": ""})
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == S.ASSIGNED and problem.handler is not None and problem.deadline is not None
    # A problem no longer in the queue is refused and nothing changes.
    before = snapshot(problem)
    client = web(office)
    client.post("/problems/assign/", {"problems": [problem.pk]})
    assert snapshot(problem) == before
    assert "所选问题不在待交办队列中" in client.get("/problems/assign/").content.decode()
    # Only the office posts.
    assert web(liaison_jia).post("/problems/assign/", {"problems": [problem.pk]}).status_code == 403


def test_notification_label_shows_the_unread_count(web, liaison_jia, problem):
    Notification.objects.create(user=liaison_jia, problem=problem, key="a", message="问题即将到期")
    Notification.objects.create(user=liaison_jia, problem=problem, key="b", message="问题今天到期")
    client = web(liaison_jia)

    def badge():
        labels = {label: label.badge for label, _url in client.get("/").context["nav_items"] if label == "通知"}
        return labels["通知"]

    labels = [label for label, _url in client.get("/").context["nav_items"]]
    assert "我的问题" in labels and "通知" in labels
    assert badge() == 2
    html = client.get("/notifications/").content.decode()
    assert "问题今天到期" in html
    client.post("/notifications/read/", {"id": Notification.objects.get(key="a").pk})
    assert badge() == 1
    assert 'data-testid="nav-badge"' in client.get("/").content.decode()
    client.post("/notifications/read/")
    assert badge() == 0
    assert 'data-testid="nav-badge"' not in client.get("/").content.decode()


def test_home_widgets(web, office, liaison_jia, assigned):
    html = web(office).get("/").content.decode()
    assert 'data-testid="widget-problems-office"' in html
    Problem.objects.filter(pk=assigned.pk).update(deadline=datetime.date.today() - datetime.timedelta(days=1))
    html = web(liaison_jia).get("/").content.decode()
    assert 'data-testid="widget-problems-liaison"' in html and f"#{assigned.pk}" in html and "已超期" in html
