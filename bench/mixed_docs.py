"""The mixed-docs development set (../shared/bench/mixed-docs/): its questions and the measures of its README.

Fourteen PDFs of other kinds than the filings; 60 questions answerable from one short place in one
document (an exact `answer_span`), 10 that no document answers. Whether a text contains a span is
decided by the set's own rule, spans.py, imported from the set's folder (never copied):

- span in passages: the span is in the first `budget` characters of the passages' text, joined in
  rank order;
- right document: at least one passage comes from the question's document.
"""

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from bench.measures import SHARED_DIR, Passage

MIXED_DOCS_DIR = SHARED_DIR / "bench" / "mixed-docs"
DOCS_DIR = MIXED_DOCS_DIR / "docs"


def _load_spans():
    spec = importlib.util.spec_from_file_location("mixed_docs_spans", MIXED_DOCS_DIR / "spans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spans = _load_spans()


@dataclass(frozen=True)
class SpanQuestion:
    id: str
    text: str
    file: str | None  # the document that answers it; None when none does
    span: str | None

    @property
    def answerable(self) -> bool:
        return self.span is not None


def load_questions(path: Path = MIXED_DOCS_DIR / "questions.jsonl") -> list[SpanQuestion]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [SpanQuestion(record["id"], record["question"], record["file"], record["answer_span"])
            for record in records]


def span_in_passages(question: SpanQuestion, passages: list[Passage], budget: int) -> bool:
    return spans.contains("\n".join(passage.text for passage in passages)[:budget], question.span)


def right_document(question: SpanQuestion, passages: list[Passage]) -> bool:
    return any(passage.file_name == question.file for passage in passages)
