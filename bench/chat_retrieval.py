"""`make bench-chat`, retrieval quality: Docent's retrieval on the twenty 10-Q filings, beside the anchor.

The twenty filings of ../shared/bench/sec-10-q/docs/ are loaded once through Docent's worker code
(bench/ingest_docent.py) into a SQLite database kept under var/bench/docent/, and through
LangChain's default recipe (bench/ingest_anchor.py) into var/bench/anchor/; reruns reuse both
(delete the folders to reload). All twenty data sources go into one chatbot; its 56 dev questions
are scored with bench/measures.py for BM25 alone, dense alone and Docent's retrieval
(`chat.retrieval`), and the anchor's dense and BM25 rankings over the recipe's chunks, in the same
run. Questions the filings cannot answer measure the relevance floor; the lexical engine's build
and query times are measured at the filings' size and at about 100,000 chunks.

The report is printed and written to var/bench/chat_retrieval.md.
"""

import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.test import override_settings

from bench.ingest import (
    DEPTHS,
    DOCS_DIR,
    MEASURES,
    PROJECT_ROOT,
    DenseIndex,
    anchor_chunks,
    docent_environment,
    embed_questions,
    machine,
    run_pipeline,
)
from bench.measures import Passage, Question, load_questions, score

CACHE_DIR = PROJECT_ROOT / "var" / "bench"
DOCENT_DIR = CACHE_DIR / "docent"  # DOCENT_VAR_DIR of the loaded database
ANCHOR_DIR = CACHE_DIR / "anchor"
REPORT_PATH = CACHE_DIR / "chat_retrieval.md"
HEADING = "## Chat retrieval (issue 5)"
COMMAND = "make bench-chat"
TARGETS = {"number_recall_8000": (8, 0.50), "doc_hit": (4, 0.90)}
SCALE_CHUNKS = 100_000

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


