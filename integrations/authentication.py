from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import bearer_token
from integrations import access, keys


class CompanyApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer dct_rw_…` (read-write) or `dct_ro_…` (read-only): a company API key.

    The request acts as the key's creator within the key's scope; `request.auth` is the key.
    """

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith((keys.READ_WRITE, keys.READ_ONLY)):
            return None
        key = access.company_key(token)
        if key is None or not key.created_by.is_active:
            raise AuthenticationFailed("Unknown, rotated or revoked API key.")
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class CompanyApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = CompanyApiKeyAuthentication
    name = "companyApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A company API key: dct_rw_… (read-write) or dct_ro_… (read-only)."}
