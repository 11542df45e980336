from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from config.paths import spec_path
from config.public import public

urlpatterns = [
    path("admin/", admin.site.urls),
    *spec_path("healthz", health.healthz, name="healthz"),
    *spec_path("readyz", health.readyz, name="readyz"),
    path("api/schema/", public("the OpenAPI schema documents the API and holds no data")(
        SpectacularAPIView.as_view()), name="api-schema"),
    path("api/docs/", public("the API documentation page holds no data")(
        SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("accounts.urls")),
    path("", include("datasources.urls")),
    path("", include("chatbots.urls")),
    path("", include("integrations.urls")),
    path("", include("chat.urls")),
    path("", include("analytics.urls")),
    path("", include("webhooks.urls")),
]

handler400 = "config.error_handlers.bad_request"
handler403 = "config.error_handlers.permission_denied"
handler404 = "config.error_handlers.not_found"
handler500 = "config.error_handlers.server_error"
