from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import CompanyApiKey, Invitation, User
from accounts.roles import Capability
from accounts.scoping import CompanyScopedAPIView, CompanyScopedViewSet
from accounts.selectors import api_key_list, api_keys_acting_as, invitation_list, member_list
from accounts.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    CompanySerializer,
    CompanyUpdateSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    IssuedApiKeySerializer,
    MemberRemoveSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MeSerializer,
    issued_body,
)
from accounts.services import (
    api_key_create,
    api_key_delete,
    api_key_revoke,
    api_key_rotate,
    company_delete,
    company_update,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    member_remove,
    member_update_role,
    ownership_transfer,
)


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


def site_url(request) -> str:
    """Where links in emails point: this site, as the request reached it."""
    return request.build_absolute_uri("/")


class MemberViewSet(mixins.ListModelMixin, CompanyScopedViewSet):
    """The company's people: anyone lists them; owners and admins change roles and remove people.

    An owner is neither demoted nor removed: the owner transfers ownership to someone else first.
    """

    serializer_class = MemberSerializer
    queryset = User.objects.none()  # typed schema only; requests go through safely_get_queryset
    write_capability = Capability.MANAGE_MEMBERS
    action_capabilities = {"transfer_ownership": Capability.CHANGE_OWNER, "api_keys": Capability.MANAGE_KEYS}

    def safely_get_queryset(self, company):
        return member_list(company=company)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request, pk=None):
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_update_role(member=self.get_object(), role=data.validated_data["role"])
        return Response(MemberSerializer(member).data)

    @extend_schema(parameters=[MemberRemoveSerializer])
    def destroy(self, request, pk=None):
        """Remove the person. The company API keys acting as them are revoked, unless
        `transfer_api_keys=true` hands them to you (see GET …/api-keys first)."""
        options = MemberRemoveSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        member_remove(member=self.get_object(), removed_by=request.user, **options.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=ApiKeySerializer(many=True))
    @action(detail=True, methods=["get"], url_path="api-keys")
    def api_keys(self, request, pk=None):
        """The working company API keys that act as this person: removing them stops these."""
        return Response(ApiKeySerializer(api_keys_acting_as(member=self.get_object()), many=True).data)

    @extend_schema(request=None, responses=MemberSerializer)
    @action(detail=True, methods=["post"], url_path="transfer-ownership")
    def transfer_ownership(self, request, pk=None):
        """This member becomes the owner; the current owner (the requester) becomes an admin."""
        new_owner = ownership_transfer(owner=request.user, new_owner=self.get_object())
        return Response(MemberSerializer(new_owner).data)


class InvitationViewSet(mixins.ListModelMixin, CompanyScopedViewSet):
    """Open invitations (expired ones too, to resend); owners and admins invite, resend and revoke.

    The link is only ever in the email: it proves the invitee reads that address.
    """

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()  # typed schema only; requests go through safely_get_queryset
    write_capability = Capability.MANAGE_MEMBERS

    def safely_get_queryset(self, company):
        return invitation_list(company=company)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitation_create(company=self.company, invited_by=request.user, site_url=site_url(request),
                                       **data.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        """Revoke: the emailed link stops working."""
        invitation_revoke(invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Email a new link with a new expiry: a new invitation replaces this one, whose link stops working."""
        invitation = invitation_resend(invitation=self.get_object(), resent_by=request.user,
                                       site_url=site_url(request))
        return Response(InvitationSerializer(invitation).data)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CompanyScopedViewSet):
    """Company API keys for developers, read-only or read-write; owners and admins only.

    A key authenticates the whole REST API as its creator, within its scope; managing keys needs
    a person, so no API key can list or make keys.
    """

    serializer_class = ApiKeySerializer
    queryset = CompanyApiKey.objects.none()  # typed schema only; requests go through safely_get_queryset
    read_capability = Capability.MANAGE_KEYS
    write_capability = Capability.MANAGE_KEYS

    def safely_get_queryset(self, company):
        return api_key_list(company=company)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: IssuedApiKeySerializer})
    def create(self, request):
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(company=self.company, created_by=request.user, **data.validated_data)
        return Response(issued_body(self.get_serializer(issued.record), issued), status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        api_key_delete(api_key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=IssuedApiKeySerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """A new secret; the old one keeps working for the grace period (24 hours by default)."""
        issued = api_key_rotate(api_key=self.get_object())
        return Response(issued_body(self.get_serializer(issued.record), issued))

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Refuse the key from now on (and any previous key still in its grace period)."""
        return Response(self.get_serializer(api_key_revoke(api_key=self.get_object())).data)
