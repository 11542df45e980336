"""Webhooks for superusers: endpoints (switch on or off, never a secret) and their delivery log (read only)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from webhooks.models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "company", "enabled", "consecutive_failures", "created_at"]
    list_filter = ["enabled", ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "url", "company__name"]
    list_select_related = ["company"]
    fields = ["id", "company", "url", "description", "events", "enabled", "disabled_reason", "consecutive_failures",
              "secret", "previous_valid_until", "created_by", "created_at", "updated_at"]
    readonly_fields = ["id", "company", "url", "events", "disabled_reason", "consecutive_failures", "secret",
                       "previous_valid_until", "created_by", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # made by the API or the dashboard, which show its secret once

    @admin.display(description="signing secret")
    def secret(self, endpoint):
        return f"whsec_…{endpoint.secret_last_four} (stored encrypted)"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_code", "last_attempt_at", "company"]
    list_filter = ["status", ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "event__id", "endpoint__url", "company__name"]
    list_select_related = ["event", "endpoint", "company"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "company", "created_at"]
    list_filter = ["type", ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "company__name"]
