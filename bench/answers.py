"""`make bench-answers`: the answer a visitor reads, on both development sets, beside the anchor's passages.

Each set's PDFs are loaded once through Docent's worker code and through LangChain's default recipe
(`bench.ingest.Collection`, kept under var/bench/; Docent's load is made again when the code that
chunks has changed): the twenty 10-Q filings (the load bench-chat uses) and the fourteen documents of
../shared/bench/mixed-docs/. For each set, one chatbot with the default settings (top_k, fallback
message; ANSWER_BACKEND=extractive) answers from all of that set's data sources, in a process of its
own (one torch thread): every question goes through `chat.services.answer_events`, the flow behind
POST /api/chat, and its answer text and `answered` flag are recorded. A refusal is an answer marked
not answered (the fallback, or an answer the answerer itself calls weak).

Measures, Docent beside the anchor where both have passages:
- passages: the SEC set's figures within 8,000 characters at k = 8 (bench/measures.py); the
  mixed-docs span within 8,000 characters at k = 8 and 4,000 at k = 4, and the right document among
  the passages (bench/mixed_docs.py, with the set's spans.py);
- the answer: the share of expected figures (SEC) or spans (mixed-docs) in its first 600 characters
  and in all of it. A refusal, and an answer showing more than MAX_FIGURES figures (padding is not an
  answer), count as misses. Median length and figures shown, over the answers given;
- refusals of answerable questions, of unanswerable ones (each set's own) and of the near misses of
  bench/near_misses.jsonl (questions close to the documents' topics that they cannot answer);
- CPU time per question (`time.process_time`, one process, one torch thread), median over the SEC
  dev questions: retrieval and the answer, the share of it spent embedding the question, and the
  whole answer path with the turn stored.

The report is printed, written to var/bench/answers.md (with every answer in var/bench/answers.json)
and put in docs/BENCHMARKS.md under its heading.
"""

import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import ingest, mixed_docs
from bench.answer_measures import (
    ANSWER_HEAD,
    MAX_FIGURES,
    Reply,
    figure_ceiling,
    figure_share,
    refused,
    span_ceiling,
    span_in_answer,
)
from bench.chat_retrieval import FILINGS, UNANSWERABLE
from bench.ingest import Collection
from bench.measures import Passage, Retriever, load_questions, score

CACHE_DIR = ingest.PROJECT_ROOT / "var" / "bench"
MIXED_DOCS = Collection(mixed_docs.DOCS_DIR, CACHE_DIR / "mixed-docs" / "docent", CACHE_DIR / "mixed-docs" / "anchor")
NEAR_MISSES_PATH = Path(__file__).with_name("near_misses.jsonl")
# Span questions of Docent's own on the mixed-docs set's scanned court order, which only OCR reads.
SCANNED_PATH = Path(__file__).with_name("scanned_questions.jsonl")
ANSWERS_PATH = CACHE_DIR / "answers.json"
MARKDOWN_PATH = CACHE_DIR / "answers.md"
HEADING = "## Answers (make bench-answers)"
COMMAND = "make bench-answers"
SEC, MIXED = "sec-10-q", "mixed-docs"
COLLECTIONS = {SEC: FILINGS, MIXED: MIXED_DOCS}
DEPTHS = (4, 8)
ANSWERABLE, UNANSWERABLE_KIND, NEAR_MISS, SCANNED = "answerable", "unanswerable", "near miss", "scanned"


# --- The questions each set's chatbot is asked ---------------------------------------------------

@dataclass(frozen=True)
class Ask:
    text: str
    kind: str  # ANSWERABLE, UNANSWERABLE_KIND, NEAR_MISS or SCANNED


def near_misses(set_name: str) -> list[str]:
    records = [json.loads(line) for line in NEAR_MISSES_PATH.read_text().splitlines() if line.strip()]
    return [record["question"] for record in records if record["set"] == set_name]


def asks(set_name: str) -> list[Ask]:
    if set_name == SEC:
        answerable = [q.text for q in load_questions()]
        unanswerable = [text for texts in UNANSWERABLE.values() for text in texts]
    else:
        questions = mixed_docs.load_questions()
        answerable = [q.text for q in questions if q.answerable]
        unanswerable = [q.text for q in questions if not q.answerable]
    scanned = [q.text for q in scanned_questions()] if set_name == MIXED else []
    return ([Ask(text, ANSWERABLE) for text in answerable] + [Ask(text, UNANSWERABLE_KIND) for text in unanswerable]
            + [Ask(text, NEAR_MISS) for text in near_misses(set_name)] + [Ask(text, SCANNED) for text in scanned])


