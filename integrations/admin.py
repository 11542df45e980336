"""Integrations and company API keys for superusers: find, rotate, revoke; never a hash or a stored secret.

Keys are made through the API and the dashboard only. Rotating from here shows each new key
once, on the page that answers the action, like the dashboard does; nothing keeps it.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from config.errors import ApiError
from integrations import services
from integrations.models import CompanyApiKey, Integration

HIDDEN_KEY_FIELDS = ["key_hash", "previous_key_hash"]
KEY_STATE_FIELDS = ["api_key", "key_last_four", "previous_api_key", "previous_valid_until", "revoked_at",
                    "last_used_at"]


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", "Revoked"), ("no", "Active")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "no")
        return queryset


class KeyAdmin(admin.ModelAdmin):
    """What integrations and company keys share: key display, filters, rotate and revoke actions."""

    exclude = HIDDEN_KEY_FIELDS
    actions = ["rotate_keys", "revoke_keys"]

    def has_add_permission(self, request):
        return False  # a key is made by the API or the dashboard, which show its secret once

    @admin.display(description="key")
    def key(self, record):
        return record.key_preview

    @admin.display(description="revoked", boolean=True)
    def revoked(self, record):
        return record.is_revoked

    @admin.action(description="Rotate the keys (the old ones work for the grace period)")
    def rotate_keys(self, request, queryset):
        rotated, refused = [], []
        for record in queryset:
            try:
                rotated.append(self.rotate(record))
            except ApiError as exc:
                refused.append(f"{record}: {exc.detail}")
        for message in refused:
            self.message_user(request, message, messages.WARNING)
        return TemplateResponse(request, "integrations/admin_rotated_keys.html", {
            **self.admin_site.each_context(request), "title": "Rotated keys", "rotated": rotated,
            "opts": self.model._meta, "grace_hours": services.grace_hours(),
        })

    @admin.action(description="Revoke the keys (refused at once)")
    def revoke_keys(self, request, queryset):
        for record in queryset:
            self.revoke(record)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


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
            raise forms.ValidationError(" ".join(_messages(exc.details)) or str(exc.detail)) from None


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


@admin.register(CompanyApiKey)
class CompanyApiKeyAdmin(KeyAdmin):
    list_display = ["name", "company", "scope", "key", "revoked", "created_by", "last_used_at", "created_at"]
    list_filter = ["scope", RevokedFilter, ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "name", "api_key", "company__name", "created_by__email"]
    list_select_related = ["company", "created_by"]
    readonly_fields = ["id", "company", "scope", "created_by", "key", *KEY_STATE_FIELDS, "created_at"]
    fields = ["id", "name", "company", "scope", "created_by", "key", *KEY_STATE_FIELDS, "created_at"]

    def rotate(self, api_key):
        return services.api_key_rotate(api_key=api_key)

    def revoke(self, api_key):
        return services.api_key_revoke(api_key=api_key)
