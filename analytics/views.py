from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from analytics import selectors, tasks
from chat.engines import engines
from chatbots.selectors import chatbot_list


def _activity(company, chatbot=None) -> dict:
    """The last 30 days' figures and the latest conversations, as both analytics pages show them."""
    report = selectors.analytics_report(company=company, period=selectors.Period.last_days(), chatbot=chatbot)
    tasks.request_rollup(unrolled_since=report["unrolled_since"])
    return {
        "report": report,
        "chart_days": [{"date": day["date"].isoformat(), **{k: v for k, v in day.items() if k != "date"}}
                       for day in report["days"]],
        "conversations": selectors.latest_conversations(company=company, chatbot=chatbot),
    }


class OverviewView(CompanyScopedView):
    def get(self, request):
        return render(request, "analytics/overview.html", {
            "overview": selectors.company_overview(company=self.company),
            "engines": engines(),
            **_activity(self.company),
        })


class ChatbotAnalyticsPage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, pk):
        chatbot = self.get_object(pk)
        return render(request, "analytics/chatbot.html", {"chatbot": chatbot, **_activity(self.company, chatbot)})
