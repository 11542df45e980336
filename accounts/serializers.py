from rest_framework import serializers

from accounts.models import Company, User


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
