from rest_framework import serializers

from accounts.serializers import IssuedKeyFieldsMixin, KeyStateMixin
from integrations import snippets
from integrations.models import Integration
from integrations.services import MAX_ALLOWED_ORIGINS


class IntegrationSettingsSerializer(serializers.Serializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300), max_length=MAX_ALLOWED_ORIGINS, required=False,
        help_text="Sites that may use a widget or iframe integration, as origins: https://www.example.com "
                  "(scheme, host and port; no path, no wildcard). Docent's own pages are always allowed.")


class IntegrationSerializer(KeyStateMixin, serializers.ModelSerializer):
    """An integration as staff see it: publishable keys in full, secret keys never."""

    chatbot_id = serializers.UUIDField(read_only=True)
    settings = IntegrationSettingsSerializer(read_only=True)
    publishable_key = serializers.SerializerMethodField(help_text="The widget or iframe key (not a secret).")
    snippets = serializers.SerializerMethodField(help_text="Ready-to-paste code: `script`, `iframe` or `curl`.")

    class Meta:
        model = Integration
        fields = ["id", "chatbot_id", "type", "settings", "publishable_key", "key_preview", "status", "revoked_reason",
                  "previous_key_valid_until", "revoked_at", "last_used_at", "snippets", "created_at", "updated_at"]
        read_only_fields = fields

    def get_publishable_key(self, integration) -> str | None:
        return integration.api_key if integration.is_publishable else None

    def get_snippets(self, integration) -> dict[str, str]:
        return snippets.snippets(integration, origin=self.context["origin"])


class ChatbotIntegrationsSerializer(serializers.Serializer):
    chatbot_id = serializers.UUIDField()
    integrations = IntegrationSerializer(many=True)


class IntegrationSaveSerializer(serializers.Serializer):
    chatbot_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=Integration.Type.choices)
    settings = IntegrationSettingsSerializer(required=False)


class IntegrationUpdateSerializer(serializers.Serializer):
    settings = IntegrationSettingsSerializer()


class IssuedIntegrationSerializer(IssuedKeyFieldsMixin, IntegrationSerializer):
    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key", "key_warning"]
