from rest_framework import serializers


class FiguresSerializer(serializers.Serializer):
    conversations = serializers.IntegerField(help_text="Conversations started in the period.")
    questions = serializers.IntegerField(help_text="Visitors' messages.")
    answers = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Answers that found something in the documents.")
    unanswered = serializers.IntegerField()
    answered_rate = serializers.FloatField(allow_null=True, help_text="answered / answers; null without answers.")
    unique_visitors = serializers.IntegerField(help_text="Distinct widget visitor ids (exact).")
    latency_p50_ms = serializers.IntegerField(allow_null=True, help_text="Median answer latency (see method).")
    latency_p95_ms = serializers.IntegerField(allow_null=True)
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    estimated_cost_usd = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=False,
                                                  help_text="From OPENAI_PRICE_PER_1M_*_TOKENS_USD.")
    feedback_up = serializers.IntegerField()
    feedback_down = serializers.IntegerField()


class ChatbotFiguresSerializer(FiguresSerializer):
    id = serializers.UUIDField(allow_null=True, help_text="Null for conversations of deleted chatbots.")
    name = serializers.CharField()


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    conversations = serializers.IntegerField()
    questions = serializers.IntegerField()
    answers = serializers.IntegerField()
    answered_rate = serializers.FloatField(allow_null=True)
    latency_p50_ms = serializers.IntegerField(allow_null=True)
    latency_p95_ms = serializers.IntegerField(allow_null=True)


class QuestionCountSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="Lower-cased, spacing and surrounding punctuation removed.")
    count = serializers.IntegerField()


class SourceCountSerializer(serializers.Serializer):
    source = serializers.CharField(help_text='As answers cite it: "report.pdf page 2".')
    count = serializers.IntegerField(help_text="Answers citing it.")


class ChatbotRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class MethodSerializer(serializers.Serializer):
    days = serializers.CharField()
    counts = serializers.CharField()
    latency = serializers.CharField()
    unique_visitors = serializers.CharField()
    answered_rate = serializers.CharField()
    console = serializers.CharField()
    rolled_up_days = serializers.IntegerField(help_text="Days read from the daily roll-up.")
    live_days = serializers.IntegerField(help_text="Days aggregated from the messages for this request.")


class AnalyticsReportSerializer(serializers.Serializer):
    # "from" is a Python keyword, so the field is declared in get_fields.
    to = serializers.DateField(help_text="Last day of the period, included.")
    timezone = serializers.CharField(help_text="Days are this time zone's (UTC).")
    chatbot = ChatbotRefSerializer(allow_null=True, help_text="The chatbot, for /api/analytics/chatbot/<id>.")
    include_console = serializers.BooleanField(help_text="Whether the test console's chats are counted.")
    totals = FiguresSerializer()
    days = DaySerializer(many=True)
    top_questions = QuestionCountSerializer(many=True)
    top_sources = SourceCountSerializer(many=True)
    chatbots = ChatbotFiguresSerializer(many=True, help_text="Per chatbot (company dashboard only).")
    method = MethodSerializer(help_text="How each figure is computed.")

    def get_fields(self):
        return {"from": serializers.DateField(help_text="First day of the period."), **super().get_fields()}
