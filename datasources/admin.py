from django.contrib import admin, messages

from config.admin import ReadOnlyAdmin
from datasources import services
from datasources.models import Chunk, DataSource, WebPage


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "status", "stage", "progress", "chunk_count", "company", "short_error",
                    "created_at"]
    list_filter = ["status", "type", "embedding_model", "created_at"]
    search_fields = ["name", "id", "sha256", "company__name", "error_message"]
    list_select_related = ["company"]
    autocomplete_fields = ["company", "uploaded_by"]
    readonly_fields = [field.name for field in DataSource._meta.fields if field.name not in {"name"}]
    actions = ["reprocess", "extract_again"]

    @admin.display(description="error")
    def short_error(self, data_source):
        return data_source.error_message[:80]

    @admin.action(description="Reprocess the selected data sources")
    def reprocess(self, request, queryset):
        for data_source in queryset:
            services.datasource_reprocess(data_source=data_source)
        self.message_user(request, f"Queued {queryset.count()} data source(s) for processing.", messages.SUCCESS)

    @admin.action(description="Extract the selected data sources again, keeping them online")
    def extract_again(self, request, queryset):
        queued = services.datasource_refresh(data_sources=queryset)
        self.message_user(request, f"Queued {queued} ready data source(s) to be extracted again; each keeps "
                                   "answering from its current chunks until its new ones are indexed.",
                          messages.SUCCESS)

    def has_add_permission(self, request):
        return False  # files and websites arrive through the API and dashboard, which validate them

    def delete_model(self, request, data_source):
        services.datasource_delete(data_source=data_source)

    def delete_queryset(self, request, queryset):
        for data_source in queryset:
            services.datasource_delete(data_source=data_source)


@admin.register(Chunk)
class ChunkAdmin(ReadOnlyAdmin):
    list_display = ["id", "data_source", "position", "token_count", "company"]
    list_filter = ["data_source__type"]
    search_fields = ["id", "text", "data_source__name"]
    list_select_related = ["data_source", "company"]
    exclude = ["embedding"]
    readonly_fields = ["id", "company", "data_source", "position", "text", "metadata", "token_count", "created_at"]


@admin.register(WebPage)
class WebPageAdmin(ReadOnlyAdmin):
    list_display = ["url", "title", "data_source", "fetched_at", "changed_at"]
    search_fields = ["url", "title", "data_source__name"]
    list_select_related = ["data_source"]
    readonly_fields = ["id", "data_source", "url", "title", "text", "content_hash", "fetched_at", "changed_at"]
