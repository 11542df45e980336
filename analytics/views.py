from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from analytics import selectors, tasks
from chat.engines import engines
from chatbots.selectors import chatbot_list


def _activity(request, company, chatbot=None) -> dict:
    """The last 30 days' figures and the latest conversations, as both analytics pages show them: of
    visitors' chats, and of the test console's too with `?include_console=true`."""
    include_console = request.GET.get("include_console") == "true"
    report = selectors.analytics_report(company=company, period=selectors.Period.last_days(), chatbot=chatbot,
                                        include_console=include_console)
    tasks.request_rollup(unrolled_since=report["unrolled_since"])
    return {
        "report": report,
        "chart_days": [{"date": day["date"].isoformat(), **{k: v for k, v in day.items() if k != "date"}}
                       for day in report["days"]],
        "conversations": selectors.latest_conversations(company=company, chatbot=chatbot,
                                                        include_console=include_console),
    }


class OverviewView(CompanyScopedView):
    def get(self, request):
        return render(request, "analytics/overview.html", {
            "overview": selectors.company_overview(company=self.company),
            "engines": engines(),
            **_activity(request, self.company),
        })


class ChatbotAnalyticsPage(CompanyScopedView):
    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    def get(self, request, pk):
        chatbot = self.get_object(pk)
        return render(request, "analytics/chatbot.html",
                      {"chatbot": chatbot, **_activity(request, self.company, chatbot)})
