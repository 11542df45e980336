"""The stored roll-ups grouped questions with analytics' own normaliser; chat.questions now holds the one
rule (issue 12). Forgetting which days are rolled up makes every report aggregate those days from
chat's messages, with the new rule, until they are rolled up again: by the task the dashboard queues
when it meets them, or by `manage.py rollup_analytics` (cron), which replace each day's rows.

A data migration rather than a command to remember: `migrate` runs in every deploy (`make run`), and
deleting these marks is instant however much was rolled up. Re-reading the messages happens in the
worker; meanwhile reports are exact from the first request on, only slower over the days not rolled
up again yet.
"""

from django.db import migrations


def forget_rolled_up_days(apps, schema_editor):
    apps.get_model("analytics", "RolledUpDay").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0002_term_leaders"),
    ]

    operations = [
        migrations.RunPython(forget_rolled_up_days, migrations.RunPython.noop),
    ]
