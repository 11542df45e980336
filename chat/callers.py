"""Who is asking: the same rules for HTTP requests and WebSocket connections.

Three kinds of caller reach a chatbot:
- a visitor, with a widget or iframe integration's publishable key, from an allowed origin;
- a server, with an `api` integration's secret key;
- the company's staff (session, Supabase token or company API key), from the test console or
  their own code: any chatbot of their company.
Another company's chatbot is not found (404), exactly like a missing one.
"""

import uuid

from django.http import Http404

from accounts import keys
from accounts.authentication import bearer_token
from accounts.roles import Capability
from accounts.scoping import request_allows, request_company
from chat import limits
from chat.models import Conversation
from chat.services import Asker
from chatbots.models import Chatbot
from chatbots.selectors import chatbot_list
from config.sockets import access_group
from integrations import access


def integration_key(request) -> str:
    """The integration key of an `Authorization: Bearer dct_pk_…/dct_sk_…` header, else "" (a company API
    key or a Supabase token is staff's, whom DRF's authentication already knows)."""
    token = bearer_token(request) or ""
    return token if token.startswith((keys.PUBLISHABLE, keys.SECRET)) else ""


def integration_asker(*, chatbot_id, key: str, origin: str | None, own_origin: str, visitor_id: str = "") -> Asker:
    """A visitor's publishable key or a server's secret key, for this chatbot; an ApiError otherwise."""
    if key.startswith(keys.PUBLISHABLE):
        granted = access.authorize_visitor(chatbot_id=chatbot_id, key=key, origin=origin, own_origin=own_origin)
    else:
        granted = access.authorize_server(key=key)
        if str(granted.chatbot.id) != str(chatbot_id):
            raise Http404
    channel = {"widget": Conversation.Channel.WIDGET, "iframe": Conversation.Channel.IFRAME}.get(
        granted.integration.type, Conversation.Channel.API)
    return Asker(chatbot=granted.chatbot, channel=channel, integration=granted.integration, visitor_id=visitor_id,
                 origin=own_origin or "")


def staff_chatbot(request, chatbot_id) -> Chatbot:
    """One of the requesting staff's company's chatbots; 404 for any other."""
    company = request_company(request)
    if company is None or not request_allows(request, Capability.READ):
        raise Http404
    try:
        return chatbot_list(company=company).get(pk=uuid.UUID(str(chatbot_id)))
    except (Chatbot.DoesNotExist, ValueError):
        raise Http404 from None


def staff_may_read(request, company_id) -> bool:
    company = request_company(request)
    return company is not None and company.id == company_id and request_allows(request, Capability.READ)


def staff_asker(request, chatbot_id, own_origin: str) -> Asker:
    channel = Conversation.Channel.API if getattr(request, "auth", None) is not None else Conversation.Channel.CONSOLE
    return Asker(chatbot=staff_chatbot(request, chatbot_id), channel=channel, staff_user=request.user,
                 origin=own_origin)


def credential(asker: Asker) -> str:
    """What the asker's questions and sockets are counted against: the integration, or the staff member."""
    return str(asker.integration.id) if asker.integration is not None else f"user:{asker.staff_user.pk}"


def access_groups(asker: Asker) -> list[str]:
    """What the asker's access rests on, as config.sockets access groups: a change to one re-checks it."""
    holder = ("integration", asker.integration.id) if asker.integration is not None else ("user", asker.staff_user.pk)
    return [access_group(*holder), access_group("chatbot", asker.chatbot.id)]


def check_rate(asker: Asker, client_ip: str) -> None:
    """Count one question against the asker's key, address and company; a 429 ApiError past a limit."""
    company = asker.chatbot.company
    limits.check(limits.Caller(key=credential(asker), client_ip=client_ip, company_id=str(company.id),
                               company_rate=f"{company.limits['requests_per_minute']}/m"))
