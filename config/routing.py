"""WebSocket routes of every app, gathered in one list (the isolation guard enumerates it)."""

websocket_urlpatterns: list = []
