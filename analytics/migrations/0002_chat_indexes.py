"""Two indexes on chat's tables for the figures analytics reads from them on every request.

- Ratings change after a day is rolled up, so they are always counted from the messages: a
  partial index holds the rated answers only, so a month's ratings read the rated few.
- Unique visitors are counted exactly over the whole period, which no daily roll-up can add up:
  a covering index lets the database count distinct visitor ids without reading the rows.
They live here, beside the only code that needs them; chat's own queries never use them.
"""

from django.db import migrations

RATED = ('CREATE INDEX IF NOT EXISTS "analytics_messages_rated" ON "messages" ("company_id", "created_at") '
         'WHERE "feedback_at" IS NOT NULL')
VISITORS = ('CREATE INDEX IF NOT EXISTS "analytics_conversations_visitors" '
            'ON "conversations" ("company_id", "created_at", "chatbot_id", "visitor_id")')


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(RATED, reverse_sql='DROP INDEX IF EXISTS "analytics_messages_rated"'),
        migrations.RunSQL(VISITORS, reverse_sql='DROP INDEX IF EXISTS "analytics_conversations_visitors"'),
    ]
