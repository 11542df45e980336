from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.roles import Capability
from accounts.scoping import CompanyScopedViewSet
from webhooks import selectors, services
from webhooks.models import Endpoint
from webhooks.serializers import (
    DeliverySerializer,
    EndpointSaveSerializer,
    EndpointSerializer,
    IssuedEndpointSerializer,
    issued_body,
)


class EndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CompanyScopedViewSet):
    """The company's webhook endpoints, their signing secrets and delivery logs; owners and admins only.

    Each delivery is a signed JSON POST (see the dashboard's Webhooks page for verifying it); failed ones are
    retried for more than a day.
    """

    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.none()  # typed schema only; requests go through safely_get_queryset
    read_capability = Capability.MANAGE_WEBHOOKS
    write_capability = Capability.MANAGE_WEBHOOKS

    def safely_get_queryset(self, company):
        return selectors.endpoint_list(company=company)

    @extend_schema(request=EndpointSaveSerializer, responses={201: IssuedEndpointSerializer})
    def create(self, request):
        """Register an endpoint; the response holds its signing secret, shown this once."""
        data = EndpointSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.endpoint_create(company=self.company, created_by=request.user, **data.validated_data)
        return Response(issued_body(self.get_serializer(issued.record), issued.secret), status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointSaveSerializer(partial=True), responses=EndpointSerializer)
    def partial_update(self, request, pk=None):
        """Change the URL, events, description, or switch it on or off."""
        data = EndpointSaveSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=self.get_object(), **data.validated_data)
        return Response(self.get_serializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=IssuedEndpointSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret; the previous one signs beside it for the grace period (24 hours by default)."""
        issued = services.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(issued_body(self.get_serializer(issued.record), issued.secret))

    @extend_schema(request=None, responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first."""
        page = self.paginate_queryset(selectors.delivery_list(endpoint=self.get_object()))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer},
                   parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/.]+)/resend")
    def resend(self, request, pk=None, delivery_id=None):
        """Send the delivery's event again (same event id), as a new delivery."""
        delivery = get_object_or_404(selectors.delivery_list(endpoint=self.get_object()), pk=delivery_id)
        again = services.delivery_resend(delivery=delivery)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
