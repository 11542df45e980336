"""Pinecone: one namespace per company, records in the spec's structure, writes in batches.

A record is `{"id": "datasource_<id>_chunk_<n>", "values": [...], "metadata": {"company_id",
"data_source_id", "chunk_text", "file_name", "page_number" or "sheet"/"row_start"/"row_end", ...}}`.
The chunk text is there because the spec puts it there; Docent reads text from its database.
"""

import json
from collections.abc import Collection, Sequence

import numpy as np
from django.conf import settings
from pinecone import Pinecone
from pinecone.exceptions import PineconeException

from datasources.embedders import batches_within, normalize_rows
from datasources.indexes.vector import (
    Match,
    VectorIndexError,
    VectorRecord,
    as_uuid,
    by_company,
    check_ids_belong,
    namespace_for,
)

# Pinecone's documented limits.
MAX_VECTORS_PER_UPSERT = 100
MAX_UPSERT_BYTES = 2 * 1024 * 1024
MAX_IDS_PER_DELETE = 1000
# Metadata may hold 40 KB per record; the text gets what the other fields surely leave.
MAX_CHUNK_TEXT_BYTES = 32 * 1024
# Where the chunk sits in its file; any that is missing is left out, as Pinecone refuses nulls.
LOCATION_KEYS = ("file_name", "page_number", "sheet", "row_start", "row_end", "title", "heading")


class PineconeVectorIndex:
    def __init__(self, *, api_key: str, host: str):
        self.host = host
        self._index = Pinecone(api_key=api_key).Index(host=host)

    @staticmethod
    def options_from_settings() -> dict:
        return {"api_key": settings.PINECONE_API_KEY, "host": settings.PINECONE_INDEX_HOST}

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        for company_id, group in by_company(records).items():
            vectors = [_pinecone_vector(record) for record in group]
            # Our own batches, not the SDK's batch_size: its batched upsert reports failed
            # batches in the response instead of raising, and a lost batch must not pass quietly.
            for batch in batches_within(vectors, max_items=MAX_VECTORS_PER_UPSERT,
                                        max_cost=MAX_UPSERT_BYTES, cost=_encoded_size):
                self._call("store vectors", self._index.upsert, vectors=batch,
                           namespace=namespace_for(company_id))

    def delete(self, *, company_id, data_source_id, ids: Sequence[str]) -> None:
        check_ids_belong(data_source_id, ids)
        ids = list(ids)
        for start in range(0, len(ids), MAX_IDS_PER_DELETE):
            self._call("delete vectors", self._index.delete, ids=ids[start:start + MAX_IDS_PER_DELETE],
                       namespace=namespace_for(company_id))

    def warm(self, *, company_id, dimension: int) -> None:
        pass  # Pinecone holds the vectors: nothing to load in this process

    def query(self, *, company_id, vector: np.ndarray, data_source_ids: Collection,
              top_k: int) -> list[Match]:
        sources = [str(as_uuid(source)) for source in data_source_ids]
        if not sources:
            return []
        response = self._call(
            "search", self._index.query, vector=normalize_rows(vector).tolist(), top_k=top_k,
            namespace=namespace_for(company_id), include_metadata=False,
            # The namespace already holds one company; the filter on it costs nothing and would
            # catch a record written to the wrong namespace.
            filter={"company_id": {"$eq": str(as_uuid(company_id))}, "data_source_id": {"$in": sources}},
        )
        return [(match.id, float(match.score)) for match in response.matches]

    def _call(self, action: str, operation, **arguments):
        try:
            return operation(**arguments)
        except PineconeException as exc:
            raise VectorIndexError(f"Pinecone ({self.host}) could not {action}: {exc}") from exc


def _pinecone_vector(record: VectorRecord) -> dict:
    metadata = {
        "company_id": str(record.company_id),
        "data_source_id": str(record.data_source_id),
        "chunk_text": _truncate_utf8(record.text, MAX_CHUNK_TEXT_BYTES),
    }
    metadata.update({key: record.metadata[key] for key in LOCATION_KEYS if record.metadata.get(key) is not None})
    return {"id": record.id, "values": normalize_rows(record.vector).tolist(), "metadata": metadata}


def _encoded_size(vector: dict) -> int:
    # json.dumps spaces its separators where the SDK's encoder does not: the estimate errs high
    # by more than the request's envelope ({"vectors": [...], "namespace": ...}) adds.
    return len(json.dumps(vector).encode())


def _truncate_utf8(text: str, max_bytes: int) -> str:
    return text.encode()[:max_bytes].decode(errors="ignore")
