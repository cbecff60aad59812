"""Observation.campaign, denormalised from inspection.round.campaign, with an index on
(campaign, observed_at): the roll-up, the dashboard and the observation lists read one campaign's
week from the observation table alone. Added nullable, backfilled with one set-based UPDATE, then
made NOT NULL."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_campaign(apps, schema_editor):
    Inspection = apps.get_model("inspections", "Inspection")
    Observation = apps.get_model("inspections", "Observation")
    campaign = Inspection.objects.filter(pk=OuterRef("inspection_id")).values("round__campaign_id")[:1]
    Observation.objects.using(schema_editor.connection.alias).update(campaign_id=Subquery(campaign))


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0004_problem_sightings"),
    ]

    operations = [
        migrations.AddField(
            model_name="observation",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaign.campaign",
                verbose_name="创建活动",
            ),
        ),
        migrations.RunPython(backfill_campaign, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="observation",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaign.campaign",
                verbose_name="创建活动",
            ),
        ),
        migrations.AddIndex(
            model_name="observation",
            index=models.Index(fields=["campaign", "observed_at"], name="observation_campaign_time"),
        ),
    ]
