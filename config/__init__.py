"""Two layers in one folder (see the README's Layout and tests/test_layers.py, which checks them).

The wiring puts the apps together: settings, the root URLconf, the WebSocket routing, the ASGI and
WSGI applications, the web processes bin/serve starts, a web process's start, and the health probes
that report on every part. It imports the apps; no app imports it.

The floor is every other module here: what all apps share and build on (the API's error type and
shape, `@public`, spec paths and the router, pagination, admin bases, backend loading, JSON text
rules, the request middleware, guarded sockets, environment readers). It imports no app, so every
app may import it.
"""

WIRING = frozenset({"config.settings", "config.urls", "config.routing", "config.asgi", "config.wsgi",
                    "config.health", "config.startup", "config.webprocesses"})
