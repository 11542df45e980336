"""Asking a chatbot: a question becomes a stored turn of a conversation and a stream of answer events.

`answer_events` is the one flow behind POST /api/chat, the SSE stream and the WebSocket consumer:
retrieve the chatbot's passages, build the prompt, stream the generator's words, then name the
sources and store the answer with its latency, tokens and mode. The answer is stored whatever
happens: when the generator fails or the visitor leaves mid-way, what was written so far is
kept, marked interrupted. A conversation's first question asked before of the same chatbot, its
documents and settings unchanged, is answered from the answer cache (chat/answer_cache.py) in
the same events, and stored marked cached.
"""

import asyncio
import functools
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat import answer_cache
from chat.context import MAX_VISITOR_CONTEXT_CHARS, Prompt, build_prompt
from chat.generators import TOKEN_FRAME_SECONDS, Generation, GenerationError, get_generator
from chat.models import MAX_VISITOR_ID_LENGTH, Conversation, ImprovedAnswer, Message
from chat.retrieval import Passage, Scope
from chat.selectors import chatbot_conversation
from chatbots.models import Chatbot
from config import rls
from config.errors import ApiError, error_body
from datasources.chunk_format import markdown_passage
from datasources.services import datasource_write_text
from integrations.documents import DocumentLinks, document_links
from integrations.models import Integration
from webhooks.models import EventType
from webhooks.services import emit

logger = logging.getLogger(__name__)

# Retrieval and storage run in worker threads, not one shared thread, so many conversations at
# once do not queue behind each other; each call closes the connections it used. One pool serves
# both: retrieval got a pool of its own (two or six threads) in bench/chat_load.py, and the cheap
# steps then waited less, but the first token came later and each question cost more CPU.
in_thread = functools.partial(database_sync_to_async, thread_sensitive=False)

_CITATION_MARK = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class Asker:
    """Who asks which chatbot, through what: decides the conversation's channel and who may continue it."""

    chatbot: Chatbot
    channel: str  # a Conversation.Channel
    integration: Integration | None = None
    staff_user: object | None = None
    visitor_id: str = ""  # for analytics only: the visitor's browser sends whatever it likes
    origin: str = ""  # Docent's own origin as the asker reached it, where links to cited documents point

    @property
    def is_visitor(self) -> bool:
        """A publishable key, which every visitor of the site holds: a conversation's secret tells them apart."""
        return self.integration is not None and self.integration.is_publishable


@dataclass(frozen=True)
class Question:
    message: str
    session_id: str = ""
    conversation_secret: str = ""
    visitor_id: str = ""
    context: str = ""


@dataclass(frozen=True)
class Event:
    type: str  # "token", "sources", "done" or "error"
    data: dict

    def as_dict(self) -> dict:
        return {"type": self.type, **self.data}


def parse_question(data) -> Question:
    """The question in a request body or WebSocket frame, checked; an ApiError naming what is wrong.
    Its text is valid Unicode without NUL already: config.jsontext refused any other body or frame."""
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object.", code="invalid")
    errors = {}
    fields = {name: data.get(name) if data.get(name) is not None else "" for name in
              ("message", "session_id", "conversation_secret", "visitor_id", "context")}
    for name, value in fields.items():
        if not isinstance(value, str):
            errors[name] = ["Must be text."]
    message = fields["message"].strip() if isinstance(fields["message"], str) else ""
    if "message" not in errors and not message:
        errors["message"] = ["Write a question."]
    elif len(message) > settings.CHAT_MAX_MESSAGE_CHARS:
        errors["message"] = [f"Keep questions under {settings.CHAT_MAX_MESSAGE_CHARS} characters "
                             f"(this one has {len(message)})."]
    limits = {"session_id": 100, "conversation_secret": 100, "visitor_id": MAX_VISITOR_ID_LENGTH,
              "context": MAX_VISITOR_CONTEXT_CHARS}
    for name, limit in limits.items():
        if name not in errors and len(fields[name]) > limit:
            errors[name] = [f"At most {limit} characters."]
    if errors:
        raise ApiError("Some fields are invalid; see details.", code="invalid", details=errors)
    return Question(message=message, session_id=fields["session_id"].strip(),
                    conversation_secret=fields["conversation_secret"].strip(),
                    visitor_id=fields["visitor_id"].strip(), context=fields["context"].strip())


