"""`make bench-chat`, retrieval quality: Docent's retrieval on the twenty 10-Q filings, beside the anchor.

The twenty filings of ../shared/bench/sec-10-q/docs/ are loaded once through Docent's worker code
(bench/ingest_docent.py) into a SQLite database kept under var/bench/docent/, and through
LangChain's default recipe (bench/ingest_anchor.py) into var/bench/anchor/; reruns reuse both
(`bench.ingest.Collection`: Docent's load is made again when the code that chunks has changed); a
database loaded by an earlier version of Docent is brought up to date first, as a deployment would be:
migrated, then `manage.py reindex` stores the lexical indexes its data sources lack. All twenty data
sources go into one chatbot; its 56 dev questions are scored with bench/measures.py for BM25 alone,
dense alone and Docent's retrieval
(`chat.retrieval`), and the anchor's dense and BM25 rankings over the recipe's chunks, in the same
run. Questions the filings cannot answer measure the relevance floor; the lexical engine's build,
load and query times are measured at the filings' size and at about 100,000 chunks.

With `--postgres` (`make bench-chat POSTGRES=1`), Docent's retrievers run a second time on PostgreSQL
(127.0.0.1:5432, user postgres), over a copy of the loaded rows in a fresh database
(bench/chat_retrieval_postgres.py), and the report compares both databases, figure by figure and
passage by passage.

The report is printed and written to var/bench/chat_retrieval.md, and the digest of every call's
passages to var/bench/chat_retrieval_rankings.json (compare two runs' files to see that a change
retrieves exactly the same passages).
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.test import override_settings

from bench.analytics import postgres_admin
from bench.ingest import (
    DEPTHS,
    DOCS_DIR,
    MEASURES,
    PROJECT_ROOT,
    Collection,
    DenseIndex,
    anchor_chunks,
    docent_environment,
    embed_questions,
    machine,
)
from bench.measures import Passage, Question, load_questions, score
from bench.runstats import median_ms

CACHE_DIR = PROJECT_ROOT / "var" / "bench"
DOCENT_DIR = CACHE_DIR / "docent"  # DOCENT_VAR_DIR of the loaded database
ANCHOR_DIR = CACHE_DIR / "anchor"
FILINGS = Collection(DOCS_DIR, DOCENT_DIR, ANCHOR_DIR)
REPORT_PATH = CACHE_DIR / "chat_retrieval.md"
# Every call's passage digest, by retriever and depth: two runs retrieved alike when these files are equal.
RANKINGS_PATH = CACHE_DIR / "chat_retrieval_rankings.json"
HEADING = "## Chat retrieval (issue 5)"
COMMAND = "make bench-chat"
TARGETS = {"number_recall_8000": (8, 0.50), "doc_hit": (4, 0.90)}
SCALE_CHUNKS = 100_000
PG_DATABASE = "docent_bench_retrieval"  # created for the run, dropped after it
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"

# Questions the filings cannot answer, written as a visitor would ask them.
UNANSWERABLE = {
    "another company": [
        "What is Tesla's vehicle delivery guidance for next year?",
        "How many subscribers did Netflix add last quarter?",
        "What was Boeing's commercial airplane backlog at the end of the quarter?",
        "How much revenue did Toyota report from hybrid vehicles?",
        "What dividend did Coca-Cola declare in its latest filing?",
    ],
    "unrelated topic": [
        "How do I bake sourdough bread?",
        "What is the best time of year to visit Japan?",
        "Can you recommend exercises for lower back pain?",
        "Who won the football World Cup in 2018?",
        "How do I change a flat bicycle tyre?",
    ],
}

Retriever = Callable[[Question, int], list[Passage]]
Scores = dict[str, dict[int, dict[str, float]]]  # retriever → depth → measure → value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help="also run Docent's retrievers on PostgreSQL (127.0.0.1:5432), over a copy of the rows")
    options = parser.parse_args()
    load_filings()
    os.environ.update(docent_environment(DOCENT_DIR.parent), DOCENT_VAR_DIR=str(DOCENT_DIR),
                      MEDIA_ROOT=str(DOCENT_DIR / "media"), DJANGO_SETTINGS_MODULE="config.settings")
    django.setup()
    bring_up_to_date()
    questions = load_questions()
    chatbot = benchmark_chatbot()
    engine = lexical_engine_figures(chatbot, questions)
    rankings: dict[str, list[str]] = {}
    results = scores({**recording(docent_retrievers(chatbot), rankings), **anchor_retrievers(questions)}, questions)
    report = render(results, unanswerable_outcomes(chatbot, questions), engine, questions)
    if options.postgres:
        report += "\n".join(postgres_section(results, rankings, engine, postgres_run())) + "\n"
    print(report)
    REPORT_PATH.write_text(report)
    RANKINGS_PATH.write_text(json.dumps(rankings, indent=1) + "\n")
    print(f"Written to {REPORT_PATH} and {RANKINGS_PATH}.", file=sys.stderr)


# --- Loading the filings once --------------------------------------------------------------------

def load_filings() -> None:
    FILINGS.load()


def bring_up_to_date() -> None:
    """Migrate the loaded database and store the lexical indexes of data sources loaded before they were stored, or
    stored by another version of the tokenizer (each process would build them from the chunks)."""
    from django.core.management import call_command

    from datasources.indexes import lexical
    from datasources.models import DataSource, LexicalIndex

    call_command("migrate", verbosity=0)
    if (DataSource.objects.filter(status=DataSource.Status.READY, lexical_index__isnull=True).exists()
            or any(not lexical.SourceIndex.from_bytes(data).current
                   for data in LexicalIndex.objects.values_list("data", flat=True).iterator())):
        call_command("reindex", stdout=io.StringIO())


def benchmark_chatbot(name: str = "Filings"):
    """One chatbot of the loaded company with the default settings, answering from all its ready documents."""
    from accounts.models import Company
    from chatbots.models import Chatbot
    from datasources.models import DataSource

    company = Company.objects.get()
    chatbot, _ = Chatbot.objects.get_or_create(company=company, name=name)
    chatbot.data_sources.set(DataSource.objects.filter(company=company, status=DataSource.Status.READY))
    return chatbot


# --- The retrievers ------------------------------------------------------------------------------

def scores(retrievers: dict[str, Retriever], questions: list[Question]) -> Scores:
    file_names = {path.name for path in DOCS_DIR.glob("*.pdf")}
    return {name: {k: score(questions, retriever, k, file_names) for k in DEPTHS}
            for name, retriever in retrievers.items()}


def recording(retrievers: dict[str, Retriever], rankings: dict[str, list[str]]) -> dict[str, Retriever]:
    """The same retrievers, each keeping a digest of every answer in `rankings` (under "name, k = 4",
    in the order of the calls): equal averages can hide different passages, equal digests cannot."""

    def recorded(name: str, retriever: Retriever) -> Retriever:
        def retrieve(question: Question, k: int) -> list[Passage]:
            passages = retriever(question, k)
            digest = hashlib.sha256(json.dumps([[p.file_name, p.text] for p in passages]).encode()).hexdigest()
            rankings.setdefault(f"{name}, k = {k}", []).append(digest)
            return passages
        return retrieve

    return {name: recorded(name, retriever) for name, retriever in retrievers.items()}


def docent_retrievers(chatbot) -> dict[str, Retriever]:
    from chat.retrieval import POOL, Scope, fuse
    from chat.retrieval.passages import build_passages

    scope = Scope.of(chatbot)

    def chunks(candidates) -> list[Passage]:
        passages = build_passages(scope.company_id, candidates, len(candidates), merge=False)
        return [Passage(p.text, p.file_name) for p in passages]

    def untargeted(question: Question, k: int) -> list[Passage]:
        ranked = fuse(scope.dense(question.text, POOL), scope.lexical(question.text, POOL))
        return [Passage(p.text, p.file_name) for p in build_passages(scope.company_id, ranked, k)]

    def docent(question: Question, k: int) -> list[Passage]:
        return [Passage(p.text, p.file_name) for p in scope.retrieve(question.text, k)]

    def lexical_only(question: Question, k: int) -> list[Passage]:
        with override_settings(EMBEDDING_BACKEND="none"):
            return docent(question, k)

    return {
        "Docent: BM25 alone": lambda q, k: chunks(scope.lexical(q.text, k)),
        "Docent: dense alone (MiniLM, local index)": lambda q, k: chunks(scope.dense(q.text, k)),
        "Docent: hybrid, no document targeting": untargeted,
        "**Docent's retrieval**": docent,
        "Docent's retrieval, lexical-only (EMBEDDING_BACKEND=none)": lexical_only,
    }


def anchor_retrievers(questions: list[Question]) -> dict[str, Retriever]:
    from datasources.indexes import lexical

    passages, vectors = anchor_chunks(ANCHOR_DIR)
    dense = DenseIndex.of(passages, vectors)
    queries = embed_questions(questions)
    bm25 = lexical.SourceIndex.build((str(n), passage.text) for n, passage in enumerate(passages))

    def anchor_bm25(question: Question, k: int) -> list[Passage]:
        return [passages[int(row)] for row, _ in lexical.search([bm25], lexical.tokenize(question.text), k)]

    return {
        "anchor: BM25 over the recipe's chunks": anchor_bm25,
        "anchor: LangChain default recipe (MiniLM cosine)": lambda q, k: dense.top_k(queries[q.text], k),
    }


# --- The relevance floor and the lexical engine -----------------------------------------------

def unanswerable_outcomes(chatbot, questions: list[Question]) -> dict[str, tuple[int, int, int]]:
    """Per kind of question: how many got no passages (hybrid; lexical-only), how many were asked."""
    from chat.retrieval import retrieve

    def empty(texts: list[str]) -> int:
        return sum(1 for text in texts if not retrieve(chatbot=chatbot, question=text))

    kinds = {**UNANSWERABLE, "answerable (the dev questions)": [q.text for q in questions]}
    outcomes = {}
    for kind, texts in kinds.items():
        with override_settings(EMBEDDING_BACKEND="none"):
            lexical_only = empty(texts)
        outcomes[kind] = (empty(texts), lexical_only, len(texts))
    return outcomes


def lexical_engine_figures(chatbot, questions: list[Question]) -> dict[str, float]:
    """Build, load and query times of the BM25 indexes, at the filings' size and at ~100k chunks."""
    from chat.retrieval import Scope
    from datasources.embedders import get_embedder
    from datasources.indexes import lexical
    from datasources.models import Chunk

    lexical.source_indexes = lexical.IndexCache()  # cold: loaded from the database
    started = time.perf_counter()
    scope = Scope.of(chatbot)
    figures = {"chunks": Chunk.objects.filter(company=chatbot.company).count(),
               "load_s": time.perf_counter() - started}
    started = time.perf_counter()
    for source_id in scope.sources:  # what each web process did before the pipeline stored the indexes
        lexical.SourceIndex.build(Chunk.objects.filter(data_source_id=source_id).order_by("position")
                                  .values_list("id", "text").iterator(chunk_size=2000))
    figures["build_s"] = time.perf_counter() - started
    indexes = list(scope.search.lexical_indexes.values())
    terms = [lexical.tokenize(q.text) for q in questions]
    figures["query_ms"] = median_ms(lambda t: lexical.search(indexes, t, 100), terms)
    figures["retrieve_ms"] = retrieve_ms(chatbot, questions)
    figures["embed_ms"] = median_ms(lambda q: get_embedder().embed_query(q.text), questions)

    texts = list(Chunk.objects.filter(company=chatbot.company).values_list("text", flat=True))
    copies = -(-SCALE_CHUNKS // len(texts))
    started = time.perf_counter()
    big = lexical.SourceIndex.build((str(n), text) for n, text in enumerate(texts * copies))
    figures["scale_chunks"] = len(texts) * copies
    figures["scale_build_s"] = time.perf_counter() - started
    figures["scale_query_ms"] = median_ms(lambda t: lexical.search([big], t, 100), terms)
    figures["scale_postings_mb"] = big.size * 8 / 1024 ** 2
    stored = big.to_bytes()
    started = time.perf_counter()
    lexical.SourceIndex.from_bytes(stored)
    figures["scale_load_s"] = time.perf_counter() - started
    figures["scale_stored_mb"] = len(stored) / 1024 ** 2
    return figures


def retrieve_ms(chatbot, questions: list[Question]) -> float:
    """Median time of a whole `retrieve` call, once the embedding model and the vectors are loaded."""
    from chat.retrieval import retrieve

    retrieve(chatbot=chatbot, question=questions[0].text)
    return median_ms(lambda q: retrieve(chatbot=chatbot, question=q.text), questions)


# --- PostgreSQL ---------------------------------------------------------------------------------

def postgres_run() -> dict:
    """Docent's retrievers in another process, on a fresh Postgres database holding a copy of the loaded
    rows (bench/chat_retrieval_postgres.py); the database is dropped afterwards."""
    postgres_admin(PG_URL, f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
    postgres_admin(PG_URL, f'CREATE DATABASE "{PG_DATABASE}"')
    print("Copying the loaded rows to PostgreSQL and running Docent's retrievers there …", file=sys.stderr, flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="docent-bench-") as workdir:
            out_file = Path(workdir) / "postgres.json"
            environment = {**os.environ, **docent_environment(Path(workdir)), "DATABASE_URL": PG_URL}
            subprocess.run([sys.executable, "-m", "bench.chat_retrieval_postgres", str(DOCENT_DIR / "docent.sqlite3"),
                            str(out_file)], check=True, env=environment, cwd=PROJECT_ROOT)
            figures = json.loads(out_file.read_text())
    finally:
        postgres_admin(PG_URL, f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
    figures["results"] = {name: {int(k): values for k, values in by_depth.items()}  # JSON keys are strings
                          for name, by_depth in figures["results"].items()}
    return figures


# --- The report ---------------------------------------------------------------------------------

def render(results: Scores, unanswerable: dict[str, tuple[int, int, int]],
           engine: dict[str, float], questions: list[Question]) -> str:
    docent = results["**Docent's retrieval**"]
    anchor = results["anchor: LangChain default recipe (MiniLM cosine)"]
    verdicts = [f"{measure}@{k} {docent[k][measure]:.3f} (target ≥ {target:.2f}, anchor "
                f"{anchor[k][measure]:.3f}): {'met' if docent[k][measure] >= target else 'not met'}"
                for measure, (k, target) in TARGETS.items()]
    with_figures = sum(1 for question in questions if question.figures)
    lines = [
        HEADING, "",
        f"Measured {datetime.date.today().isoformat()} with `{COMMAND}` (bench/chat_retrieval.py) on {machine()}, "
        "SQLite with the local vector index.", "",
        f"All twenty filings in one chatbot; the {len(questions)} questions of `questions_dev.csv` ({with_figures} "
        "with figures), scored with the measures of `../shared/bench/README.md` (bench/measures.py). "
        "Docent's rows search the chunks its worker stored; the anchor's rows search the recipe's chunks "
        "(pdfplumber page text, RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2).", "",
        "Targets: " + "; ".join(verdicts) + ".", "",
        *_score_table(("pipeline", "k"), [((name, str(k)), by_depth[k]) for k in DEPTHS
                                          for name, by_depth in results.items()]),
    ]
    lines += ["", "Relevance floor: how often a question gets no passages (the chatbot's fallback message).", "",
              "| questions | asked | got nothing | got nothing, lexical-only |", "|---|---|---|---|"]
    lines += [f"| {kind} | {asked} | {empty} | {lexical_only} |"
              for kind, (empty, lexical_only, asked) in unanswerable.items()]
    lines += [
        "", "Lexical engine (BM25, one index per data source, stored by the pipeline and searched in each process, "
        "datasources/indexes/lexical.py):", "",
        "| | value |", "|---|---|",
        f"| load the stored indexes of {engine['chunks']:,} chunks from the database, cold | "
        f"{engine['load_s']:.2f} s |",
        f"| build them from the chunks in the database instead | {engine['build_s']:.2f} s |",
        f"| BM25 query, median | {engine['query_ms']:.1f} ms |",
        f"| whole `retrieve` call (embedding, both searches, fusion, passages), median | "
        f"{engine['retrieve_ms']:.1f} ms |",
        f"| of which embedding the question (MiniLM on CPU), median | {engine['embed_ms']:.1f} ms |",
        f"| build, {engine['scale_chunks']:,} chunks (the filings' text repeated), in memory | "
        f"{engine['scale_build_s']:.1f} s |",
        f"| BM25 query at that size, median | {engine['scale_query_ms']:.1f} ms |",
        f"| postings at that size | {engine['scale_postings_mb']:.0f} MB |",
        f"| stored index at that size; loading it | {engine['scale_stored_mb']:.0f} MB; "
        f"{engine['scale_load_s']:.2f} s |",
    ]
    return "\n".join(lines) + "\n"


def postgres_section(results: Scores, rankings: dict[str, list[str]], engine: dict[str, float],
                     postgres: dict) -> list[str]:
    on_postgres = postgres["results"]
    rows = [((name, str(k), database), by_name[name][k]) for k in DEPTHS for name in on_postgres
            for database, by_name in (("SQLite", results), ("PostgreSQL", on_postgres))]
    return [
        "", f"With `{COMMAND} POSTGRES=1` (`--postgres`), Docent's retrievers ran again on {postgres['server']}, in a "
        "fresh database holding a copy of the SQLite database's rows (ids, timestamps, row order and vectors "
        "unchanged), with the local vector index:", "",
        *_score_table(("pipeline", "k", "database"), rows), "",
        agreement(results, rankings, postgres), "",
        f"Median whole `retrieve` call: {engine['retrieve_ms']:.1f} ms on SQLite, {postgres['retrieve_ms']:.1f} ms "
        "on PostgreSQL.",
    ]


def agreement(results: Scores, rankings: dict[str, list[str]], postgres: dict) -> str:
    """Whether PostgreSQL's run matches SQLite's, figure by figure and passage by passage."""
    figures = [f"{name} at k = {k}" for name, by_depth in postgres["results"].items() for k in DEPTHS
               if by_depth[k] != results[name][k]]
    calls = sum(len(digests) for digests in postgres["rankings"].values())
    differing = {key: sum(ours != theirs for ours, theirs in zip(digests, rankings[key], strict=True))
                 for key, digests in postgres["rankings"].items()}
    differing = {key: count for key, count in differing.items() if count}
    verdict = ("PostgreSQL's figures match SQLite's exactly" if not figures
               else "PostgreSQL's figures differ from SQLite's for " + "; ".join(figures))
    if not differing:
        return f"{verdict}, and each of the {calls} calls returned the same passages in the same order."
    return (f"{verdict}; {sum(differing.values())} of the {calls} calls returned other passages or another order ("
            + "; ".join(f"{key}: {count} of {len(rankings[key])} questions" for key, count in differing.items()) + ").")


def _score_table(columns: tuple[str, ...], rows: list[tuple[tuple[str, ...], dict[str, float]]]) -> list[str]:
    """A Markdown table: each row's leading cells, then its value of each measure."""
    lines = ["| " + " | ".join([*columns, *(_LABELS[m] for m in MEASURES)]) + " |",
             "|" + "---|" * (len(columns) + len(MEASURES))]
    return lines + ["| " + " | ".join([*cells, *(f"{values[m]:.3f}" for m in MEASURES)]) + " |"
                    for cells, values in rows]


_LABELS = {"doc_hit": "doc hit", "doc_coverage": "doc coverage", "number_recall_4000": "number recall, 4,000 chars",
           "number_recall_8000": "number recall, 8,000 chars"}


if __name__ == "__main__":
    main()
