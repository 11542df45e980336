"""`make bench-ingest`: Docent's ingestion side by side with the anchor, in one run.

The twenty 10-Q filings of ../shared/bench/sec-10-q/docs/ go through Docent's worker code
(bench/ingest_docent.py) and through LangChain's default recipe (bench/ingest_anchor.py), each
in its own process so that each one's peak memory is its own, one after the other so that they
do not share the two cores. Then both sets of chunks are searched with dense top-k (MiniLM
cosine, exact) for the dev questions and scored with bench/measures.py. The Markdown report is
printed and written to docs/BENCHMARKS.md under its own heading.
"""

import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from bench.ingest_anchor import load_model
from bench.measures import SEC_10_Q_DIR, Passage, Question, load_questions, score
from bench.runstats import RunStats
from config.sources import source_digest
from datasources.embedders.local import cpu_has_bf16

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = SEC_10_Q_DIR / "docs"
REPORT_PATH = PROJECT_ROOT / "docs" / "BENCHMARKS.md"
HEADING = "## Ingestion (issue 3)"
COMMAND = "make bench-ingest"
DEPTHS = (4, 8)
TARGET_SPEEDUP = 2.0
MEASURES = ("doc_hit", "doc_coverage", "number_recall_4000", "number_recall_8000")
# The code that turns a file into the chunks a loaded collection keeps: a change to it reloads the collection.
CHUNKER_CODE = ("datasources/extractors", "datasources/chunking.py", "datasources/chunk_format.py",
                "datasources/sandbox.py")


@dataclass(frozen=True)
class DenseIndex:
    """Exact cosine search over one pipeline's chunks."""

    passages: list[Passage]
    vectors: np.ndarray  # one L2-normalised row per passage

    @classmethod
    def of(cls, passages: list[Passage], vectors: np.ndarray) -> "DenseIndex":
        vectors = np.asarray(vectors, dtype=np.float32)
        return cls(passages, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))

    def top_k(self, query: np.ndarray, k: int) -> list[Passage]:
        ranks = np.argsort(-(self.vectors @ query), kind="stable")[:k]
        return [self.passages[rank] for rank in ranks]


@dataclass(frozen=True)
class Collection:
    """A folder of PDFs loaded once through both pipelines, kept under var/bench/ for the benchmarks to search:
    through Docent's worker code into a SQLite database (DOCENT_VAR_DIR = `docent_dir`), and through the
    anchor, LangChain's default recipe, into `anchor_dir`. Docent's load is kept with the digest of the code
    that made its chunks (CHUNKER_CODE) and made again when that code has changed since; delete a folder
    to reload it anyway."""

    docs_dir: Path
    docent_dir: Path
    anchor_dir: Path

    def load(self) -> None:
        """Run each pipeline's ingestion unless its result is already there (for Docent, from the same code)."""
        marker = self.docent_dir / "chunker.sha256"
        digest = chunker_digest()
        if not marker.exists() or marker.read_text() != digest:
            shutil.rmtree(self.docent_dir, ignore_errors=True)
            with tempfile.TemporaryDirectory(prefix="docent-bench-") as workdir:
                environment = {**docent_environment(Path(workdir)), "DOCENT_VAR_DIR": str(self.docent_dir),
                               "MEDIA_ROOT": str(self.docent_dir / "media")}
                stats = run_pipeline("bench.ingest_docent", Path(workdir) / "out", environment, self.docs_dir)
                for failure in stats.failed:  # the benchmarks' chatbots answer from the files Docent took
                    print(f"Docent refused {failure}", file=sys.stderr)
                shutil.copy(Path(workdir) / "out" / "stats.json", self.docent_dir / "stats.json")
            marker.write_text(digest)
        if not (self.anchor_dir / "vectors.npy").exists():
            shutil.rmtree(self.anchor_dir, ignore_errors=True)
            run_pipeline("bench.ingest_anchor", self.anchor_dir, {}, self.docs_dir)


def chunker_digest() -> str:
    """SHA-256 over the source of CHUNKER_CODE, file by file in a fixed order."""
    return source_digest(CHUNKER_CODE)


@dataclass(frozen=True)
class Outcome:
    stats: RunStats
    retrieval: dict[int, dict[str, float]]  # depth → measure → value


