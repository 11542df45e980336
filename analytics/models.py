"""Daily roll-ups of chat's messages and conversations, so the dashboard never scans a month of raw rows.

`rollup_analytics` (a command, and the task the dashboard queues) rolls each UTC day up to ten
minutes ago, today included; the selectors add what came after from chat's tables through their
(company, created_at) indexes, so figures are always current. Both paths run the same code
(analytics.aggregation).
"""

from django.db import models

from accounts.models import Company
from chatbots.models import Chatbot


class RolledUpDay(models.Model):
    """A UTC day whose figures are in the daily tables up to `until`, for every company."""

    day = models.DateField(primary_key=True)
    until = models.DateTimeField(help_text="The daily tables hold the day's activity before this instant "
                                           "(the next midnight once the day is over).")
    rolled_up_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_rolled_up_days"

    def __str__(self):
        return f"{self.day} (until {self.until:%Y-%m-%d %H:%M})"


# Test-console chats are rolled up apart from visitors' (a row each), so that reports can leave them out.
CONSOLE_HELP = "Figures of the test console's chats, which reports leave out unless asked to include them."


class DailyStats(models.Model):
    """One chatbot's counts for one UTC day (chatbot empty once the chatbot is deleted), for its visitors'
    chats or for its test-console chats."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    chatbot = models.ForeignKey(Chatbot, on_delete=models.SET_NULL, null=True, related_name="+")
    day = models.DateField()
    console = models.BooleanField(default=False, help_text=CONSOLE_HELP)
    conversations = models.PositiveIntegerField(default=0)
    questions = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    latency_histogram = models.JSONField(default=dict, help_text="Answer latency in ms, rounded to two "
                                                                 "significant digits → how many answers.")
    # Bounds for the top questions and sources (see DailyTerm.leading): how often the most frequent
    # term that is not among the day's leading ones was asked or cited (0 when every term leads).
    question_tail_max = models.PositiveIntegerField(default=0)
    source_tail_max = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_daily_stats"
        indexes = [models.Index(fields=["company", "day"], name="analytics_stats_company_day")]

    def __str__(self):
        return f"{self.day} · {self.questions} questions"


class DailyTerm(models.Model):
    """How often one normalised question was asked, or one source cited, by one chatbot on one UTC day, in
    its visitors' chats or in its test-console chats."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        SOURCE = "source", "Cited source"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    chatbot = models.ForeignKey(Chatbot, on_delete=models.SET_NULL, null=True, related_name="+")
    day = models.DateField()
    console = models.BooleanField(default=False, help_text=CONSOLE_HELP)
    kind = models.TextField(choices=Kind.choices)
    # Grouping and looking up by a 64-bit hash of the text is much cheaper than by the text itself.
    term_hash = models.BigIntegerField()
    term = models.TextField()
    count = models.PositiveIntegerField()
    # Among the chatbot's most frequent terms of the day (services.LEADING_TERMS). The top terms of a
    # period are found from the leading rows alone, whenever their sums clear the bound the stats'
    # tail_max give for everything else; most rows are the long tail, asked once. Rows rolled up
    # before this column existed lead (with tail_max 0), which keeps that bound true.
    leading = models.BooleanField(default=True)

    class Meta:
        db_table = "analytics_daily_terms"
        indexes = [
            # Cover the top-N queries: range of days, optional chatbot, group by hash, sum counts
            # (`leading` and `console` too, or SQLite reads the table to check them).
            models.Index(fields=["company", "kind", "day", "chatbot", "term_hash", "count", "leading", "console"],
                         name="analytics_terms_leading", condition=models.Q(leading=True)),
            models.Index(fields=["company", "kind", "day", "chatbot", "term_hash", "count", "console"],
                         name="analytics_terms_top"),
            # Covers the totals of a few terms, and finds their text.
            models.Index(fields=["company", "kind", "term_hash", "day", "chatbot", "count", "console"],
                         name="analytics_terms_totals"),
        ]

    def __str__(self):
        return f"{self.day} · {self.kind} · {self.term[:60]} × {self.count}"
