"""Search latency of the local vector index in one company of 10k, 100k and 1M chunks (issue 5).

Each company has twenty data sources of equal size; its chatbot answers from ten of them, half the
company's chunks. Vectors are synthetic 384-d float32 unit vectors with the structure of a
company's documents: sections of 50 chunks (cosine ~0.56 between two chunks of a section) on 50
subjects (~0.2 between sections of one subject, ~0 otherwise). Queries are new chunks of random
sections: half of the chatbot's documents ("in scope"), half of the company's other documents,
whose nearest allowed chunks are only related ("out of scope").

For each size, in the same run: plain numpy brute force over the chatbot's rows (matrix @ vector
+ argpartition), the truth for recall; `get_vector_index().query(...)` of the local index, which
reads the nearest partitions only above `EXACT_ROWS` (datasources/indexes/vector/local.py); and the
whole `chat.retrieval.retrieve(chatbot=, question=)` over the Chunk rows in SQLite, with the local
MiniLM embedding each question (its vector then swapped for the synthetic query's, so that the
dense search finds what the question asks for). At 100k and 1M, the first query after another
process adds a data source of 1,000 chunks, and after it deletes it: in the process that had the
company loaded (which reads only that data source again) and in a fresh one (a full reload, what
every change cost before the local index learnt which data sources changed). Last, the worst case
for partitions: structureless (uniformly random) vectors, partitioned in memory as the index would.
The companies are inserted once into var/bench/search/ (a few minutes at 1M; delete the folder to
regenerate).

Run: `python -m bench.search_latency [rows ...]`; the report is printed and written to
var/bench/search_latency.md.
"""

import datetime
import os
import sys
import time
from pathlib import Path
from unittest import mock

import django
import numpy as np
from threadpoolctl import threadpool_limits

from bench.ingest import PROJECT_ROOT, docent_environment, machine

BENCH_DIR = PROJECT_ROOT / "var" / "bench" / "search"
REPORT_PATH = PROJECT_ROOT / "var" / "bench" / "search_latency.md"
HEADING = "## Search latency (issue 5)"
SIZES = (10_000, 100_000, 1_000_000)
DIMENSION = 384
DATA_SOURCES = 20  # the chatbot answers from the first half
SECTION_CHUNKS = 50
SUBJECTS = 50
CHUNK_NOISE, SECTION_NOISE = 0.88, 1.33  # cosine to the section ~0.75, section to subject ~0.6
VECTOR_QUERIES = 200  # half in scope, half out of scope
RETRIEVE_QUESTIONS = 40
TOP_K, POOL = 10, 100  # a chatbot's top-k; the candidates retrieval asks the index for
TARGET_P95_MS = {100_000: 15.0, 1_000_000: 60.0}
TARGET_RECALL = 0.95
STRUCTURELESS_ROWS = 100_000
CHANGE_SIZES = (100_000, 1_000_000)  # companies in which a data source is added, then deleted
CHANGE_CHUNKS = 1_000
VOCABULARY = 5_000
INSERT_BATCH = 5_000


