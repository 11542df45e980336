from django.urls import path

from chatbots import api, views
from config.paths import SpecRouter

router = SpecRouter()
router.register("api/chatbots", api.ChatbotViewSet, basename="chatbot")

urlpatterns = [
    *router.urls,
    path("chatbots/", views.ChatbotListPage.as_view(), name="chatbots"),
    path("chatbots/new/", views.ChatbotFormPage.as_view(), name="chatbot_new"),
    path("chatbots/<uuid:pk>/", views.ChatbotFormPage.as_view(), name="chatbot_edit"),
]
