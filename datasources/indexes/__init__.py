"""The two indexes of a data source's chunks, written together, and one search over both.

- `vector/`: the chunks' vectors, for nearness in meaning (a small protocol, one module per backend:
  the database searched with numpy in each process, or Pinecone).
- `lexical.py`: BM25 over the chunks' words, with each chunk's rows of figures by their labels;
  stored by the pipeline, loaded by each web process (its docstring says why).

The database's chunks are the source of truth. Once a run has stored a data source's chunks, the
pipeline's index step writes them to both indexes (`index_chunks`; `manage.py reindex` does the
same from the stored chunks); deleting a data source deletes both (its vectors through the vector
index, its lexical index with its row). Each process's caches learn of a change the same way: a
re-processed or deleted data source leaves the ready set at once, and is searched again, from
fresh copies, only once its run has ended. Chat searches through `ChunkSearch`, which the
`chunk_search` selector (datasources/selectors.py) gives for a chatbot's data sources.
"""

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from datasources.embedders import EmbeddingError, embed_question, get_embedder
from datasources.indexes import lexical
from datasources.indexes.lexical import SourceIndex
from datasources.indexes.vector import Match, VectorIndexError, VectorRecord, get_vector_index
from datasources.models import Chunk, DataSource

logger = logging.getLogger(__name__)


def index_chunks(data_source: DataSource, chunks: Sequence[Chunk], *, dropped_ids: Sequence[str] = ()) -> None:
    """Write a data source's stored chunks (all of them, in reading order) to both its indexes, and drop
    from the vector index the earlier chunks that no longer exist."""
    vector_index = get_vector_index()
    embedded = [VectorRecord.from_chunk(chunk) for chunk in chunks if chunk.embedding is not None]
    if embedded:
        vector_index.upsert(embedded)
    if dropped_ids:
        vector_index.delete(company_id=data_source.company_id, data_source_id=data_source.id, ids=dropped_ids)
    lexical.store(data_source, chunks)


@dataclass(frozen=True)
class ChunkSearch:
    """Some ready data sources of one company, searchable by meaning and by words.

    Every method searches the data sources named (`source_ids`, as a chatbot narrows its question to
    some documents), or all of them when none are.
    """

    company_id: uuid.UUID
    sources: dict[uuid.UUID, DataSource]
    lexical_indexes: dict[uuid.UUID, SourceIndex]
    # Why each dense search that failed did (it went on by words alone), for a caller that must know: an answer
    # found so is not the one a working embedder gives, and is not cached.
    dense_failures: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def of(cls, company_id: uuid.UUID, data_sources: Sequence[DataSource]) -> "ChunkSearch":
        sources = {source.id: source for source in data_sources}
        indexes = {source_id: lexical.source_indexes.get(source_id, source.updated_at.isoformat())
                   for source_id, source in sources.items()}
        return cls(company_id, sources, indexes)

    def warm(self) -> None:
        """Load what a first search would: the lexical indexes came with this object, the vectors load here."""
        embedder = get_embedder()
        if embedder.enabled and self.sources:
            get_vector_index().warm(company_id=self.company_id, dimension=embedder.dimension)

    def dense(self, question: str, top_k: int, source_ids: Collection[uuid.UUID] = ()) -> list[Match]:
        """Nearest chunks by meaning; none when no embedder is configured or it fails (lexical-only)."""
        embedder = get_embedder()
        if not embedder.enabled:
            return []
        try:
            return get_vector_index().query(company_id=self.company_id, vector=embed_question(embedder, question),
                                            data_source_ids=list(source_ids or self.sources), top_k=top_k)
        except (EmbeddingError, VectorIndexError) as failure:
            logger.warning("Dense search failed; answering from lexical search alone", exc_info=True)
            self.dense_failures.append(str(failure))
            return []

    def lexical(self, terms: list[str], top_k: int, source_ids: Collection[uuid.UUID] = ()) -> list[Match]:
        """(chunk id, BM25 score) of the chunks best matching these terms (`lexical.tokenize`)."""
        return lexical.search(self._lexical_of(source_ids), terms, top_k)

    def idf(self, terms: list[str], source_ids: Collection[uuid.UUID] = ()) -> dict[str, float]:
        """Each of the terms the searched chunks use, with its inverse document frequency over them."""
        return lexical.idf(self._lexical_of(source_ids), terms)

    def known_share(self, terms: list[str]) -> float:
        """The share of the terms' informative weight carried by words the data sources use."""
        return lexical.known_share(list(self.lexical_indexes.values()), terms)

    def uses(self, term: str, source_ids: Collection[uuid.UUID] = ()) -> bool:
        """Some data source (of `source_ids`; all when empty) uses the term."""
        return any(term in index.postings for index in self._lexical_of(source_ids))

    def named_rows(self, source_id: uuid.UUID, weights: dict[str, float]) -> dict[str, float]:
        """The data source's chunks holding a row of figures whose label these words name in full (see
        `lexical.FigureRows.named`), with the label's weight."""
        return self.lexical_indexes[source_id].named_rows(weights)

    def _lexical_of(self, source_ids: Collection[uuid.UUID]) -> list[SourceIndex]:
        return [self.lexical_indexes[source_id] for source_id in (source_ids or self.sources)]
