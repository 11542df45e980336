"""`make bench-progress`: what reporting progress costs the embedding step (issue 14, item 2).

The worker embeds a file's chunks in batches of EMBED_BATCH (256) and now reports progress after each
forward pass inside a batch (`LocalEmbedder.embed_documents` with a `progress` callback that publishes
a percentage, as datasources/pipeline.py does). Before, each batch was one `encode` call. This runs both
on the same chunks, in one process, alternating, and reports the CPU time of each and their ratio:
the chunks of one 10-Q filing (extraction in the sandbox and chunking as the worker does them).

    python -m bench.embedding_progress [--rounds 3] [--file "2023 Q3 AAPL.pdf"]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.ingest import DOCS_DIR, REPORT_PATH, docent_environment, machine, write_section

HEADING = "## Progress during embedding (make bench-progress)"


def chunk_texts(file_name: str) -> list[str]:
    from datasources.chunking import chunk_document
    from datasources.embedders import get_embedder
    from datasources.filetypes import detect_file_type
    from datasources.sandbox import extract_in_sandbox

    path = DOCS_DIR / file_name
    extraction = extract_in_sandbox(path, detect_file_type(path, file_name), file_name=file_name)
    embedder = get_embedder()
    drafts = chunk_document(extraction, file_name=file_name, count_tokens=embedder.count_tokens,
                            max_tokens=embedder.max_tokens)
    return [draft.text for draft in drafts]


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--file", default="2023 Q3 AAPL.pdf")
    options = parser.parse_args()
    os.environ.update(docent_environment(Path(tempfile.mkdtemp(prefix="docent-bench-"))),
                      DJANGO_SETTINGS_MODULE="config.settings")
    django.setup()
    from datasources.embedders import get_embedder
    from datasources.pipeline import EMBED_BATCH

    texts = chunk_texts(options.file)
    embedder = get_embedder()
    model = embedder._sentence_transformer()
    reports: list[int] = []

    def with_progress() -> None:
        for start in range(0, len(texts), EMBED_BATCH):
            embedder.embed_documents(texts[start:start + EMBED_BATCH],
                                     progress=lambda count, before=start: reports.append(before + count))

    def one_call_per_batch() -> None:
        for start in range(0, len(texts), EMBED_BATCH):
            with embedder._arithmetic():
                model.encode(texts[start:start + EMBED_BATCH], batch_size=embedder.batch_size,
                             convert_to_numpy=True, show_progress_bar=False)

    one_call_per_batch()  # warm up
    seconds: dict[str, list[float]] = {"one encode call per batch (before)": [], "passes with progress (now)": []}
    for _ in range(options.rounds):
        for name, run in zip(seconds, (one_call_per_batch, with_progress), strict=True):
            started = time.process_time()
            run()
            seconds[name].append(time.process_time() - started)
    before, now = (statistics.median(values) for values in seconds.values())
    lines = [HEADING, "",
             f"Measured {time.strftime('%Y-%m-%d')} with `make bench-progress` (bench/embedding_progress.py) on "
             f"{machine()}: the {len(texts)} chunks of {options.file}, embedded in batches of {EMBED_BATCH} by the "
             f"local model ({embedder.batch_size} per forward pass), {options.rounds} rounds alternating; CPU "
             f"seconds (user + system of the process), median. Progress heard {len(reports) // options.rounds} "
             f"times per run.", "",
             "| embedding | CPU s, median | now / before |", "|---|---|---|",
             f"| one `encode` call per batch (before) | {before:.2f} | 1.00 |",
             f"| forward passes with a progress report after each (now) | {now:.2f} | {now / before:.2f} |"]
    report = "\n".join(lines) + "\n"
    print(report)
    write_section(REPORT_PATH, HEADING, report)


if __name__ == "__main__":
    main()
