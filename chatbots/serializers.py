from rest_framework import serializers

from chatbots.models import Chatbot
from datasources.models import DataSource


class ChatbotDataSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSource
        fields = ["id", "name", "status"]
        read_only_fields = fields


class ChatbotSerializer(serializers.ModelSerializer):
    theme = serializers.JSONField(source="theme_with_defaults", read_only=True,
                                  help_text="Every theme setting, defaults filled in.")
    data_sources = ChatbotDataSourceSerializer(many=True, read_only=True)

    class Meta:
        model = Chatbot
        fields = [
            "id", "name", "description", "welcome_message", "personality", "instructions", "suggested_questions",
            "fallback_message", "top_k", "temperature", "model", "show_source_documents", "theme", "is_active",
            "data_sources",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class ChatbotInputSerializer(serializers.ModelSerializer):
    """What a client may set. Limits, choices and checks come from the model's fields.

    `theme` takes any subset of its settings; they are merged over the chatbot's current theme
    (over the defaults for a new chatbot). `data_source_ids` replaces the chatbot's data sources.
    """

    data_source_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False,
        help_text="Ready data sources of your company the chatbot answers from (replaces the current list).")

    class Meta:
        model = Chatbot
        fields = [
            "name", "description", "welcome_message", "personality", "instructions", "suggested_questions",
            "fallback_message", "top_k", "temperature", "model", "show_source_documents", "theme", "is_active",
            "data_source_ids",
        ]

    def validate_suggested_questions(self, questions: list[str]) -> list[str]:
        return [question.strip() for question in questions]
