from chat.models import Conversation


def conversation_by_session(session_id: str) -> Conversation | None:
    """The conversation a session id names, whoever's it is: callers decide who may read it."""
    if not session_id or len(session_id) > 100:
        return None
    return Conversation.objects.filter(session_id=session_id).first()
