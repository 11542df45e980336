"""Answers quoted from the passages, with no language model.

The sentences of the prompt's passages (a table row counts as one) are scored against the question
with BM25, computed over those sentences alone; the best few are quoted in the order they are read,
grouped under the file and page they come from, each followed by its passage's number [n]. Every
quoted sentence is copied from a passage (only its line breaks become spaces, and a long one keeps
its best parts, joined by " … "); the only words Docent adds are the fixed lead-ins. So the
answer cannot invent a figure, and a passage saying "ignore previous instructions" is at most
quoted, never obeyed.
"""

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass

from chat.context import Prompt
from chat.retrieval import named_things
from chat.retrieval.passages import Passage
from datasources import chunk_format
from datasources.indexes.lexical import row_label, tokenize

MAX_QUOTES = 3
MAX_ANSWER_CHARS = 700
MAX_QUOTE_CHARS = 350
# Sentences scoring under this share of the best one answer the question less well and are left out.
RELATIVE_FLOOR = 0.5
K1, B = 1.2, 0.75
# A question asking for an amount prefers the sentences that state one.
FIGURE_BONUS = 1.25
# A question naming something (a place, a company, a product) prefers the sentences that mention it:
# in a table of every state, "handguns in Alabama" is about Alabama's row, not the notes on handguns.
UNNAMED_PENALTY = 0.25
OMISSION = " … "

_FIGURE_QUESTION = re.compile(
    r"\b(how (much|many|large|big|high|low)|what (is|was|were|are) the|amount|number of|percent\w*|rate|total|"
    r"cost|price)\b", re.IGNORECASE)
# A sentence ends at . ! or ? (maybe closing a quote or bracket) before a capital or a figure, but not
# at the dot leaders of a table of contents or a cost table ("Wiring change ....... 79 work-hours").
_SENTENCE_BREAK = re.compile(r"(?:(?<=[^.][.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"“'(\[$€£]?[A-Z0-9])")
_PIECES = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Sentence:
    text: str  # whitespace collapsed
    number: int  # its passage's number in the prompt, from 1
    position: int  # its order among all the passages' sentences
    terms: Counter
    context: frozenset[str]  # the words of its passage's first line (document title › heading)

    def mentions(self, term: str) -> bool:
        """The sentence, or the document and section it comes from, uses the word."""
        return term in self.terms or term in self.context

    def names_a_row(self, wanted: Counter) -> bool:
        label = row_label(self.text)
        return label is not None and all(word in wanted for word in label)


class ExtractiveGenerator:
    mode = "extractive"
    model = ""

    @staticmethod
    def options_from_settings() -> dict:
        return {}

    def generate(self, *, prompt: Prompt, question: str, chatbot) -> "QuotedAnswer":
        return QuotedAnswer(compose(question, prompt.passages, fallback=chatbot.fallback_message))


class QuotedAnswer:
    mode = "extractive"
    model = ""
    # No model reads or writes anything, so no tokens are spent.
    prompt_tokens = 0
    completion_tokens = 0

    def __init__(self, text: str):
        self.text = text

    async def __aiter__(self):
        for piece in _PIECES.findall(self.text):
            yield piece
            await asyncio.sleep(0)  # let the other visitors' answers through between words


def compose(question: str, passages: list[Passage], *, fallback: str) -> str:
    sentences = [sentence for number, passage in enumerate(passages, start=1)
                 for sentence in split_sentences(passage.text, number)]
    if not sentences:
        return fallback
    wanted = Counter(tokenize(question))
    chosen = _best(question, wanted, sentences)
    if not chosen:
        nearest = [sentence for sentence in sentences if sentence.number == 1][:2]
        return (f"The documents do not answer this in so many words; the closest passage is in "
                f"{passages[0].location}: {_quotes(nearest, wanted)}")
    return "\n\n".join(f"According to {passages[group[0].number - 1].location}: {_quotes(group, wanted)}"
                       for group in _grouped(chosen))


def split_sentences(text: str, number: int) -> list[Sentence]:
    """A passage's sentences and table rows, without its context line (document title › heading, see
    datasources/chunk_format.py), which names where the passage is, not what it says."""
    context, lines = chunk_format.context_and_body(text)
    if not lines:  # a single line is all body
        context, lines = "", [context]
    context_terms = frozenset(tokenize(context))
    blocks: list[str] = []
    for line in lines:
        line = " ".join(line.split())
        if blocks and _runs_on(blocks[-1], line):
            blocks[-1] += " " + line  # a sentence running on to the next line of a page
        else:
            blocks.append(line)
    pieces = [piece for block in blocks for piece in _SENTENCE_BREAK.split(block)]
    sentences = []
    for piece in pieces:
        terms = Counter(tokenize(piece))
        if sum(terms.values()) >= 2:
            sentences.append(Sentence(piece, number, len(sentences), terms, context_terms))
    return sentences


def _runs_on(block: str, line: str) -> bool:
    """The line continues the block's sentence: the block has not ended one, and neither is a table
    row ("Region: West; Revenue: 1,204", "Inventories; 4,779; 5,159"), which always stands on its own line."""
    if not block or not line or block.endswith((".", "!", "?", ":")):
        return False
    return not any(chunk_format.is_headed_row(text) or row_label(text) for text in (block, line))


def _best(question: str, wanted: Counter, sentences: list[Sentence]) -> list[Sentence]:
    scores = _bm25(wanted, sentences)
    if _FIGURE_QUESTION.search(question):
        scores = [score * FIGURE_BONUS if re.search(r"\d", s.text) else score for score, s in zip(scores, sentences,
                                                                                                  strict=True)]
    names = {term for name in named_things(question) for term in tokenize(name)}
    names = {term for term in names if any(sentence.mentions(term) for sentence in sentences)}
    if names:
        scores = [score if any(s.mentions(term) for term in names) else score * UNNAMED_PENALTY
                  for score, s in zip(scores, sentences, strict=True)]
    # A row of figures whose label the question names in full ("Inventories; 4,779; 5,159" for "How have
    # inventory levels changed?") is what it asks for, as in retrieval: such rows are quoted first.
    lead = max(scores, default=0.0)
    scores = [lead + score if score and s.names_a_row(wanted) else score
              for score, s in zip(scores, sentences, strict=True)]
    ranked = sorted((pair for pair in zip(scores, sentences, strict=True) if pair[0] > 0),
                    key=lambda pair: (-pair[0], pair[1].position))
    chosen: list[Sentence] = []
    length = 0
    for score, sentence in ranked:
        if len(chosen) == MAX_QUOTES or score < RELATIVE_FLOOR * ranked[0][0]:
            break
        quote_length = min(len(sentence.text), MAX_QUOTE_CHARS)
        if any(sentence.text == kept.text for kept in chosen) or (chosen and length + quote_length > MAX_ANSWER_CHARS):
            continue
        chosen.append(sentence)
        length += quote_length
    return chosen


def _bm25(wanted: Counter, sentences: list[Sentence]) -> list[float]:
    """BM25 with its statistics taken over the sentences that share a word with the question, so
    that text about something else (another passage, an injected instruction) cannot sway the choice."""
    candidates = [s for s in sentences if any(term in s.terms for term in wanted)]
    if not candidates:
        return [0.0] * len(sentences)
    count = len(candidates)
    average = sum(sum(s.terms.values()) for s in candidates) / count
    frequency = Counter(term for s in candidates for term in s.terms)
    idf = {term: math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5)) for term in wanted}
    scores = []
    for sentence in sentences:
        norm = K1 * (1 - B + B * sum(sentence.terms.values()) / average)
        scores.append(sum(idf[term] * tf * (K1 + 1) / (tf + norm)
                          for term in wanted if (tf := sentence.terms[term])))
    return scores


