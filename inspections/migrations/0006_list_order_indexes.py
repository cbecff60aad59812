"""Indexes in the order the lists read (issue #10, measured on the city bench): a deep page's keys
come from an index instead of joining and sorting every row before it, and a round's current
inspections and the open problems are counted from an index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0005_observation_campaign"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inspection",
            index=models.Index(fields=["submitted_at", "id"], name="inspection_submitted_id"),
        ),
        migrations.AddIndex(
            model_name="inspection",
            index=models.Index(
                condition=models.Q(("current", True)), fields=["round"], name="inspection_current_round"
            ),
        ),
        migrations.AddIndex(
            model_name="observation",
            index=models.Index(
                condition=models.Q(("current", True)), fields=["observed_at", "id"], name="observation_current_time_id"
            ),
        ),
        migrations.AddIndex(
            model_name="problem",
            index=models.Index(fields=["found_at", "id"], name="problem_found_id"),
        ),
        migrations.AddIndex(
            model_name="problem",
            index=models.Index(
                condition=models.Q(("status__in", ["closed", "void"]), _negated=True),
                fields=["deadline", "status", "shelved"],
                name="problem_open_deadline",
            ),
        ),
    ]
