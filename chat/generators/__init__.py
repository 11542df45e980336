"""Generators write an answer from a prompt, streamed: a small protocol, one module per backend.

`ANSWER_BACKEND` chooses one: `extractive` (the default when no chat model is configured) quotes
the sentences of the passages that best answer the question, so it cannot invent a figure;
`openai` streams a chat model's answer from OpenAI or any server speaking its API.
"""

import dataclasses
from collections.abc import AsyncIterator
from typing import Protocol

from django.conf import settings

from chat.context import Prompt
from config.backends import configured

BACKENDS = {
    "extractive": "chat.generators.extractive.ExtractiveGenerator",
    "openai": "chat.generators.openai.OpenAIGenerator",
}


# An answer's text goes out in one `token` frame or event per this many seconds at most (chat.services). A model
# writing 100 tokens a second would otherwise cost 100 frames a second per visitor, each a fixed slice of the
# web process's CPU (JSON, Channels, the socket), for a difference no reader can see.
TOKEN_FRAME_SECONDS = 0.04


class GenerationError(Exception):
    """Writing the answer failed; the message is worded for the visitor and the company's staff."""


class Generation(Protocol):
    """One answer being written."""

    mode: str  # "extractive" or "openai": stored on the message and told to the client
    model: str  # "" for extractive
    prompt_tokens: int  # final once iteration ends
    completion_tokens: int
    # Final once iteration ends: False when the answer says the documents do not support one (the
    # extractive backend's weak support), so the message is counted as unanswered.
    answered: bool

    def __aiter__(self) -> AsyncIterator[str]:
        """The answer's text in pieces, in order; raises GenerationError when writing fails."""


class Generator(Protocol):
    mode: str
    model: str  # the model it writes with; "" when it uses none

    def generate(self, *, prompt: Prompt, question: str, chatbot) -> Generation: ...

    def prepare(self) -> None:
        """Load now what a process's first answer would wait for (config.startup calls it as a web process starts)."""


def get_generator(chatbot=None) -> Generator:
    """The configured backend; a chatbot that names its own model writes with that one instead of
    OPENAI_CHAT_MODEL (where the backend uses a model at all)."""
    generator = configured(BACKENDS, settings.ANSWER_BACKEND)
    if chatbot is not None and chatbot.model and generator.model:
        return dataclasses.replace(generator, model=chatbot.model)
    return generator
