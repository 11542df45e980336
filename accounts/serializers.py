from rest_framework import serializers

from accounts.models import Company, Invitation, User
from accounts.roles import ASSIGNABLE_ROLES


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
