"""Dashboard pages: a chatbot's integrations, and the company's API keys.

The pages render what the API returns; their buttons and forms call the same API
(static/js/integrations.js), so the dashboard and the API accept and refuse the same things.
"""

from django.shortcuts import render

from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from chatbots.selectors import chatbot_list
from integrations import selectors, services
from integrations.access import site_origin
from integrations.models import CompanyApiKey, Integration
from integrations.snippets import snippets


class ChatbotIntegrationsPage(CompanyScopedView):
    """Snippets to copy, allowed origins, keys to rotate or revoke, for one chatbot."""

    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, chatbot_id):
        chatbot = self.get_object(chatbot_id)
        services.ensure_widget_integration(chatbot=chatbot)
        integrations = list(selectors.integration_list(company=self.company, chatbot_id=chatbot.id))
        present = {integration.type for integration in integrations}
        return render(request, "integrations/chatbot_integrations.html", {
            "chatbot": chatbot,
            "can_manage": request.user.can(Capability.MANAGE_INTEGRATIONS),
            "cards": [{"integration": integration, "snippets": snippets(integration, origin=site_origin(request))}
                      for integration in integrations],
            "addable_types": [(value, label) for value, label in Integration.Type.choices if value not in present],
            "max_allowed_origins": services.MAX_ALLOWED_ORIGINS,
            "grace_hours": services.grace_hours(),
        })


class ApiKeysPage(CompanyScopedView):
    """The company's API keys: create (shown once), rotate, revoke, delete."""

    required_capability = Capability.MANAGE_KEYS

    def safely_get_queryset(self, company):
        return selectors.api_key_list(company=company)

    def get(self, request):
        return render(request, "integrations/api_keys.html", {
            "api_keys": self.get_queryset(),
            "scopes": CompanyApiKey.Scope.choices,
            "origin": site_origin(request),
            "grace_hours": services.grace_hours(),
        })
