"""History rows for the writes django-simple-history's signals do not see, or see too often.

simple-history records a row on each `save()`/`delete()` and on each `m2m_changed`. Two kinds of
write need help, and every app's services use these two helpers for them:

- bulk writes (`bulk_create`, `bulk_update`, `QuerySet.update`) send no signal: `history_record`
  writes their rows in bulk — one INSERT for the rows and, per tracked M2M field, one SELECT of the
  current links and one INSERT of their snapshot — so an import of 10,000 rows costs a few queries,
  not 10,000;
- a save followed by `departments.set(...)` would record up to three rows (the save, the removals,
  the additions), the first two with a half-true set of departments: `one_history_row` records
  exactly one, after both, with the final departments.

The user is the instance's `_history_user` when set, else the request's (HistoryRequestMiddleware,
or `acting_for` when an import job works for the request that queued it).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import models

SNAPSHOT_CHUNK = 2000  # ids per IN (…) when reading the links to snapshot


def m2m_history_models(history_model) -> list[tuple[models.ManyToManyField, type[models.Model]]]:
    """(tracked M2M field, its snapshot model) pairs of a historical model."""
    pairs = []
    for field in getattr(history_model, "_history_m2m_fields", []):
        for relation in history_model._meta.related_objects:
            snapshot = relation.related_model
            if snapshot._meta.model_name == f"{history_model._meta.model_name}_{field.name}":
                pairs.append((field, snapshot))
    return pairs


def history_record(model: type[models.Model], objs, *, change: str = "~", user=None) -> list:
    """Record one history row per object, as they are now (`change` "+" for created, "~" for
    changed), with the tracked M2M sets read from the database. Returns the history rows."""
    objs = [obj for obj in objs if obj.pk is not None]
    if not objs:
        return []
    manager = model.history
    rows = manager.bulk_history_create(objs, update=change != "+", default_user=user) or []
    history_model = manager.model
    for field, snapshot in m2m_history_models(history_model):
        through = field.remote_field.through
        source = field.m2m_field_name()
        target = field.m2m_reverse_field_name()
        linked: dict[int, list[tuple[int, int]]] = {}
        pks = [obj.pk for obj in objs]
        for start in range(0, len(pks), SNAPSHOT_CHUNK):
            chunk = pks[start : start + SNAPSHOT_CHUNK]
            links = through.objects.filter(**{f"{source}_id__in": chunk}).values_list(
                "pk", f"{source}_id", f"{target}_id"
            )
            for link_id, owner, other in links:
                linked.setdefault(owner, []).append((link_id, other))
        snapshot.objects.bulk_create(
            [
                snapshot(**{"id": link_id, "history_id": row.history_id, f"{source}_id": row.id, f"{target}_id": other})
                for row in rows
                for link_id, other in linked.get(row.id, [])
            ]
        )
    return rows


@contextmanager
def acting_for(request):
    """What HistoryRequestMiddleware does for a request, for work done on its behalf outside it
    (an import job on a worker): history rows written within name the request's user."""
    from simple_history.models import HistoricalRecords

    previous = getattr(HistoricalRecords.context, "request", None)
    HistoricalRecords.context.request = request
    try:
        yield request
    finally:
        if previous is None:
            del HistoricalRecords.context.request
        else:
            HistoricalRecords.context.request = previous


@contextmanager
def one_history_row(instance: models.Model, change: str = "~"):
    """Within the block, saves and M2M changes of `instance` record nothing; at its end one row
    records the instance as it then is (fields and departments)."""
    instance.skip_history_when_saving = True
    try:
        yield instance
    finally:
        del instance.skip_history_when_saving
    history_record(type(instance), [instance], change=change)