def scanned_questions() -> list[mixed_docs.SpanQuestion]:
    return mixed_docs.load_questions(SCANNED_PATH)


# --- One set, in a process of its own -----------------------------------------------------------

def run_set(set_name: str) -> dict:
    """Ask the set's chatbot everything (in another process, on the set's loaded database); its records."""
    docent_dir = COLLECTIONS[set_name].docent_dir
    print(f"Asking the {set_name} chatbot …", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="docent-bench-") as workdir:
        out_file = Path(workdir) / "answers.json"
        environment = {**os.environ, **ingest.docent_environment(Path(workdir)), "DOCENT_VAR_DIR": str(docent_dir),
                       "MEDIA_ROOT": str(docent_dir / "media"), "DJANGO_SETTINGS_MODULE": "config.settings",
                       "ANSWER_BACKEND": "extractive", "OMP_NUM_THREADS": "1",
                       # every question answered as the first time it is asked: nothing recalled from a cache
                       "ANSWER_CACHE_SECONDS": "0", "QUESTION_EMBEDDING_CACHE_SECONDS": "0"}
        subprocess.run([sys.executable, "-m", "bench.answers", "--set", set_name, "--out", str(out_file)],
                       check=True, env=environment, cwd=ingest.PROJECT_ROOT)
        return json.loads(out_file.read_text())


def ask_everything(set_name: str) -> dict:
    """In the set's process: each question's answer through the answer flow, Docent's passages at each
    depth, and the CPU time of answering the answerable ones."""
    import django
    import torch

    torch.set_num_threads(1)
    django.setup()
    from bench.chat_retrieval import benchmark_chatbot, bring_up_to_date
    from chat.retrieval import Scope
    from datasources.embedders import embedder_identity, get_embedder

    bring_up_to_date()
    chatbot = benchmark_chatbot(name="Answers")
    scope = Scope.of(chatbot)
    questions = asks(set_name)
    answerable = [ask.text for ask in questions if ask.kind == ANSWERABLE]
    cpu = cpu_per_question(chatbot, answerable)  # first: a warm model, and nothing else run in between
    answerable += [ask.text for ask in questions if ask.kind == SCANNED]  # their passages are scored too
    return {
        "replies": [{"question": ask.text, "kind": ask.kind, **answer(chatbot, ask.text)} for ask in questions],
        "passages": {str(k): {text: [[p.text, p.file_name] for p in scope.retrieve(text, k)] for text in answerable}
                     for k in DEPTHS},
        "cpu": cpu,
        "embedder": embedder_identity(get_embedder()),  # what embedded the questions
        "quotes": {text: prompt_quotes(chatbot, text) for text in answerable},
    }


def prompt_quotes(chatbot, text: str) -> list[str]:
    """Every quote the answer to `text` could be made of: its prompt's sentences and rows as the composer tells them."""
    from chat.generators.extractive import quotes
    from chat.services import Answer, Question, _prepared

    prepared = _prepared(chatbot, Question(message=text), [], Answer())
    return quotes(text, prepared[0].passages) if prepared else []


def answer(chatbot, text: str) -> dict:
    """The answer POST /api/chat gives, and the CPU time of the whole flow (the turn stored included)."""
    from asgiref.sync import async_to_sync

    from chat.models import Conversation
    from chat.services import Asker, Question, answer_events, collect

    started = time.process_time()
    result = async_to_sync(collect)(answer_events(Asker(chatbot=chatbot, channel=Conversation.Channel.API),
                                                  Question(message=text)))
    return {"text": result["response"], "answered": result["answered"],
            "path_ms": (time.process_time() - started) * 1000}


def cpu_per_question(chatbot, texts: list[str]) -> dict[str, list[float]]:
    """CPU milliseconds per question: retrieval and the written answer (the answer flow's `_prepared`, then
    its generation read to the end), and embedding the question alone."""
    from chat.services import Answer, Question, _prepared
    from datasources.embedders import get_embedder

    loop = asyncio.new_event_loop()
    embedder = get_embedder()
    _prepared(chatbot, Question(message=texts[0]), [], Answer())  # loads the model and the indexes
    times: dict[str, list[float]] = {"answer_ms": [], "embed_ms": []}
    for text in texts:
        started = time.process_time()
        prepared = _prepared(chatbot, Question(message=text), [], Answer())
        if prepared is not None:
            loop.run_until_complete(_read(prepared[1]))
        times["answer_ms"].append((time.process_time() - started) * 1000)
        started = time.process_time()
        embedder.embed_query(text)
        times["embed_ms"].append((time.process_time() - started) * 1000)
    loop.close()
    return times


