import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts import keys
from accounts.models import Company
from chatbots.models import Chatbot
from integrations.models import Integration

SESSION_ID_BYTES = 24  # 192 random bits, URL-safe text of 32 characters
CONVERSATION_SECRET_BYTES = 32  # 256 random bits, URL-safe text of 43 characters
MAX_VISITOR_ID_LENGTH = 64
MAX_FEEDBACK_COMMENT_LENGTH = 1000
MAX_IMPROVED_QUESTION_LENGTH = 2000
MAX_IMPROVED_ANSWER_LENGTH = 10_000


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)


class Conversation(models.Model):
    """One visitor's (or staff member's) exchange with one chatbot, reached by its session id."""

    class Channel(models.TextChoices):
        WIDGET = "widget", "Website widget"
        IFRAME = "iframe", "Embedded page"
        API = "api", "API"
        CONSOLE = "console", "Test console"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="conversations")
    # Kept when the chatbot is deleted, so the company's history and analytics stay whole.
    chatbot = models.ForeignKey(Chatbot, on_delete=models.SET_NULL, null=True, related_name="conversations")
    chatbot_name = models.TextField(help_text="The chatbot's name when the conversation started.")
    session_id = models.TextField(unique=True, default=new_session_id, editable=False)
    visitor_id = models.TextField(max_length=MAX_VISITOR_ID_LENGTH, blank=True, default="",
                                  help_text="The widget's anonymous visitor id, if it sent one.")
    channel = models.TextField(choices=Channel.choices)
    integration = models.ForeignKey(Integration, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="conversations")
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="conversations", help_text="Who chatted, for staff and API keys.")
    # A session id alone opens nothing to a publishable key, which every visitor of the site holds:
    # the visitor who started the conversation got this secret, and only its hash is kept.
    secret_hash = models.CharField(max_length=64, blank=True, default="", editable=False,
                                   help_text="SHA-256 of the secret that reopens it with a publishable key; empty "
                                             "for staff and server conversations and those made before secrets.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, help_text="When its last message was written.")

    class Meta:
        db_table = "conversations"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["company", "created_at"], name="conversations_company_created"),
            models.Index(fields=["chatbot", "created_at"], name="conversations_chatbot_created"),
            # Analytics counts a period's distinct visitors on every request: covering, so the
            # database reads the index alone.
            models.Index(fields=["company", "created_at", "chatbot", "visitor_id"], name="conversations_visitors"),
        ]

    def __str__(self):
        return f"{self.chatbot_name} · {self.created_at:%Y-%m-%d %H:%M}"

    def issue_secret(self) -> str:
        """A new secret for the visitor, to be given once; the conversation keeps its hash (saved by the caller)."""
        secret = secrets.token_urlsafe(CONVERSATION_SECRET_BYTES)
        self.secret_hash = keys.hash_key(secret)
        return secret

    def opens_with(self, secret: str) -> bool:
        return keys.matches(secret, self.secret_hash)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "Visitor"
        ASSISTANT = "assistant", "Chatbot"

    class Feedback(models.TextChoices):
        UP = "up", "Helpful"
        DOWN = "down", "Not helpful"

    class Mode(models.TextChoices):
        EXTRACTIVE = "extractive", "Quoted from the documents"
        OPENAI = "openai", "Written by a language model"
        FALLBACK = "fallback", "Fallback message (nothing relevant found)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # Copied from the conversation so analytics and scoping read one indexed table.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="messages")
    chatbot = models.ForeignKey(Chatbot, on_delete=models.SET_NULL, null=True, related_name="messages")
    role = models.TextField(choices=Role.choices)
    content = models.TextField()
    sources = models.JSONField(default=list, blank=True, help_text='Where the answer came from: "report.pdf page 2".')
    citations = models.JSONField(default=list, blank=True, help_text="The passages given to the answerer, with scores.")
    # Answers only.
    mode = models.TextField(choices=Mode.choices, blank=True, default="")
    model = models.TextField(blank=True, default="")
    answered = models.BooleanField(null=True, help_text="False when the documents held no answer.")
    interrupted = models.BooleanField(default=False, help_text="The visitor left or the answer failed mid-way: "
                                                               "the content is what was written until then.")
    cached = models.BooleanField(default=False, help_text="Served from the answer cache: the same first question "
                                                          "was answered before from the same documents and settings.")
    latency_ms = models.PositiveIntegerField(null=True, help_text="From the question to the whole answer.")
    first_token_ms = models.PositiveIntegerField(null=True, help_text="From the question to the answer's first words.")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    # The visitor's rating of an answer.
    feedback = models.TextField(choices=Feedback.choices, blank=True, default="")
    feedback_comment = models.TextField(max_length=MAX_FEEDBACK_COMMENT_LENGTH, blank=True, default="")
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "messages"
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="messages_conversation_created"),
            models.Index(fields=["company", "created_at"], name="messages_company_created"),
            models.Index(fields=["chatbot", "created_at"], name="messages_chatbot_created"),
            # Analytics counts a period's ratings live (they change after the day is rolled up):
            # the rated answers only, covering (feedback_at too, for SQLite), so a month's ratings
            # read the rated few.
            models.Index(fields=["company", "created_at", "chatbot", "feedback", "feedback_at"], name="messages_rated",
                         condition=models.Q(feedback_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_role_display()}: {self.content[:60]}"


class ImprovedAnswer(models.Model):
    """The answer staff wrote to a question the chatbot could not answer. A chatbot's improved
    answers make up one Q&A data source of its own, processed like any document, so the next
    visitor who asks gets the answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="improved_answers")
    chatbot = models.ForeignKey(Chatbot, on_delete=models.CASCADE, related_name="improved_answers")
    question = models.TextField(max_length=MAX_IMPROVED_QUESTION_LENGTH)
    answer = models.TextField(max_length=MAX_IMPROVED_ANSWER_LENGTH)
    data_source = models.ForeignKey("datasources.DataSource", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", help_text="The chatbot's Q&A data source holding it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "improved_answers"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["chatbot", "created_at"], name="improved_answers_chatbot")]

    def __str__(self):
        return self.question[:80]
