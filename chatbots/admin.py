from django.contrib import admin
from django.db.models import Count

from chatbots import services
from chatbots.models import Chatbot, ChatbotDataSource
from config.sockets import access_changed


class ChatbotDataSourceInline(admin.TabularInline):
    model = ChatbotDataSource
    extra = 0
    autocomplete_fields = ["data_source"]
    fields = ["data_source", "data_source_status", "created_at"]
    readonly_fields = ["data_source_status", "created_at"]

    @admin.display(description="status")
    def data_source_status(self, link):
        return link.data_source.status if link.data_source_id else "—"


@admin.register(Chatbot)
class ChatbotAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "personality", "is_active", "data_source_count", "created_at", "updated_at"]
    list_filter = ["is_active", "personality", "company", "created_at"]
    search_fields = ["name", "id", "company__name"]
    list_select_related = ["company"]
    readonly_fields = ["id", "created_at", "updated_at"]
    autocomplete_fields = ["company"]
    inlines = [ChatbotDataSourceInline]
    fieldsets = [
        (None, {"fields": ["id", "company", "name", "description", "is_active"]}),
        ("Conversation", {"fields": ["welcome_message", "suggested_questions", "personality", "instructions",
                                     "fallback_message"]}),
        ("Answers", {"fields": ["top_k", "temperature", "model", "show_source_documents"]}),
        ("Look", {"fields": ["theme"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(linked_data_sources=Count("data_sources"))

    def save_model(self, request, chatbot, form, change):
        super().save_model(request, chatbot, form, change)
        if change and "is_active" in form.changed_data and not chatbot.is_active:
            access_changed("chatbot", chatbot.id)  # its open chat sockets close, as when staff deactivate it

    def delete_model(self, request, chatbot):
        services.chatbot_delete(chatbot=chatbot)

    def delete_queryset(self, request, queryset):
        for chatbot in queryset:
            services.chatbot_delete(chatbot=chatbot)

    @admin.display(description="data sources", ordering="linked_data_sources")
    def data_source_count(self, chatbot):
        return chatbot.linked_data_sources
