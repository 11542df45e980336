from django.contrib import admin

from chatbots.models import Chatbot, ChatbotDataSource


class ChatbotDataSourceInline(admin.TabularInline):
    model = ChatbotDataSource
    extra = 0
    autocomplete_fields = ["data_source"]


@admin.register(Chatbot)
class ChatbotAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "personality", "is_active", "created_at"]
    list_filter = ["is_active", "personality", "created_at"]
    search_fields = ["name", "id", "company__name"]
    list_select_related = ["company"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["company"]
    inlines = [ChatbotDataSourceInline]
