"""Ready-to-paste code for an integration: the script tag, the iframe tag, a curl call of the chat API."""

import json

from django.utils.html import escape

from integrations.models import Integration

API_KEY_VARIABLE = "DOCENT_API_KEY"
EXAMPLE_QUESTION = "What can you help me with?"


def snippets(integration: Integration, *, origin: str) -> dict[str, str]:
    """The snippet of the integration's type, keyed by kind; none for a revoked integration."""
    if integration.is_revoked:
        return {}
    chatbot_id = integration.chatbot_id
    if integration.type == Integration.Type.WIDGET:
        return {"script": f'<script src="{origin}/api/widget/{chatbot_id}" data-key="{integration.api_key}" '
                          f'async></script>'}
    if integration.type == Integration.Type.IFRAME:
        title = escape(f"{integration.chatbot.name} chat")
        return {"iframe": f'<iframe src="{origin}/api/embed/{chatbot_id}?key={integration.api_key}" '
                          f'title="{title}" width="400" height="600" style="border:0" loading="lazy"></iframe>'}
    body = json.dumps({"chatbot_id": str(chatbot_id), "message": EXAMPLE_QUESTION})
    return {"curl": (f"# {API_KEY_VARIABLE} holds your secret key ({integration.key_preview}), shown once\n"
                     f"curl -X POST {origin}/api/chat \\\n"
                     f'  -H "Authorization: Bearer ${API_KEY_VARIABLE}" \\\n'
                     f'  -H "Content-Type: application/json" \\\n'
                     f"  -d '{body}'")}



