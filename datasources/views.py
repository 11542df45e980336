from django.conf import settings
from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from chatbots.selectors import chatbot_list
from datasources import selectors
from datasources.embedders import get_embedder
from datasources.models import DataSource
from datasources.serializers import DataSourceSerializer


class FilesPage(CompanyScopedView):
    """Upload files and watch them process; delete and reprocess them."""

    def get(self, request):
        data_sources = selectors.data_source_list(company=self.company)
        return render(request, "datasources/files.html", {
            "data_sources": DataSourceSerializer(data_sources, many=True).data,
            # The next step of a company's first hour, offered once a file is ready (files.js shows it
            # when one becomes ready while the page is open).
            "offer_first_chatbot": not chatbot_list(company=self.company).exists(),
            "any_ready": selectors.data_source_list(company=self.company, status=DataSource.Status.READY).exists(),
            "max_upload_mb": settings.MAX_UPLOAD_MB,
            "lexical_only": not get_embedder().enabled,
        })
