"""Writes for chatbots: create, update, delete."""

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from accounts.models import Company
from chatbots.models import Chatbot
from chatbots.theme import merge_theme
from config.errors import ApiError
from config.sockets import access_changed
from datasources.models import DataSource
from datasources.selectors import data_source_list


@transaction.atomic
def chatbot_create(*, company: Company, name: str, data_source_ids: Iterable[UUID] = (), theme: dict | None = None,
                   **fields) -> Chatbot:
    """A chatbot of the company, answering from the given ready data sources of that company."""
    data_sources = _data_sources_to_link(company=company, ids=data_source_ids, linked=set())
    chatbot = Chatbot.objects.create(company=company, name=name, theme=merge_theme(theme), **fields)
    chatbot.data_sources.set(data_sources)
    return chatbot


@transaction.atomic
def chatbot_update(*, chatbot: Chatbot, data_source_ids: Iterable[UUID] | None = None, theme: dict | None = None,
                   **fields) -> Chatbot:
    """Change the given fields; `theme` settings merge over the current ones, `data_source_ids`
    replaces the list. Data sources linked already stay accepted whatever their status (one being
    reprocessed is still the chatbot's); new ones must be ready."""
    if data_source_ids is not None:
        linked = set(chatbot.data_sources.values_list("id", flat=True))
        chatbot.data_sources.set(_data_sources_to_link(company=chatbot.company, ids=data_source_ids, linked=linked))
    if theme is not None:
        fields["theme"] = merge_theme(chatbot.theme, theme)
    for name, value in fields.items():
        setattr(chatbot, name, value)
    chatbot.save()
    if fields.get("is_active") is False:
        access_changed("chatbot", chatbot.id)  # its open chat sockets close
    return chatbot


def chatbot_delete(*, chatbot: Chatbot) -> None:
    """Delete the chatbot with its data-source links and its integrations (the spec's cascades).

    Its data sources stay: other chatbots may use them. Its conversations are kept for analytics:
    the chat issue adds them with `on_delete=SET_NULL` and a copy of the chatbot's name. Its open
    chat sockets close.
    """
    access_changed("chatbot", chatbot.id)
    chatbot.delete()


def _data_sources_to_link(*, company: Company, ids: Iterable[UUID], linked: set[UUID]) -> list[DataSource]:
    """The company's data sources with these ids; another company's id reads as unknown, like a
    missing one, so a reply never tells that it exists."""
    ids = list(dict.fromkeys(ids))
    found = {source.id: source for source in data_source_list(company=company).filter(id__in=ids)}
    problems = []
    for data_source_id in ids:
        source = found.get(data_source_id)
        if source is None:
            problems.append(f"{data_source_id}: no such data source in your company.")
        elif source.status != DataSource.Status.READY and data_source_id not in linked:
            problems.append(f"{data_source_id} ({source.name}) is {source.status}: only ready data sources "
                            "can be added.")
    if problems:
        raise ApiError("Some fields are invalid; see details.", code="invalid", details={"data_source_ids": problems})
    return [found[data_source_id] for data_source_id in ids]