async def _read(generation) -> None:
    async for _ in generation:
        pass


# --- Scores --------------------------------------------------------------------------------------

def anchor_retriever(collection: Collection, questions: list) -> Retriever:
    """LangChain's default recipe over the collection: MiniLM cosine over the recipe's chunks."""
    passages, vectors = ingest.anchor_chunks(collection.anchor_dir)
    index = ingest.DenseIndex.of(passages, vectors)
    queries = ingest.embed_questions(questions)
    return lambda question, k: index.top_k(queries[question.text], k)


def recorded_retriever(records: dict) -> Retriever:
    """Docent's passages as the set's process recorded them."""
    passages = {int(k): by_text for k, by_text in records["passages"].items()}
    return lambda question, k: [Passage(text, file_name) for text, file_name in passages[k][question.text]]


def as_read(retrieve: Retriever) -> Retriever:
    """The passages as a reader gets them (the language model's prompt, a cited source): table rows shown as a
    Markdown table under their headings once, not each row repeating them (datasources/chunk_format.py)."""
    from datasources.chunk_format import markdown_passage

    return lambda question, k: [Passage(markdown_passage(p.text), p.file_name) for p in retrieve(question, k)]


def replies_of(records: dict, kind: str) -> dict[str, Reply]:
    return {record["question"]: Reply(record["text"], record["answered"])
            for record in records["replies"] if record["kind"] == kind}


def common_scores(records: dict) -> dict:
    """Refusals, length and figures shown, CPU: what both sets report alike."""
    given = [reply for reply in replies_of(records, ANSWERABLE).values() if reply.answered]
    scores = {f"refused {kind}": (refused(list(replies_of(records, kind).values())), len(replies_of(records, kind)))
              for kind in (ANSWERABLE, UNANSWERABLE_KIND, NEAR_MISS)}
    scores["median length"] = statistics.median(len(reply.text) for reply in given) if given else 0
    scores["median figures"] = statistics.median(reply.figures for reply in given) if given else 0
    scores["over figures"] = sum(1 for reply in given if reply.figures > MAX_FIGURES)
    scores["cpu answer ms"] = statistics.median(records["cpu"]["answer_ms"])
    scores["cpu embed ms"] = statistics.median(records["cpu"]["embed_ms"])
    scores["cpu path ms"] = statistics.median(record["path_ms"] for record in records["replies"]
                                              if record["kind"] == ANSWERABLE)
    scores["embedder"] = records["embedder"]
    return scores


def sec_scores(records: dict) -> dict:
    questions = load_questions()
    file_names = {path.name for path in FILINGS.docs_dir.glob("*.pdf")}
    replies = replies_of(records, ANSWERABLE)
    with_figures = [q for q in questions if q.figures]
    return {
        **common_scores(records),
        "passages docent": score(questions, recorded_retriever(records), 8, file_names)["number_recall_8000"],
        "passages anchor": score(questions, anchor_retriever(FILINGS, questions), 8, file_names)["number_recall_8000"],
        "passages docent read": score(questions, as_read(recorded_retriever(records)), 8,
                                      file_names)["number_recall_8000"],
        "answer head": statistics.mean(figure_share(q, replies[q.text], ANSWER_HEAD) for q in with_figures),
        "answer whole": statistics.mean(figure_share(q, replies[q.text]) for q in with_figures),
        "answer ceiling": statistics.mean(figure_ceiling(q, records["quotes"][q.text]) for q in with_figures),
        "questions": len(questions), "with figures": len(with_figures),
    }


