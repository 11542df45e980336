from django.contrib import admin

from analytics.models import DailyStats, RolledUpDay
from config.admin import ReadOnlyAdmin

# Derived from chat's messages: `manage.py rollup_analytics --day` recomputes them, not the admin.


@admin.register(RolledUpDay)
class RolledUpDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "rolled_up_at"]
    date_hierarchy = "day"


@admin.register(DailyStats)
class DailyStatsAdmin(ReadOnlyAdmin):
    list_display = ["day", "company", "chatbot", "conversations", "questions", "answers", "answered"]
    list_filter = ["day"]
    search_fields = ["company__name", "chatbot__name"]
    list_select_related = ["company", "chatbot"]
    exclude = ["latency_histogram"]
