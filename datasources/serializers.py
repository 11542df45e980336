from rest_framework import serializers

from datasources.models import DataSource


class DataSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSource
        fields = [
            "id", "name", "type", "size", "status", "stage", "progress", "error_message",
            "page_count", "row_count", "chunk_count", "embedding_model", "embedding_dimension",
            "sha256", "version", "storage_path", "pinecone_namespace", "attempts", "timings",
            "created_at", "processing_started_at", "processed_at", "updated_at",
            "source_url", "crawl_site", "crawl_report",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=True, required=False,
                                  help_text="One or several files (the field may be repeated).")
    new_version = serializers.BooleanField(default=False, help_text=(
        "If a file with the same content was uploaded before, store it as a new version "
        "instead of returning the existing record."))


class UploadResultSerializer(serializers.Serializer):
    data_sources = DataSourceSerializer(many=True)
    duplicates = serializers.ListField(child=serializers.UUIDField(), help_text=(
        "Ids among data_sources that already existed with the same content (nothing new was stored)."))
    rejected = serializers.ListField(child=serializers.DictField(), help_text=(
        "Files that were refused, each {file_name, error: {code, message}}."))


class ProcessFileSerializer(serializers.Serializer):
    data_source_id = serializers.UUIDField()


class WebsiteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text=(
        "The page to read, or where the crawl starts (http or https)."))
    crawl = serializers.BooleanField(default=False, help_text=(
        "Follow links and the sitemap to the pages under this URL (same host and path prefix, as robots.txt "
        "allows, up to your plan's page limit); false reads this one page."))