def main() -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="docent-bench-") as workdir:
        workdir = Path(workdir)
        docent_stats = run_pipeline("bench.ingest_docent", workdir / "docent", docent_environment(workdir))
        if docent_stats.failed:
            raise SystemExit("Docent did not ingest every file:\n" + "\n".join(docent_stats.failed))
        anchor_stats = run_pipeline("bench.ingest_anchor", workdir / "anchor", {})
        docent_index = DenseIndex.of(*docent_chunks(workdir / "var" / "docent.sqlite3"))
        anchor_index = DenseIndex.of(*anchor_chunks(workdir / "anchor"))
    load_after = os.getloadavg()[0]
    questions = load_questions()
    queries = embed_questions(questions)
    docent = Outcome(docent_stats, retrieval_scores(docent_index, questions, queries))
    anchor = Outcome(anchor_stats, retrieval_scores(anchor_index, questions, queries))
    report = render(docent, anchor, questions, (load_before, load_after))
    print(report)
    write_section(REPORT_PATH, HEADING, report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


def docent_environment(workdir: Path) -> dict[str, str]:
    """A throwaway SQLite database and media folder; local embeddings and index; DEBUG off, as in production."""
    return {
        "DOCENT_VAR_DIR": str(workdir / "var"), "MEDIA_ROOT": str(workdir / "var" / "media"),
        "DATABASE_URL": "", "REDIS_URL": "",
        "STORAGE_BACKEND": "local", "EMBEDDING_BACKEND": "local", "VECTOR_BACKEND": "local",
        "CLAMD_SOCKET": "", "CLAMD_HOST": "", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
    }


def run_pipeline(module: str, out_dir: Path, environment: dict[str, str], docs_dir: Path = DOCS_DIR) -> RunStats:
    print(f"Running {module} on {docs_dir} …", file=sys.stderr, flush=True)
    out_dir.mkdir(parents=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **environment}
    subprocess.run([sys.executable, "-m", module, str(docs_dir), str(out_dir)], check=True, env=env,
                   cwd=PROJECT_ROOT)
    return RunStats.load(out_dir / "stats.json")


def docent_chunks(database: Path) -> tuple[list[Passage], np.ndarray]:
    """Docent's chunks as its worker stored them: text, metadata's file_name, float32 embedding."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT text, metadata, embedding FROM chunks").fetchall()
    passages = [Passage(text, json.loads(metadata)["file_name"]) for text, metadata, _ in rows]
    return passages, np.vstack([np.frombuffer(embedding, dtype=np.float32) for _, _, embedding in rows])


def anchor_chunks(out_dir: Path) -> tuple[list[Passage], np.ndarray]:
    chunks = json.loads((out_dir / "chunks.json").read_text())
    return [Passage(chunk["text"], chunk["file_name"]) for chunk in chunks], np.load(out_dir / "vectors.npy")


def embed_questions(questions: list[Question]) -> dict[str, np.ndarray]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    vectors = load_model().encode([q.text for q in questions], convert_to_numpy=True, normalize_embeddings=True)
    return {question.text: vector for question, vector in zip(questions, vectors, strict=True)}


def retrieval_scores(index: DenseIndex, questions: list[Question],
                     queries: dict[str, np.ndarray]) -> dict[int, dict[str, float]]:
    file_names = {path.name for path in DOCS_DIR.glob("*.pdf")}
    return {k: score(questions, lambda question, k: index.top_k(queries[question.text], k), k, file_names)
            for k in DEPTHS}


def write_section(path: Path, heading: str, body: str) -> None:
    """Put `body` (which starts with `heading`) in place of that section, or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if section.search(text):
        text = section.sub(lambda _: body.rstrip() + "\n\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + body.rstrip() + "\n"
    path.write_text(text)


# --- The report ---------------------------------------------------------------------------------

def render(docent: Outcome, anchor: Outcome, questions: list[Question], load: tuple[float, float]) -> str:
    speedup = docent.stats.pages_per_second / anchor.stats.pages_per_second
    cpu_speedup = anchor.stats.cpu_seconds / docent.stats.cpu_seconds  # same pages: less CPU is faster
    worse = retrieval_shortfalls(docent, anchor)
    with_figures = sum(1 for question in questions if question.figures)
    return "\n".join([
        HEADING,
        "",
        f"Measured {datetime.date.today().isoformat()} with `{COMMAND}` (bench/ingest.py) on {machine()}; "
        f"load average (1 min) {load[0]:.1f} before the run, {load[1]:.1f} after it.",
        "",
        "The twenty 10-Q filings of `../shared/bench/sec-10-q/docs/`, first through Docent's worker code "
        "(`datasource_upload`, then `datasources.pipeline.process` per file, as the db_worker task calls it: "
        "validation, sandboxed extraction, chunking, local all-MiniLM-L6-v2 embeddings (the default "
        f"`LOCAL_EMBEDDING_PRECISION=auto`: {'bfloat16' if cpu_has_bf16() else 'float32'} on this CPU), "
        "local vector index, on a throwaway SQLite database), then through the anchor, LangChain's default "
        "recipe (pdfplumber `extract_text` per page, RecursiveCharacterTextSplitter 1000/200, the same MiniLM through "
        "sentence-transformers). Each pipeline runs in its own process; both totals include importing torch "
        "and loading the model (Docent loads it during its first file's chunk stage, to count tokens).",
        "",
        "Targets: Docent's pages/s at least "
        f"{TARGET_SPEEDUP:g}× the anchor's — {'met' if speedup >= TARGET_SPEEDUP else 'not met'} "
        f"({speedup:.2f}× by the clock; {cpu_speedup:.2f}× by CPU time, which other load on the machine cannot "
        "inflate); retrieval at least as good as the anchor's on every measure below — "
        + ("met." if not worse else "not met (" + "; ".join(worse) + ")."),
        "",
        *ingestion_table(docent.stats, anchor.stats),
        "",
        f"Retrieval: dense top-k (MiniLM cosine, exact) over each pipeline's chunks for the {len(questions)} "
        f"questions of `questions_dev.csv` ({with_figures} with figures), with the measures of "
        "`../shared/bench/README.md` (bench/measures.py).",
        "",
        *retrieval_table(docent, anchor),
    ]) + "\n"


def machine() -> str:
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    ram_kib = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))
    return (f"{len(os.sched_getaffinity(0))} cores ({cpu.group(1).strip() if cpu else 'unknown CPU'}), "
            f"{ram_kib / 1024 ** 2:.1f} GiB RAM, Python {platform.python_version()}, torch {version('torch')}")