# --- Conversations ------------------------------------------------------------------------

def conversation_to_continue(asker: Asker, question: Question) -> Conversation | None:
    """The asker's own conversation the question names; None for an unknown or someone else's."""
    if not question.session_id:
        return None
    conversation = chatbot_conversation(chatbot=asker.chatbot, session_id=question.session_id)
    if conversation is None or not _belongs_to(conversation, asker, question.conversation_secret):
        return None
    return conversation


def _belongs_to(conversation: Conversation, asker: Asker, secret: str) -> bool:
    if asker.integration is not None:
        return integration_holds(asker, conversation, secret)
    return conversation.integration_id is None and asker.staff_user is not None


def integration_holds(asker: Asker, conversation: Conversation, secret: str) -> bool:
    """Whether a key's holder may read and continue the conversation: a server's secret key, all of its
    integration's; a visitor's publishable key, only the one whose secret the visitor was given."""
    if asker.integration is None or conversation.integration_id != asker.integration.id:
        return False
    return not asker.is_visitor or conversation.opens_with(secret)


@dataclass
class Turn:
    conversation: Conversation
    question: Message
    history: list[tuple[str, str]]
    secret: str = ""  # a new visitor conversation's secret, given to the visitor with this turn's answer only
    started: float = field(default_factory=time.monotonic)

    def session(self) -> dict:
        """What each answer event carries for the asker to continue the conversation."""
        if self.secret:
            return {"session_id": self.conversation.session_id, "conversation_secret": self.secret}
        return {"session_id": self.conversation.session_id}


@transaction.atomic
def begin_turn(asker: Asker, question: Question) -> Turn:
    """Store the question in the asker's conversation (a new one unless theirs was named)."""
    conversation = conversation_to_continue(asker, question)
    if conversation is not None:
        earlier = list(conversation.messages.order_by("-created_at").values_list("role", "content")
                       [: settings.CHAT_HISTORY_TURNS * 2])
        message = _store(conversation, role=Message.Role.USER, content=question.message)
        return Turn(conversation=conversation, question=message, history=earlier[::-1])
    now, secret = timezone.now(), ""
    conversation = Conversation(
        company_id=asker.chatbot.company_id, chatbot=asker.chatbot, chatbot_name=asker.chatbot.name,
        channel=asker.channel, integration=asker.integration, staff_user=asker.staff_user,
        visitor_id=asker.visitor_id, created_at=now, updated_at=now)
    if asker.is_visitor:
        secret = conversation.issue_secret()
    conversation.save(force_insert=True)
    message = _store(conversation, role=Message.Role.USER, content=question.message, at=now)
    return Turn(conversation=conversation, question=message, history=[], secret=secret)


def _store(conversation: Conversation, *, at=None, **fields) -> Message:
    """A message of the conversation, which is marked updated at its time; `at`: the time the conversation was
    written with already (a new one's first message)."""
    now = at or timezone.now()
    message = Message.objects.create(conversation=conversation, company_id=conversation.company_id,
                                     chatbot_id=conversation.chatbot_id, created_at=now, **fields)
    if at is None:
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    return message


@dataclass
class Answer:
    """An answer as it is being written."""

    mode: str = ""
    model: str = ""
    passages: list[Passage] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    first_token_ms: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answered: bool = True
    cached: bool = False
    # False when its search went on by words alone because the embedder or the vector index failed: the next
    # asker should get the answer they give when they work.
    cacheable: bool = True

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def kept(self) -> dict:
        """What the answer cache keeps of a finished answer: all that is sent and stored but its timings
        and tokens, which a cached answer does not spend."""
        return {"text": self.text, "mode": self.mode, "model": self.model, "answered": self.answered,
                "passages": self.passages}

    def cited(self) -> list[Passage]:
        """The passages the answer cites by number ([1], [2] …); all of them when it cites none."""
        numbers = {int(n) for n in _CITATION_MARK.findall(self.text)}
        cited = [p for number, p in enumerate(self.passages, start=1) if number in numbers]
        return cited or self.passages

    def sources(self) -> list[str]:
        return list(dict.fromkeys(passage.location for passage in self.cited()))

    def citations(self) -> list[dict]:
        """The passages as staff read them (console, API, conversation page): tables under their
        headings; the stored chunk text is not changed."""
        cited = {id(passage) for passage in self.cited()}
        return [{"number": number, "file_name": p.file_name, "location": p.location, "page_number": p.page_number,
                 "sheet": p.sheet, "row_start": p.row_start, "row_end": p.row_end, "text": markdown_passage(p.text),
                 "score": round(p.score, 4), "data_source_id": str(p.data_source_id), "cited": id(p) in cited,
                 "page_url": p.page_url}
                for number, p in enumerate(self.passages, start=1)]


