from django.urls import path

from config.paths import SpecRouter
from webhooks import api, views

router = SpecRouter()
router.register("api/webhooks", api.EndpointViewSet, basename="api-webhook")

urlpatterns = [
    *router.urls,
    path("settings/webhooks/", views.WebhooksPage.as_view(), name="webhooks"),
    path("settings/webhooks/<uuid:pk>/", views.EndpointPage.as_view(), name="webhook_endpoint"),
]
