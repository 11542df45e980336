"""WebSocket routes of every app, gathered in one list (the isolation guard enumerates it)."""

from datasources.routing import websocket_urlpatterns as datasource_routes

websocket_urlpatterns: list = [*datasource_routes]
