"""Integrations for superusers: find, rotate, revoke; never a hash or a stored secret (accounts.admin.KeyAdmin)."""

from django import forms
from django.contrib import admin

from accounts.admin import KEY_STATE_FIELDS, KeyAdmin, RevokedFilter
from config.errors import ApiError
from integrations import services
from integrations.models import Integration


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = ["settings"]

    def clean_settings(self):
        settings = self.cleaned_data["settings"] or {}
        if not isinstance(settings, dict) or not isinstance(settings.get("allowed_origins", []), list):
            raise forms.ValidationError('Settings are an object: {"allowed_origins": ["https://www.example.com"]}.')
        try:
            return services.clean_integration_settings(type=self.instance.type, settings=settings)
        except ApiError as exc:
            raise forms.ValidationError(" ".join(_messages(exc.details)) or exc.message) from None


def _messages(details) -> list[str]:
    if isinstance(details, str):
        return [details]
    values = details.values() if isinstance(details, dict) else details
    return [message for value in values for message in _messages(value)]


@admin.register(Integration)
class IntegrationAdmin(KeyAdmin):
    form = IntegrationForm
    list_display = ["chatbot", "type", "key", "revoked", "company", "last_used_at", "created_at"]
    list_filter = ["type", RevokedFilter, ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "api_key", "chatbot__name", "company__name"]
    list_select_related = ["chatbot", "company"]
    readonly_fields = ["id", "chatbot", "company", "type", "key", *KEY_STATE_FIELDS, "created_at", "updated_at"]
    fields = ["id", "chatbot", "company", "type", "key", "settings", *KEY_STATE_FIELDS, "created_at", "updated_at"]

    def save_model(self, request, integration, form, change):
        services.integration_update(integration=integration, settings=form.cleaned_data["settings"])

    def delete_model(self, request, integration):
        services.integration_delete(integration=integration)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            services.integration_delete(integration=integration)

    def rotate(self, integration):
        return services.integration_rotate(integration=integration)

    def revoke(self, integration):
        return services.integration_revoke(integration=integration)
