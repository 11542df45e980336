"""The one tenant-scoping mechanism: every company-owned object is reached through here.

API views subclass `CompanyScopedViewSet` / `CompanyScopedAPIView` and implement
`safely_get_queryset(company)`; dashboard views subclass `CompanyScopedView` and do the same.
Another company's object is then simply absent from the queryset and answers 404, exactly like
a missing one. Roles are checked against the capability the action needs (accounts.roles).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.views import View
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.viewsets import GenericViewSet

from accounts.models import Company
from accounts.roles import Capability
from config import rls

NO_COMPANY_MESSAGE = "Your account does not belong to a company."


def request_company(request) -> Company | None:
    """The company a request acts for: a company credential's company, else the user's. The request's
    transaction then admits that company's rows (config.rls), and no other's."""
    credential_company = getattr(getattr(request, "auth", None), "company", None)
    user = request.user
    company = credential_company or (user.company if user.is_authenticated else None)
    rls.set_company(company.pk if company else None)
    return company


def request_allows(request, capability: Capability) -> bool:
    """A credential that carries its own scope (an API key) decides; otherwise the user's role."""
    credential = getattr(request, "auth", None)
    if hasattr(credential, "allows"):
        return credential.allows(capability)
    return request.user.is_authenticated and request.user.can(capability)


class CompanyScopedMixin:
    """Owns company lookup, queryset scoping and the role check for API views."""

    read_capability = Capability.READ
    write_capability = Capability.MANAGE_CONTENT
    action_capabilities: dict[str, Capability] = {}

    @property
    def company(self) -> Company:
        company = request_company(self.request)
        if company is None:
            raise ApiPermissionDenied(NO_COMPANY_MESSAGE)
        return company

    def required_capability(self) -> Capability:
        action = getattr(self, "action", None) or self.request.method.lower()
        if action in self.action_capabilities:
            return self.action_capabilities[action]
        if self.request.method in permissions.SAFE_METHODS:
            return self.read_capability
        return self.write_capability

    def safely_get_queryset(self, company: Company) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must scope its queryset to the company.")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset  # drf-spectacular inspects the view without a request or company
        return self.safely_get_queryset(self.company)


class HasCompanyCapability(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if request_company(request) is None:
            raise ApiPermissionDenied(NO_COMPANY_MESSAGE)
        capability = view.required_capability()
        if not request_allows(request, capability):
            raise ApiPermissionDenied(f"Your role does not allow this ({capability.value.replace('_', ' ')}).")
        return True


_SCOPED_PERMISSIONS = [permissions.IsAuthenticated, HasCompanyCapability]


class CompanyScopedViewSet(CompanyScopedMixin, GenericViewSet):
    permission_classes = _SCOPED_PERMISSIONS


class CompanyScopedAPIView(CompanyScopedMixin, GenericAPIView):
    permission_classes = _SCOPED_PERMISSIONS


class CompanyScopedView(LoginRequiredMixin, View):
    """Dashboard pages: the logged-in user's company, its objects only, roles enforced."""

    required_capability = Capability.READ

    @property
    def company(self) -> Company:
        return request_company(self.request)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.company_id is None:
                raise PermissionDenied(NO_COMPANY_MESSAGE)
            if not request.user.can(self.required_capability):
                raise PermissionDenied("Your role does not allow this page.")
        return super().dispatch(request, *args, **kwargs)

    def safely_get_queryset(self, company: Company) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must scope its queryset to the company.")

    def get_queryset(self) -> QuerySet:
        return self.safely_get_queryset(self.company)

    def get_object(self, pk):
        """`pk` comes from a `<uuid:…>` URL converter, so a malformed id never reaches the query."""
        return get_object_or_404(self.get_queryset(), pk=pk)
