"""WebSocket routes of every app, gathered in one list (the isolation guard enumerates it).

Each app guards its own routes' origins: staff channels sit behind AllowedHostsOriginValidator,
while the chat consumer checks a visitor's origin against the integration's allow-list itself.
"""

from chat.routing import websocket_urlpatterns as chat_routes
from datasources.routing import websocket_urlpatterns as datasource_routes

websocket_urlpatterns: list = [*datasource_routes, *chat_routes]
