from django.urls import path

from analytics import api, views
from config.paths import spec_path

urlpatterns = [
    path("", views.OverviewView.as_view(), name="dashboard"),
    *spec_path("api/analytics/dashboard", api.DashboardView.as_view(), name="api-analytics-dashboard"),
    *spec_path("api/analytics/chatbot/<uuid:pk>", api.ChatbotAnalyticsView.as_view(), name="api-analytics-chatbot"),
    path("chatbots/<uuid:pk>/analytics/", views.ChatbotAnalyticsPage.as_view(), name="chatbot_analytics"),
]
