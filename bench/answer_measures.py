"""How `make bench-answers` (bench/answers.py) scores the answer a visitor reads: the expected figures (the
filings) or the answer span (mixed-docs) in its first characters or in all of it, with a refusal and an
answer showing more than MAX_FIGURES figures (padding is not an answer) counted as misses. Kept apart from
the benchmark's loading, so the suite checks these rules without the benchmark's extra packages."""

from dataclasses import dataclass

from bench import mixed_docs
from bench.measures import Passage, Question, figures_found, figures_in, number_recall

ANSWER_HEAD = 600  # the characters of an answer a visitor reads first
MAX_FIGURES = 12  # an answer showing more figures than this is padding, not an answer
QUOTE_SEPARATOR = "\n\n"  # between an answer's quotes (chat.generators.extractive)


@dataclass(frozen=True)
class Reply:
    """What the chatbot said to one question, and whether it says it answered."""

    text: str
    answered: bool

    @property
    def figures(self) -> int:
        """The distinct figures it shows, by the SEC set's rule (three significant digits or more, not years)."""
        return len(figures_in(self.text))

    @property
    def counts(self) -> bool:
        """An answer, and not padding: a refusal or a wall of figures answers nothing."""
        return self.answered and self.figures <= MAX_FIGURES


def figure_share(question: Question, reply: Reply, chars: int | None = None) -> float:
    """The share of the question's expected figures in the reply's first `chars` characters (all of it: None)."""
    if not reply.counts:
        return 0.0
    shown = reply.text[:chars]
    return number_recall(question, [Passage(shown, "")], len(shown))


def span_in_answer(question: mixed_docs.SpanQuestion, reply: Reply, chars: int | None = None) -> bool:
    return reply.counts and mixed_docs.spans.contains(reply.text[:chars], question.span)


def refused(replies: list[Reply]) -> int:
    return sum(1 for reply in replies if not reply.answered)


def figure_ceiling(question: Question, quotes: list[str], chars: int = ANSWER_HEAD) -> float:
    """The share of the question's expected figures that an answer made of `quotes` (chat.generators.extractive's
    `quotes`: what the composer chooses from) could show in its first `chars` characters, chosen by one who knows
    the figures: the quote adding most of them per character first, while it fits and the answer shows at most
    MAX_FIGURES figures. Against `figure_share` of the composer's answer it tells a choosing gap from a finding one.
    It is generous by a little: a row told with the figures it shows alone may stand here beside other quotes."""
    offered = [(quote, figures_found(question, quote), len(figures_in(quote))) for quote in quotes]
    found: set[str] = set()
    length = shown = 0
    while True:
        fits = [(len(new) / len(quote), new, longer, count) for quote, held, count in offered
                if (new := held - found) and shown + count <= MAX_FIGURES
                and (longer := length + len(QUOTE_SEPARATOR) * bool(length) + len(quote)) <= chars]
        if not fits:
            return len(found) / len(question.figures)
        _, new, length, count = max(fits, key=lambda fit: fit[0])
        found |= new
        shown += count


def span_ceiling(question: mixed_docs.SpanQuestion, quotes: list[str], chars: int = ANSWER_HEAD) -> bool:
    """One of `quotes`, short enough to open an answer, holds the question's span: the best answer made of them does."""
    return any(len(quote) <= chars and mixed_docs.spans.contains(quote, question.span) for quote in quotes)
