from django.contrib import admin

from datasources.models import DataSource


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "status", "size", "company", "created_at"]
    list_filter = ["status", "type", "created_at"]
    search_fields = ["name", "id", "company__name"]
    list_select_related = ["company"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["company"]
