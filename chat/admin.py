from django.contrib import admin

from chat.models import Conversation, ImprovedAnswer, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "role", "content", "sources", "mode", "answered", "interrupted", "cached", "latency_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """What visitors asked and what each chatbot answered; read-only, as a record."""

    list_display = ["chatbot_name", "company", "channel", "visitor_id", "created_at", "updated_at"]
    list_filter = ["channel", "created_at"]
    search_fields = ["chatbot_name", "company__name", "session_id", "visitor_id", "messages__content"]
    list_select_related = ["company"]
    readonly_fields = ["company", "chatbot", "chatbot_name", "session_id", "visitor_id", "channel", "integration",
                       "staff_user", "created_at", "updated_at"]
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImprovedAnswer)
class ImprovedAnswerAdmin(admin.ModelAdmin):
    list_display = ["question", "chatbot", "company", "created_by", "created_at"]
    search_fields = ["question", "answer", "chatbot__name", "company__name"]
    list_select_related = ["chatbot", "company", "created_by"]
    readonly_fields = ["company", "chatbot", "data_source", "created_by", "created_at"]
