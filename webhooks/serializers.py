from rest_framework import serializers

from webhooks.models import MAX_URL_LENGTH, Delivery, Endpoint, EventType
from webhooks.services import SHOWN_ONCE
from webhooks.signing import SECRET_PREFIX


class EndpointSerializer(serializers.ModelSerializer):
    """An endpoint as admins see it: never its secret, only the secret's last characters."""

    secret_preview = serializers.SerializerMethodField(help_text="The signing secret's last four characters.")
    previous_secret_valid_until = serializers.SerializerMethodField(
        help_text="After a rotation, until when the previous secret also signs deliveries.")

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "events", "enabled", "disabled_reason", "consecutive_failures",
                  "secret_preview", "previous_secret_valid_until", "created_at", "updated_at"]
        read_only_fields = fields

    def get_secret_preview(self, endpoint) -> str:
        return f"{SECRET_PREFIX}…{endpoint.secret_last_four}"

    def get_previous_secret_valid_until(self, endpoint) -> str | None:
        return endpoint.previous_valid_until.isoformat() if endpoint.previous_secret_valid() else None


class IssuedEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown only in this response.")
    secret_warning = serializers.CharField()

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret", "secret_warning"]


def issued_body(serializer: EndpointSerializer, secret: str) -> dict:
    return {**serializer.data, "secret": secret, "secret_warning": SHOWN_ONCE}


class EndpointSaveSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, help_text="Where Docent POSTs events: https://…")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False,
                                   max_length=len(EventType.choices))
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "response_code", "response_body", "error",
                  "last_attempt_at", "next_attempt_at", "created_at"]
        read_only_fields = fields
