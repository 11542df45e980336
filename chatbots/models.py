import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from accounts.models import Company
from chatbots.theme import default_theme, merge_theme, validate_theme
from config.jsontext import JSONTextDecoder, validate_json_text
from datasources.models import DataSource

MAX_SUGGESTED_QUESTIONS = 4
SUGGESTED_QUESTION_MAX_LENGTH = 200
TOP_K_RANGE = (1, 20)
TEMPERATURE_RANGE = (0.0, 1.0)
DEFAULT_WELCOME_MESSAGE = "Hi! Ask me anything about our documents."
DEFAULT_FALLBACK_MESSAGE = (
    "Sorry, I could not find the answer to that in our documents. "
    "Try asking in other words, or contact us directly."
)


def validate_suggested_questions(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Send the suggested questions as a list of texts.")
    if len(value) > MAX_SUGGESTED_QUESTIONS:
        raise ValidationError(f"At most {MAX_SUGGESTED_QUESTIONS} suggested questions (there are {len(value)}).")
    for number, question in enumerate(value, start=1):
        if not isinstance(question, str) or not question.strip():
            raise ValidationError(f"Question {number} is empty: write a question or leave it out.")
        if len(question) > SUGGESTED_QUESTION_MAX_LENGTH:
            raise ValidationError(f"Question {number} is longer than {SUGGESTED_QUESTION_MAX_LENGTH} characters.")


validate_model_name = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$",
    "Enter a model name such as gpt-4o-mini (letters, digits and . _ : / @ - only), or leave it empty.",
)


class Chatbot(models.Model):
    class Personality(models.TextChoices):
        PROFESSIONAL = "professional", "Professional: precise and courteous"
        FRIENDLY = "friendly", "Friendly: warm and conversational"
        CONCISE = "concise", "Concise: short, to-the-point answers"
        TECHNICAL = "technical", "Technical: exact terms and details"

    # Columns of the spec's `chatbots` table.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField(max_length=200)
    description = models.TextField(max_length=1000, null=True, blank=True)
    welcome_message = models.TextField(max_length=1000, null=True, blank=True, default=DEFAULT_WELCOME_MESSAGE)
    personality = models.TextField(choices=Personality.choices, default=Personality.PROFESSIONAL)
    theme = models.JSONField(default=default_theme, blank=True, decoder=JSONTextDecoder,
                             validators=[validate_theme, validate_json_text])
    is_active = models.BooleanField(default=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="chatbots")
    created_at = models.DateTimeField(default=timezone.now)
    data_sources = models.ManyToManyField(
        DataSource, through="ChatbotDataSource", related_name="chatbots", blank=True
    )

    # Added by Docent: what the chatbot says, and how it finds and writes its answers.
    instructions = models.TextField(max_length=4000, blank=True, default="",
                                    help_text="Custom system prompt, added to the personality's.")
    suggested_questions = models.JSONField(default=list, blank=True, decoder=JSONTextDecoder,
                                           validators=[validate_suggested_questions, validate_json_text])
    fallback_message = models.TextField(max_length=1000, default=DEFAULT_FALLBACK_MESSAGE,
                                        help_text="Said when the documents do not answer the question.")
    top_k = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(TOP_K_RANGE[0]), MaxValueValidator(TOP_K_RANGE[1])],
        help_text="How many passages of the documents each answer reads.")
    temperature = models.FloatField(
        default=0.2, validators=[MinValueValidator(TEMPERATURE_RANGE[0]), MaxValueValidator(TEMPERATURE_RANGE[1])])
    model = models.TextField(max_length=100, blank=True, default="", validators=[validate_model_name],
                             help_text="Chat model; empty means the server's default (OPENAI_CHAT_MODEL).")
    show_source_documents = models.BooleanField(
        default=False, verbose_name="Let visitors open the cited documents",
        help_text="Each source under an answer links to its document: visitors can open the whole file of any "
                  "data source the chatbot cites.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chatbots"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="chatbots_company_created")]

    def __str__(self):
        return self.name

    @property
    def theme_with_defaults(self) -> dict:
        return merge_theme(self.theme)


class ChatbotDataSource(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(Chatbot, on_delete=models.CASCADE)
    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chatbot_data_sources"
        constraints = [
            models.UniqueConstraint(fields=["chatbot", "data_source"], name="chatbot_data_source_unique")
        ]

    def __str__(self):
        return f"{self.chatbot_id} → {self.data_source_id}"

    def clean(self):
        """Admin links go through here: a chatbot answers from its own company's documents only."""
        if self.chatbot_id and self.data_source_id and self.data_source.company_id != self.chatbot.company_id:
            raise ValidationError({"data_source": "This data source belongs to another company."})
