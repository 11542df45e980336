import datetime
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from chat.models import Conversation, Message
from chat.questions import normalized_question
from config import rls


def dangerously_conversation_by_session(session_id: str) -> Conversation | None:
    """The conversation a session id names, in whichever company. Unscoped because GET /api/conversations/
    <session_id> names nothing else: the caller may hold a visitor's or a server's key, which belongs to
    no company until the conversation tells which chatbot to check it against, so the caller decides who
    may read it (chat.api.ConversationEndpoint.may_read). Anywhere else, use `chatbot_conversation`."""
    if not session_id or len(session_id) > 100:
        return None
    with rls.dangerously_all_companies(rls.WayAround.CONVERSATION_BY_SESSION):
        return Conversation.objects.filter(session_id=session_id).first()


def chatbot_conversation(*, chatbot, session_id: str) -> Conversation | None:
    """The chatbot's conversation (in the chatbot's company) that a session id names, if any."""
    return Conversation.objects.filter(session_id=session_id, chatbot=chatbot, company_id=chatbot.company_id).first()


@dataclass(frozen=True)
class ConversationFilters:
    """What staff narrow the conversation list (and its CSV export) to; empty fields filter nothing."""

    chatbot_id: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None
    answered: str = ""  # "answered": every answer found something; "unanswered": at least one did not
    feedback: str = ""  # "up", "down" or "any": some answer was rated so


def conversation_list(*, company, filters: ConversationFilters = ConversationFilters()) -> QuerySet[Conversation]:
    """The company's conversations, newest activity first, with their first question and counts."""
    first_question = Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.USER).order_by("created_at")
    conversations = (Conversation.objects.filter(company=company)
                     .annotate(message_count=Count("messages"),
                               unanswered_count=Count("messages", filter=Q(messages__answered=False)),
                               rated_up=Count("messages", filter=Q(messages__feedback=Message.Feedback.UP)),
                               rated_down=Count("messages", filter=Q(messages__feedback=Message.Feedback.DOWN)),
                               first_question=Subquery(first_question.values("content")[:1]))
                     .order_by("-updated_at"))
    if filters.chatbot_id:
        conversations = conversations.filter(chatbot_id=filters.chatbot_id)
    if filters.since:
        conversations = conversations.filter(updated_at__date__gte=filters.since)
    if filters.until:
        conversations = conversations.filter(created_at__date__lte=filters.until)
    if filters.answered == "answered":
        conversations = conversations.filter(unanswered_count=0)
    elif filters.answered == "unanswered":
        conversations = conversations.filter(unanswered_count__gt=0)
    if filters.feedback == "up":
        conversations = conversations.filter(rated_up__gt=0)
    elif filters.feedback == "down":
        conversations = conversations.filter(rated_down__gt=0)
    elif filters.feedback == "any":
        conversations = conversations.filter(Q(rated_up__gt=0) | Q(rated_down__gt=0))
    return conversations


def export_messages(*, conversations: QuerySet[Conversation]) -> QuerySet[Message]:
    """Every message of these conversations (as `conversation_list` scoped and filtered them), conversation
    by conversation, in order."""
    return (Message.objects.filter(conversation__in=conversations.values("pk"))
            .select_related("conversation").order_by("conversation__created_at", "conversation_id", "created_at"))


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str  # as last asked
    times: int
    last_asked: datetime.datetime


UNANSWERED_LOOKBACK = 1000  # the most recent unanswered answers read


def unanswered_questions(*, chatbot) -> list[UnansweredQuestion]:
    """The questions the chatbot did not answer (its fallback, or a quote it found too weak), most asked
    first, leaving out those staff have since answered."""
    asked = Message.objects.filter(conversation=OuterRef("conversation"), role=Message.Role.USER,
                                   created_at__lte=OuterRef("created_at")).order_by("-created_at")
    fallbacks = (Message.objects.filter(chatbot=chatbot, company_id=chatbot.company_id, role=Message.Role.ASSISTANT,
                                        answered=False)
                 .annotate(question=Subquery(asked.values("content")[:1]))
                 .order_by("-created_at").values_list("question", "created_at")[:UNANSWERED_LOOKBACK])
    improved = {normalized_question(q) for q in chatbot.improved_answers.values_list("question", flat=True)}
    grouped: dict[str, UnansweredQuestion] = {}
    for question, created_at in fallbacks:
        key = normalized_question(question or "")
        if not key or key in improved:
            continue
        seen = grouped.get(key)
        grouped[key] = UnansweredQuestion(question=seen.question if seen else question,
                                          times=(seen.times if seen else 0) + 1,
                                          last_asked=seen.last_asked if seen else created_at)
    return sorted(grouped.values(), key=lambda item: (-item.times, -item.last_asked.timestamp()))