def ingestion_table(docent: RunStats, anchor: RunStats) -> list[str]:
    def stage(name: str) -> tuple[float | None, float | None]:
        return docent.stage_seconds.get(name), anchor.stage_seconds.get(name)

    rows = [  # label, Docent's value, the anchor's value (None: the anchor has no such step), format
        ("pages", docent.pages, anchor.pages, "{:,}"),
        ("chunks", docent.chunks, anchor.chunks, "{:,}"),
        ("total, s", docent.total_seconds, anchor.total_seconds, "{:,.1f}"),
        ("**pages/s**", docent.pages_per_second, anchor.pages_per_second, "{:.2f}"),
        ("chunks/s", docent.chunks_per_second, anchor.chunks_per_second, "{:.2f}"),
        ("CPU time (user + system, with children), s", docent.cpu_seconds, anchor.cpu_seconds, "{:,.1f}"),
        ("validate + store (upload), s", *stage("validate"), "{:,.2f}"),
        ("extract, s", *stage("extract"), "{:,.2f}"),
        ("chunk, s", *stage("chunk"), "{:,.2f}"),
        ("embed, s", *stage("embed"), "{:,.2f}"),
        ("index (store chunks and vectors; the anchor keeps them in memory), s", *stage("index"), "{:,.2f}"),
        ("peak RSS of the process, MB", docent.peak_rss_mb, anchor.peak_rss_mb, "{:,.0f}"),
        ("peak RSS of the largest extraction child (the anchor extracts in process), MB",
         docent.peak_child_rss_mb, None, "{:,.0f}"),
    ]
    lines = ["| | Docent | anchor (LangChain default recipe) | Docent / anchor |", "|---|---|---|---|"]
    for label, ours, theirs, shown in rows:
        ratio = f"{ours / theirs:.2f}" if ours is not None and theirs else ""
        lines.append(f"| {label} | {_cell(shown, ours)} | {_cell(shown, theirs)} | {ratio} |")
    return lines


def _cell(shown: str, value: float | None) -> str:
    return "—" if value is None else shown.format(value)


def retrieval_table(docent: Outcome, anchor: Outcome) -> list[str]:
    lines = ["| pipeline | k | doc hit | doc coverage | number recall, 4,000 chars | number recall, 8,000 chars |",
             "|---|---|---|---|---|---|"]
    for k in DEPTHS:
        for name, outcome in (("Docent", docent), ("anchor (LangChain default recipe)", anchor)):
            values = " | ".join(f"{outcome.retrieval[k][measure]:.3f}" for measure in MEASURES)
            lines.append(f"| {name} | {k} | {values} |")
    return lines


def retrieval_shortfalls(docent: Outcome, anchor: Outcome) -> list[str]:
    return [f"{measure}@{k}: {docent.retrieval[k][measure]:.3f} < {anchor.retrieval[k][measure]:.3f}"
            for k in DEPTHS for measure in MEASURES
            if docent.retrieval[k][measure] < anchor.retrieval[k][measure]]


if __name__ == "__main__":
    main()
