from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.roles import Capability
from config.errors import ApiError
from config.sockets import GuardedSocket, access_group, client_address, current_user
from datasources.events import company_group

NO_LONGER = "You no longer have access to this company's files."


class DataSourceStatusConsumer(GuardedSocket, AsyncJsonWebsocketConsumer):
    """Pushes the status of the company's data sources to the dashboard as they change, while the
    staff member stays in the company (config.sockets closes it when they are removed or deactivated)."""

    company_id = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or user.company_id is None:
            await self.close(code=4401)
            return
        self.company_id = user.company_id
        await self.channel_layer.group_add(company_group(self.company_id), self.channel_name)
        await self.admit(groups=[access_group("user", user.pk)], key=f"user:{user.pk}",
                         address=client_address(self.scope))

    async def still_allowed(self) -> bool:
        user = await database_sync_to_async(current_user)(self.scope)
        if user.is_authenticated and user.company_id == self.company_id and user.can(Capability.READ):
            return True
        await self.channel_layer.group_discard(company_group(self.company_id), self.channel_name)
        await self.refuse(ApiError(NO_LONGER, code="access_revoked", status_code=403))
        return False

    async def disconnect(self, code):
        if self.company_id is not None:
            await self.channel_layer.group_discard(company_group(self.company_id), self.channel_name)
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_error(ApiError("This channel only sends status updates.", code="read_only"))

    async def datasource_status(self, event):
        await self.send_json({"type": "status", "data_source": event["data"]})
