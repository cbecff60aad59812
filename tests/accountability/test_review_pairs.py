"""Rectification photos checked against their problem (place, assignment time, reuse), shown beside
the before photos with their flags, and an approval of a flagged after-photo needs a note."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from accountability.choices import Action as A
from accountability.models import ProblemEvent
from accountability.workflow import TransitionInput, TransitionRefused, problem_transition
from inspections.choices import ProblemStatus as S
from inspections.models import PhotoFlag
from inspections.services import photo_upload
from tests.accountability.test_workflow import snapshot
from tests.inspections.test_photo_checks import jpeg, scene

MARKET = (31.5, 120.3)  # where the market of the fixtures lies


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


def after_photo(user, seed, *, gps=MARKET, taken=None):
    data = jpeg(scene(seed), taken=taken or timezone.now(), gps=gps)
    return photo_upload(user=user, file=SimpleUploadedFile("整改后.jpg", data))


def codes(photo):
    return set(PhotoFlag.objects.filter(photo=photo).values_list("code", flat=True))


@pytest.fixture
def rectifying(problem, office, liaison_jia, city, later):
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    return act(liaison_jia, problem, A.ACCEPT)


def report(liaison, problem, photo):
    return act(liaison, problem, A.SUBMIT, note="已整改", photos=(photo.pk,))


# --- Flags when a report cites photos -----------------------------------------------------------


def test_a_clean_after_photo_has_no_flag_and_approval_needs_no_note(rectifying, office, liaison_jia):
    photo = after_photo(liaison_jia, 21)
    problem = report(liaison_jia, rectifying, photo)
    assert codes(photo) == set()
    assert act(office, problem, A.APPROVE).status == S.CLOSED


def test_a_far_after_photo_is_flagged(rectifying, liaison_jia):
    photo = after_photo(liaison_jia, 22, gps=(31.86, 120.3))
    report(liaison_jia, rectifying, photo)
    assert codes(photo) == {"far"}


def test_an_after_photo_taken_before_the_assignment_is_flagged(rectifying, liaison_jia):
    assigned_at = ProblemEvent.objects.get(problem=rectifying, action=A.ASSIGN).at
    photo = after_photo(liaison_jia, 23, taken=assigned_at - datetime.timedelta(hours=2))
    report(liaison_jia, rectifying, photo)
    assert codes(photo) == {"before_assigned"}
    assert "早于问题交办时间" in PhotoFlag.objects.get(photo=photo).message


def test_the_before_photo_sent_back_as_the_after_photo_is_flagged(rectifying, inspector, liaison_jia):
    taken = timezone.now()  # one EXIF time: two clock readings a second apart would make two files
    before = after_photo(inspector, 24, taken=taken)
    rectifying.photos.add(before)
    same = after_photo(liaison_jia, 24, taken=taken)  # the same file again
    report(liaison_jia, rectifying, same)
    flag = PhotoFlag.objects.get(photo=same)
    assert flag.code == "duplicate" and flag.earlier_photo_id == before.pk
    assert f"问题 #{rectifying.pk}" in flag.message


def test_the_same_after_photo_on_rework_is_flagged(rectifying, office, liaison_jia):
    photo = after_photo(liaison_jia, 25)
    problem = report(liaison_jia, rectifying, photo)
    problem = act(office, problem, A.REJECT, note="仍有积水")
    report(liaison_jia, problem, photo)
    assert codes(photo) == {"duplicate"}
    assert "整改报告中使用过" in PhotoFlag.objects.get(photo=photo).message


# --- The approval ----------------------------------------------------------------------------


@pytest.fixture
def flagged_review(rectifying, liaison_jia):
    photo = after_photo(liaison_jia, 26, gps=(31.86, 120.3))
    return report(liaison_jia, rectifying, photo)


def test_approving_a_flagged_after_photo_without_a_note_is_refused_and_changes_nothing(flagged_review, office):
    before = snapshot(flagged_review)
    with pytest.raises(TransitionRefused) as info:
        act(office, flagged_review, A.APPROVE)
    assert info.value.message_dict["note"] == ["整改照片有疑点（位置偏离），请填写核实说明后再通过复查。"]
    assert snapshot(flagged_review) == before


def test_with_a_note_it_is_approved_and_the_note_recorded(flagged_review, office):
    problem = act(office, flagged_review, A.APPROVE, note="已电话核实，照片为补拍")
    assert problem.status == S.CLOSED
    event = ProblemEvent.objects.filter(problem=problem).latest("at", "id")
    assert (event.action, event.note) == (A.APPROVE, "已电话核实，照片为补拍")


def test_a_photo_without_exif_alone_needs_no_note(rectifying, office, liaison_jia):
    buffer = io.BytesIO()
    scene(27).save(buffer, format="PNG")
    photo = photo_upload(user=liaison_jia, file=SimpleUploadedFile("a.png", buffer.getvalue()))
    problem = report(liaison_jia, rectifying, photo)
    assert codes(photo) == {"no_exif"}
    assert act(office, problem, A.APPROVE).status == S.CLOSED


def url(problem):
    return f"/api/v1/problems/{problem.pk}/transitions/"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("office", 400), ("liaison_jia", 400), ("liaison_yi", 404), ("leader", 403), ("inspector", 404), (None, 403)],
)
def test_api_approval_without_a_note_per_persona_changes_nothing(request, api, flagged_review, persona, status):
    user = request.getfixturevalue(persona) if persona else None
    before = snapshot(flagged_review)
    response = api(user).post(url(flagged_review), {"action": "approve"}, format="json")
    assert response.status_code in (status, 403 if status == 404 else status), response.content
    if persona == "office":
        assert response.json()["fields"]["note"] == ["整改照片有疑点（位置偏离），请填写核实说明后再通过复查。"]
    assert snapshot(flagged_review) == before


def test_api_approval_with_a_note(api, office, flagged_review):
    response = api(office).post(url(flagged_review), {"action": "approve", "note": "已核实"}, format="json")
    assert response.status_code == 200, response.content
    assert snapshot(flagged_review)[0]["status"] == S.CLOSED


# --- Pages -----------------------------------------------------------------------------------


def test_the_problem_page_and_the_review_queue_show_the_pair_with_flags(client, office, flagged_review):
    client.force_login(office)
    page = client.get(f"/inspections/problems/{flagged_review.pk}/").content.decode()
    assert "位置偏离" in page and "拍摄位置距点位约" in page
    queue = client.get("/problems/review/").content.decode()
    assert 'data-testid="review-item"' in queue and "位置偏离" in queue


def test_the_review_queue_reads_flags_in_one_query_whatever_the_photos(client, office, liaison_jia, flagged_review):
    client.force_login(office)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/problems/review/").status_code == 200
        return len(ctx.captured_queries)

    first = count()
    # Another report with three more photos: the same number of queries.
    problem = act(office, flagged_review, A.REJECT, note="补充照片")
    photos = [after_photo(liaison_jia, seed, gps=(31.86, 120.3)) for seed in (31, 32, 33)]
    act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=tuple(p.pk for p in photos))
    assert count() == first


def test_a_refused_page_approval_shows_the_reason(client, office, flagged_review):
    client.force_login(office)
    before = snapshot(flagged_review)
    response = client.post(
        f"/problems/{flagged_review.pk}/transition/", {"action": "approve", "next": "/problems/review/"}, follow=True
    )
    assert "请填写核实说明" in response.content.decode()
    assert snapshot(flagged_review)[0]["status"] == S.REVIEWING
    assert snapshot(flagged_review) == before


def test_image_helper_is_a_photo():
    assert Image.open(io.BytesIO(jpeg(scene(1)))).format == "JPEG"
