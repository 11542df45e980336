from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from accounts.scoping import CompanyScopedViewSet
from chatbots import selectors, services
from chatbots.models import Chatbot
from chatbots.serializers import ChatbotInputSerializer, ChatbotSerializer


class ChatbotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CompanyScopedViewSet):
    """The company's chatbots: what they say, how they answer, how they look, which data sources they use."""

    serializer_class = ChatbotSerializer
    queryset = Chatbot.objects.none()  # typed schema only; requests go through safely_get_queryset

    def safely_get_queryset(self, company):
        return selectors.chatbot_list(company=company)

    @extend_schema(request=ChatbotInputSerializer, responses={201: ChatbotSerializer})
    def create(self, request):
        data = ChatbotInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chatbot = services.chatbot_create(company=self.company, **data.validated_data)
        return Response(ChatbotSerializer(chatbot).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ChatbotInputSerializer, responses=ChatbotSerializer)
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(request=ChatbotInputSerializer, responses=ChatbotSerializer)
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def destroy(self, request, pk=None):
        services.chatbot_delete(chatbot=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, *, partial: bool) -> Response:
        chatbot = self.get_object()
        data = ChatbotInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        chatbot = services.chatbot_update(chatbot=chatbot, **data.validated_data)
        return Response(ChatbotSerializer(chatbot).data)
