"""Chatbots with widget and iframe integrations, for the widget, embed, CORS and browser tests."""

from accounts import keys
from chatbots.models import Chatbot
from integrations.middleware import forget_cors_origins
from integrations.models import Integration

BRAND_RED = "#d92d20"
WELCOME = "Hello! Ask me about **Acme** products."
QUESTIONS = ["What does shipping cost?", "How do returns work?"]


def make_chatbot(company, **fields) -> Chatbot:
    values = {"name": "Acme Help", "welcome_message": WELCOME, "suggested_questions": QUESTIONS,
              "theme": {"primary_color": BRAND_RED, "title": "Acme assistant"}, **fields}
    return Chatbot.objects.create(company=company, **values)


def make_integration(chatbot, *, origins=(), type=Integration.Type.WIDGET, **fields) -> Integration:
    integration = Integration.objects.create(chatbot=chatbot, company=chatbot.company, type=type,
                                             api_key=keys.new_publishable(),
                                             settings={"allowed_origins": list(origins)}, **fields)
    forget_cors_origins()  # CORS follows at once, not when the cached origins expire
    return integration
