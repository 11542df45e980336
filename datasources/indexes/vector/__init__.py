"""Vector indexes keep chunk vectors and find the nearest ones: a small protocol, one module per backend.

`VECTOR_BACKEND` chooses `local` (vectors in the chunks table, exact search in this process) or
`pinecone` (one namespace per company). Every query names a company and the data sources it may
search (a chatbot's), so neither filter can be forgotten by a caller. Whatever removes or
rewrites chunks goes through `delete` and `upsert`: that is how every index, and every process's
cache of the local one, learns of the change.
"""

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from django.conf import settings

from config.backends import configured
from datasources import chunk_format
from datasources.models import Chunk

BACKENDS = {
    "local": "datasources.indexes.vector.local.LocalVectorIndex",
    "pinecone": "datasources.indexes.vector.pinecone.PineconeVectorIndex",
}


@dataclass(frozen=True)
class VectorRecord:
    id: str  # the chunk's id (datasources/chunk_format.py)
    company_id: uuid.UUID
    data_source_id: uuid.UUID
    vector: np.ndarray  # float32
    text: str
    metadata: dict  # the chunk's: file_name, page_number or sheet + row_start/row_end, title, heading

    @classmethod
    def from_chunk(cls, chunk: Chunk) -> "VectorRecord":
        """The record of a chunk whose embedding is set."""
        return cls(
            id=chunk.id, company_id=chunk.company_id, data_source_id=chunk.data_source_id,
            vector=np.frombuffer(chunk.embedding, dtype=np.float32), text=chunk.text,
            metadata=chunk.metadata,
        )


Match = tuple[str, float]  # (chunk id, cosine similarity)


class VectorIndex(Protocol):
    def upsert(self, records: Sequence[VectorRecord]) -> None: ...

    def delete(self, *, company_id: uuid.UUID, data_source_id: uuid.UUID, ids: Sequence[str]) -> None:
        """Remove these vectors of one data source; ids of another data source are refused."""

    def query(self, *, company_id: uuid.UUID, vector: np.ndarray,
              data_source_ids: Collection[uuid.UUID], top_k: int) -> list[Match]:
        """The company's nearest chunks among these data sources, best first."""

    def warm(self, *, company_id: uuid.UUID, dimension: int) -> None:
        """Load in this process what the company's first query would (config.startup)."""


class VectorIndexError(Exception):
    """The vector index failed; the message is worded for a person."""


def get_vector_index() -> VectorIndex:
    """The configured index, one per configuration and process (it holds caches and connections)."""
    return configured(BACKENDS, settings.VECTOR_BACKEND)


def by_company(records: Sequence[VectorRecord]) -> dict[uuid.UUID, list[VectorRecord]]:
    groups = defaultdict(list)
    for record in records:
        groups[as_uuid(record.company_id)].append(record)
    return groups


def check_ids_belong(data_source_id: uuid.UUID, ids: Sequence[str]) -> None:
    """Deleting "a data source's vectors" must not reach another's, whatever ids a caller passes."""
    prefix = chunk_format.id_prefix(as_uuid(data_source_id))
    strays = [chunk_id for chunk_id in ids if not chunk_id.startswith(prefix)]
    if strays:
        raise ValueError(f"{len(strays)} ids are not chunks of data source {data_source_id}: {strays[:3]}")


def as_uuid(value) -> uuid.UUID:
    """Ids arrive as UUIDs from models and as strings from requests; compare them as UUIDs."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def namespace_for(company_id) -> str:
    """The company's namespace in a shared index (Pinecone), recorded on each data source."""
    return f"company_{as_uuid(company_id)}"
