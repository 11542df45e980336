"""WebSocket /ws/chat/<chatbot_id>/: the widget's and the iframe page's chat, streamed.

Frames in: `{"type": "message", "message", "session_id", "visitor_id"}`. Frames out: `token`,
`sources`, `done`, or `error` with `{"error": {"code", "message", "details"}}`, the API's error
shape. Visitors connect with `?key=<publishable key>` from an allowed origin (checked by
integrations.access, like the HTTP endpoints, so this route is not behind the host-origin
validator); staff of the chatbot's company connect without a key from Docent's own pages.
"""

import asyncio
import dataclasses
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404

from chat import callers, limits, services
from config import jsontext
from config.errors import error_body
from integrations.access import AccessDenied, normalize_origin

MAX_FRAME_CHARS = 64_000
# Close codes (4000-4999 are the application's): the widget falls back to SSE, which says why.
REFUSED = 4403


class ChatConsumer(AsyncWebsocketConsumer):
    asker: services.Asker | None = None
    answering: asyncio.Task | None = None

    async def connect(self):
        try:
            self.asker = await services.in_thread(self.identify)()
        except (AccessDenied, Http404):
            await self.close(code=REFUSED)
            return
        await self.accept()

    def identify(self) -> services.Asker:
        chatbot_id = self.scope["url_route"]["kwargs"]["chatbot_id"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self.scope["headers"]}
        own_origin = own_origin_of(self.scope, headers)
        key = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("key", [""])[0]
        if key:
            return callers.integration_asker(chatbot_id=chatbot_id, key=key, origin=headers.get("origin"),
                                             own_origin=own_origin)
        user = self.scope.get("user")
        # Staff chat from Docent's own pages only: another site cannot ride a staff member's cookie.
        if user is None or not user.is_authenticated or normalize_origin(headers.get("origin", "")) != own_origin:
            raise Http404
        return callers.staff_asker(StaffScope(user), chatbot_id)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            question = self.question(text_data)
            if self.answering is not None and not self.answering.done():
                raise services.ChatError("Wait for the answer before asking again.", code="busy", status=409)
            asker = self.asker
            if asker.integration is not None:
                asker = dataclasses.replace(asker, visitor_id=question.visitor_id)
            await services.in_thread(callers.check_rate)(asker, client_ip(self.scope))
        except services.ChatError as error:
            return await self.send_error(error.code, error.message, error.details)
        except limits.RateLimited as refused:
            return await self.send_error("rate_limited", refused.message, {"retry_after": refused.retry_after})
        self.answering = asyncio.create_task(self.answer(asker, question))

    def question(self, text_data) -> services.Question:
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            raise services.ChatError(f"Send text frames of JSON, under {MAX_FRAME_CHARS} characters.", code="invalid")
        try:
            frame = jsontext.loads(text_data)
        except jsontext.JSONTextError as refused:
            raise services.ChatError(refused.message, code=refused.code, details=refused.details) from None
        if not isinstance(frame, dict) or frame.get("type") != "message":
            raise services.ChatError('Send {"type": "message", "message": "…"}.', code="invalid")
        return services.parse_question(frame)

    async def answer(self, asker: services.Asker, question: services.Question) -> None:
        async for event in services.answer_events(asker, question):
            await self.send(text_data=json.dumps(event.as_dict()))

    async def send_error(self, code: str, message: str, details=None) -> None:
        await self.send(text_data=json.dumps({"type": "error", **error_body(code, message, details)}))

    async def disconnect(self, code):
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


def client_ip(scope) -> str:
    client = scope.get("client") or ("", 0)
    return client[0] or ""
