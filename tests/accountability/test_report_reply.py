"""Closing a problem records the reply owed to the reports behind it (issue 15 item 2): the office's
closing note, else a plain sentence — never the handler's internal report; voiding records the plain
sentence too (never the voiding reason). The citizen's status page then reads 已办结 / 已处理."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accountability.choices import Action as A
from inspections.choices import ReportChannel, ReportStatus
from inspections.intake import reference_new, report_public_status
from inspections.models import Report
from inspections.triage import default_reply, hotline_replies, hotline_reply_rows
from tests.accountability.test_workflow import act, photo


@pytest.fixture
def assigned(problem, office, city, later):
    return act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)


def report_of(problem, *, status=ReportStatus.ACCEPTED, channel=ReportChannel.HOTLINE, ticket="2026120500017"):
    return Report.objects.create(
        campaign=problem.campaign,
        channel=channel,
        reference=reference_new(channel=channel, day=timezone.localdate()),
        status=status,
        description="店外占道经营，请处理",
        submitted_at=timezone.now(),
        ticket_no=ticket,
        problem=problem,
    )


def close(problem, office, liaison, *, approve_note=""):
    problem = act(liaison, problem, A.ACCEPT)
    problem = act(liaison, problem, A.SUBMIT, note="摊位已清理，已约谈经营户", photos=(photo(liaison),))
    return act(office, problem, A.APPROVE, note=approve_note)


def test_without_a_closing_note_the_reply_is_the_plain_sentence(assigned, office, liaison_jia):
    ticket = report_of(assigned)
    merged = report_of(assigned, status=ReportStatus.MERGED, channel=ReportChannel.CITIZEN, ticket="")
    problem = close(assigned, office, liaison_jia)
    for report in (ticket, merged):
        report.refresh_from_db()
        assert report.reply == default_reply(problem.closed_at)
        assert "约谈" not in report.reply  # the handler's report stays internal
        assert report.replied_at == problem.closed_at
        assert report_public_status(report).label == "已办结"
        assert report_public_status(report).open311_status == "closed"
    rows = hotline_reply_rows(hotline_replies(campaign=problem.campaign))
    assert [row[:4] for row in rows] == [["2026120500017", ticket.reference, "已办结", ticket.reply]]


def test_voiding_replies_with_the_plain_sentence_not_the_reason(problem, office):
    ticket = report_of(problem)
    act(office, problem, A.VOID, note="与第 12 号问题重复登记")
    ticket.refresh_from_db()
    assert ticket.replied_at is not None and "重复登记" not in ticket.reply
    assert report_public_status(ticket).open311_status == "closed"
    rows = hotline_reply_rows(hotline_replies(campaign=problem.campaign))
    assert [row[2] for row in rows] == ["已处理"]


def test_the_office_closing_note_wins(assigned, office, liaison_jia):
    ticket = report_of(assigned)
    close(assigned, office, liaison_jia, approve_note="经复查已整改到位")
    ticket.refresh_from_db()
    assert ticket.reply == "经复查已整改到位"


def test_a_rejected_report_gets_no_reply(assigned, office, liaison_jia):
    rejected = report_of(assigned, status=ReportStatus.REJECTED)
    close(assigned, office, liaison_jia)
    rejected.refresh_from_db()
    assert (rejected.reply, rejected.replied_at) == ("", None)
