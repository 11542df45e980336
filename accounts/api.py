from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.roles import Capability
from accounts.scoping import CompanyScopedAPIView
from accounts.serializers import CompanySerializer, CompanyUpdateSerializer, MeSerializer
from accounts.services import company_delete, company_update


class MeView(CompanyScopedAPIView):
    """The authenticated user and their company."""

    serializer_class = MeSerializer

    def get(self, request):
        return Response(MeSerializer(request.user).data)


class CompanyView(CompanyScopedAPIView):
    """The requester's own company: read (anyone), update (owner, admin), delete (owner)."""

    serializer_class = CompanySerializer
    action_capabilities = {"patch": Capability.MANAGE_COMPANY, "delete": Capability.DELETE_COMPANY}

    def get(self, request):
        return Response(CompanySerializer(self.company).data)

    @extend_schema(request=CompanyUpdateSerializer, responses=CompanySerializer)
    def patch(self, request):
        data = CompanyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        company = company_update(company=self.company, **data.validated_data)
        return Response(CompanySerializer(company).data)

    def delete(self, request):
        company_delete(company=self.company)
        return Response(status=204)
