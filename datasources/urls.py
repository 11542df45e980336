from django.urls import path

from config.paths import SpecRouter, spec_path
from datasources import api, views

router = SpecRouter()
router.register("api/files", api.FileViewSet, basename="file")

urlpatterns = [
    *spec_path("api/upload", api.UploadView.as_view(), name="api-upload"),
    *spec_path("api/websites", api.WebsiteView.as_view(), name="api-websites"),
    *spec_path("api/process-file", api.ProcessFileView.as_view(), name="api-process-file"),
    *router.urls,
    path("files/", views.FilesPage.as_view(), name="files"),
]
