from django.urls import path

from config.paths import spec_path
from integrations import api, documents, views, widget

integration = api.IntegrationViewSet.as_view

urlpatterns = [
    *spec_path("api/integrations", integration({"post": "create"}), name="api-integrations"),
    *spec_path("api/integrations/<uuid:chatbot_id>", integration({"get": "chatbot_integrations"}),
               name="api-chatbot-integrations"),
    *spec_path("api/integrations/<uuid:chatbot_id>/<uuid:pk>",
               integration({"patch": "partial_update", "delete": "destroy"}), name="api-integration"),
    *spec_path("api/integrations/<uuid:chatbot_id>/<uuid:pk>/rotate", integration({"post": "rotate"}),
               name="api-integration-rotate"),
    *spec_path("api/integrations/<uuid:chatbot_id>/<uuid:pk>/revoke", integration({"post": "revoke"}),
               name="api-integration-revoke"),
    *spec_path("api/widget/<uuid:chatbot_id>", widget.widget_script, name="widget-script"),
    *spec_path("api/embed/<uuid:chatbot_id>", widget.embed_page, name="embed-page"),
    *spec_path("api/documents/<str:token>", documents.source_document, name="source-document"),
    path("chatbots/<uuid:chatbot_id>/integrations/", views.ChatbotIntegrationsPage.as_view(),
         name="chatbot_integrations"),
]
