"""Nightly housekeeping (`accountability.housekeeping`, Celery beat): what nobody can read any more
is removed, so the tables and the file storage do not grow without end.

- Push records (`Delivery`) that ended (sent, failed, given up) more than `DELIVERY_KEEP_DAYS` ago:
  the delivery log pages show the recent ones; the in-app notifications stay.
- The stored files of superseded weeks: a week republished after an appeal leaves its earlier
  version's 周通报 PDF and workbook and its 调度会材料 PDF behind, which no page or API serves (only a
  published version is readable). The files are deleted from storage; the 周通报 rows go, the pack
  rows stay (a later version takes over the units the office added to them).

Each part is bounded per run (`BATCH` rows), so a first run on years of data cannot hold the
database for long; the next night goes on."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from .bulletin_store import bulletin_files_prune_superseded
from .choices import DeliveryStatus
from .meeting import meeting_pdfs_prune_superseded
from .models import Delivery

logger = logging.getLogger(__name__)

BATCH = 5000
ENDED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP)


def deliveries_prune(*, now: datetime.datetime) -> int:
    """Delete ended push records older than DELIVERY_KEEP_DAYS (at most BATCH a run)."""
    cutoff = now - datetime.timedelta(days=settings.DELIVERY_KEEP_DAYS)
    ids = list(
        Delivery.objects.filter(status__in=ENDED, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).delete()
    return len(ids)


def superseded_files_prune() -> dict[str, int]:
    """The stored files of superseded versions, each through the module that owns them."""
    return {
        "bulletin_files": bulletin_files_prune_superseded(limit=BATCH),
        "meeting_pdfs": meeting_pdfs_prune_superseded(limit=BATCH),
    }


def housekeeping_run(*, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    result = {"deliveries": deliveries_prune(now=now), **superseded_files_prune()}
    logger.info("housekeeping: %s", result)
    return result
