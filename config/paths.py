from django.urls import path


def spec_path(route: str, view, name: str):
    """The spec's paths answer exactly as written and with a trailing slash, without a redirect."""
    return [path(route, view, name=name), path(f"{route}/", view)]
