"""OpenAI embeddings (text-embedding-3-small by default), or any server speaking the same API.

Retries are the openai SDK's own: on 408, 409, 429, 5xx, timeouts and dropped connections it
waits what the server asks in Retry-After (up to two minutes), otherwise backs off exponentially
with jitter, up to OPENAI_MAX_RETRIES times. What still fails becomes an EmbeddingError whose
message says what went wrong in words a person can act on.
"""

import numpy as np
import openai
from django.conf import settings

from datasources.embedders import EmbeddingError, EmbeddingProgress, batches_within, estimate_tokens, normalize_rows

# The embeddings API's documented limits for one request.
MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_REQUEST = 300_000
RETRIED_STATUSES = {408, 409, 429}  # and every 5xx, as the SDK does
# The relevance floor of OpenAI's own models, not measured by this project's benchmarks (they run offline):
# text-embedding-3 models put unrelated texts near 0.1 and a passage that answers a question well above 0.3;
# ada-002 crowds every pair into 0.7-1. Another server's model gets no floor until RELEVANCE_FLOOR sets one.
DEFAULT_RELEVANCE_FLOORS = {
    "text-embedding-3-small": 0.25,
    "text-embedding-3-large": 0.25,
    "text-embedding-ada-002": 0.75,
}
# OpenAI's own models; another server's model is measured with one request on first use.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    enabled = True
    question_encoder = ""  # the documents' model embeds questions too

    def __init__(self, *, model: str, api_key: str, base_url: str, timeout: float,
                 max_retries: int, max_tokens: int, relevance_floor: float | None = None):
        self.model = model
        self.max_tokens = max_tokens
        self.relevance_floor = DEFAULT_RELEVANCE_FLOORS.get(model, 0.0) if relevance_floor is None else relevance_floor
        self.timeout = timeout
        self.max_retries = max_retries
        self._dimension = KNOWN_DIMENSIONS.get(model)
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=max_retries
        )

    @staticmethod
    def options_from_settings() -> dict:
        return {
            "model": settings.OPENAI_EMBEDDING_MODEL,
            "api_key": settings.OPENAI_API_KEY,
            "base_url": settings.OPENAI_BASE_URL,
            "timeout": settings.OPENAI_TIMEOUT_SECONDS,
            "max_retries": settings.OPENAI_MAX_RETRIES,
            "max_tokens": settings.OPENAI_EMBEDDING_MAX_TOKENS,
            "relevance_floor": settings.RELEVANCE_FLOOR,
        }

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = self.embed_query("dimension").shape[0]
        return self._dimension

    prepared = True  # a remote service: nothing to load here

    def prepare(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        # OpenAI's tokenizer (tiktoken) downloads its vocabulary at first use, which this product
        # cannot rely on; an estimate that errs high keeps chunks and requests within the limits.
        return estimate_tokens(text)

    def embed_documents(self, texts: list[str], *, progress: EmbeddingProgress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batches = batches_within(texts, max_items=MAX_INPUTS_PER_REQUEST,
                                 max_cost=MAX_TOKENS_PER_REQUEST, cost=estimate_tokens)
        parts, done = [], 0
        for batch in batches:
            parts.append(self._request(batch))
            done += len(batch)
            if progress is not None:
                progress(done)
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            response = self._client.embeddings.create(model=self.model, input=texts)
        except (openai.OpenAIError, ValueError) as exc:  # the SDK raises ValueError on empty data
            raise EmbeddingError(self._explain(exc)) from exc
        if len(response.data) != len(texts):
            raise EmbeddingError(
                f"{self._service()} returned {len(response.data)} embeddings for {len(texts)} texts."
            )
        rows = sorted(response.data, key=lambda item: item.index)
        return normalize_rows([row.embedding for row in rows])

    def _service(self) -> str:
        return f"The embedding service at {self._client.base_url}"

    def _explain(self, exc: Exception) -> str:
        service, retries = self._service(), f"{self.max_retries} retries"
        if isinstance(exc, openai.AuthenticationError):
            return f"{service} rejected the API key (HTTP 401); check OPENAI_API_KEY."
        if isinstance(exc, openai.RateLimitError):
            return (f"{service} is still rate-limiting Docent (HTTP 429) after {retries}: "
                    f"{_detail(exc)} Try again later, or raise the account's limits.")
        if isinstance(exc, openai.APIStatusError):
            retried = exc.status_code in RETRIED_STATUSES or exc.status_code >= 500
            after = f" (after {retries})" if retried else ""
            return f"{service} answered HTTP {exc.status_code}{after}: {_detail(exc)}"
        if isinstance(exc, openai.APITimeoutError):
            return f"{service} did not answer within {self.timeout:g} seconds ({retries})."
        if isinstance(exc, openai.APIConnectionError):
            return f"{service} could not be reached ({exc.__cause__ or exc}; {retries})."
        return f"{service} sent an answer Docent could not read ({exc})."


def _detail(exc: openai.APIError) -> str:
    """The server's own error message when it sent one (OpenAI's {"error": {"message"}})."""
    body = exc.body
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return exc.message
