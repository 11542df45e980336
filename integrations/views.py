"""Dashboard page: a chatbot's integrations.

The pages render what the API returns; their buttons and forms call the same API
(static/js/integrations.js), so the dashboard and the API accept and refuse the same things.
"""

from django.shortcuts import render

from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from accounts.services import grace_hours
from chatbots.selectors import chatbot_list
from integrations import selectors, services
from integrations.access import site_origin
from integrations.models import Integration
from integrations.refusals import recent_refusals
from integrations.snippets import curl_call, snippets


class ChatbotIntegrationsPage(CompanyScopedView):
    """Snippets to copy, allowed origins, keys to rotate or revoke, for one chatbot."""

    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, chatbot_id):
        chatbot = self.get_object(chatbot_id)
        services.ensure_widget_integration(chatbot=chatbot)
        integrations = list(selectors.integration_list(company=self.company, chatbot_id=chatbot.id))
        present = {integration.type for integration in integrations}
        origin = site_origin(request)
        return render(request, "integrations/chatbot_integrations.html", {
            "chatbot": chatbot,
            "can_manage": request.user.can(Capability.MANAGE_INTEGRATIONS),
            "cards": [{"integration": integration, "snippets": snippets(integration, origin=origin),
                       "refusals": recent_refusals(integration=integration) if integration.is_publishable else []}
                      for integration in integrations],
            # Until the chatbot has an API integration, the call it would make, with a placeholder
            # for the key: a secret key is made only when staff ask for one.
            "curl_example": None if Integration.Type.API in present else curl_call(chatbot, origin=origin),
            "addable_types": [(value, label) for value, label in Integration.Type.choices if value not in present],
            "max_allowed_origins": services.MAX_ALLOWED_ORIGINS,
            "grace_hours": grace_hours(),
        })