def linked_citations(citations: list[dict], links: DocumentLinks | None) -> list[dict]:
    """The citations, each with the `url` of its document, or None unless the chatbot lets visitors open
    its documents; a page of a company's website is its own document, at its http(s) address. Made each
    time citations are sent (a link expires), never stored."""
    return [{**citation, "url": _document_url(citation, links)} for citation in citations]


def _document_url(citation: dict, links: DocumentLinks | None) -> str | None:
    if citation.get("page_url"):
        return citation["page_url"]
    if links is not None and citation.get("data_source_id"):
        return links.url(citation["data_source_id"], citation.get("page_number"))
    return None


def source_urls(sources: list[str], citations: list[dict]) -> list[str | None]:
    """Beside each source ("report.pdf page 2"), the url of the document the answer cites there, or None."""
    urls: dict[str, str | None] = {}
    for citation in citations:
        if citation.get("cited", True):
            urls.setdefault(citation.get("location"), citation.get("url"))
    return [urls.get(source) for source in sources]


def finish_turn(turn: Turn, answer: Answer, *, interrupted: bool = False) -> Message:
    message = _store(
        turn.conversation, role=Message.Role.ASSISTANT, content=answer.text, mode=answer.mode, model=answer.model,
        sources=answer.sources(), citations=answer.citations(),
        answered=answer.answered, interrupted=interrupted, cached=answer.cached,
        latency_ms=round((time.monotonic() - turn.started) * 1000), first_token_ms=answer.first_token_ms,
        prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens)
    if not answer.answered and not interrupted:  # the fallback message, or the model said it is not sure
        emit(company_id=message.company_id, type=EventType.CONVERSATION_UNANSWERED,
             data=_webhook_answer(message, question=turn.question.content))
    return message


def message_rate(*, conversation: Conversation, message_id, rating: str, comment: str = "") -> Message:
    """The visitor's rating of one of the conversation's answers; rating again replaces it."""
    answer = conversation.messages.filter(pk=message_id, role=Message.Role.ASSISTANT).first()
    if answer is None:
        raise ApiError("No such answer in this conversation.", code="not_found", status_code=404)
    answer.feedback, answer.feedback_comment, answer.feedback_at = rating, comment.strip(), timezone.now()
    answer.save(update_fields=["feedback", "feedback_comment", "feedback_at"])
    question = conversation.messages.filter(role=Message.Role.USER, created_at__lte=answer.created_at).last()
    emit(company_id=answer.company_id, type=EventType.FEEDBACK_CREATED,
         data={**_webhook_answer(answer, question=question.content if question else ""),
               "feedback": {"rating": answer.feedback, "comment": answer.feedback_comment,
                            "created_at": answer.feedback_at.isoformat()}})
    return answer


def _webhook_answer(answer: Message, *, question: str) -> dict:
    """An answer and its question as the company's webhooks receive them: what the conversation is, never
    what opens it (its session id or secret)."""
    conversation = answer.conversation
    return {
        "conversation": {"id": str(conversation.id),
                         "chatbot_id": str(conversation.chatbot_id) if conversation.chatbot_id else None,
                         "chatbot_name": conversation.chatbot_name, "channel": conversation.channel,
                         "created_at": conversation.created_at.isoformat()},
        "question": question,
        "answer": {"id": str(answer.id), "content": answer.content, "mode": answer.mode, "answered": answer.answered,
                   "sources": answer.sources, "created_at": answer.created_at.isoformat()},
    }


@transaction.atomic
def improve_answer(*, chatbot: Chatbot, question: str, answer: str, user) -> ImprovedAnswer:
    """Record staff's answer to a question the chatbot could not answer, and rebuild the chatbot's
    Q&A data source with it (processed in the background like an upload), linked to the chatbot."""
    earlier = chatbot.improved_answers.select_for_update().order_by("-created_at").first()
    improved = ImprovedAnswer.objects.create(company_id=chatbot.company_id, chatbot=chatbot,
                                             question=question.strip(), answer=answer.strip(), created_by=user)
    data_source = datasource_write_text(
        company=chatbot.company, user=user, name=f"Q&A · {chatbot.name}.md", text=qa_document(chatbot),
        data_source=earlier.data_source if earlier is not None else None)
    chatbot.improved_answers.update(data_source=data_source)
    chatbot.data_sources.add(data_source)
    improved.data_source = data_source
    return improved


