from channels.generic.websocket import AsyncJsonWebsocketConsumer

from datasources.events import company_group


class DataSourceStatusConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the status of the company's data sources to the dashboard as they change."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or user.company_id is None:
            await self.close(code=4401)
            return
        self.group = company_group(user.company_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_json({"type": "error", "error": {"code": "read_only",
                                                         "message": "This channel only sends status updates."}})

    async def datasource_status(self, event):
        await self.send_json({"type": "status", "data_source": event["data"]})
