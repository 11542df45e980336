from django.conf import settings
from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from datasources import selectors
from datasources.embedders import get_embedder
from datasources.serializers import DataSourceSerializer


class FilesPage(CompanyScopedView):
    """Upload files and watch them process; delete and reprocess them."""

    def get(self, request):
        data_sources = selectors.data_source_list(company=self.company)
        return render(request, "datasources/files.html", {
            "data_sources": DataSourceSerializer(data_sources, many=True).data,
            "max_upload_mb": settings.MAX_UPLOAD_MB,
            "lexical_only": not get_embedder().enabled,
        })