def main() -> None:
    sizes = [int(arg.replace("_", "")) for arg in sys.argv[1:]] or list(SIZES)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(docent_environment(BENCH_DIR), DOCENT_VAR_DIR=str(BENCH_DIR),
                      MEDIA_ROOT=str(BENCH_DIR / "media"), LOCAL_VECTOR_CACHE_MB="4096",
                      DJANGO_SETTINGS_MODULE="config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()[0]
    results = [measure(rows) for rows in sizes]
    worst = structureless(STRUCTURELESS_ROWS)
    report = render(results, worst, load_before, os.getloadavg()[0])
    print(report)
    REPORT_PATH.write_text(report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


# --- The synthetic company -------------------------------------------------------------------------

class Corpus:
    """A company's synthetic vectors, their data sources and sections, and queries on them."""

    def __init__(self, rows: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.rows = rows
        sections = rows // SECTION_CHUNKS
        self.section = np.repeat(np.arange(sections), SECTION_CHUNKS)
        self.source = self.section * DATA_SOURCES // sections  # contiguous sections per data source
        subjects = _unit(rng.standard_normal((SUBJECTS, DIMENSION), dtype=np.float32))
        self.section_subject = rng.integers(0, SUBJECTS, sections)
        self.section_centers = _around(subjects[self.section_subject], SECTION_NOISE, rng)
        self.vectors = np.empty((rows, DIMENSION), dtype=np.float32)
        for start in range(0, rows, 100_000):
            block = self.section_centers[self.section[start:start + 100_000]]
            self.vectors[start:start + 100_000] = _around(block, CHUNK_NOISE, rng)
        self.section_words = rng.integers(0, VOCABULARY, (sections, 12))  # what a section is about
        self.in_scope = self.source < DATA_SOURCES // 2
        half = VECTOR_QUERIES // 2
        scope_sections = np.unique(self.section[self.in_scope])
        other_sections = np.unique(self.section[~self.in_scope])
        self.query_sections = np.concatenate([rng.choice(scope_sections, half), rng.choice(other_sections, half)])
        self.queries = _around(self.section_centers[self.query_sections], CHUNK_NOISE, rng)

    def texts(self, start: int, stop: int, rng: np.random.Generator) -> list[str]:
        """Cheap chunk text: words of the section's subject mixed with common words."""
        words = np.where(rng.random((stop - start, 40)) < 0.3,
                         self.section_words[self.section[start:stop, None], rng.integers(0, 12, (stop - start, 40))],
                         rng.integers(0, VOCABULARY, (stop - start, 40)))
        return [" ".join(f"w{word}" for word in row) for row in words]

    def question(self, query: int) -> str:
        return " ".join(f"w{word}" for word in self.section_words[self.query_sections[query], :6]) + "?"


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def _around(centers: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at cosine 1/√(1 + noise²) from their centers."""
    spread = rng.standard_normal(centers.shape, dtype=np.float32)
    return _unit(centers + noise * _unit(spread))


def company_for(corpus: Corpus):
    """The company of this size and its chatbot, inserted into the database unless already there."""
    from accounts.models import Company
    from chatbots.models import Chatbot
    from datasources import chunk_format
    from datasources.models import Chunk, DataSource

    name = f"Synthetic {corpus.rows:,}"
    company = Company.objects.filter(name=name).first()
    if company is not None and Chunk.objects.filter(company=company).count() == corpus.rows:
        return company, Chatbot.objects.get(company=company)
    if company is not None:
        company.delete()
    print(f"Inserting {corpus.rows:,} chunks …", file=sys.stderr, flush=True)
    company = Company.objects.create(name=name)
    sources = [DataSource.objects.create(company=company, name=f"document-{n}.txt", type="txt",
                                         status=DataSource.Status.READY,
                                         chunk_count=int((corpus.source == n).sum()))
               for n in range(DATA_SOURCES)]
    rng = np.random.default_rng(1)
    for start in range(0, corpus.rows, INSERT_BATCH):
        stop = min(start + INSERT_BATCH, corpus.rows)
        positions = np.arange(start, stop) - np.searchsorted(corpus.source, corpus.source[start:stop])
        Chunk.objects.bulk_create([
            Chunk(id=chunk_format.chunk_id(sources[source].id, position), company=company, data_source=sources[source],
                  position=position, text=text, metadata={"file_name": sources[source].name, "page_number": 1},
                  token_count=40, embedding=vector.tobytes())
            for source, position, text, vector in zip(
                corpus.source[start:stop].tolist(), positions.tolist(), corpus.texts(start, stop, rng),
                corpus.vectors[start:stop], strict=True)
        ])
    chatbot = Chatbot.objects.create(company=company, name="Half of the documents", top_k=TOP_K)
    chatbot.data_sources.set(sources[:DATA_SOURCES // 2])
    return company, chatbot


# --- Measuring ---------------------------------------------------------------------------------------

def measure(rows: int) -> dict:
    from datasources.indexes.vector import get_vector_index
    from datasources.indexes.vector.local import Partitions

    corpus = Corpus(rows)
    company, chatbot = company_for(corpus)
    scope_ids = list(chatbot.data_sources.values_list("id", flat=True))
    result = {"rows": rows, "searched": int(corpus.in_scope.sum())}

    allowed = corpus.vectors[corpus.in_scope]  # the brute force's matrix: the chatbot's rows only
    allowed_rows = np.flatnonzero(corpus.in_scope)
    truth, brute_times, one_thread_times = [], [], []
    for query in corpus.queries:
        started = time.perf_counter()
        scores = allowed @ query
        best = np.argpartition(-scores, POOL - 1)[:POOL]
        best = best[np.argsort(-scores[best])]
        brute_times.append(time.perf_counter() - started)
        truth.append(allowed_rows[best])
        with threadpool_limits(limits=1, user_api="blas"):  # as the local index computes its products
            started = time.perf_counter()
            scores = allowed @ query
            np.argpartition(-scores, POOL - 1)
            one_thread_times.append(time.perf_counter() - started)
    result["brute"], result["brute_one_thread"] = _percentiles(brute_times), _percentiles(one_thread_times)

    index = get_vector_index()
    rss_before = _rss_mb()
    partitioning = []
    build = Partitions.build

    def timed_build(*args):
        started = time.perf_counter()
        built = build(*args)
        partitioning.append(time.perf_counter() - started)
        return built

    started = time.perf_counter()
    with mock.patch.object(Partitions, "build", timed_build):
        index.query(company_id=company.id, vector=corpus.queries[0], data_source_ids=scope_ids, top_k=TOP_K)
    result["load_s"] = time.perf_counter() - started
    result["partition_s"] = sum(partitioning)
    result["rss_mb"] = _rss_mb() - rss_before
    # The loaded company as the index keeps it, to count its partitions and memory.
    cached = next(c for (company_id, _), c in index._cache.items() if company_id == company.id)
    result["index_mb"] = cached.nbytes / 2 ** 20
    result["partitions"] = len(cached.partitions.centroids) if cached.partitions else 0

    row_of = {chunk_id: row for row, chunk_id in enumerate(_chunk_ids(company, corpus))}
    for top_k, label in ((TOP_K, "index"), (POOL, "index_pool")):
        times, recalls = [], []
        for query, expected in zip(corpus.queries, truth, strict=True):
            started = time.perf_counter()
            matches = index.query(company_id=company.id, vector=query, data_source_ids=scope_ids, top_k=top_k)
            times.append(time.perf_counter() - started)
            found = {row_of[chunk_id] for chunk_id, _ in matches}
            recalls.append(len(found & set(expected[:top_k].tolist())) / top_k)
        half = len(recalls) // 2
        result[label] = _percentiles(times)
        result[f"{label}_recall"] = (float(np.mean(recalls[:half])), float(np.mean(recalls[half:])))
    result["retrieve"], result["embed"], result["retrieve_search"] = measure_retrieval(chatbot, corpus)
    if rows in CHANGE_SIZES:
        result["change"] = measure_change(company, scope_ids, corpus)
    print(f"{rows:,}: {result}", file=sys.stderr, flush=True)
    return result


def _chunk_ids(company, corpus: Corpus) -> list[str]:
    """Chunk ids in the corpus's row order (data source by data source, by position)."""
    from datasources.models import DataSource

    sources = list(DataSource.objects.filter(company=company).order_by("name"))
    sources.sort(key=lambda source: int(source.name.split("-")[1].split(".")[0]))
    starts = np.searchsorted(corpus.source, np.arange(DATA_SOURCES))
    return [f"datasource_{sources[source].id}_chunk_{row - starts[source]}"
            for row, source in enumerate(corpus.source.tolist())]


def measure_retrieval(chatbot, corpus: Corpus) -> tuple[dict, dict, dict]:
    """The whole retrieve(chatbot=, question=) call, the question's embedding within it, and the rest."""
    import chat.retrieval
    from datasources.embedders import get_embedder

    embedder = get_embedder()
    embed_times = []

    class SyntheticQueries:
        """The local model embeds the question (its cost is real); the synthetic query replaces it."""
        enabled = True

        def __init__(self):
            self.vector = None

        def embed_query(self, text):
            started = time.perf_counter()
            embedder.embed_query(text)
            embed_times.append(time.perf_counter() - started)
            return self.vector

    synthetic = SyntheticQueries()
    half = RETRIEVE_QUESTIONS // 2  # in scope, then out of scope, as the vector queries are ordered
    questions = [*range(half), *range(VECTOR_QUERIES // 2, VECTOR_QUERIES // 2 + half)]
    times = []
    with mock.patch.object(chat.retrieval, "get_embedder", lambda: synthetic):
        for n in [questions[0], *questions]:  # the first builds the lexical indexes: not counted
            synthetic.vector = corpus.queries[n]
            started = time.perf_counter()
            chat.retrieval.retrieve(chatbot=chatbot, question=corpus.question(n))
            times.append(time.perf_counter() - started)
    without_embedding = [total - embed for total, embed in zip(times, embed_times, strict=True)]
    return _percentiles(times[1:]), _percentiles(embed_times[1:]), _percentiles(without_embedding[1:])


def measure_change(company, scope_ids: list, corpus: Corpus) -> dict:
    """The first query after another process adds a data source of CHANGE_CHUNKS chunks (20 new sections
    of a chunk's structure), then after it deletes it: by the process's index, which holds the company
    (incremental), and by a fresh index (a full reload and partitioning, the cost of any change before).
    Also whether the two found the same top 10 (partitioned afresh, a few may differ)."""
    from datasources import chunk_format
    from datasources.indexes.vector import VectorRecord, get_vector_index
    from datasources.indexes.vector.local import LocalVectorIndex
    from datasources.models import Chunk, DataSource
    from datasources.services import datasource_delete

    index = get_vector_index()  # as loaded by measure(): the company is in its cache
    rng = np.random.default_rng(3)
    centers = _around(corpus.section_centers[rng.choice(len(corpus.section_centers), CHANGE_CHUNKS // SECTION_CHUNKS)],
                      SECTION_NOISE, rng)
    vectors = _around(np.repeat(centers, SECTION_CHUNKS, axis=0), CHUNK_NOISE, rng)
    query = _around(centers[:1], CHUNK_NOISE, rng)[0]  # a question on the added document
    source = DataSource.objects.create(company=company, name="added.txt", type="txt", status=DataSource.Status.READY,
                                       chunk_count=CHANGE_CHUNKS)
    search = dict(company_id=company.id, vector=query, data_source_ids=[*scope_ids, source.id], top_k=TOP_K)

    def first_queries() -> dict:
        started = time.perf_counter()
        incremental = index.query(**search)
        incremental_s = time.perf_counter() - started
        started = time.perf_counter()
        full = LocalVectorIndex(cache_mb=4096).query(**search)
        full_s = time.perf_counter() - started
        same = len({chunk_id for chunk_id, _ in incremental} & {chunk_id for chunk_id, _ in full}) / TOP_K
        return {"full_s": full_s, "incremental_s": incremental_s, "same_top": same,
                "found_added": sum(chunk_format.data_source_of(chunk_id) == source.id for chunk_id, _ in incremental)}

    try:
        chunks = Chunk.objects.bulk_create([
            Chunk(id=chunk_format.chunk_id(source.id, n), company=company, data_source=source, position=n,
                  text=f"added {n}", metadata={"file_name": source.name, "page_number": 1}, embedding=vector.tobytes())
            for n, vector in enumerate(vectors)
        ])
        index.upsert([VectorRecord.from_chunk(chunk) for chunk in chunks])  # as the worker indexes them
        added = first_queries()
    finally:
        datasource_delete(data_source=source)  # the company stays as inserted, for the next run
    deleted = first_queries()
    print(f"change at {corpus.rows:,}: added {added}, deleted {deleted}", file=sys.stderr, flush=True)
    return {"added": added, "deleted": deleted}


def structureless(rows: int) -> dict:
    """The worst case for partitions: uniformly random vectors and queries, data sources interleaved.
    Partitioned in memory exactly as the local index partitions a company (no database)."""
    from datasources.indexes.vector.local import EXACT_ROWS, Block, Partitions

    rng = np.random.default_rng(2)
    vectors = _unit(rng.standard_normal((rows, DIMENSION), dtype=np.float32))
    codes = rng.integers(0, DATA_SOURCES, rows).astype(np.int32)
    allowed = np.arange(DATA_SOURCES) < DATA_SOURCES // 2
    queries = _unit(rng.standard_normal((VECTOR_QUERIES // 2, DIMENSION), dtype=np.float32))
    partitions, block = Partitions.build(Block(vectors, [str(row) for row in range(rows)], codes), EXACT_ROWS)
    vectors, codes = block.matrix, block.source_codes
    searchable = np.flatnonzero(allowed[codes])
    recalls, times = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for query in queries:
            scores = vectors[searchable] @ query
            expected = set(searchable[np.argpartition(-scores, TOP_K - 1)[:TOP_K]].tolist())
            started = time.perf_counter()
            [read] = partitions.nearest_rows(query, allowed, [block], TOP_K)
            found = read[np.argpartition(-(vectors[read] @ query), TOP_K - 1)[:TOP_K]]
            times.append(time.perf_counter() - started)
            recalls.append(len(expected & set(found.tolist())) / TOP_K)
    return {"rows": rows, "recall": float(np.mean(recalls)), "search": _percentiles(times)}


def _percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def _rss_mb() -> float:
    """This process's resident memory now (not its peak, which generating the corpus set)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


# --- The report --------------------------------------------------------------------------------------

def render(results: list[dict], worst: dict, load_before: float, load_after: float) -> str:
    verdicts = []
    for result in results:
        target = TARGET_P95_MS.get(result["rows"])
        if target:
            p95 = result["index"]["p95"]
            verdicts.append(f"p95 at {result['rows']:,} {p95:.1f} ms (target ≤ {target:.0f}): "
                            f"{'met' if p95 <= target else 'not met'}")
        recall = result["index_recall"][0]
        verdicts.append(f"recall@10 in scope at {result['rows']:,} {recall:.3f} (target ≥ {TARGET_RECALL}): "
                        f"{'met' if recall >= TARGET_RECALL else 'not met'}")
    lines = [
        HEADING, "",
        f"Measured {datetime.date.today().isoformat()} with `python -m bench.search_latency` on {machine()}; "
        f"SQLite, local vector index; load average (1 min) {load_before:.1f} before the run, "
        f"{load_after:.1f} after it (other work shared the 2 cores).", "",
        "Targets: " + "; ".join(verdicts) + ".", "",
        "One company per size, twenty data sources of equal size, the chatbot answering from ten of them (half "
        "the chunks). Synthetic 384-d unit vectors shaped like a company's documents: sections of 50 chunks "
        "(cosine ~0.56 within a section) on 50 subjects (~0.2 between sections of a subject, ~0 otherwise); "
        f"{VECTOR_QUERIES} queries, each a new chunk of a random section, half of the chatbot's documents "
        "(\"in scope\") and half of the company's other documents (\"out of scope\": only related chunks are "
        "allowed). Recall is against the brute force's exact top 10 (top 100) of the chatbot's rows. "
        "`retrieve()` runs over the Chunk rows in SQLite; the local MiniLM embeds each question, whose vector is "
        f"then swapped for the synthetic query's ({RETRIEVE_QUESTIONS} questions, the first call not counted: "
        "it builds the lexical indexes). Above 20,000 vectors the local index partitions the company when it "
        "loads it (k-means, 4 × √rows partitions) and a query scores the rows of its data sources in the "
        "partitions nearest to it until it has 2% of them (datasources/indexes/vector/local.py).", "",
        "| chunks in the company | searched (the chatbot's) | numpy brute force p50 / p95, ms "
        "| numpy brute force, one BLAS thread, p50 / p95, ms "
        "| local index, top 10: p50 / p95, ms | recall@10 in scope / out of scope "
        "| local index, top 100: p50 / p95, ms | recall@100 in scope / out of scope "
        "| retrieve(): p50 / p95, ms | its MiniLM embedding: p50 / p95, ms | retrieve() less the embedding: "
        "p50 / p95, ms | partitions | first query: load + partition, s | of which partition, s | index memory, MB "
        "| RSS growth, MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['searched']:,} | {_pair(r['brute'])} | {_pair(r['brute_one_thread'])} "
            f"| {_pair(r['index'])} "
            f"| {r['index_recall'][0]:.3f} / {r['index_recall'][1]:.3f} | {_pair(r['index_pool'])} "
            f"| {r['index_pool_recall'][0]:.3f} / {r['index_pool_recall'][1]:.3f} | {_pair(r['retrieve'])} "
            f"| {_pair(r['embed'])} | {_pair(r['retrieve_search'])} | {r['partitions']:,} | {r['load_s']:.1f} "
            f"| {r['partition_s']:.1f} | {r['index_mb']:,.0f} | {r['rss_mb']:,.0f} |")
    lines += change_table([r for r in results if "change" in r])
    lines += [
        "", f"Worst case, structureless vectors (uniformly random, no documents or subjects), {worst['rows']:,} "
        f"rows, partitioned as above: recall@10 {worst['recall']:.3f}, search p50 / p95 {_pair(worst['search'])} ms.",
    ]
    return "\n".join(lines) + "\n"


def change_table(results: list[dict]) -> list[str]:
    if not results:
        return []
    lines = [
        "", f"First query after another process adds a data source of {CHANGE_CHUNKS:,} chunks, then deletes it "
        "(`datasource_delete`): before, any change made every process reload and partition the whole company, "
        "measured as a fresh index's first query; after, the process that holds the company reads again only the "
        "data sources changed since its copy and assigns their rows to its existing partitions. Same run, same "
        "query (on the added document, in the chatbot's scope plus the added data source).", "",
        "| chunks in the company | change | before: full reload, s | after: incremental, s | before / after "
        "| top 10 shared with the full reload | added chunks in the top 10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for change, label in (("added", f"data source of {CHANGE_CHUNKS:,} chunks added"),
                              ("deleted", "that data source deleted")):
            c = r["change"][change]
            lines.append(f"| {r['rows']:,} | {label} | {c['full_s']:.2f} | {c['incremental_s']:.3f} "
                         f"| {c['full_s'] / c['incremental_s']:,.0f}× | {c['same_top']:.1f} | {c['found_added']} |")
    return lines


def _pair(times: dict) -> str:
    return f"{times['p50']:.2f} / {times['p95']:.2f}"


if __name__ == "__main__":
    main()
