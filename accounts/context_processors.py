from django.conf import settings
from django.shortcuts import resolve_url
from django.utils.functional import lazy

from accounts.roles import ROLE_CAPABILITIES


def capabilities(request):
    """What the logged-in user's role may do, so templates show only the actions they can take."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.company_id is None:
        return {"capabilities": frozenset()}
    return {"capabilities": frozenset(c.value for c in ROLE_CAPABILITIES.get(user.role, ()))}


def home(request):
    """Where a logged-in person's home page is (LOGIN_REDIRECT_URL), for pages to link to without
    naming the app that serves it; resolved only where a page uses it."""
    return {"home_url": lazy(resolve_url, str)(settings.LOGIN_REDIRECT_URL)}
