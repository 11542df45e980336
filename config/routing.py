"""The ASGI application: Django for HTTP, and the WebSocket routes of every app, gathered in one list (the
isolation guard enumerates it).

Each app guards its own routes' origins: staff channels sit behind AllowedHostsOriginValidator,
while the chat consumer checks a visitor's origin against the integration's allow-list itself.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

from chat.routing import websocket_urlpatterns as chat_routes
from datasources.routing import websocket_urlpatterns as datasource_routes

websocket_urlpatterns: list = [*datasource_routes, *chat_routes]

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
