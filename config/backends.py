"""Pluggable parts chosen in settings: one small lookup that embedders, vector indexes and answer generators share."""

import functools

from django.utils.module_loading import import_string


def configured(backends: dict[str, str], choice: str):
    """The backend `choice` names in `backends`, one instance per configuration and process."""
    backend_class = import_string(backends[choice])
    return _instance(backend_class, **backend_class.options_from_settings())


@functools.lru_cache(maxsize=16)
def _instance(backend_class, **options):
    # Keyed by the options read from settings, so a changed setting (tests) gets a new instance;
    # otherwise each process keeps one (the local model loads once, an index keeps its caches).
    return backend_class(**options)
