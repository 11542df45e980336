from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from accounts.scoping import CompanyScopedViewSet
from accounts.serializers import issued_body
from chatbots.selectors import chatbot_list
from integrations import selectors, services
from integrations.access import site_origin
from integrations.models import Integration
from integrations.serializers import (
    ChatbotIntegrationsSerializer,
    IntegrationSaveSerializer,
    IntegrationSerializer,
    IntegrationUpdateSerializer,
    IssuedIntegrationSerializer,
)


class IntegrationViewSet(CompanyScopedViewSet):
    """A chatbot's integrations (widget, iframe, API) with ready-to-paste snippets.

    Everyone in the company reads them (publishable keys included, never a secret); owners and
    admins create, change, rotate, revoke and delete them.
    """

    serializer_class = IntegrationSerializer
    queryset = Integration.objects.none()  # typed schema only; requests go through safely_get_queryset
    write_capability = Capability.MANAGE_INTEGRATIONS

    def safely_get_queryset(self, company):
        return selectors.integration_list(company=company, chatbot_id=self.kwargs.get("chatbot_id"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "origin": site_origin(self.request)}

    def get_chatbot(self, chatbot_id):
        return get_object_or_404(chatbot_list(company=self.company), pk=chatbot_id)

    @extend_schema(request=IntegrationSaveSerializer,
                   responses={201: IssuedIntegrationSerializer, 200: IntegrationSerializer})
    def create(self, request):
        """Create the chatbot's integration of this type, or update it if it exists (`settings`)."""
        data = IntegrationSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.integration_save(chatbot=self.get_chatbot(data.validated_data["chatbot_id"]),
                                           type=data.validated_data["type"],
                                           settings=data.validated_data.get("settings"))
        return Response(issued_body(self.get_serializer(issued.record), issued),
                        status=status.HTTP_201_CREATED if issued.created else status.HTTP_200_OK)

    @extend_schema(responses=ChatbotIntegrationsSerializer)
    def chatbot_integrations(self, request, chatbot_id):
        chatbot = self.get_chatbot(chatbot_id)
        services.ensure_widget_integration(chatbot=chatbot)
        return Response({"chatbot_id": chatbot.id,
                         "integrations": self.get_serializer(self.get_queryset(), many=True).data})

    @extend_schema(request=IntegrationUpdateSerializer, responses=IntegrationSerializer)
    def partial_update(self, request, chatbot_id, pk):
        integration = self.get_object()
        data = IntegrationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        integration = services.integration_update(integration=integration, settings=data.validated_data["settings"])
        return Response(self.get_serializer(integration).data)

    def destroy(self, request, chatbot_id, pk):
        services.integration_delete(integration=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=IssuedIntegrationSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, chatbot_id, pk):
        """A new key; the old one keeps working for the grace period (24 hours by default)."""
        issued = services.integration_rotate(integration=self.get_object())
        return Response(issued_body(self.get_serializer(issued.record), issued))

    @extend_schema(request=None, responses=IntegrationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, chatbot_id, pk):
        """Refuse the key from now on (and any previous key still in its grace period)."""
        integration = services.integration_revoke(integration=self.get_object())
        return Response(self.get_serializer(integration).data)
