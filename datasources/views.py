from django.conf import settings
from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from datasources import selectors
from datasources.embedders import get_embedder
from datasources.models import DataSource
from datasources.sandbox import ocr_notices
from datasources.serializers import DataSourceSerializer


class FilesPage(CompanyScopedView):
    """Upload files and watch them process; delete and reprocess them."""

    def get(self, request):
        data_sources = selectors.data_source_list(company=self.company)
        return render(request, "datasources/files.html", {
            "data_sources": DataSourceSerializer(data_sources, many=True).data,
            # The next step, offered once a file is ready (files.js shows it when one becomes ready
            # while the page is open). Whether the company has chatbots is not this app's to know.
            "any_ready": selectors.data_source_list(company=self.company, status=DataSource.Status.READY).exists(),
            "max_upload_mb": settings.MAX_UPLOAD_MB,
            "lexical_only": not get_embedder().enabled,
            "ocr_notices": ocr_notices(),
            "website_pages": self.company.limits["website_pages"],
            "recrawl_hours": settings.WEBSITE_RECRAWL_HOURS,
        })
