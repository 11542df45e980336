"""`make bench-encoder`: what embedding one question costs with each LOCAL_QUESTION_ENCODER, in one run.

Every question of both development sets (the SEC filings' 56 dev questions, the mixed-docs set's 70) is embedded
one at a time, as a visitor's question is, by each question encoder of the local embedder in turn, in one process
with one torch thread; the rounds alternate between the encoders so that the machine's load falls on each alike.
Per encoder: the median CPU time per question (`time.process_time`, every thread of the process) over the SEC
questions and over both sets, its ratio to PyTorch's (the documents' own path, the baseline), and how close its
vectors are to PyTorch's (cosine; documents stay embedded by PyTorch, so this is what a search sees change).
What the vectors do to retrieval and answers is bench/answers.py's to say (`make bench-answers`).

The report is printed and put in docs/BENCHMARKS.md under its heading.
"""

import datetime
import os
import statistics
import time

import numpy as np

from bench import ingest, mixed_docs
from bench.measures import load_questions

HEADING = "## Question encoder (issue 15, item 1)"
COMMAND = "make bench-encoder"
ENCODERS = ("torch", "onnx", "onnx-int8")
BASELINE = "torch"
ROUNDS = 5


def embedders() -> dict:
    from django.test import override_settings

    from datasources.embedders import get_embedder

    chosen = {}
    for encoder in ENCODERS:
        with override_settings(EMBEDDING_BACKEND="local", LOCAL_QUESTION_ENCODER=encoder):
            chosen[encoder] = get_embedder()
            chosen[encoder].prepare()  # loads the model and builds the graph, outside the measure
    return chosen


def measure(texts: list[str]) -> dict[str, dict]:
    """Per encoder: CPU milliseconds of each text in each round, and its vectors."""
    chosen = embedders()
    times = {encoder: [[] for _ in texts] for encoder in ENCODERS}
    vectors = {}
    for _ in range(ROUNDS):
        for encoder, embedder in chosen.items():
            rows = []
            for position, text in enumerate(texts):
                started = time.process_time()
                rows.append(embedder.embed_query(text))
                times[encoder][position].append((time.process_time() - started) * 1000)
            vectors[encoder] = np.stack(rows)
    return {encoder: {"ms": [statistics.median(per_text) for per_text in times[encoder]],
                      "cosine": np.sum(vectors[encoder] * vectors[BASELINE], axis=1)}
            for encoder in ENCODERS}


def render(results: dict[str, dict], sec_count: int, when: str) -> str:
    base_sec = statistics.median(results[BASELINE]["ms"][:sec_count])
    base_all = statistics.median(results[BASELINE]["ms"])
    lines = [
        HEADING, "",
        f"Measured {when} with `{COMMAND}` (bench/question_encoder.py) on {ingest.machine()}, one torch thread, "
        f"load average {'/'.join(f'{load:.1f}' for load in os.getloadavg())} at the end (the machine is shared). "
        f"Every dev question of both sets ({sec_count} SEC, {len(results[BASELINE]['ms']) - sec_count} mixed-docs) "
        f"embedded one at a time by each encoder, {ROUNDS} alternating rounds, the median of each question's rounds; "
        "CPU is `time.process_time()`.", "",
        "| LOCAL_QUESTION_ENCODER | CPU ms per question, SEC median | × torch | both sets, median | × torch "
        "| cosine to torch's vector, lowest | median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for encoder, result in results.items():
        sec_ms, all_ms = statistics.median(result["ms"][:sec_count]), statistics.median(result["ms"])
        lines.append(f"| `{encoder}` | {sec_ms:.1f} | {sec_ms / base_sec:.2f} | {all_ms:.1f} | {all_ms / base_all:.2f} "
                     f"| {result['cosine'].min():.6f} | {np.median(result['cosine']):.6f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import django
    import torch

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    torch.set_num_threads(1)
    django.setup()
    sec = [question.text for question in load_questions()]
    texts = sec + [question.text for question in mixed_docs.load_questions()]
    report = render(measure(texts), len(sec), datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(report)
    ingest.write_section(ingest.REPORT_PATH, HEADING, report)


if __name__ == "__main__":
    main()
