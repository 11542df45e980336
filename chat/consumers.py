"""WebSocket /ws/chat/<chatbot_id>/: the widget's and the iframe page's chat, streamed.

Frames in: `{"type": "message", "message", "session_id", "conversation_secret", "visitor_id"}`.
Frames out: `token`, `sources`, `done`, or `error` with `{"error": {"code", "message", "details"}}`,
the API's error shape; each carries the session_id, and the first answer of a visitor's
conversation also its conversation_secret, without which that session_id is not continued.
Visitors connect with `?key=<publishable key>` from an allowed origin (checked by
integrations.access, like the HTTP endpoints, so this route is not behind the host-origin
validator); staff of the chatbot's company connect without a key from Docent's own pages.
Every question is authorised again as a new request would be, and a change to the key, the
chatbot or the staff member closes the socket when it ends access (config.sockets).
"""

import asyncio
import dataclasses
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404

from chat import callers, services
from config import jsontext, rls
from config.errors import ApiError
from config.sockets import REFUSED, GuardedSocket, client_address, current_user
from integrations.access import normalize_origin

MAX_FRAME_CHARS = 64_000
NO_LONGER = "This chatbot is not available to you any more."


class ChatConsumer(GuardedSocket, AsyncWebsocketConsumer):
    asker: services.Asker | None = None
    answering: asyncio.Task | None = None

    async def connect(self):
        try:
            self.asker = await services.in_thread(rls.in_company_transaction(self.identify))()
        except (ApiError, Http404):
            await self.close(code=REFUSED)  # before accepting: the widget falls back to SSE, which says why
            return
        await self.admit(groups=callers.access_groups(self.asker), key=callers.credential(self.asker),
                         address=client_address(self.scope))

    async def still_allowed(self) -> bool:
        try:
            self.asker = await services.in_thread(rls.in_company_transaction(self.identify))()
        except ApiError as denied:
            await self.refuse(denied)
            return False
        except Http404:
            await self.refuse(ApiError(NO_LONGER, code="not_found", status_code=404))
            return False
        return True

    def identify(self) -> services.Asker:
        chatbot_id = self.scope["url_route"]["kwargs"]["chatbot_id"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self.scope["headers"]}
        own_origin = own_origin_of(self.scope, headers)
        key = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("key", [""])[0]
        if key:
            return callers.integration_asker(chatbot_id=chatbot_id, key=key, origin=headers.get("origin"),
                                             own_origin=own_origin)
        # Staff chat from Docent's own pages only: another site cannot ride a staff member's cookie.
        if normalize_origin(headers.get("origin", "")) != own_origin:
            raise Http404
        user = current_user(self.scope)
        if not user.is_authenticated:
            raise Http404
        return callers.staff_asker(StaffScope(user), chatbot_id, own_origin or "")

    async def receive(self, text_data=None, bytes_data=None):
        if self.refused:
            return
        try:
            question = self.question(text_data)
            if self.answering is not None and not self.answering.done():
                raise ApiError("Wait for the answer before asking again.", code="busy", status_code=409)
            if not await self.still_allowed():
                return
            asker = self.asker
            if asker.integration is not None:
                asker = dataclasses.replace(asker, visitor_id=question.visitor_id)
            await services.in_thread(rls.in_company_transaction(callers.check_rate, asker.chatbot.company_id))(
                asker, client_address(self.scope))
        except ApiError as error:
            return await self.send_error(error)
        self.answering = asyncio.create_task(self.answer(asker, question))

    def question(self, text_data) -> services.Question:
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            raise ApiError(f"Send text frames of JSON, under {MAX_FRAME_CHARS} characters.", code="invalid")
        frame = jsontext.loads(text_data)
        if not isinstance(frame, dict) or frame.get("type") != "message":
            raise ApiError('Send {"type": "message", "message": "…"}.', code="invalid")
        return services.parse_question(frame)

    async def answer(self, asker: services.Asker, question: services.Question) -> None:
        async for event in services.answer_events(asker, question):
            await self.send(text_data=json.dumps(event.as_dict()))

    async def refuse(self, error: ApiError, **kwargs) -> None:
        await self.stop_answering()
        await super().refuse(error, **kwargs)

    async def disconnect(self, code):
        await self.stop_answering()
        await super().disconnect(code)

    async def stop_answering(self) -> None:
        if self.answering is not None and not self.answering.done():
            self.answering.cancel()  # the answer flow stores what was written, marked interrupted
            await asyncio.gather(self.answering, return_exceptions=True)


@dataclasses.dataclass(frozen=True)
class StaffScope:
    """What chat.callers reads of a request, for a WebSocket's logged-in user."""

    user: object
    auth: None = None


def own_origin_of(scope, headers: dict) -> str | None:
    """Docent's own origin as the browser sees it, from the Host the socket was opened on."""
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return normalize_origin(f"{scheme}://{headers.get('host', '')}")
