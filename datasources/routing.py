from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from datasources.consumers import DataSourceStatusConsumer

websocket_urlpatterns = [
    # Staff only, from Docent's own pages: another site's page cannot open it with their cookie.
    path("ws/datasources/", AllowedHostsOriginValidator(DataSourceStatusConsumer.as_asgi())),
]
