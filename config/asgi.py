"""Daphne serves HTTP and WebSocket from here: the application (config.routing), in a process that
loads its embedding model and warms the companies' indexes as it starts (config.startup)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from config import startup  # noqa: E402  (needs Django set up first)
from config.routing import application  # noqa: E402

__all__ = ["application"]

startup.start_web_process()
