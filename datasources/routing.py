from django.urls import path

from datasources.consumers import DataSourceStatusConsumer

websocket_urlpatterns = [
    path("ws/datasources/", DataSourceStatusConsumer.as_asgi()),
]
