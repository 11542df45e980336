"""Progress while a file is processed: a measured fraction of the work, published as it moves, with the stage
named, as the files page receives it (the company's channel-layer group)."""

import asyncio
import itertools

import pypdfium2
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from datasources.events import company_group
from datasources.models import DataSource
from tests.ingestion import FILINGS, processed, upload

FILING = FILINGS / "2023 Q1 AAPL.pdf"


@pytest.fixture
def thirty_pages(tmp_path):
    """The first 30 pages of a 10-Q filing, as one PDF (about 130 chunks)."""
    if not FILING.exists():
        pytest.skip(f"the filings are not here: {FILING}")
    path = tmp_path / "thirty-pages.pdf"
    document = pypdfium2.PdfDocument.new()
    document.import_pages(pypdfium2.PdfDocument(FILING), list(range(30)))
    document.save(path)
    return path


def listen(company) -> str:
    """A channel in the company's group, as the files page's socket is."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(company_group(company.id), channel)
    return channel


def received(channel: str) -> list[dict]:
    """Every status event the channel holds, in the order they were published."""

    async def drain():
        layer, events = get_channel_layer(), []
        while True:
            try:
                event = await asyncio.wait_for(layer.receive(channel), timeout=1)
            except TimeoutError:  # nothing more: the run published everything before it ended
                return events
            events.append(event["data"])

    return async_to_sync(drain)()


@pytest.mark.django_db(transaction=True)
def test_progress_moves_while_a_30_page_pdf_is_read_and_while_it_embeds(local_models, owner_a, api_client,
                                                                         thirty_pages):
    channel = listen(owner_a.company)
    [data_source] = processed(api_client(owner_a), upload(api_client(owner_a), thirty_pages))
    assert data_source.status == DataSource.Status.READY and data_source.chunk_count >= 100
    events = received(channel)
    for stage in ("extracting", "embedding"):
        assert len({event["progress"] for event in events if event["stage"] == stage}) >= 3, events
    reading = [event["progress"] for event in events if event["stage"] == "extracting"]
    assert reading == sorted(set(reading)) and 1 <= reading[0] and reading[-1] <= 10  # once a point, in its share
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress) and progress[-1] == 100 and events[-1]["stage"] == "ready"
    stages = [stage for stage, _ in itertools.groupby(event["stage"] for event in events)]
    assert stages == ["extracting", "chunking", "embedding", "indexing", "ready"]
