from django.urls import path

from chat import api, views
from config.paths import spec_path
from integrations.middleware import open_to_visitors

urlpatterns = [
    *spec_path("api/chat", open_to_visitors(api.ChatView.as_view()), name="api-chat"),
    *spec_path("api/chat/stream", open_to_visitors(api.ChatStreamView.as_view()), name="api-chat-stream"),
    *spec_path("api/conversations/<str:session_id>", open_to_visitors(api.ConversationView.as_view()),
               name="api-conversation"),
    *spec_path("api/conversations/<str:session_id>/feedback", open_to_visitors(api.FeedbackView.as_view()),
               name="api-conversation-feedback"),
    path("chatbots/<uuid:chatbot_id>/console/", views.ConsolePage.as_view(), name="chatbot_console"),
    path("chatbots/<uuid:chatbot_id>/unanswered/", views.UnansweredPage.as_view(), name="chatbot_unanswered"),
    path("conversations/", views.ConversationListPage.as_view(), name="conversations"),
    path("conversations/export.csv", views.ConversationExport.as_view(), name="conversations_export"),
    path("conversations/<uuid:pk>/", views.ConversationPage.as_view(), name="conversation"),
]