def main() -> None:
    load_filings()
    os.environ.update(docent_environment(DOCENT_DIR.parent), DOCENT_VAR_DIR=str(DOCENT_DIR),
                      MEDIA_ROOT=str(DOCENT_DIR / "media"), DJANGO_SETTINGS_MODULE="config.settings")
    django.setup()
    questions = load_questions()
    file_names = {path.name for path in DOCS_DIR.glob("*.pdf")}
    chatbot = benchmark_chatbot()
    engine = lexical_engine_figures(chatbot, questions)
    retrievers = {**docent_retrievers(chatbot), **anchor_retrievers(questions)}
    results = {name: {k: score(questions, retriever, k, file_names) for k in DEPTHS}
               for name, retriever in retrievers.items()}
    report = render(results, unanswerable_outcomes(chatbot, questions), engine, questions)
    print(report)
    REPORT_PATH.write_text(report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


# --- Loading the filings once --------------------------------------------------------------------

def load_filings() -> None:
    """Run each pipeline's ingestion unless an earlier run left its result in var/bench/."""
    if not (DOCENT_DIR / "stats.json").exists():
        shutil.rmtree(DOCENT_DIR, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="docent-bench-") as workdir:
            environment = {**docent_environment(Path(workdir)), "DOCENT_VAR_DIR": str(DOCENT_DIR),
                           "MEDIA_ROOT": str(DOCENT_DIR / "media")}
            run_pipeline("bench.ingest_docent", Path(workdir) / "out", environment)
            shutil.copy(Path(workdir) / "out" / "stats.json", DOCENT_DIR / "stats.json")
    if not (ANCHOR_DIR / "vectors.npy").exists():
        shutil.rmtree(ANCHOR_DIR, ignore_errors=True)
        run_pipeline("bench.ingest_anchor", ANCHOR_DIR, {})


def benchmark_chatbot():
    """One chatbot of the loaded company, answering from all twenty filings."""
    from accounts.models import Company
    from chatbots.models import Chatbot
    from datasources.models import DataSource

    company = Company.objects.get()
    chatbot, _ = Chatbot.objects.get_or_create(company=company, name="Filings")
    chatbot.data_sources.set(DataSource.objects.filter(company=company, status=DataSource.Status.READY))
    return chatbot


# --- The retrievers ------------------------------------------------------------------------------

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
    from chat.retrieval import lexical

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
    """Build and query times of the in-process BM25 index, at the filings' size and at ~100k chunks."""
    from chat.retrieval import Scope, lexical, retrieve
    from datasources.embedders import get_embedder
    from datasources.models import Chunk

    lexical.source_indexes = lexical.IndexCache()  # cold: built from the database
    started = time.perf_counter()
    scope = Scope.of(chatbot)
    figures = {"chunks": Chunk.objects.filter(company=chatbot.company).count(),
               "build_s": time.perf_counter() - started}
    indexes = list(scope.indexes.values())
    terms = [lexical.tokenize(q.text) for q in questions]
    figures["query_ms"] = _median_ms(lambda t: lexical.search(indexes, t, 100), terms)
    retrieve(chatbot=chatbot, question=questions[0].text)  # load the embedding model and vectors
    figures["retrieve_ms"] = _median_ms(lambda q: retrieve(chatbot=chatbot, question=q.text), questions)
    figures["embed_ms"] = _median_ms(lambda q: get_embedder().embed_query(q.text), questions)

    texts = list(Chunk.objects.filter(company=chatbot.company).values_list("text", flat=True))
    copies = -(-SCALE_CHUNKS // len(texts))
    started = time.perf_counter()
    big = lexical.SourceIndex.build((str(n), text) for n, text in enumerate(texts * copies))
    figures["scale_chunks"] = len(texts) * copies
    figures["scale_build_s"] = time.perf_counter() - started
    figures["scale_query_ms"] = _median_ms(lambda t: lexical.search([big], t, 100), terms)
    figures["scale_postings_mb"] = big.size * 8 / 1024 ** 2
    return figures


def _median_ms(run: Callable, items: list) -> float:
    times = []
    for item in items:
        started = time.perf_counter()
        run(item)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


# --- The report ---------------------------------------------------------------------------------

def render(results: dict[str, dict[int, dict[str, float]]], unanswerable: dict[str, tuple[int, int, int]],
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
        "| pipeline | k | " + " | ".join(_LABELS[m] for m in MEASURES) + " |",
        "|---|---|" + "---|" * len(MEASURES),
    ]
    for k in DEPTHS:
        for name, by_depth in results.items():
            lines.append(f"| {name} | {k} | " + " | ".join(f"{by_depth[k][m]:.3f}" for m in MEASURES) + " |")
    lines += ["", "Relevance floor: how often a question gets no passages (the chatbot's fallback message).", "",
              "| questions | asked | got nothing | got nothing, lexical-only |", "|---|---|---|---|"]
    lines += [f"| {kind} | {asked} | {empty} | {lexical_only} |"
              for kind, (empty, lexical_only, asked) in unanswerable.items()]
    lines += [
        "", "Lexical engine (in-process BM25, one index per data source, chat/retrieval/lexical.py):", "",
        "| | value |", "|---|---|",
        f"| build, {engine['chunks']:,} chunks from the database, cold | {engine['build_s']:.2f} s |",
        f"| BM25 query, median | {engine['query_ms']:.1f} ms |",
        f"| whole `retrieve` call (embedding, both searches, fusion, passages), median | "
        f"{engine['retrieve_ms']:.1f} ms |",
        f"| of which embedding the question (MiniLM on CPU), median | {engine['embed_ms']:.1f} ms |",
        f"| build, {engine['scale_chunks']:,} chunks (the filings' text repeated), in memory | "
        f"{engine['scale_build_s']:.1f} s |",
        f"| BM25 query at that size, median | {engine['scale_query_ms']:.1f} ms |",
        f"| postings at that size | {engine['scale_postings_mb']:.0f} MB |",
    ]
    return "\n".join(lines) + "\n"


_LABELS = {"doc_hit": "doc hit", "doc_coverage": "doc coverage", "number_recall_4000": "number recall, 4,000 chars",
           "number_recall_8000": "number recall, 8,000 chars"}


if __name__ == "__main__":
    main()
