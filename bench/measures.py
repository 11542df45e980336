"""Retrieval measures of ../shared/bench/README.md, which need no language model.

A retriever's answer to a question is a list of passages in rank order; each passage is its
text and the name of the file it came from. For each question:

- doc hit@k: 1 when at least one of the top-k passages comes from a source doc, else 0;
- doc coverage@k: the share of the source docs that appear among the top-k passages;
- number recall within a budget: the share of the answer's figures found in the first
  `budget` characters of the top-k passages' text, joined in rank order. Only the questions
  whose answer has figures count.

Each measure is the mean over the questions it counts.
"""

import csv
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
SEC_10_Q_DIR = SHARED_DIR / "bench" / "sec-10-q"
BUDGETS = (4_000, 8_000)

# A number with thousands separators, or a plain one; neither may continue another number.
_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# The answer's own source tags, e.g. "SOURCE: 2023 Q3 AAPL.pdf": the file names are not figures.
_SOURCE_TAG = re.compile(r"\d{4} Q\d [A-Z]+\.pdf")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
MIN_SIGNIFICANT_DIGITS = 3


@dataclass(frozen=True)
class Passage:
    text: str
    file_name: str


@dataclass(frozen=True)
class Question:
    text: str
    source_patterns: tuple[str, ...]  # glob patterns over file names
    figures: frozenset[str]

    def source_docs(self, file_names: set[str]) -> set[str]:
        return {name for name in file_names
                if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.source_patterns)}


Retriever = Callable[[Question, int], list[Passage]]


def load_questions(path: Path = SEC_10_Q_DIR / "questions_dev.csv") -> list[Question]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            Question(text=row["Question"], source_patterns=_patterns(row["Source Docs"]),
                     figures=figures_in(row["Answer"]))
            for row in csv.DictReader(handle)
        ]


def _patterns(source_docs: str) -> tuple[str, ...]:
    return tuple(pattern.strip() for pattern in re.split(r"[,\n]", source_docs) if pattern.strip())


def figures_in(answer: str) -> frozenset[str]:
    """Numbers with at least three significant digits, commas dropped; years are not figures."""
    figures = set()
    for match in _NUMBER.finditer(_SOURCE_TAG.sub(" ", answer)):
        number = match.group().replace(",", "")
        if _is_year(match.group()):
            continue
        if len(number.replace(".", "").lstrip("0")) >= MIN_SIGNIFICANT_DIGITS:
            figures.add(number)
    return frozenset(figures)


def _is_year(written: str) -> bool:
    return written.isdigit() and len(written) == 4 and 1900 <= int(written) <= 2100


def doc_hit(question: Question, passages: list[Passage], file_names: set[str]) -> float:
    sources = question.source_docs(file_names)
    return float(any(passage.file_name in sources for passage in passages))


def doc_coverage(question: Question, passages: list[Passage], file_names: set[str]) -> float:
    sources = question.source_docs(file_names)
    return len(sources & {passage.file_name for passage in passages}) / len(sources)


def number_recall(question: Question, passages: list[Passage], budget: int) -> float:
    return len(figures_found(question, "\n".join(passage.text for passage in passages)[:budget])) / len(
        question.figures)


def figures_found(question: Question, text: str) -> set[str]:
    """The question's expected figures that the text states."""
    text = _THOUSANDS_COMMA.sub("", text)
    return {figure for figure in question.figures if _contains_number(text, figure)}


def _contains_number(text: str, figure: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(figure)}(?!\.?\d)", text) is not None


def score(questions: list[Question], retrieve: Retriever, k: int, file_names: set[str]) -> dict[str, float]:
    """Every measure at depth k, averaged over the questions."""
    ranked = [(question, retrieve(question, k)) for question in questions]
    with_figures = [(question, passages) for question, passages in ranked if question.figures]
    scores = {
        "doc_hit": mean(doc_hit(question, passages, file_names) for question, passages in ranked),
        "doc_coverage": mean(doc_coverage(question, passages, file_names) for question, passages in ranked),
    }
    for budget in BUDGETS:
        scores[f"number_recall_{budget}"] = mean(
            number_recall(question, passages, budget) for question, passages in with_figures)
    return scores
