"""Live status: each data source change goes to its company's channel-layer group.

With Redis the layer carries it from the worker process to the web process; without Redis
(in-memory layer, one process each) the dashboard falls back to polling the API.

When processing ends, ready or in error, the company's webhooks are told too (`announce_outcome`).
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from webhooks.models import EventType
from webhooks.services import emit

logger = logging.getLogger(__name__)


def company_group(company_id) -> str:
    return f"datasources.{company_id}"


def status_payload(data_source) -> dict:
    return {
        "id": str(data_source.id),
        "name": data_source.name,
        "status": data_source.status,
        "stage": data_source.stage,
        "progress": data_source.progress,
        "chunk_count": data_source.chunk_count,
        "error_message": data_source.error_message,
    }


def publish(data_source) -> None:
    """Best effort: a lost event costs a moment of staleness (the page polls too), never the run."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            company_group(data_source.company_id), {"type": "datasource.status", "data": status_payload(data_source)}
        )
    except Exception:
        logger.warning("Could not publish the status of data source %s", data_source.id, exc_info=True)


def announce_outcome(data_source) -> None:
    """Processing ended: `data_source.ready`, or `data_source.failed` with the reason, to the company's webhooks."""
    ready = data_source.status == data_source.Status.READY
    emit(company_id=data_source.company_id,
         type=EventType.DATA_SOURCE_READY if ready else EventType.DATA_SOURCE_FAILED,
         data={"id": str(data_source.id), "name": data_source.name, "type": data_source.type,
               "size": data_source.size, "status": data_source.status, "error_message": data_source.error_message,
               "chunk_count": data_source.chunk_count, "page_count": data_source.page_count,
               "created_at": data_source.created_at.isoformat(),
               "processed_at": data_source.processed_at.isoformat() if data_source.processed_at else None})
