"""Dashboard pages of the chat app: the test console, the conversation list, a transcript and the CSV export."""

import csv

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.scoping import CompanyScopedView
from chat import selectors, services
from chat.models import MAX_IMPROVED_ANSWER_LENGTH, MAX_IMPROVED_QUESTION_LENGTH
from chatbots.selectors import chatbot_list
from config.errors import ApiError
from datasources.models import DataSource

PAGE_SIZE = 50
# A spreadsheet runs a cell starting with these as a formula (CSV injection); such cells get a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


class ConsolePage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, chatbot_id):
        chatbot = self.get_object(chatbot_id)
        return render(request, "chat/console.html", {
            "chatbot": chatbot,
            # chatbot_list brought the chatbot's data sources with their status
            "ready_sources": sum(source.status == DataSource.Status.READY for source in chatbot.data_sources.all()),
        })


class ImproveForm(forms.Form):
    question = forms.CharField(max_length=MAX_IMPROVED_QUESTION_LENGTH)
    answer = forms.CharField(max_length=MAX_IMPROVED_ANSWER_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Write the answer the chatbot should give."})


class UnansweredPage(CompanyScopedView):
    """The questions a chatbot could not answer; staff write the answer, and the next visitor gets it."""

    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, chatbot_id, form=None):
        chatbot = self.get_object(chatbot_id)
        return render(request, "chat/unanswered.html", {
            "chatbot": chatbot, "questions": selectors.unanswered_questions(chatbot=chatbot), "form": form,
            "improved": chatbot.improved_answers.select_related("data_source").order_by("-created_at"),
        }, status=400 if form is not None else 200)

    def post(self, request, chatbot_id):
        chatbot = self.get_object(chatbot_id)
        form = ImproveForm(request.POST)
        if not form.is_valid():
            return self.get(request, chatbot_id, form=form)
        try:
            services.improve_answer(chatbot=chatbot, user=request.user, **form.cleaned_data)
        except ApiError as refused:
            form.add_error(None, refused.message)
            return self.get(request, chatbot_id, form=form)
        messages.success(request, "Saved. The chatbot answers this question once its Q&A document is processed "
                                  "(a few seconds).")
        return redirect("chatbot_unanswered", chatbot_id=chatbot.id)


class FilterForm(forms.Form):
    chatbot = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    answered = forms.ChoiceField(required=False, label="Answers", choices=[
        ("", "All"), ("answered", "All answered"), ("unanswered", "Some unanswered")])
    feedback = forms.ChoiceField(required=False, choices=[
        ("", "All"), ("any", "Rated"), ("up", "Rated helpful"), ("down", "Rated not helpful")])

    def __init__(self, data, *, company):
        super().__init__(data)
        self.fields["chatbot"].choices = [("", "All chatbots")] + [
            (str(chatbot.id), chatbot.name) for chatbot in chatbot_list(company=company)]

    def filters(self) -> selectors.ConversationFilters:
        if not self.is_valid():
            return selectors.ConversationFilters()
        data = self.cleaned_data
        return selectors.ConversationFilters(chatbot_id=data["chatbot"], since=data["since"], until=data["until"],
                                             answered=data["answered"], feedback=data["feedback"])


class FilteredConversations(CompanyScopedView):
    """The company's conversations as the filter form narrows them: the list page and its CSV export."""

    @cached_property
    def form(self) -> FilterForm:
        return FilterForm(self.request.GET or None, company=self.company)

    def safely_get_queryset(self, company):
        return selectors.conversation_list(company=company, filters=self.form.filters())


class ConversationListPage(FilteredConversations):
    def get(self, request):
        page = _page(self.get_queryset(), request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, "chat/conversations.html", {
            "form": self.form, "page": page, "query": query.urlencode(),
            "filtered": any(request.GET.get(name) for name in self.form.fields),
        })


def _page(queryset, number):
    return Paginator(queryset, PAGE_SIZE).get_page(number)


class ConversationPage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return selectors.conversation_list(company=company).select_related("chatbot", "staff_user")

    def get(self, request, pk):
        conversation = self.get_object(pk)
        return render(request, "chat/conversation.html", {
            "conversation": conversation,
            "turns": conversation.messages.order_by("created_at"),
        })


class ConversationExport(FilteredConversations):
    """The filtered conversations as CSV, one row per message, streamed however many there are."""

    def get(self, request):
        messages = selectors.export_messages(conversations=self.get_queryset())
        writer = csv.writer(_Echo())
        rows = (writer.writerow(row) for row in _rows(messages))
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="conversations-{stamp}.csv"'
        return response


EXPORT_COLUMNS = ["conversation", "started", "chatbot", "channel", "visitor", "time", "role", "message", "sources",
                  "mode", "answered", "interrupted", "latency_ms", "feedback", "feedback_comment"]


def _rows(messages):
    yield EXPORT_COLUMNS
    for message in messages.iterator(chunk_size=2000):
        conversation = message.conversation
        yield [safe_cell(value) for value in (
            conversation.id, conversation.created_at.isoformat(), conversation.chatbot_name, conversation.channel,
            conversation.visitor_id, message.created_at.isoformat(), message.role, message.content,
            "; ".join(message.sources), message.mode, _yes_no(message.answered), _yes_no(message.interrupted),
            message.latency_ms, message.feedback, message.feedback_comment)]


def _yes_no(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def safe_cell(value) -> str:
    """Text a spreadsheet shows as text: a would-be formula gets a leading ', and NUL characters are spelt out."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text.replace("\0", "\\0")


class _Echo:
    """csv.writer writes each row here, and gets the row back to stream."""

    def write(self, value):
        return value