def qa_document(chatbot: Chatbot) -> str:
    """The chatbot's improved answers as Markdown: each question a heading, so each answer is a
    passage of its own that carries its question."""
    sections = [f"## {_one_line(item.question)}\n\n{item.answer}\n" for item in chatbot.improved_answers.all()]
    return f"# Questions and answers · {_one_line(chatbot.name)}\n\n" + "\n".join(sections)


def _one_line(text: str) -> str:
    return " ".join(text.split()).lstrip("#").strip()


# --- The answer flow ----------------------------------------------------------------------

async def answer_events(asker: Asker, question: Question) -> AsyncIterator[Event]:
    """Answer one question: `token` events as the answer is written, then `sources` and `done`
    (or `error`). Each event carries the conversation's session id, and the first turn of a visitor's
    conversation its secret too."""
    turn, cache_key, recalled = await in_thread(_for(asker, _begin))(asker, question)
    session = turn.session()
    if recalled is not None:  # stored already: the whole answer goes out at once
        answer, message = recalled
        yield Event("token", {"token": answer.text, **session})
        yield _sources_event(asker, answer, session)
        yield _done_event(answer, message, session)
        return
    answer = Answer()
    stored = False
    try:
        async for text in coalesced(_written(asker, question, turn, answer), every=TOKEN_FRAME_SECONDS):
            yield Event("token", {"token": text, **session})
        yield _sources_event(asker, answer, session)
        message = await in_thread(_for(asker, _finished))(turn, answer, cache_key)
        stored = True
        yield _done_event(answer, message, session)
        return
    except GenerationError as error:
        failure = error_body("answer_failed", str(error))
    except Exception:
        logger.exception("Answering failed in conversation %s", turn.conversation.pk)
        failure = error_body("server_error", "Something went wrong on our side while answering; please try again.")
    finally:
        if not stored:  # it failed, or the visitor left mid-answer: keep what was written
            await asyncio.shield(in_thread(_for(asker, finish_turn))(turn, answer, interrupted=True))
    yield Event("error", {**failure, **session})


def _for(asker: Asker, step):
    """A step of the answer flow, in a transaction that admits the asker's chatbot's company (config.rls)."""
    return rls.in_company_transaction(step, asker.chatbot.company_id)


def _begin(asker: Asker, question: Question) -> tuple[Turn, str, tuple[Answer, Message] | None]:
    """The question stored as a turn; the key its answer is cached under ("" when it is not the first question
    of its conversation, or comes with the visitor's context); and when the answer is in the cache, that
    answer, stored already (one trip to a worker thread for the whole of a cached answer)."""
    turn = begin_turn(asker, question)
    if turn.history or question.context or not answer_cache.enabled():
        return turn, "", None
    key = answer_cache.cache_key(chatbot=asker.chatbot, message=question.message)
    kept = answer_cache.recall(key)
    if kept is None:
        return turn, key, None
    answer = Answer(mode=kept["mode"], model=kept["model"], passages=kept["passages"], parts=[kept["text"]],
                    answered=kept["answered"], cached=True)
    _note_first_token(answer, turn)
    return turn, key, (answer, finish_turn(turn, answer))


def _finished(turn: Turn, answer: Answer, cache_key: str) -> Message:
    """The whole answer stored, and cached under `cache_key` unless it came from the cache or has no key."""
    message = finish_turn(turn, answer)
    if cache_key and answer.cacheable and not answer.cached:
        try:
            answer_cache.remember(cache_key, answer.kept())
        except Exception:  # the next asker gets a fresh answer; this one has it already
            logger.exception("Caching the answer of conversation %s failed", turn.conversation.pk)
    return message


def _sources_event(asker: Asker, answer: Answer, session: dict) -> Event:
    sources = answer.sources()
    citations = linked_citations(answer.citations(), document_links(asker.chatbot, asker.origin))
    return Event("sources", {"sources": sources, "source_urls": source_urls(sources, citations),
                             "citations": citations, **session})


