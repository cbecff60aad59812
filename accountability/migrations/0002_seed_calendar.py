"""Seed the working-day calendar for 2025–2027 (2027 an estimate; see accountability/holidays.py)."""

from django.db import migrations


def seed(apps, schema_editor):
    from accountability.holidays import HOLIDAYS

    CalendarDay = apps.get_model("accountability", "CalendarDay")
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, kind=kind, name=name) for day, kind, name in HOLIDAYS if day not in existing],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("accountability", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