def mixed_scores(records: dict) -> dict:
    questions = [q for q in mixed_docs.load_questions() if q.answerable]
    replies = replies_of(records, ANSWERABLE)
    scores = {**common_scores(records), "questions": len(questions),
              "answer head": sum(span_in_answer(q, replies[q.text], ANSWER_HEAD) for q in questions),
              "answer whole": sum(span_in_answer(q, replies[q.text]) for q in questions),
              "answer ceiling": sum(span_ceiling(q, records["quotes"][q.text]) for q in questions)}
    for name, retriever in (("docent", recorded_retriever(records)),
                            ("docent read", as_read(recorded_retriever(records))),
                            ("anchor", anchor_retriever(MIXED_DOCS, questions))):
        ranked = {k: [retriever(q, k) for q in questions] for k in DEPTHS}
        scores[f"span 8000 {name}"] = _share(mixed_docs.span_in_passages(q, p, 8_000)
                                             for q, p in zip(questions, ranked[8], strict=True))
        scores[f"span 4000 {name}"] = _share(mixed_docs.span_in_passages(q, p, 4_000)
                                             for q, p in zip(questions, ranked[4], strict=True))
        for k in DEPTHS:
            scores[f"document {k} {name}"] = _share(mixed_docs.right_document(q, p)
                                                    for q, p in zip(questions, ranked[k], strict=True))
    scanned, replies = scanned_questions(), replies_of(records, SCANNED)
    retrieve = recorded_retriever(records)
    scores["scanned"] = len(scanned)
    scores["scanned passages"] = sum(mixed_docs.span_in_passages(q, retrieve(q, 8), 8_000) for q in scanned)
    scores["scanned head"] = sum(span_in_answer(q, replies[q.text], ANSWER_HEAD) for q in scanned)
    return scores


def _share(hits) -> float:
    hits = list(hits)
    return sum(hits) / len(hits)


# --- The report ----------------------------------------------------------------------------------

# The "now" column of issue 13's targets table: the code before the issue's changes.
BASELINE = {"sec answer head": "0.231", "sec passages": "0.596", "mixed passages": "0.800",
            "mixed answer head": "17 / 60", "mixed answerable refused": "7 / 60",
            "mixed unanswerable refused": "5 / 10", "cpu": "34 ms (15 ms embedding)"}


