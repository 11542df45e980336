"""POST /api/chat, POST /api/chat/stream (Server-Sent Events) and GET /api/conversations/<session_id>.

Visitors and servers present an integration key (`Authorization: Bearer dct_pk_…` / `dct_sk_…`);
staff are authenticated as on the rest of the API. Both meet the same checks as the WebSocket
consumer (chat.callers), the same rate limits (chat.limits) and the same answer flow
(chat.services.answer_events). A visitor's conversation opens to a publishable key only with the
secret its first answer gave: in the body next to `session_id` when asking, in the
`X-Conversation-Secret` header when the session id is in the path.
"""

import json

from asgiref.sync import async_to_sync
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import callers, selectors, services
from chat.serializers import (
    ChatRequestSerializer,
    ChatResponseSerializer,
    ConversationSerializer,
    FeedbackSerializer,
    MessageSerializer,
)
from config.errors import ApiError
from integrations.access import site_origin
from integrations.documents import document_links

NO_CREDENTIALS = ("Send the chatbot's key (Authorization: Bearer dct_pk_… from a website, dct_sk_… from a "
                  "server) or sign in.")
SECRET_HEADER = "X-Conversation-Secret"
SECRET_PARAMETER = OpenApiParameter(
    SECRET_HEADER, location=OpenApiParameter.HEADER, required=False,
    description="With a publishable key (dct_pk_…): the conversation_secret of the answer that started the "
                "conversation. Without it, or with a wrong one, the conversation is not found.")


class ChatEndpoint(APIView):
    """Authentication runs as elsewhere in the API; keys and roles are checked per chatbot below."""

    permission_classes = [AllowAny]

    def asker(self, chatbot_id, visitor_id: str = "") -> services.Asker:
        request = self.request
        key = callers.integration_key(request)
        if key:
            return callers.integration_asker(chatbot_id=chatbot_id, key=key, origin=request_origin(request),
                                             own_origin=site_origin(request), visitor_id=visitor_id)
        if not request.user.is_authenticated:
            raise ApiError(NO_CREDENTIALS, code="not_authenticated", status_code=status.HTTP_401_UNAUTHORIZED)
        return callers.staff_asker(request, chatbot_id, site_origin(request))

    def question(self) -> tuple[services.Asker, services.Question]:
        data = self.request.data
        question = services.parse_question(data)
        if not data.get("chatbot_id"):
            raise ApiError("Say which chatbot to ask.", code="invalid", details={"chatbot_id": ["Required."]})
        asker = self.asker(data.get("chatbot_id"), question.visitor_id)
        callers.check_rate(asker, self.request.META.get("REMOTE_ADDR", ""))
        return asker, question


class ChatView(ChatEndpoint):
    @extend_schema(request=ChatRequestSerializer, responses={200: ChatResponseSerializer},
                   summary="Ask a chatbot; the whole answer at once")
    def post(self, request):
        asker, question = self.question()
        return Response(async_to_sync(services.collect)(services.answer_events(asker, question)))


class ChatStreamView(ChatEndpoint):
    def perform_content_negotiation(self, request, force=False):
        """The answer is an event stream whatever the Accept header says; refusals before it are JSON."""
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(request=ChatRequestSerializer, summary="Ask a chatbot; the answer streamed as Server-Sent Events",
                   responses={(200, "text/event-stream"): OpenApiResponse(
                       OpenApiTypes.STR, description="`token`, `sources`, then `done` or `error` events; "
                                                            "each `data:` is a JSON object with the session_id "
                                                            "(and, when the answer started a conversation through "
                                                            "a publishable key, its conversation_secret).")})
    def post(self, request):
        asker, question = self.question()
        response = StreamingHttpResponse(_server_sent(services.answer_events(asker, question)),
                                         content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies such as nginx must pass each event on at once
        return response


async def _server_sent(events):
    async for event in events:
        yield f"event: {event.type}\ndata: {json.dumps(event.as_dict())}\n\n"


class ConversationEndpoint(ChatEndpoint):
    """A conversation, for the visitor who holds its secret, the server holding its integration's secret key,
    or the company's staff."""

    def conversation(self, session_id: str):
        if not self.key() and not self.request.user.is_authenticated:
            raise ApiError(NO_CREDENTIALS, code="not_authenticated", status_code=status.HTTP_401_UNAUTHORIZED)
        conversation = selectors.dangerously_conversation_by_session(session_id)
        if conversation is None or not self.may_read(conversation):
            raise Http404
        return conversation

    def key(self) -> str:
        return callers.integration_key(self.request)

    def may_read(self, conversation) -> bool:
        if not self.key():
            return callers.staff_may_read(self.request, conversation.company_id)
        if conversation.chatbot_id is None:
            return False
        try:
            asker = self.asker(conversation.chatbot_id)
        except ApiError as refused:
            if refused.code == "invalid_key":
                return False  # a key of another chatbot learns nothing about this session
            raise
        return services.integration_holds(asker, conversation, self.request.headers.get(SECRET_HEADER, ""))


class ConversationView(ConversationEndpoint):
    @extend_schema(parameters=[SECRET_PARAMETER], responses={200: ConversationSerializer},
                   summary="A conversation's messages")
    def get(self, request, session_id: str):
        conversation = self.conversation(session_id)
        links = document_links(conversation.chatbot, site_origin(request)) if conversation.chatbot else None
        return Response(ConversationSerializer(conversation, context={"staff": not self.key(), "links": links}).data)


class FeedbackView(ConversationEndpoint):
    @extend_schema(parameters=[SECRET_PARAMETER], request=FeedbackSerializer, responses={200: MessageSerializer},
                   summary="Rate an answer of the conversation (thumbs up or down, optional comment)")
    def post(self, request, session_id: str):
        conversation = self.conversation(session_id)
        feedback = FeedbackSerializer(data=request.data)
        feedback.is_valid(raise_exception=True)
        answer = services.message_rate(conversation=conversation, **feedback.validated_data)
        return Response(MessageSerializer(answer).data)


def request_origin(request) -> str | None:
    """The page's origin: browsers send it on cross-origin calls; a same-origin GET sends only Sec-Fetch-Site."""
    origin = request.headers.get("Origin")
    if origin is None and request.headers.get("Sec-Fetch-Site") == "same-origin":
        return site_origin(request)
    return origin
