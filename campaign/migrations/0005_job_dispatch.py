# The transactional outbox of background jobs: whether a run was handed to the broker, the last
# broker error, and how many times a worker took it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaign", "0004_health_city_level"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobrun",
            name="dispatched_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="派发时间"),
        ),
        migrations.AddField(
            model_name="jobrun",
            name="dispatch_error",
            field=models.TextField(blank=True, verbose_name="派发错误"),
        ),
        migrations.AddField(
            model_name="jobrun",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="执行次数"),
        ),
    ]