def _done_event(answer: Answer, message: Message, session: dict) -> Event:
    return Event("done", {"mode": answer.mode, "answered": answer.answered, "cached": answer.cached,
                          "message_id": str(message.id), "latency_ms": message.latency_ms, **session})


async def _written(asker: Asker, question: Question, turn: Turn, answer: Answer) -> AsyncIterator[str]:
    chatbot = asker.chatbot
    prepared = await in_thread(_for(asker, _prepared))(chatbot, question, turn.history, answer)
    if prepared is None:
        answer.mode, answer.answered = Message.Mode.FALLBACK, False
        _note_first_token(answer, turn)
        answer.parts.append(chatbot.fallback_message)
        yield chatbot.fallback_message
        return
    prompt, generation = prepared
    answer.passages = list(prompt.passages)
    answer.mode, answer.model = generation.mode, generation.model
    try:
        async for token in generation:
            if answer.first_token_ms is None:
                _note_first_token(answer, turn)
            answer.parts.append(token)
            yield token
        answer.answered = generation.answered
    finally:
        answer.prompt_tokens, answer.completion_tokens = generation.prompt_tokens, generation.completion_tokens


def _prepared(chatbot: Chatbot, question: Question, history: list[tuple[str, str]],
              answer: Answer) -> tuple[Prompt, Generation] | None:
    """The prompt from the chatbot's passages and the answer's generation, ready to stream; None when
    no passage is relevant to the question. The answer learns whether its search was whole."""
    scope = Scope.of(chatbot)
    passages = scope.retrieve(question.message, chatbot.top_k)
    answer.cacheable = not scope.search.dense_failures
    if not passages:
        return None
    prompt = build_prompt(chatbot=chatbot, question=question.message, passages=passages, history=history,
                          visitor_context=question.context)
    return prompt, get_generator(chatbot).generate(prompt=prompt, question=question.message, chatbot=chatbot)


def _note_first_token(answer: Answer, turn: Turn) -> None:
    answer.first_token_ms = round((time.monotonic() - turn.started) * 1000)


async def coalesced(pieces: AsyncIterator[str], *, every: float) -> AsyncIterator[str]:
    """The pieces, in order, joined into at most one text per `every` seconds: a piece after a quiet
    spell goes out at once (so the first token is never held back), later ones wait at most `every`
    for the next text, and what is left goes out as soon as the pieces end. The writer keeps writing
    while the reader sends; a writer's failure reaches the reader after the text written before it."""
    loop = asyncio.get_running_loop()
    held: list[str] = []
    arrived = asyncio.Event()

    async def write():
        try:
            async for piece in pieces:
                held.append(piece)
                arrived.set()
        finally:
            arrived.set()  # the end, or a failure, wakes the reader too

    writing = asyncio.ensure_future(write())
    quiet_from = 0.0  # loop time from which a piece goes out at once
    try:
        while True:
            if not held and not writing.done():
                arrived.clear()
                await arrived.wait()
            early = quiet_from - loop.time()
            if held and early > 0 and not writing.done():
                await asyncio.wait((writing,), timeout=early)
            if held:
                text = "".join(held)
                held.clear()
                yield text
                quiet_from = loop.time() + every
            elif writing.done():
                writing.result()  # raises the writer's failure, if any
                return
    finally:
        writing.cancel()  # the reader left (a visitor who goes stops the model too), or it is over anyway
        await asyncio.gather(writing, return_exceptions=True)


async def collect(events: AsyncIterator[Event]) -> dict:
    """The whole answer at once, for POST /api/chat: the spec's response plus citations and mode."""
    result = {"response": "", "sources": [], "source_urls": [], "citations": [], "session_id": "", "mode": "",
              "answered": None, "cached": False}
    async for event in events:
        result["session_id"] = event.data["session_id"]
        if "conversation_secret" in event.data:
            result["conversation_secret"] = event.data["conversation_secret"]
        if event.type == "token":
            result["response"] += event.data["token"]
        elif event.type == "sources":
            for name in ("sources", "source_urls", "citations"):
                result[name] = event.data[name]
        elif event.type == "done":
            result["mode"], result["answered"] = event.data["mode"], event.data["answered"]
            result["cached"] = event.data["cached"]
        elif event.type == "error":
            failure = event.data["error"]
            raise ApiError(failure["message"], code=failure["code"], status_code=502)
    return result