def render(sec: dict, mixed: dict, when: str) -> str:
    cpu = (f"{sec['cpu answer ms']:.1f} ms ({sec['cpu embed ms']:.1f} ms embedding, "
           f"{sec['cpu embed ms'] / sec['cpu answer ms']:.0%})")
    near = (sec["refused near miss"][0] + mixed["refused near miss"][0],
            sec["refused near miss"][1] + mixed["refused near miss"][1])
    lines = [
        HEADING, "",
        f"Measured {when} with `{COMMAND}` (bench/answers.py) on {ingest.machine()}; SQLite with the local vector "
        f"index, questions embedded by `{sec['embedder']}`, one chatbot per set with the default settings (top_k, "
        "fallback message) and ANSWER_BACKEND=extractive, "
        "every question asked through `chat.services.answer_events` (the flow behind POST /api/chat). "
        "A refusal is an answer marked not answered; refusals and answers showing more than "
        f"{MAX_FIGURES} figures count as misses in the answer measures.", "",
        "Issue 13's targets; \"issue 13\" is the issue's \"now\" column, \"this run\" the code measured here.", "",
        "| measure | issue 13 | this run | target |", "|---|---|---|---|",
        f"| SEC dev: expected figures in the answer's first 600 characters | {BASELINE['sec answer head']} | "
        f"{sec['answer head']:.3f} | ≥ 0.50 |",
        f"| SEC dev: figures in passages, 8,000 chars, k = 8 | {BASELINE['sec passages']} | "
        f"{sec['passages docent']:.3f} | ≥ 0.60 |",
        f"| mixed-docs: span in passages, 8,000 chars, k = 8 (recipe: {mixed['span 8000 anchor']:.3f}) | "
        f"{BASELINE['mixed passages']} | {mixed['span 8000 docent']:.3f} | ≥ 0.92 |",
        f"| mixed-docs: span in the answer's first 600 characters | {BASELINE['mixed answer head']} | "
        f"{mixed['answer head']} / {mixed['questions']} | ≥ 39 / 60 |",
        f"| mixed-docs: answerable questions refused | {BASELINE['mixed answerable refused']} | "
        f"{_count(mixed['refused answerable'])} | 0 / 60 |",
        f"| mixed-docs: unanswerable questions refused | {BASELINE['mixed unanswerable refused']} | "
        f"{_count(mixed['refused unanswerable'])}; near misses {_count(near)} ({near[0] / near[1]:.0%}) | "
        "≥ 9 / 10, and ≥ 90% of the near misses |",
        f"| CPU per question, retrieval + extractive answer, median over SEC dev | {BASELINE['cpu']} | {cpu} | "
        "no higher |",
        "",
        f"SEC dev ({sec['questions']} questions, {sec['with figures']} with figures):", "",
        "| measure | Docent | anchor (LangChain default recipe) |", "|---|---|---|",
        f"| figures in passages, 8,000 chars, k = 8 | {sec['passages docent']:.3f} | {sec['passages anchor']:.3f} |",
        f"| the same, passages as a reader gets them (tables in Markdown) | {sec['passages docent read']:.3f} | "
        f"{sec['passages anchor']:.3f} |",
        f"| figures in the answer's first 600 characters | {sec['answer head']:.3f} | — |",
        f"| figures in the whole answer | {sec['answer whole']:.3f} | — |",
        f"| figures an answer from the same passages could show in its first 600 characters, quotes chosen knowing the "
        f"figures (`figure_ceiling`) | {sec['answer ceiling']:.3f} | — |",
        "",
        f"mixed-docs ({mixed['questions']} answerable questions):", "",
        "| measure | Docent | anchor (LangChain default recipe) |", "|---|---|---|",
        *(f"| {label} | {mixed[key + ' docent']:.3f} | {mixed[key + ' anchor']:.3f} |" for label, key in (
            ("span in passages, 8,000 chars, k = 8", "span 8000"),
            ("span in passages, 4,000 chars, k = 4", "span 4000"),
            ("right document among the passages, k = 4", "document 4"),
            ("right document among the passages, k = 8", "document 8"))),
        f"| span in passages as a reader gets them (tables in Markdown), 8,000 chars, k = 8 | "
        f"{mixed['span 8000 docent read']:.3f} | {mixed['span 8000 anchor']:.3f} |",
        f"| span in the answer's first 600 characters | {mixed['answer head']} / {mixed['questions']} | — |",
        f"| span in the whole answer | {mixed['answer whole']} / {mixed['questions']} | — |",
        f"| span in one quote the answer could open with, from the same passages (`span_ceiling`) | "
        f"{mixed['answer ceiling']} / {mixed['questions']} | — |",
        f"| scanned court order (OCR; bench/scanned_questions.jsonl): span in passages, 8,000 chars, k = 8; in the "
        f"answer's first 600 characters | {mixed['scanned passages']} / {mixed['scanned']}; {mixed['scanned head']} / "
        f"{mixed['scanned']} | — |",
        "",
        "Both sets (the anchor has no answer and never refuses):", "",
        "| measure | SEC dev | mixed-docs |", "|---|---|---|",
        f"| median answer length, characters (answers given to answerable questions) | {sec['median length']:.0f} | "
        f"{mixed['median length']:.0f} |",
        f"| figures shown per answer, median | {sec['median figures']:g} | {mixed['median figures']:g} |",
        f"| answers showing more than {MAX_FIGURES} figures | {sec['over figures']} | {mixed['over figures']} |",
        f"| answerable questions refused | {_count(sec['refused answerable'])} | "
        f"{_count(mixed['refused answerable'])} |",
        f"| unanswerable questions refused (SEC: bench-chat's ten) | {_count(sec['refused unanswerable'])} | "
        f"{_count(mixed['refused unanswerable'])} |",
        f"| near misses refused (bench/near_misses.jsonl) | {_count(sec['refused near miss'])} | "
        f"{_count(mixed['refused near miss'])} |",
        f"| CPU per question, retrieval + answer, median | {sec['cpu answer ms']:.1f} ms | "
        f"{mixed['cpu answer ms']:.1f} ms |",
        f"| of which embedding the question, median | {sec['cpu embed ms']:.1f} ms | {mixed['cpu embed ms']:.1f} ms |",
        f"| CPU per question, the whole answer flow with the turn stored, median | {sec['cpu path ms']:.1f} ms | "
        f"{mixed['cpu path ms']:.1f} ms |",
    ]
    return "\n".join(lines) + "\n"


def _count(pair: tuple[int, int]) -> str:
    return f"{pair[0]} / {pair[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=COLLECTIONS, help="(internal) ask one set's chatbot and write its records")
    parser.add_argument("--out", type=Path, help="(internal) where --set writes its records")
    options = parser.parse_args()
    if options.set:
        options.out.write_text(json.dumps(ask_everything(options.set)))
        return
    for collection in COLLECTIONS.values():
        collection.load()
    records = {set_name: run_set(set_name) for set_name in COLLECTIONS}
    report = render(sec_scores(records[SEC]), mixed_scores(records[MIXED]), datetime.date.today().isoformat())
    print(report)
    MARKDOWN_PATH.write_text(report)
    ANSWERS_PATH.write_text(json.dumps({name: by_set["replies"] for name, by_set in records.items()}, indent=1))
    ingest.write_section(ingest.REPORT_PATH, HEADING, report)
    print(f"Written to {MARKDOWN_PATH}, {ANSWERS_PATH} and {ingest.REPORT_PATH}.", file=sys.stderr)


if __name__ == "__main__":
    main()