def _grouped(chosen: list[Sentence]) -> list[list[Sentence]]:
    """The quotes by passage, the passage of the best quote first; each passage's in reading order."""
    groups: dict[int, list[Sentence]] = {}
    for sentence in chosen:
        groups.setdefault(sentence.number, []).append(sentence)
    return [sorted(group, key=lambda s: s.position) for group in groups.values()]


def _quotes(sentences: list[Sentence], wanted: Counter) -> str:
    return " ".join(f'"{_shortened(sentence.text, wanted)}" [{sentence.number}]' for sentence in sentences)


def _shortened(text: str, wanted: Counter) -> str:
    """A long sentence or table row cut to MAX_QUOTE_CHARS: its first clause or cell (a row's label),
    then the ones that share most words with the question, in their order, gaps marked " … "."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    parts = chunk_format.cells(text)
    if len(parts[0]) > MAX_QUOTE_CHARS:
        return parts[0][:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + OMISSION.rstrip()
    by_relevance = sorted(range(1, len(parts)), key=lambda i: -sum(wanted[t] for t in tokenize(parts[i])))
    kept = {0}
    length = len(parts[0])
    for index in by_relevance:
        if length + len(parts[index]) + len(OMISSION) > MAX_QUOTE_CHARS:
            continue
        kept.add(index)
        length += len(parts[index]) + len(OMISSION)
    shown = ""
    for index in sorted(kept):
        shown += ((chunk_format.CELL_SEPARATOR if index - 1 in kept else OMISSION) if shown else "") + parts[index]
    return shown if max(kept) == len(parts) - 1 else shown + OMISSION.rstrip()
