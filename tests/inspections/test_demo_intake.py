"""The demo's 群众反映 (issue 15): categories mapped to the demo's items and types, reports in every
state, a ticket overdue, one duplicating an open problem — what the office sees at /inspections/reports/."""

import pytest
from django.utils import timezone

from campaign.demo import seed_all
from inspections import triage
from inspections.choices import ReportChannel, ReportStatus
from inspections.models import PublicCategory, Report


@pytest.mark.django_db
def test_demo_reports(client):
    demo = seed_all()
    campaign = demo["campaign"]
    categories = {c.code: c for c in PublicCategory.objects.filter(campaign=campaign)}
    assert len(categories) == 8
    assert categories["zdjy"].check_items.exists() and categories["wgtc"].point_types.exists()
    statuses = {
        status: Report.objects.filter(campaign=campaign, status=status).count() for status in ReportStatus.values
    }
    assert statuses[ReportStatus.PENDING] >= 6 and all(statuses[s] == 1 for s in ("accepted", "merged", "rejected"))
    tickets = Report.objects.filter(channel=ReportChannel.HOTLINE).exclude(ticket_no="")
    assert tickets.count() == 3 and tickets.filter(ticket_due_at__lt=timezone.now(), status="pending").exists()
    assert tickets.filter(category__isnull=True).exclude(category_text="").exists()
    pending = Report.objects.filter(campaign=campaign, status=ReportStatus.PENDING)
    assert any(triage.report_duplicates(report) for report in pending)
    assert Report.objects.filter(campaign=campaign, photos__isnull=False).exists()
    client.force_login(demo["users"]["office"])
    page = client.get("/inspections/reports/").content.decode()
    assert 'data-testid="nav-badge-reports"' in page and 'data-testid="ticket-overdue"' in page
