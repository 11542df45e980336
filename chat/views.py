"""The test console: staff chat with one of their chatbots, streamed, with each answer's passages and scores."""

from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from chatbots.selectors import chatbot_list


class ConsolePage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, chatbot_id):
        chatbot = self.get_object(chatbot_id)
        return render(request, "chat/console.html", {
            "chatbot": chatbot,
            "ready_sources": chatbot.data_sources.filter(status="ready").count(),
        })
