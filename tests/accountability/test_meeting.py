"""调度会材料 (issue 16 item 1): the units the campaign's rules call (黑榜, most overdue, open cases,
carried commitments) and those the office adds; per unit its row, trend, losses, overdue problems,
open cases and commitments with their status, read in a fixed number of queries; the PDF rendered
by a job (eager Celery here: on commit) and stored; the pages and the API, office and leaders only,
writes the office's; an unpublished week refused in Chinese. The week is the roll-up tests'
hand-computed 2026-W45: 甲区 and 甲街道 are on the 黑榜 with one problem overdue at the week's end."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accountability import meeting
from accountability.bulletin import PdfUnavailable
from accountability.choices import CommitmentStatus
from accountability.commitments import commitment_create
from accountability.meeting import (
    NOT_PUBLISHED,
    called_units,
    meeting_pack_add_unit,
    meeting_pack_data,
    meeting_pack_generate,
    meeting_pack_remove_unit,
    meeting_render,
    pack_of,
)
from accountability.models import Commitment, MeetingPack, RollupVersion
from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import JobStatus
from campaign.models import JobRun
from inspections.models import Problem
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at

PAGE = f"/meetings/{{campaign}}/{WEEK}/"


def publish(campaign, office) -> RollupVersion:
    rollup_compute(campaign=campaign, week=WEEK)
    return rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)


@pytest.fixture
def version(campaign, week45, office) -> RollupVersion:
    return publish(campaign, office)


def page(version) -> str:
    return f"/meetings/{version.campaign_id}/{version.week}/"


def api_url(version, suffix: str = "/") -> str:
    return f"/api/v1/meeting-packs/{version.campaign_id}/{version.week}{suffix}"


def pack_state() -> list[tuple]:
    return [
        (pack.version_id, pack.run_id, pack.file.name, sorted(pack.added_units.values_list("pk", flat=True)))
        for pack in MeetingPack.objects.order_by("pk")
    ]


def promise(office, campaign, unit, *, due, created, **kwargs) -> Commitment:
    commitment = commitment_create(
        user=office,
        campaign=campaign,
        unit=unit,
        content=kwargs.pop("content", "一周内完成农贸市场公益广告更新"),
        due_date=due,
        answerer="张主任",
        week="2026-W44",
        today=due - datetime.timedelta(days=7),
    )
    Commitment.objects.filter(pk=commitment.pk).update(created_at=created, **kwargs)
    return commitment


# --- which units -------------------------------------------------------------------------------


def test_the_rules_call_the_black_list_the_most_overdue_and_the_open_cases(version, city):
    called = called_units(version=version, added_ids=[])
    # The most overdue are among streets and departments: a district's count sums its streets'.
    assert called.reasons == {
        city.district_jia.pk: ["black", "cases"],
        city.street_jia.pk: ["black", "overdue", "cases"],
    }
    assert called.left_out == [] and called.called == 2


def test_units_carrying_a_commitment_are_called_and_added_ones_come_last(version, city, office, campaign):
    promise(office, campaign, city.dept_cg, due=MONDAY + datetime.timedelta(days=9), created=at(MONDAY))
    called = called_units(version=version, added_ids=[city.street_yi.pk])
    assert list(called.reasons) == [city.district_jia.pk, city.street_jia.pk, city.dept_cg.pk, city.street_yi.pk]
    assert called.reasons[city.street_yi.pk] == ["added"]
    assert called.reasons[city.dept_cg.pk] == ["commitments"]


def test_the_overdue_rule_follows_the_version_and_can_be_off(campaign, week45, office, city):
    campaign_services.campaign_update(campaign=campaign, meeting_overdue_units=0)
    version = publish(campaign, office)
    assert version.rules["meeting_overdue_units"] == 0
    assert called_units(version=version, added_ids=[]).reasons[city.street_jia.pk] == ["black", "cases"]


def test_the_overdue_rule_is_bounded_in_chinese(campaign):
    with pytest.raises(ValidationError) as refused:
        campaign_services.campaign_update(campaign=campaign, meeting_overdue_units=21)
    assert refused.value.message_dict["meeting_overdue_units"] == ["调度会材料另列的超期单位数不能超过 20 个。"]


def test_more_units_than_the_cap_are_named_not_expanded(version, city, settings):
    settings.MEETING_PACK_MAX_UNITS = 1
    called = called_units(version=version, added_ids=[])
    assert list(called.reasons) == [city.district_jia.pk]
    assert called.left_out == ["甲街道"] and called.called == 2
    # The office's own additions are never cut.
    called = called_units(version=version, added_ids=[city.street_yi.pk, city.dept_cg.pk])
    assert set(called.reasons) == {city.street_yi.pk, city.dept_cg.pk}
    assert called.left_out == ["甲区", "甲街道"]


# --- what each unit is asked about -------------------------------------------------------------------


def test_a_units_section_has_its_row_losses_overdue_problems_and_cases(version, city, week45):
    _closed, still_open = week45
    data = meeting_pack_data(version=version)
    section = next(s for s in data["units"] if s.unit["pk"] == city.street_jia.pk)
    assert section.row["rank"] == 2 and section.row["board"] == "black" and section.row["overdue_open"] == 1
    assert [point["week"] for point in section.trend] == [WEEK]
    assert [(row["indicator_code"], row["failing"], row["observations"]) for row in section.by_indicator] == [
        ("Ⅲ-1", 2, 4)
    ]
    assert [(row["item"], row["failing"]) for row in section.items] == [("核心价值观公益广告不少于2处", 2)]
    assert section.overdue_total == 1
    assert [(p["pk"], p["days_overdue"], p["status_display"]) for p in section.overdue] == [
        (still_open.pk, 2, "整改中")
    ]
    assert [(case["rule_display"], case["level_display"]) for case in section.cases] == [("上黑榜", "提醒")]
    assert section.commitments == []


def test_carried_commitments_show_their_status_at_the_weeks_end_and_now(version, city, office, campaign):
    created = at(MONDAY - datetime.timedelta(days=7))
    late = promise(office, campaign, city.street_jia, due=MONDAY + datetime.timedelta(days=1), created=created)
    done = promise(
        office,
        campaign,
        city.street_jia,
        due=MONDAY + datetime.timedelta(days=3),
        created=created,
        content="完成背街小巷垃圾分类收集点补齐",
        status=CommitmentStatus.DONE,
        reported_at=at(MONDAY + datetime.timedelta(days=2)),
        completed_at=at(MONDAY + datetime.timedelta(days=2), 15),
    )
    data = meeting_pack_data(version=version)
    section = next(s for s in data["units"] if s.unit["pk"] == city.street_jia.pk)
    rows = {row["pk"]: row for row in section.commitments}
    assert rows[late.pk]["week_end_status_display"] == "逾期"
    assert rows[late.pk]["status"] == "overdue" and rows[late.pk]["days_overdue"] > 0
    assert rows[done.pk]["week_end_status_display"] == "本周已完成" and rows[done.pk]["status_display"] == "已完成"
    assert section.commitments_overdue == 1
    assert "commitments" in section.reasons


def test_the_pack_reads_in_a_fixed_number_of_queries(version, city, office, campaign, django_assert_num_queries):
    promise(office, campaign, city.street_jia, due=MONDAY + datetime.timedelta(days=9), created=at(MONDAY))
    # On PostgreSQL the overdue statement runs in a savepoint with the JIT off (SET LOCAL): 3 more.
    expected = QUERIES + (3 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(expected) as few:
        small = meeting_pack_data(version=version)
    for unit in (city.street_yi, city.district_yi, city.dept_cg, city.dept_office):
        promise(office, campaign, unit, due=MONDAY + datetime.timedelta(days=9), created=at(MONDAY))
    with django_assert_num_queries(len(few.captured_queries)):
        large = meeting_pack_data(version=version)
    assert len(small["units"]) == 2 and len(large["units"]) == 6
    with django_assert_num_queries(QUERIES - WEEK_PARTS):  # the week's parts are kept (with the SET LOCAL)
        meeting_pack_data(version=version)


# Called units: the office's additions (here: an earlier version's pack, none), the 黑榜, the most
# overdue, the open cases, the carried commitments (1 read and 2 calendar look-ups), the order (2);
# then the units, the rows, the cache key (the latest publish), the trend (2), the losses (4), the
# overdue problems (2), the cases, the commitments (1 read, 2 calendar look-ups, and 1 more to count
# the working days of those overdue now).
QUERIES = 25
WEEK_PARTS = 7  # trend (2), losses (4), overdue (1): what a published week was, kept in the cache


# --- the office changes the pack ------------------------------------------------------------------


def test_the_office_adds_and_removes_a_unit_and_each_change_renders_again(
    version, city, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        unit = meeting_pack_add_unit(version=version, user=office, unit=str(city.dept_cg.pk))
    assert unit == city.dept_cg
    pack = pack_of(version)
    first_run = pack.run
    assert list(pack.added_units.all()) == [city.dept_cg] and first_run.name == "meeting_render"
    data = meeting_pack_data(version=version, pack=pack)
    assert data["units"][-1].unit["pk"] == city.dept_cg.pk and data["units"][-1].reasons == ["added"]
    with pytest.raises(ValidationError) as refused:
        meeting_pack_add_unit(version=version, user=office, unit=city.dept_cg.pk)
    assert refused.value.message_dict["unit"] == ["示范市城市管理局已由创建办列入本次调度会。"]
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_remove_unit(version=version, user=office, unit=city.dept_cg.pk)
    pack = pack_of(version)
    # The render still queued is kept: it reads the pack when it starts.
    assert list(pack.added_units.all()) == [] and pack.run == first_run


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "请选择要列入调度会的单位。"), ("x", "请选择要列入调度会的单位。"), ("999999", "该单位不存在或已停用。")],
)
def test_a_bad_unit_is_refused_in_chinese_and_nothing_changes(version, office, value, message):
    before = pack_state()
    with pytest.raises(ValidationError) as refused:
        meeting_pack_add_unit(version=version, user=office, unit=value)
    assert refused.value.message_dict["unit"] == [message]
    assert pack_state() == before


def test_removing_a_unit_the_office_did_not_add_is_refused(version, city, office):
    with pytest.raises(ValidationError) as refused:
        meeting_pack_remove_unit(version=version, user=office, unit=city.street_jia.pk)
    assert refused.value.message_dict["unit"] == ["甲街道不是创建办添加的单位。"]


def test_only_the_office_changes_a_pack(version, city, leader, liaison_jia):
    before = pack_state()
    for user in (leader, liaison_jia):
        with pytest.raises(PermissionDenied):
            meeting_pack_generate(version=version, user=user)
        with pytest.raises(PermissionDenied):
            meeting_pack_add_unit(version=version, user=user, unit=city.dept_cg.pk)
    assert pack_state() == before and not JobRun.objects.filter(name="meeting_render").exists()


def test_a_pack_for_an_unpublished_week_is_refused(campaign, week45, office):
    rollup_compute(campaign=campaign, week=WEEK)
    draft = RollupVersion.objects.get(campaign=campaign, week=WEEK)
    with pytest.raises(ValidationError) as refused:
        meeting_pack_generate(version=draft, user=office)
    assert refused.value.messages == [NOT_PUBLISHED]
    assert not MeetingPack.objects.exists()


# --- the PDF job -----------------------------------------------------------------------------------


def test_generate_renders_the_pdf_once_and_it_is_served(
    version, office, leader, web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pack = meeting_pack_generate(version=version, user=office)
    pack = pack_of(version)
    assert pack.run.status == JobStatus.SUCCEEDED and pack.run.result["units"] == 2
    content = pack.file.open("rb").read()
    assert content.startswith(b"%PDF") and pack.size == len(content) and len(pack.sha256) == 64
    response = web(leader).get(page(version).rstrip("/") + ".pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    status = web(leader).get(page(version) + "status/").json()
    assert status["status"] == "done" and status["url"].endswith(".pdf")


def test_a_second_generate_while_queued_queues_nothing(version, office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = meeting_pack_generate(version=version, user=office)
        second = meeting_pack_generate(version=version, user=office)
    assert first.run_id == second.run_id
    assert JobRun.objects.filter(name="meeting_render").count() == 1


def test_a_change_while_queued_reuses_the_queued_render(version, city, office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = meeting_pack_generate(version=version, user=office).run
        meeting_pack_add_unit(version=version, user=office, unit=city.dept_cg.pk)
    assert pack_of(version).run == run and JobRun.objects.filter(name="meeting_render").count() == 1
    assert meeting_render(run.pk)["units"] == 3  # it reads the pack when it starts: the added unit too
    assert meeting_render(run.pk)["skipped"] == "not queued"  # delivered twice: run once


def test_a_render_overtaken_by_a_newer_one_is_skipped(version, city, office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        old_run = meeting_pack_generate(version=version, user=office).run
    JobRun.objects.filter(pk=old_run.pk).update(status=JobStatus.RUNNING)  # a worker has it
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_add_unit(version=version, user=office, unit=city.dept_cg.pk)
    new_run = pack_of(version).run
    assert new_run != old_run
    JobRun.objects.filter(pk=old_run.pk).update(status=JobStatus.QUEUED)  # delivered again
    assert meeting_render(old_run.pk)["skipped"] == "superseded" and not pack_of(version).file
    assert meeting_render(new_run.pk)["units"] == 3 and pack_of(version).file


def test_a_pdf_that_cannot_be_made_fails_with_its_reason(
    version, office, web, monkeypatch, django_capture_on_commit_callbacks
):
    def unavailable(**kwargs):
        raise PdfUnavailable(PdfUnavailable.message)

    monkeypatch.setattr(meeting, "meeting_pack_pdf", unavailable)
    with django_capture_on_commit_callbacks(execute=True):
        meeting_pack_generate(version=version, user=office)
    pack = pack_of(version)
    assert pack.run.status == JobStatus.FAILED and pack.run.error == PdfUnavailable.message
    response = web(office).get(page(version))
    assert "PDF 生成失败" in response.content.decode()
    assert web(office).get(page(version).rstrip("/") + ".pdf").status_code == 503


# --- the pages -----------------------------------------------------------------------------------------


def test_the_office_reads_the_pack_with_its_controls_and_a_leader_without(version, office, leader, web):
    body = web(office).get(page(version)).content.decode()
    assert "调度会材料" in body and "甲街道" in body and 'data-testid="generate"' in body
    assert 'data-testid="add-unit-select"' in body and "公益广告破损" in body
    body = web(leader).get(page(version)).content.decode()
    assert "甲街道" in body and 'data-testid="generate"' not in body and 'data-testid="add-unit"' not in body


def test_others_are_refused_and_anonymous_sent_to_login(version, liaison_jia, inspector, web, client):
    for user in (liaison_jia, inspector):
        assert web(user).get(page(version)).status_code == 403
        assert web(user).get("/meetings/").status_code == 403
    client.logout()
    assert client.get(page(version)).status_code == 302


def test_an_unpublished_week_is_404_with_the_published_ones(campaign, week45, office, web):
    rollup_compute(campaign=campaign, week=WEEK)
    response = web(office).get(PAGE.format(campaign=campaign.pk))
    assert response.status_code == 404 and NOT_PUBLISHED in response.content.decode()


def test_the_office_adds_a_unit_on_the_page_and_a_bad_one_is_a_message(
    version, city, office, web, django_capture_on_commit_callbacks
):
    client = web(office)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(page(version) + "units/", {"unit": city.dept_cg.pk}, follow=True)
    body = response.content.decode()
    assert "已将示范市城市管理局列入本次调度会" in body and "创建办添加" in body
    response = client.post(page(version) + "units/", {"unit": "999999"}, follow=True)
    assert "该单位不存在或已停用。" in response.content.decode()


def test_a_leaders_post_is_refused_and_changes_nothing(version, city, leader, web):
    before = pack_state()
    assert web(leader).post(page(version) + "units/", {"unit": city.dept_cg.pk}).status_code == 403
    assert web(leader).post(page(version) + "generate/").status_code == 403
    assert pack_state() == before


# --- the API -----------------------------------------------------------------------------------------


def test_the_api_answers_units_each_with_commitments(version, city, office, leader, campaign, api):
    late = promise(
        office,
        campaign,
        city.street_jia,
        due=MONDAY + datetime.timedelta(days=1),
        created=at(MONDAY - datetime.timedelta(days=7)),
    )
    response = api(leader).get(api_url(version))
    assert response.status_code == 200
    data = response.json()
    assert data["week"] == WEEK and data["pdf"]["status"] == "none"
    units = {row["unit"]["name"]: row for row in data["units"]}
    assert set(units) == {"甲区", "甲街道"}
    street = units["甲街道"]
    assert street["reasons"] == ["black", "overdue", "commitments", "cases"]
    assert [(c["id"], c["week_end_status"], c["status"]) for c in street["commitments"]] == [
        (late.pk, "overdue", "overdue")
    ]
    assert street["row"]["rank"] == 2 and street["overdue_total"] == 1 and len(street["cases"]) == 1
    assert units["甲区"]["commitments"] == []


def test_the_api_refuses_unknown_input_and_other_personas(version, city, liaison_jia, leader, api):
    assert api(leader).get(api_url(version) + "?page=2").status_code == 400
    assert api(liaison_jia).get(api_url(version)).status_code == 403
    assert api().get(api_url(version)).status_code == 403
    before = pack_state()
    assert api(leader).post(api_url(version, "/units/"), {"unit": city.dept_cg.pk}, format="json").status_code == 403
    assert api(leader).post(api_url(version, "/render/"), {}, format="json").status_code == 403
    assert pack_state() == before


def test_the_api_adds_removes_and_renders(version, city, office, api, django_capture_on_commit_callbacks):
    client = api(office)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(api_url(version, "/units/"), {"unit": city.dept_cg.pk}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued"
    assert client.get(api_url(version)).json()["added_units"] == [city.dept_cg.pk]
    response = client.post(api_url(version, "/units/"), {"unit": city.dept_cg.pk, "note": "x"}, format="json")
    assert response.status_code == 400 and "note" in response.json()["fields"]
    response = client.post(api_url(version, "/units/"), {"unit": 999999}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["unit"] == ["该单位不存在或已停用。"]
    assert client.get(api_url(version, ".pdf")).json()["code"] == "meeting_pack_rendering"  # 503, queued
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(api_url(version, "/render/"), {}, format="json")
    assert response.status_code == 202 and JobRun.objects.filter(name="meeting_render").count() == 1  # still queued
    with django_capture_on_commit_callbacks(execute=False):
        assert client.delete(api_url(version, f"/units/{city.dept_cg.pk}/")).status_code == 204
    assert client.delete(api_url(version, f"/units/{city.dept_cg.pk}/")).status_code == 400
    assert meeting_render(pack_of(version).run_id)["units"] == 2  # the one queued render, as the worker runs it
    response = client.get(api_url(version, ".pdf"))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(api_url(version, "/render/"), {}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert client.post(api_url(version, "/render/"), {"force": 1}, format="json").status_code == 400


def test_the_api_refuses_an_unpublished_week(campaign, week45, office, api):
    rollup_compute(campaign=campaign, week=WEEK)
    response = api(office).get(f"/api/v1/meeting-packs/{campaign.pk}/{WEEK}/")
    assert response.status_code == 404 and NOT_PUBLISHED in response.json()["detail"]
    response = api(office).post(f"/api/v1/meeting-packs/{campaign.pk}/{WEEK}/render/", {}, format="json")
    assert response.status_code == 404 and not MeetingPack.objects.exists()


def test_a_made_pdf_whose_run_record_is_gone_is_still_served(
    version, office, leader, web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        meeting_pack_generate(version=version, user=office)
    JobRun.objects.filter(name="meeting_render").delete()  # the run's record pruned: SET_NULL
    pack = pack_of(version)
    assert pack.run is None and meeting.pack_status(pack)["ready"]
    assert web(leader).get(page(version).rstrip("/") + ".pdf").status_code == 200


def test_the_list_shows_each_published_week_and_its_pdf(version, office, web, django_capture_on_commit_callbacks):
    body = web(office).get("/meetings/").content.decode()
    assert "第45周" in body and "尚未生成 PDF" in body
    with django_capture_on_commit_callbacks(execute=True):
        meeting_pack_generate(version=version, user=office)
    body = web(office).get("/meetings/").content.decode()
    assert "PDF 已生成" in body and f"/meetings/{version.campaign_id}/{WEEK}.pdf" in body


def test_a_community_is_refused_its_street_reports_for_it(version, city, office):
    with pytest.raises(ValidationError) as refused:
        meeting_pack_add_unit(version=version, user=office, unit=city.community_jia1.pk)
    assert refused.value.message_dict["unit"] == ["甲一社区是社区（村），由所属街道在调度会上汇报，请添加其所属街道。"]
    assert not MeetingPack.objects.exists()


def test_a_leaders_malformed_write_is_refused_as_a_leader_first(version, leader, api):
    response = api(leader).post(api_url(version, "/units/"), {"unit": "x", "zzz": 1}, format="json")
    assert response.status_code == 403
    assert api(leader).post(api_url(version, "/render/"), {"zzz": 1}, format="json").status_code == 403


def test_a_republished_week_keeps_the_units_the_office_added(
    campaign, version, city, office, market, observe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_add_unit(version=version, user=office, unit=city.dept_cg.pk)
    observe(market, ["0.5"])  # a late observation: a second version
    republished = publish(campaign, office)
    assert republished.number == 2 and pack_of(republished) is None
    data = meeting_pack_data(version=republished)  # before the new version has a pack of its own
    assert data["units"][-1].unit["pk"] == city.dept_cg.pk and data["units"][-1].reasons == ["added"]
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_add_unit(version=republished, user=office, unit=city.street_yi.pk)
    assert set(pack_of(republished).added_units.values_list("pk", flat=True)) == {city.dept_cg.pk, city.street_yi.pk}


def test_an_unranked_added_unit_counts_all_its_overdue_problems(
    version, office, week45, django_capture_on_commit_callbacks
):
    _closed, still_open = week45
    team = campaign_services.unit_create(name="城市管理综合执法队", code="ZF", kind="other")
    Problem.objects.filter(pk=still_open.pk).update(handler=team)
    for n in range(7):  # more than the five listed
        Problem.objects.create(
            campaign=still_open.campaign,
            source=still_open.source,
            unit=still_open.unit,
            handler=team,
            description=f"超期问题{n}",
            found_at=still_open.found_at,
            deadline=still_open.deadline,
            status=still_open.status,
            created_by=office,
        )
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_add_unit(version=version, user=office, unit=team.pk)
    section = next(
        s for s in meeting_pack_data(version=version, pack=pack_of(version))["units"] if s.unit["pk"] == team.pk
    )
    assert section.row is None and section.overdue_total == 8
    assert len(section.overdue) == 5 and section.overdue_hidden == 3


def test_a_unit_deactivated_since_it_was_added_can_be_taken_back(
    version, city, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        meeting_pack_add_unit(version=version, user=office, unit=city.dept_cg.pk)
        campaign_services.unit_update(unit=city.dept_cg, active=False)
        assert meeting_pack_remove_unit(version=version, user=office, unit=city.dept_cg.pk) == city.dept_cg
    assert not pack_of(version).added_units.exists()


def test_a_week_shaped_code_that_is_no_week_is_a_404(version, office, web):
    response = web(office).get(f"/meetings/{version.campaign_id}/2026-W60/")
    assert response.status_code == 404 and NOT_PUBLISHED in response.content.decode()


def test_the_api_says_a_lost_pdf_is_lost(version, office, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        meeting_pack_generate(version=version, user=office)
    pack = pack_of(version)
    pack.file.storage.delete(pack.file.name)
    response = api(office).get(api_url(version, ".pdf"))
    assert response.status_code == 404 and "已丢失" in response.json()["detail"]
