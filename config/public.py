"""Marking a route as outside tenant isolation, with the reason (the isolation guard reads it)."""


def public(reason: str):
    """Declare that a view serves no company's data to strangers, and why.

    Use as `@public("…")` on a function view or `public("…")(View.as_view())` in a URLconf.
    """

    def mark(view):
        view.public_reason = reason
        return view

    return mark


# URL namespaces outside tenant isolation as a whole, with the reason.
PUBLIC_NAMESPACES = {
    "admin": "Django admin is for superusers, who see every company by design",
}
