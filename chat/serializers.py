from rest_framework import serializers

from chat.models import MAX_FEEDBACK_COMMENT_LENGTH, Conversation, Message
from chat.services import linked_citations, source_urls

SOURCE_URLS_HELP = ("Beside each source, a link that opens its document (a PDF at the cited page), valid 24 hours; "
                    "null unless the chatbot lets visitors open its cited documents.")


class ChatRequestSerializer(serializers.Serializer):
    """Documents the request; chat.services.parse_question checks it, for HTTP and WebSocket alike."""

    chatbot_id = serializers.UUIDField()
    message = serializers.CharField(help_text="The question.")
    session_id = serializers.CharField(required=False, help_text="From an earlier answer, to continue its "
                                                                  "conversation; omit to start one.")
    conversation_secret = serializers.CharField(
        required=False, help_text="With a publishable key (dct_pk_…): the conversation_secret of the answer that "
                                  "started the conversation. Without it, or with a wrong one, the session_id is "
                                  "ignored and a new conversation starts.")
    visitor_id = serializers.CharField(required=False, help_text="An anonymous id the widget keeps per visitor.")
    context = serializers.CharField(required=False, help_text="Optional text about the visitor's situation "
                                                               "(such as the page they are on); never instructions.")


class CitationSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The [n] the answer cites it by.")
    file_name = serializers.CharField()
    location = serializers.CharField()
    page_number = serializers.IntegerField(allow_null=True)
    sheet = serializers.CharField(allow_null=True)
    row_start = serializers.IntegerField(allow_null=True)
    row_end = serializers.IntegerField(allow_null=True)
    text = serializers.CharField(help_text="The passage given to the answerer.")
    score = serializers.FloatField()
    data_source_id = serializers.UUIDField()
    cited = serializers.BooleanField(help_text="Whether the answer cites it.")
    page_url = serializers.URLField(required=False, allow_null=True, help_text=(
        "For a page of a website data source: the page's address (http or https only)."))
    url = serializers.URLField(allow_null=True, help_text="A link that opens the document (a PDF at this page; a "
                                                          "cited web page's own address), "
                                                          "valid 24 hours; null unless the chatbot lets visitors "
                                                          "open its cited documents.")


class ChatResponseSerializer(serializers.Serializer):
    response = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField(), help_text='Such as "report.pdf page 2".')
    source_urls = serializers.ListField(child=serializers.URLField(allow_null=True), help_text=SOURCE_URLS_HELP)
    session_id = serializers.CharField()
    conversation_secret = serializers.CharField(
        required=False, help_text="Only in the answer that started a conversation through a publishable key: keep "
                                  "it with the session_id, it is given once. Send it to continue the conversation, "
                                  "read it (X-Conversation-Secret header) and rate its answers.")
    citations = CitationSerializer(many=True)
    mode = serializers.ChoiceField(choices=Message.Mode.choices, help_text="Which kind of answerer wrote it.")
    answered = serializers.BooleanField(help_text="False when the documents held no answer (the fallback message).")
    cached = serializers.BooleanField(help_text="True when the answer came from the answer cache: the same first "
                                                "question was answered before from the same documents and settings.")


class MessageSerializer(serializers.ModelSerializer):
    """A message; its links to cited documents are made afresh when the context holds the chatbot's `links`."""

    source_urls = serializers.SerializerMethodField(help_text=SOURCE_URLS_HELP)

    class Meta:
        model = Message
        fields = ["id", "role", "content", "sources", "source_urls", "created_at", "mode", "answered", "interrupted",
                  "feedback", "feedback_comment"]

    def get_source_urls(self, message) -> list[str | None]:
        return source_urls(message.sources, self.linked_citations(message))

    def linked_citations(self, message) -> list[dict]:
        return linked_citations(message.citations or [], self.context.get("links"))


class StaffMessageSerializer(MessageSerializer):
    citations = serializers.SerializerMethodField()

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "citations", "latency_ms", "first_token_ms", "prompt_tokens",
                  "completion_tokens", "model", "cached"]

    def get_citations(self, message) -> list[dict]:
        return self.linked_citations(message)


class ConversationSerializer(serializers.ModelSerializer):
    """Visitors see what was said; staff also see each answer's passages, scores, latency and tokens."""

    messages = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["session_id", "chatbot_id", "chatbot_name", "channel", "created_at", "updated_at", "messages"]

    def get_messages(self, conversation) -> list[dict]:
        serializer = StaffMessageSerializer if self.context.get("staff") else MessageSerializer
        return serializer(conversation.messages.order_by("created_at"), many=True, context=self.context).data


class FeedbackSerializer(serializers.Serializer):
    message_id = serializers.UUIDField(help_text="The answer being rated (the `done` event's message_id).")
    rating = serializers.ChoiceField(choices=Message.Feedback.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_FEEDBACK_COMMENT_LENGTH)
