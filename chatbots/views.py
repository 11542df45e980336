"""Dashboard pages for chatbots: the list, and one form that creates and edits.

The form posts to its own page, which validates through the API's input serializer and saves
through the same services, so the dashboard and the API accept and refuse exactly the same input.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from chatbots import selectors, services
from chatbots.models import (
    MAX_SUGGESTED_QUESTIONS,
    SUGGESTED_QUESTION_MAX_LENGTH,
    TEMPERATURE_RANGE,
    TOP_K_RANGE,
    Chatbot,
)
from chatbots.serializers import ChatbotInputSerializer
from chatbots.theme import DEFAULT_THEME, POSITIONS, TITLE_MAX_LENGTH
from config.errors import ApiError
from datasources.models import DataSource
from datasources.selectors import data_source_list

# Fields whose one form input carries the API's value as is (the others are assembled below).
PLAIN_FIELDS = ["name", "description", "welcome_message", "personality", "instructions", "fallback_message",
                "top_k", "temperature", "model"]
MAX_LENGTHS = {
    **{field: Chatbot._meta.get_field(field).max_length for field in PLAIN_FIELDS
       if Chatbot._meta.get_field(field).max_length},
    "suggested_question": SUGGESTED_QUESTION_MAX_LENGTH,
    "theme_title": TITLE_MAX_LENGTH,
}


# Posted by the button of the warning shown when the form is saved with no data source ticked: a
# chatbot without documents answers every question with its fallback message.
CONFIRM_NO_DATA_SOURCES = "save_without_data_sources"


class ChatbotListPage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return selectors.chatbot_list(company=company)

    def get(self, request):
        return render(request, "chatbots/list.html", {
            "chatbots": self.get_queryset(),
            "has_ready_data_sources": data_source_list(company=self.company, status=DataSource.Status.READY).exists(),
        })


class ChatbotFormPage(CompanyScopedView):
    """`/chatbots/new/` creates, `/chatbots/<id>/` edits; deleting goes through the API (chatbots.js)."""

    required_capability = Capability.MANAGE_CONTENT

    def safely_get_queryset(self, company):
        return selectors.chatbot_list(company=company)

    def get(self, request, pk=None):
        chatbot = self.get_object(pk) if pk else None
        return self._render(chatbot, _current_values(chatbot), errors={})

    def post(self, request, pk=None):
        chatbot = self.get_object(pk) if pk else None
        values = _submitted_values(request.POST)
        data = ChatbotInputSerializer(data=values)
        if not data.is_valid():
            return self._render(chatbot, values, errors=data.errors)
        if not values["data_source_ids"] and CONFIRM_NO_DATA_SOURCES not in request.POST:
            return self._render(chatbot, values, errors={}, confirm_no_data_sources=True)
        try:
            if chatbot is None:
                chatbot = services.chatbot_create(company=self.company, **data.validated_data)
            else:
                chatbot = services.chatbot_update(chatbot=chatbot, **data.validated_data)
        except ApiError as exc:
            return self._render(chatbot, values, errors=exc.details)
        messages.success(request, f"Chatbot “{chatbot.name}” saved.")
        return redirect("chatbot_edit", pk=chatbot.pk)

    def _render(self, chatbot: Chatbot | None, values: dict, *, errors: dict, confirm_no_data_sources=False):
        questions = values["suggested_questions"][:MAX_SUGGESTED_QUESTIONS]
        picker = _picker(self.company, chatbot, checked=set(values["data_source_ids"]))
        return render(self.request, "chatbots/form.html", {
            "chatbot": chatbot,
            "values": values,
            "errors": {field: _messages(problems) for field, problems in errors.items()},
            "confirm_no_data_sources": confirm_no_data_sources,
            "question_inputs": questions + [""] * (MAX_SUGGESTED_QUESTIONS - len(questions)),
            "picker": picker,
            "any_ready": any(source["status"] == DataSource.Status.READY for source in picker),
            # Personality, instructions and temperature shape what a language model writes; without one
            # answers are quoted passages, and the form says so beside those fields.
            "language_model": settings.ANSWER_BACKEND == "openai",
            "personalities": Chatbot.Personality.choices,
            "positions": POSITIONS,
            "max_lengths": MAX_LENGTHS,
            "top_k_range": TOP_K_RANGE,
            "temperature_range": TEMPERATURE_RANGE,
            "default_model": settings.OPENAI_CHAT_MODEL,
            "source_documents_field": Chatbot._meta.get_field("show_source_documents"),
        })


def _current_values(chatbot: Chatbot | None) -> dict:
    """The form's values in the API's input shape: a new chatbot's defaults, or the saved ones."""
    data_source_ids = [str(source.id) for source in chatbot.data_sources.all()] if chatbot else []
    chatbot = chatbot or Chatbot()
    return {
        **{field: getattr(chatbot, field) for field in PLAIN_FIELDS},
        "is_active": chatbot.is_active,
        "show_source_documents": chatbot.show_source_documents,
        "suggested_questions": list(chatbot.suggested_questions),
        "theme": chatbot.theme_with_defaults,
        "data_source_ids": data_source_ids,
    }


def _submitted_values(post) -> dict:
    return {
        **{field: post.get(field, "") for field in PLAIN_FIELDS},
        "is_active": "is_active" in post,
        "show_source_documents": "show_source_documents" in post,
        "suggested_questions": [question for question in post.getlist("suggested_questions") if question.strip()],
        "theme": {key: post[f"theme_{key}"] for key in DEFAULT_THEME if f"theme_{key}" in post},
        "data_source_ids": post.getlist("data_source_ids"),
    }


def _picker(company, chatbot: Chatbot | None, *, checked: set[str]) -> list[dict]:
    """Every data source of the company with its status; ready ones can be picked, and ones the
    chatbot already uses stay pickable (so saving keeps them) whatever their status."""
    linked = {str(source.id) for source in chatbot.data_sources.all()} if chatbot else set()
    return [{
        "id": str(source.id), "name": source.name, "status": source.status, "stage": source.stage,
        "progress": source.progress, "error_message": source.error_message,
        "checked": str(source.id) in checked,
        "selectable": source.status == DataSource.Status.READY or str(source.id) in linked,
    } for source in data_source_list(company=company)]


def _messages(problems) -> list[str]:
    """Error details (lists, or dicts for list items) as flat messages to show beside a field."""
    if isinstance(problems, dict):
        return [message for item in problems.values() for message in _messages(item)]
    if isinstance(problems, list):
        return [message for item in problems for message in _messages(item)]
    return [str(problems)]
