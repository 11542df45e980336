from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Company, CompanyApiKey, Invitation, User
from accounts.roles import ASSIGNABLE_ROLES
from accounts.services import SHOWN_ONCE, IssuedKey


class CompanySerializer(serializers.ModelSerializer):
    limits = serializers.DictField(read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "logo", "plan", "limits", "created_at"]
        read_only_fields = ["id", "plan", "limits", "created_at"]


class CompanyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    logo = serializers.URLField(max_length=2000, required=False, allow_blank=True, allow_null=True)


class MeSerializer(serializers.ModelSerializer):
    company = CompanySerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "company", "created_at"]


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "last_login", "created_at"]


class MemberRemoveSerializer(serializers.Serializer):
    transfer_api_keys = serializers.BooleanField(
        default=False, help_text="Hand the company API keys acting as this person to you, so they keep working "
                                 "(acting as you), instead of revoking them.")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLES, help_text="Ownership moves by a transfer instead.")


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=Invitation.Status.choices, read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at"]


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLES, default="member")


class KeyStateMixin(serializers.Serializer):
    """What every key shows: a secret only as its preview, its state, its grace period, its last use."""

    key_preview = serializers.SerializerMethodField(help_text="A secret key's public head and last four "
                                                              "characters; the secret itself is never shown again.")
    status = serializers.SerializerMethodField()
    revoked_reason = serializers.SerializerMethodField(help_text="Why the key is refused, while it is.")
    previous_key_valid_until = serializers.SerializerMethodField(
        help_text="After a rotation, the previous key keeps working until then.")

    def get_key_preview(self, record) -> str | None:
        return record.key_preview if record.key_hash else None

    def get_status(self, record) -> str:
        return "revoked" if record.refusal_reason else "active"

    def get_revoked_reason(self, record) -> str | None:
        return record.refusal_reason or None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_previous_key_valid_until(self, record):
        return serializers.DateTimeField().to_representation(record.previous_valid_until) \
            if record.previous_key_valid() else None


class IssuedKeyFieldsMixin(serializers.Serializer):
    key = serializers.CharField(required=False, help_text="The secret key, present only in this response.")
    key_warning = serializers.CharField(required=False)


class ApiKeySerializer(KeyStateMixin, serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField(help_text="Its creator's email; null once they left the company.")

    class Meta:
        model = CompanyApiKey
        fields = ["id", "name", "scope", "key_preview", "status", "revoked_reason", "previous_key_valid_until",
                  "revoked_at", "last_used_at", "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_created_by(self, key: CompanyApiKey) -> str | None:
        creator = key.creator
        return creator.email if creator is not None else None


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=CompanyApiKey.Scope.choices,
                                    help_text="read: list and retrieve only; write: everything else too, "
                                              "except managing keys, members and the company.")


class IssuedApiKeySerializer(IssuedKeyFieldsMixin, ApiKeySerializer):
    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "key_warning"]


def issued_body(serializer, issued: IssuedKey) -> dict:
    """The record, and the new secret with its warning when one was just made: the only time it is shown."""
    body = dict(serializer.data)
    if issued.secret is not None:
        body.update(key=issued.secret, key_warning=SHOWN_ONCE)
    return body
