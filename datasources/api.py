from pathlib import Path

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.scoping import CompanyScopedAPIView, CompanyScopedViewSet
from config.errors import ApiError, error_body
from datasources import selectors, services
from datasources.models import DataSource
from datasources.serializers import (
    DataSourceSerializer,
    ProcessFileSerializer,
    UploadResultSerializer,
    UploadSerializer,
    WebsiteSerializer,
)


class UploadView(CompanyScopedAPIView):
    """Upload one or several files; each becomes a data source processed in the background."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = UploadSerializer

    def safely_get_queryset(self, company):
        return selectors.data_source_list(company=company)

    @extend_schema(request=UploadSerializer, responses={201: UploadResultSerializer, 200: UploadResultSerializer})
    def post(self, request):
        options = UploadSerializer(data={"new_version": request.data.get("new_version", False)})
        options.is_valid(raise_exception=True)
        uploads = request.FILES.getlist("files") + request.FILES.getlist("file")
        rejected = [(name, services.too_large(name)) for name in getattr(request._request, "oversized_uploads", [])]
        if not uploads and not rejected:
            raise ApiError("Attach one or more files in the `files` field.", code="no_files")
        outcomes = []
        for upload in uploads:
            try:
                outcomes.append(services.datasource_upload(
                    company=self.company, user=request.user, path=Path(upload.temporary_file_path()),
                    name=upload.name, new_version=options.validated_data["new_version"]))
            except ApiError as exc:
                rejected.append((upload.name, exc))
        if not outcomes:
            return _all_rejected(rejected)
        body = {
            "data_sources": DataSourceSerializer([o.data_source for o in outcomes], many=True).data,
            "duplicates": [str(o.data_source.id) for o in outcomes if not o.created],
            "rejected": [_rejection(name, exc) for name, exc in rejected],
        }
        created = any(o.created for o in outcomes)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _rejection(name: str, exc: ApiError) -> dict:
    return {"file_name": name, "error": {"code": exc.code, "message": exc.message}}


def _all_rejected(rejected: list[tuple[str, ApiError]]) -> Response:
    details = {"rejected": [_rejection(name, exc) for name, exc in rejected]}
    if len(rejected) == 1:
        exc = rejected[0][1]
        return Response(error_body(exc.code, exc.message, details), status=exc.status_code)
    return Response(error_body("files_rejected", "None of the files was accepted; see details.", details),
                    status=422)


class WebsiteView(CompanyScopedAPIView):
    """Add a website as a data source: one page, or the site under a URL; the worker crawls it."""

    serializer_class = WebsiteSerializer

    def safely_get_queryset(self, company):
        return selectors.data_source_list(company=company)

    @extend_schema(request=WebsiteSerializer, responses={201: DataSourceSerializer})
    def post(self, request):
        data = WebsiteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data_source = services.datasource_add_website(company=self.company, user=request.user,
                                                      url=data.validated_data["url"],
                                                      crawl_site=data.validated_data["crawl"])
        return Response(DataSourceSerializer(data_source).data, status=status.HTTP_201_CREATED)


class ProcessFileView(CompanyScopedAPIView):
    """(Re)process a data source. Idempotent: a run already queued or going on is left alone."""

    serializer_class = ProcessFileSerializer

    def safely_get_queryset(self, company):
        return selectors.data_source_list(company=company)

    @extend_schema(request=ProcessFileSerializer, responses={202: DataSourceSerializer})
    def post(self, request):
        data = ProcessFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.kwargs["pk"] = data.validated_data["data_source_id"]
        data_source = services.datasource_reprocess(data_source=self.get_object())
        return Response(DataSourceSerializer(data_source).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(parameters=[OpenApiParameter("status", str, enum=["processing", "ready", "error"])])
class FileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, CompanyScopedViewSet):
    """The company's data sources: status, progress, stage, counts, model, error, timings."""

    serializer_class = DataSourceSerializer
    queryset = DataSource.objects.none()  # typed schema only; requests go through safely_get_queryset

    def safely_get_queryset(self, company):
        status_filter = self.request.query_params.get("status") or None
        if status_filter not in (None, *DataSource.Status.values):
            raise ApiError(f"Unknown status {status_filter!r}: use processing, ready or error.", code="invalid")
        return selectors.data_source_list(company=company, status=status_filter)

    def perform_destroy(self, instance):
        services.datasource_delete(data_source=instance)

    @extend_schema(request=None, responses={202: DataSourceSerializer})
    @action(detail=True, methods=["post"])
    def recrawl(self, request, pk=None):
        """Crawl a website again now; only its changed pages are embedded again."""
        data_source = services.datasource_recrawl(data_source=self.get_object())
        return Response(DataSourceSerializer(data_source).data, status=status.HTTP_202_ACCEPTED)
