from accounts.roles import ROLE_CAPABILITIES


def capabilities(request):
    """What the logged-in user's role may do, so templates show only the actions they can take."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.company_id is None:
        return {"capabilities": frozenset()}
    return {"capabilities": frozenset(c.value for c in ROLE_CAPABILITIES.get(user.role, ()))}
