"""What bench/chat_load.py asks, and when: questions made from the filings' own text, arriving as a Poisson process.

Both are fixed by a seed, so every run (the floor, one web process, two) meets the same arrivals.
"""

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

# A chunk's first line names its filing: "Apple Inc. (2022 Q3 AAPL) › Note 9 – Segment Information".
FILING = re.compile(r"\((\d{4}) (Q\d) ([A-Z.]+)\) › ")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
PHRASE_WORDS = 5
MIN_SENTENCE_WORDS = 8


@dataclass(frozen=True)
class Arrival:
    at_s: float  # from the start of its rate's minute
    question: str
    repeated: bool  # the same text as an earlier arrival of the run


def generated_questions(chunk_texts: Iterable[str], *, seed: int) -> list[str]:
    """Distinct questions about the chunks' table rows and sentences, in an order the seed fixes.

    A table row ("Operating income; Three Months Ended June 25, 2022: $ 2,367; …") gives one question per
    column; a sentence of prose one about a few of its words. `chunk_texts` must come in a fixed order."""
    rng = random.Random(seed)
    questions: dict[str, None] = {}  # a set that keeps the order
    for text in chunk_texts:
        heading, _, body = text.partition("\n")
        filing = FILING.search(heading)
        if not filing:
            continue
        year, quarter, ticker = filing.groups()
        where = f"{ticker}'s {year} {quarter} filing"
        for line in body.splitlines():
            for question in _row_questions(line, where) or _sentence_questions(line, where, rng):
                questions[question] = None
    ordered = list(questions)
    rng.shuffle(ordered)
    return ordered


def _row_questions(line: str, where: str) -> list[str]:
    label, *cells = [part.strip() for part in line.split(";")]
    columns = [cell.partition(":")[0].strip() for cell in cells if ":" in cell]
    if not columns or not WORD.match(label):
        return []
    return [f"What was {label} for {column} in {where}?" for column in columns if column]


def _sentence_questions(line: str, where: str, rng: random.Random) -> list[str]:
    questions = []
    for sentence in SENTENCE_END.split(line):
        words = WORD.findall(sentence)
        if len(words) >= MIN_SENTENCE_WORDS:
            start = rng.randrange(len(words) - PHRASE_WORDS + 1)
            questions.append(f"What does {where} say about {' '.join(words[start:start + PHRASE_WORDS]).lower()}?")
    return questions


def poisson_times(rate: float, seconds: float, *, seed: str) -> list[float]:
    """Arrival times of a Poisson process of `rate` a second over `seconds`: exponential gaps of mean 1/rate."""
    rng = random.Random(seed)
    times, at = [], rng.expovariate(rate)
    while at < seconds:
        times.append(at)
        at += rng.expovariate(rate)
    return times


def schedule(rates: list[float], seconds: float, questions: list[str], *, repeat_share: float,
             seed: int) -> dict[float, list[Arrival]]:
    """Each rate's arrivals, the rates one after another. An arrival repeats an earlier one of the run with
    probability `repeat_share`, else asks the next new question. The times depend on the seed and the rate
    only, so runs with and without repeats meet the same arrivals."""
    choices = random.Random(f"{seed}:repeats")
    fresh = iter(questions)
    asked: list[str] = []
    plan = {}
    for rate in rates:
        plan[rate] = []
        for at_s in poisson_times(rate, seconds, seed=f"{seed}:{rate}"):
            repeated = bool(asked) and choices.random() < repeat_share
            if repeated:
                question = choices.choice(asked)
            else:
                question = next(fresh, None)
                if question is None:
                    raise ValueError(f"{len(questions)} generated questions are too few for these rates.")
                asked.append(question)
            plan[rate].append(Arrival(at_s, question, repeated))
    return plan
