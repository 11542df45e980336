"""Ready-to-paste code for an integration: the script tag, the iframe tag, a curl call of the chat API."""

import json

from django.utils.html import escape

from integrations.models import Integration

API_KEY_VARIABLE = "DOCENT_API_KEY"
EXAMPLE_QUESTION = "What can you help me with?"


def snippets(integration: Integration, *, origin: str) -> dict[str, str]:
    """The snippets of the integration's type, keyed by kind; none for a revoked integration.

    A widget's publishable key also opens the iframe page, so a widget gets both tags: one key
    whichever way the site embeds the chatbot."""
    if integration.is_revoked:
        return {}
    if integration.type == Integration.Type.WIDGET:
        return {"script": _script_tag(integration, origin=origin), "iframe": _iframe_tag(integration, origin=origin)}
    if integration.type == Integration.Type.IFRAME:
        return {"iframe": _iframe_tag(integration, origin=origin)}
    return {"curl": curl_call(integration.chatbot, origin=origin,
                              key_note=f"your secret key ({integration.key_preview}), shown once")}


def curl_call(chatbot, *, origin: str, key_note: str = "a secret key of an API integration") -> str:
    """The chat API called from a server; the key is read from a variable, never written in the code."""
    body = json.dumps({"chatbot_id": str(chatbot.id), "message": EXAMPLE_QUESTION})
    return (f"# {API_KEY_VARIABLE} holds {key_note}\n"
            f"curl -X POST {origin}/api/chat \\\n"
            f'  -H "Authorization: Bearer ${API_KEY_VARIABLE}" \\\n'
            f'  -H "Content-Type: application/json" \\\n'
            f"  -d '{body}'")


def _script_tag(integration: Integration, *, origin: str) -> str:
    return (f'<script src="{origin}/api/widget/{integration.chatbot_id}" data-key="{integration.api_key}" '
            f'async></script>')


def _iframe_tag(integration: Integration, *, origin: str) -> str:
    title = escape(f"{integration.chatbot.name} chat")
    return (f'<iframe src="{origin}/api/embed/{integration.chatbot_id}?key={integration.api_key}" '
            f'title="{title}" width="400" height="600" style="border:0" loading="lazy"></iframe>')
