from django.contrib import admin

from integrations.models import Integration


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["chatbot", "type", "api_key", "company", "created_at"]
    list_filter = ["type", "created_at"]
    search_fields = ["api_key", "chatbot__name", "company__name"]
    list_select_related = ["chatbot", "company"]
    readonly_fields = ["id", "api_key", "created_at"]
    autocomplete_fields = ["chatbot", "company"]
