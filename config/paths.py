from django.urls import path
from rest_framework.routers import SimpleRouter


def spec_path(route: str, view, name: str):
    """The spec's paths answer exactly as written and with a trailing slash, without a redirect."""
    return [path(route, view, name=name), path(f"{route}/", view)]


class SpecRouter(SimpleRouter):
    """A DRF router whose routes answer with and without a trailing slash, like `spec_path`."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"  # DRF's constructor only takes a yes/no
