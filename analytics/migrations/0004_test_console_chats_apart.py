"""Test-console chats are rolled up apart from visitors' (issue 14), so that reports leave them out.
The days rolled up before counted both together: forgetting which days are rolled up (the step of
0003, for the same reason) makes reports aggregate them from chat's messages, console apart, until
they are rolled up again.
"""

import importlib

from django.db import migrations, models

forget_rolled_up_days = importlib.import_module(
    "analytics.migrations.0003_questions_grouped_by_the_one_normaliser").forget_rolled_up_days


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_company_api_keys'),
        ('analytics', '0003_questions_grouped_by_the_one_normaliser'),
        ('chatbots', '0003_json_fields_hold_valid_text'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='dailyterm',
            name='analytics_terms_top',
        ),
        migrations.RemoveIndex(
            model_name='dailyterm',
            name='analytics_terms_leading',
        ),
        migrations.RemoveIndex(
            model_name='dailyterm',
            name='analytics_terms_totals',
        ),
        migrations.AddField(
            model_name='dailystats',
            name='console',
            field=models.BooleanField(default=False, help_text="Figures of the test console's chats, which reports leave out unless asked to include them."),
        ),
        migrations.AddField(
            model_name='dailyterm',
            name='console',
            field=models.BooleanField(default=False, help_text="Figures of the test console's chats, which reports leave out unless asked to include them."),
        ),
        migrations.AddIndex(
            model_name='dailyterm',
            index=models.Index(condition=models.Q(('leading', True)), fields=['company', 'kind', 'day', 'chatbot', 'term_hash', 'count', 'leading', 'console'], name='analytics_terms_leading'),
        ),
        migrations.AddIndex(
            model_name='dailyterm',
            index=models.Index(fields=['company', 'kind', 'day', 'chatbot', 'term_hash', 'count', 'console'], name='analytics_terms_top'),
        ),
        migrations.AddIndex(
            model_name='dailyterm',
            index=models.Index(fields=['company', 'kind', 'term_hash', 'day', 'chatbot', 'count', 'console'], name='analytics_terms_totals'),
        ),
        migrations.RunPython(forget_rolled_up_days, migrations.RunPython.noop),
    ]
