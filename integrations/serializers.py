from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations import snippets
from integrations.models import CompanyApiKey, Integration
from integrations.services import MAX_ALLOWED_ORIGINS


class KeyStateMixin(serializers.Serializer):
    """What every key shows: a secret only as its preview, its state, its grace period, its last use."""

    key_preview = serializers.SerializerMethodField(help_text="A secret key's public head and last four "
                                                              "characters; the secret itself is never shown again.")
    status = serializers.SerializerMethodField()
    previous_key_valid_until = serializers.SerializerMethodField(
        help_text="After a rotation, the previous key keeps working until then.")

    def get_key_preview(self, record) -> str | None:
        return record.key_preview if record.key_hash else None

    def get_status(self, record) -> str:
        return "revoked" if record.is_revoked else "active"

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_previous_key_valid_until(self, record):
        return serializers.DateTimeField().to_representation(record.previous_valid_until) \
            if record.previous_key_valid() else None


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
        fields = ["id", "chatbot_id", "type", "settings", "publishable_key", "key_preview", "status",
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


class IssuedKeyFieldsMixin(serializers.Serializer):
    key = serializers.CharField(required=False, help_text="The secret key, present only in this response.")
    key_warning = serializers.CharField(required=False)


class IssuedIntegrationSerializer(IssuedKeyFieldsMixin, IntegrationSerializer):
    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key", "key_warning"]


class ApiKeySerializer(KeyStateMixin, serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True)

    class Meta:
        model = CompanyApiKey
        fields = ["id", "name", "scope", "key_preview", "status", "previous_key_valid_until", "revoked_at",
                  "last_used_at", "created_by", "created_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=CompanyApiKey.Scope.choices,
                                    help_text="read: list and retrieve only; write: everything else too, "
                                              "except managing keys, members and the company.")


class IssuedApiKeySerializer(IssuedKeyFieldsMixin, ApiKeySerializer):
    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "key_warning"]
