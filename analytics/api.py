import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts.scoping import CompanyScopedAPIView
from analytics import selectors, tasks
from analytics.serializers import AnalyticsReportSerializer
from chatbots.models import Chatbot
from chatbots.selectors import chatbot_list
from config.errors import ApiError

REPORT_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First UTC day (default: 29 days before `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last UTC day, included (default: today)."),
    OpenApiParameter("include_console", OpenApiTypes.BOOL,
                     description="Count the test console's chats too (default: false, visitors' chats only)."),
]


def _day(params, name: str) -> datetime.date | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(f"`{name}` must be a date written YYYY-MM-DD.", code="invalid_period",
                       details={name: value}) from None


def period_from(params) -> selectors.Period:
    """The `from`/`to` query parameters as a period of at most MAX_PERIOD_DAYS."""
    start, end = _day(params, "from"), _day(params, "to")
    end = end or selectors.Period.last_days().end
    if start is None:
        start = selectors.Period.last_days(today=end).start
    if start > end:
        raise ApiError("`from` must not be after `to`.", code="invalid_period",
                       details={"from": start.isoformat(), "to": end.isoformat()})
    if (end - start).days + 1 > selectors.MAX_PERIOD_DAYS:
        raise ApiError(f"A period covers at most {selectors.MAX_PERIOD_DAYS} days.", code="invalid_period",
                       details={"from": start.isoformat(), "to": end.isoformat()})
    return selectors.Period(start, end)


def include_console_from(params) -> bool:
    """The `include_console` query parameter: true or false (absent: false)."""
    value = params.get("include_console", "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ApiError("`include_console` must be true or false.", code="invalid",
                       details={"include_console": value})
    return value in ("true", "1")


class AnalyticsView(CompanyScopedAPIView):
    serializer_class = AnalyticsReportSerializer

    def report(self, chatbot: Chatbot | None) -> Response:
        params = self.request.query_params
        report = selectors.analytics_report(company=self.company, period=period_from(params), chatbot=chatbot,
                                            include_console=include_console_from(params))
        tasks.request_rollup(unrolled_since=report["unrolled_since"])
        return Response(AnalyticsReportSerializer(report).data)


class DashboardView(AnalyticsView):
    """The company's activity over a period: totals, per-day series, top questions and sources, per chatbot."""

    @extend_schema(parameters=REPORT_PARAMETERS, operation_id="analytics_dashboard")
    def get(self, request):
        return self.report(None)


class ChatbotAnalyticsView(AnalyticsView):
    """The same figures for one of the company's chatbots."""

    queryset = Chatbot.objects.none()  # typed schema only; requests go through safely_get_queryset

    def safely_get_queryset(self, company):
        return chatbot_list(company=company)

    @extend_schema(parameters=REPORT_PARAMETERS, operation_id="analytics_chatbot")
    def get(self, request, pk):
        return self.report(self.get_object())
