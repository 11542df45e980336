"""One Pinecone index's data plane on 127.0.0.1, speaking the REST API as the pinecone SDK calls it.

    with running_pinecone(api_key="pc-test", dimension=384) as pinecone_server:
        settings.PINECONE_INDEX_HOST = pinecone_server.url

Served: POST /vectors/upsert, POST /query, POST /vectors/delete, GET /vectors/fetch and
POST /describe_index_stats. Like the real index it wants the `Api-Key` header, has one dimension,
keeps namespaces apart, refuses null metadata and requests over the documented limits, filters
on metadata with `$eq`, `$ne`, `$in`, `$nin` and `$and`, and scores by cosine similarity.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from tests.fakes.http import Reply, Request, serve

MAX_UPSERT_VECTORS = 1000
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_DELETE_IDS = 1000
DEFAULT_NAMESPACE = "__default__"  # how stats name the namespace ""


class BadRequest(Exception):
    pass


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}, "status": status})


class FakePinecone:
    def __init__(self, *, api_key: str, dimension: int):
        self.api_key = api_key
        self.dimension = dimension
        self.url = ""
        self.requests: list[Request] = []  # the server's record, once running
        self.namespaces: dict[str, dict[str, dict]] = {}  # namespace → id → {"values", "metadata"}
        self.routes = {
            ("POST", "/vectors/upsert"): self.upsert,
            ("POST", "/query"): self.query,
            ("POST", "/vectors/delete"): self.delete,
            ("GET", "/vectors/fetch"): self.fetch,
            ("POST", "/describe_index_stats"): self.describe_index_stats,
        }
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("api-key") != self.api_key:
            return error(401, "UNAUTHENTICATED", "Invalid API Key")
        route = self.routes.get((request.method, request.path))
        if route is None:
            return error(404, "NOT_FOUND", f"No route {request.method} {request.path}")
        if len(request.body) > MAX_REQUEST_BYTES:
            return error(400, "INVALID_ARGUMENT", f"Request size {len(request.body)} bytes exceeds "
                                                  f"the maximum supported size of {MAX_REQUEST_BYTES}")
        try:
            with self._lock:
                return Reply(200, route(request))
        except BadRequest as exc:
            return error(400, "INVALID_ARGUMENT", str(exc))

    def upsert(self, request: Request) -> dict:
        body = request.json()
        vectors = body.get("vectors") or []
        if len(vectors) > MAX_UPSERT_VECTORS:
            raise BadRequest(f"Upsert accepts at most {MAX_UPSERT_VECTORS} vectors, got {len(vectors)}")
        for vector in vectors:
            self._check_values(vector["values"])
            _check_metadata(vector.get("metadata") or {})
        namespace = self.namespaces.setdefault(body.get("namespace", ""), {})
        for vector in vectors:
            namespace[vector["id"]] = {"values": vector["values"], "metadata": vector.get("metadata") or {}}
        return {"upsertedCount": len(vectors)}

    def query(self, request: Request) -> dict:
        body = request.json()
        name = body.get("namespace", "")
        query = np.asarray(self._check_values(body["vector"]), dtype=np.float64)
        condition = body.get("filter") or {}
        candidates = [
            (vector_id, _cosine(query, stored["values"]), stored)
            for vector_id, stored in self.namespaces.get(name, {}).items()
            if _matches(stored["metadata"], condition)
        ]
        candidates.sort(key=lambda candidate: candidate[1], reverse=True)
        matches = []
        for vector_id, score, stored in candidates[:body["topK"]]:
            match = {"id": vector_id, "score": score}
            if body.get("includeValues"):
                match["values"] = stored["values"]
            if body.get("includeMetadata"):
                match["metadata"] = stored["metadata"]
            matches.append(match)
        return {"matches": matches, "namespace": name, "usage": {"readUnits": 1}}

    def delete(self, request: Request) -> dict:
        body = request.json()
        namespace = self.namespaces.get(body.get("namespace", ""), {})
        if body.get("deleteAll"):
            namespace.clear()
            return {}
        ids = body.get("ids")
        if not ids or len(ids) > MAX_DELETE_IDS:
            raise BadRequest(f"Delete takes between 1 and {MAX_DELETE_IDS} ids, or deleteAll")
        for vector_id in ids:
            namespace.pop(vector_id, None)
        return {}

    def fetch(self, request: Request) -> dict:
        # The shared HTTP helper keeps one value per query parameter, so one id per fetch.
        name = request.query.get("namespace", "")
        vector_id = request.query.get("ids", "")
        stored = self.namespaces.get(name, {}).get(vector_id)
        vectors = {vector_id: {"id": vector_id, **stored}} if stored else {}
        return {"vectors": vectors, "namespace": name, "usage": {"readUnits": 1}}

    def describe_index_stats(self, request: Request) -> dict:
        counts = {name or DEFAULT_NAMESPACE: {"vectorCount": len(vectors)}
                  for name, vectors in self.namespaces.items() if vectors}
        return {"namespaces": counts, "dimension": self.dimension, "indexFullness": 0.0,
                "totalVectorCount": sum(count["vectorCount"] for count in counts.values()),
                "metric": "cosine", "vectorType": "dense"}

    def _check_values(self, values) -> list:
        if len(values) != self.dimension:
            raise BadRequest(f"Vector dimension {len(values)} does not match the dimension of "
                             f"the index {self.dimension}")
        return values


def _check_metadata(metadata: dict) -> None:
    for key, value in metadata.items():
        valid = isinstance(value, str | int | float | bool) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value))
        if not valid:
            raise BadRequest(f"Metadata value for field {key!r} must be a string, number, boolean "
                             f"or list of strings, got {value!r}")


def _cosine(query: np.ndarray, values: list) -> float:
    stored = np.asarray(values, dtype=np.float64)
    denominator = np.linalg.norm(query) * np.linalg.norm(stored)
    return float(query @ stored / denominator) if denominator else 0.0


def _matches(metadata: dict, condition: dict) -> bool:
    """Pinecone's filter language: fields side by side must all hold; `$and` lists conditions."""
    for field, test in condition.items():
        if field == "$and":
            if not all(_matches(metadata, part) for part in test):
                return False
        elif not _holds(metadata.get(field), test if isinstance(test, dict) else {"$eq": test}):
            return False
    return True


def _holds(value, test: dict) -> bool:
    operators = {
        "$eq": lambda expected: value == expected,
        "$ne": lambda expected: value != expected,
        "$in": lambda expected: value in expected,
        "$nin": lambda expected: value not in expected,
    }
    unknown = set(test) - set(operators)
    if unknown:
        raise BadRequest(f"Unsupported filter operator(s): {sorted(unknown)}")
    return all(operators[operator](expected) for operator, expected in test.items())


@contextmanager
def running_pinecone(*, api_key: str, dimension: int) -> Iterator[FakePinecone]:
    pinecone = FakePinecone(api_key=api_key, dimension=dimension)
    with serve(pinecone) as server:
        pinecone.url = server.url
        pinecone.requests = server.requests
        yield pinecone
