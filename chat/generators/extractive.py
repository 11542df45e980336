"""Answers quoted from the passages, with no language model.

The sentences of the prompt's passages (a table row counts as one) are scored against the question
with BM25, computed over those sentences alone; of those that score well enough, the ones of
better-ranked passages come first, and before them a table row the question names in full or, for a
question asking what something means, a sentence defining it ("EAI is an estimate of …"). The answer
leads with what answers: the best sentence or two, quoted, or the best table rows told as label, then
each figure under its column heading with the table's unit (chat/table_rows.py); then where they come
from, "(report.pdf page 2) [1]". Quotes are copied from a passage (only line breaks become spaces, and a
long one keeps its best parts, joined by " … "); the only words Docent adds are fixed lead-ins, so the
answer cannot invent a figure, and a passage saying "ignore previous instructions" is at most quoted, never obeyed.

An answer quotes nothing that shares no informative word with the question (a word is informative
unless almost every sentence of the passages uses it, as the document's title does), and never a line
of a table of contents, a page's running header or footer, a line that only announces what follows, or a line
of column headings alone ("3Q 2024 3Q 2023": the rows under it are told with them).
When no quote covers enough of the question's informative words (SUPPORT_FLOOR), or none shares one,
or the quotes leave out a number the question names (a year, a model's number: NAMED_NUMBER_DIGITS), or
none states the count a "how many" question asks for (`_counts`), the answer says it could not find
this exactly and shows the closest passage, and the generation says it did not answer
(`QuotedAnswer.answered`), so the message is counted as unanswered. A row whose figures stand only under
other quarters than the one the question names ("3Q 2024" for "the first quarter of 2024") is not quoted.
"""

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass, replace

from chat import table_rows
from chat.context import Prompt
from chat.retrieval import named_things, spelled_out
from chat.retrieval.passages import Passage
from datasources import chunk_format
from datasources.indexes.lexical import line_label, reads_as_row, tokenize

# Sentences or rows: a question about a change over time is answered by the same row in several
# periods' documents, and four fit in the answer's first 600 characters.
MAX_QUOTES = 4
MAX_ANSWER_CHARS = 560  # a visitor reads the first 600 characters; the source follows the quotes
MAX_QUOTE_CHARS = 350
# An answer showing more figures than this is padding, not an answer. A row shows at most ROW_FIGURES,
# so that the same row of several reports fits in the answer's first 600 characters; a row that is the
# whole answer shows up to ROW_FIGURES_ALONE.
MAX_FIGURES = 12
ROW_FIGURES = 2
ROW_FIGURES_ALONE = 4
# Sentences scoring under this share of the best one answer the question less well and are left out. The
# same row in another period's document scores lower when its passage ranks lower, and still answers;
# measured on both development sets (make bench-answers), 0.3 keeps more answers than 0.5 or 0.7.
RELATIVE_FLOOR = 0.3
# Retrieval ranked the passages on all of a chunk's words and its meaning, which a sentence's own words do not
# show: of two sentences scoring alike, the one in the better-ranked passage is quoted first. Each rank below
# the first multiplies a sentence's score by this for the order of the quotes; whether a sentence answers well
# enough to be quoted at all (RELATIVE_FLOOR) is judged on its own score. Measured on both development sets
# (make bench-answers): 0.8 quotes more answers in the first 600 characters than 1 (no say) or 0.9, and
# more than 0.7 on the mixed documents.
RANK_DECAY = 0.8
# BM25's constants. B near 1: a long sentence or row that holds the question's words among many others
# answers it less than a short one holding the same words (measured on both development sets: B = 0.9
# quotes more answers than the usual 0.75).
K1, B = 1.2, 0.9
# A question asking for an amount prefers the sentences that state one.
FIGURE_BONUS = 1.25
# A question naming something (a place, a company, a person) prefers the passages that mention it: a
# statement's holder is named once at its top, and the figures asked for are in the passage that names them.
UNNAMED_PENALTY = 0.25
# A word used by more than this share of the passages' sentences (with their document title and
# heading) tells none of them apart: it is not informative. A word most sentences use, but not almost
# all (a topic the passages share), still tells the ones about it apart: 0.9 keeps it, where 0.75
# dropped it, and measured better on both development sets.
COMMON_SHARE = 0.9
FEW_SENTENCES = 4  # among fewer, no word is common enough to tell
# The weak-support floor: the best quote, with the title, heading and caption it sits under, must hold
# this share of the weight of the question's informative words (see `_informative`). Under it, the
# quote is the closest passage, not an answer. Measured on both development sets: a higher floor
# refuses more of the questions that name a stranger, and more long questions that are answerable. A question
# of several parts is also supported by a quote holding this share of one part's weight (`_parts`).
SUPPORT_FLOOR = 0.15
# A word of a name, or a number, that the question names and no sentence of the passages mentions (a stranger:
# "Google" among filings that only name it as a competitor, "Moore v. Harper" among other cases) weighs this
# many times the rarest word's weight: the passages are likely about something else, and a quote holding a
# little of the rest of the question no longer makes up for it ("What credit rating does Moody's give Intel's
# debt?" gets the closest passage, "Debt — 46,335; 37,684", said to be so). It weighs, it does not veto: a quote
# holding most of the question's other words is still an answer.
# Measured on both development sets (make bench-answers): 4 refuses 3 more SEC near misses, 2 more of the mixed
# set's unanswerable questions and 1 more of its near misses than 1, and no answerable question. Measured again
# on the answers of the twelfth session: 8 refuses 1 more SEC near miss ("AMD's data center revenue"), 1 more
# mixed unanswerable question ("We The Patriots USA v. Hochul") and near miss ("the balance … at the start of
# January 2019") than 4-7, and no answerable question; 9 one more near miss; 10 and above refuse an answerable
# question (one whose passages miss its answer). 8 keeps a step from that.
STRANGER_WEIGHT = 8
# A question naming a number this long (a year, a model's or a form's number, an amount) is answered exactly only
# by quotes that mention it, in their words or in the title, heading, caption or column headings they sit under:
# "in 2021" is not answered by the 2022 and 2023 columns, "the 400 W version" not by the 360-385 W table. Without
# it the answer is the closest passage, said to be so. Measured on both development sets (make bench-answers):
# near misses refused 4 -> 9 of 35 and the mixed set's unanswerable questions 4 -> 5 of 10; one answerable
# question is refused that was answered wrongly (its quote held the month, not the year asked about). A year may
# also be stated by a line of the quote's passage giving a period ("1 February to 1 March, 2019" over a statement's
# rows, "July 1 – July 31, 2015"): a statement's rows name a day and a month only. Measured the same way: one
# answerable question less refused (the rent paid "in February 2019"), no near miss answered; a year anywhere in
# the passage answered two near misses with other periods' rows.
NAMED_NUMBER_DIGITS = 3
# A "how many" question asks for a count of something: a quote answers it when it states a count (a number that is
# not an amount of money, a share, a year or a date's day, nor part of a code or an address) within this many words
# of what is counted ("61 accounts in 2007", "Modules per box: 31 pieces"), or is a row of those things' counts
# ("Worldwide employees — 80,205"). The quotes that state one open the answer; when the best quotes state none,
# the best that do are quoted; when no quote does, the answer is the closest passage, said to be so. Measured on
# both development sets (make bench-answers): near misses refused 13 -> 19 of 35 ("How many iPhones did Apple
# sell?" was answered with iPhone net sales in dollars, "How many Prime members …" with a sentence about membership
# fees), and two answerable questions answered with their counts, where a datasheet's model names and a list of
# defendants were quoted.
COUNTED_WITHIN_WORDS = 3
# A sentence that abbreviates this many of the question's names (of this many letters or more) that no sentence
# writes in full counts as naming them ("NEW YORK N Y CITY INDL DEV AGY REV" for "New York City Industrial
# Development Agency"; `_abbreviating`). One name alone is too easily matched by chance ("Dent" for "Development").
# Measured on both development sets (make bench-answers): the mixed set's one answerable question refused for its
# names is answered; nothing else changes, where one name alone also answered a near miss and refused an SEC
# answerable question.
ABBREVIATED_NAMES = 2
ABBREVIATED_NAME_LETTERS = 5
# A line this short that recurs on two pages of a document is a running header or footer.
RUNNING_LINE_CHARS = 120
# Function words the index keeps but that say nothing about what a question asks ("how much", "his").
QUESTION_WORDS = frozenset({"according", "him", "his", "many", "much", "whose"})
OMISSION = " … "
NOT_FOUND = "I could not find this exactly; the closest passage is "

_FIGURE_QUESTION = re.compile(
    r"\b(how (much|many|large|big|high|low)|what (is|was|were|are) the|amount|number of|percent\w*|rate|total|"
    r"cost|price)\b", re.IGNORECASE)
# A sentence ends at . ! or ? (maybe closing a quote or bracket) before a capital or a figure, or before a
# bar standing alone, which OCR reads for the word "I" ("belief. | further understand that if | have …") and
# for a table's rule; but not at the dot leaders of a table of contents or a cost table ("Wiring change .......
# 79 work-hours").
_SENTENCE_BREAK = re.compile(r"(?:(?<=[^.][.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"“'(\[$€£]?[A-Z0-9]|\|\s)")
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:[A-Za-z]|v|vs|No|Nos|Dr|Mr|Mrs|Ms|St|Jr|Sr|cf|al|e\.g|i\.e|Fig)\.$")
_PIECES = re.compile(r"\s*\S+")
# Lines that only find their way around a document: dot leaders to a page number, a page's number
# ("Page 3", "3 of 28", "- 3 -"), a table of contents' own title.
_DOT_LEADERS = re.compile(r"(?:\.\s?){4,}\s*\d+\s*$|…{2,}")
_PAGE_LINE = re.compile(r"^(?:page\s+)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s+of\s+\d{1,4})?$|^(?:table of )?contents$",
                        re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^\d{1,3}$")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBER = re.compile(r"(?<![\d.,])\d[\d,]*(?:\.\d+)?")
_YEAR = re.compile(r"(?:19|20)\d\d")
# A period: a date, "to", "through" or a dash, another date ("1 February to 1 March, 2019", "July 1 – July 31, 2015",
# "01/02/2019 - 28/02/2019").
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = rf"(?:\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})(?:,?\s+(?:19|20)\d\d)?"
_PERIOD = re.compile(rf"\b{_DATE}\s*(?:to|through|thru|–|—|-)\s*{_DATE}", re.IGNORECASE)
# "How many <what is counted> <verb>"; after "is" or "are", the word that follows names it too ("how many health
# care workers are plaintiffs").
_COUNT_QUESTION = re.compile(r"\bhow many\s+(.+?)\s+(?:(?:is|are|was|were)\s+(?:(?:the|a|an)\s+)?([\w-]+)|do|does|"
                             r"did|has|have|had|can|could|will|would|should|may|might|must)\b", re.IGNORECASE)
_NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
                 "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
                 "dozen")
# A number standing alone: not part of a code ("TSM-360", "Q3"), not a share, not followed by a capitalised word
# ("1234 Main Street", "Three Months Ended", "24 February") or a year ("31, 2022").
_COUNT = re.compile(r"(?<![\w.,$€£¥/-])(\d[\d,]*(?:\.\d+)?|(?i:" + _NUMBER_WORDS + r"))(?![\w%/-]|[.,]\d)(?!\s?%)"
                    r"(?!\s[A-Z])(?!,?\s\d{4})")
# A quarter of a year, named: "Q3", "3Q 2024", "3Q24", "the third quarter", "the second fiscal quarter".
_QUARTER = re.compile(r"\b(?:Q([1-4])|([1-4])Q)(?=\b|\d{2}\b)|"
                      r"\b(first|second|third|fourth)[\s-]+(?:fiscal\s+)?quarter\b", re.IGNORECASE)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
# A question asking what something means: "What does <it> mean / stand for / refer to / represent?", "How does …
# define <it> (in …)?", "What is meant by <it>?".
_DEFINITION_QUESTION = re.compile(
    r"\bwhat\s+(?:does|do|did)\s+(.+?)\s+(?:mean|stand\s+for|refer\s+to|represent)\b"
    r"|\bdefine[sd]?\s+(?:(?:its|their|the|an?)\s+)?(.+?)(?=\s+(?:in|on|as|for)\b|[?.]|$)"
    r"|\bwhat\s+is\s+meant\s+by\s+(.+?)(?=[?.]|$)", re.IGNORECASE)
# How a sentence defines a word it begins a clause with: "EAI is an estimate …", "The ratio represents …".
_DEFINING = r"s?\)?\s+(?:(?:is|are)\s+(?:an?|the)|means|stands\s+for|refers\s+to|represents)\b"
_ABBREVIATED = re.compile(r"\b[A-Z]{2,5}\b")  # "CEO", "EPS"
_SHORT_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]{1,4}\b")  # "Indl", "DEV", "Agy"
_SHARE_OR_MONEY = re.compile(r"[%$€£¥]")
# Text that starts in lower case ("anticipated benefits within …", not "iPhone net sales …") goes on from a sentence
# begun before it.
_CONTINUED = re.compile(r"[a-z]+[\s,;:]")
_QUESTION_PARTS = re.compile(r"[?;]|,\s+and\s+")
_MONEY_BEFORE = re.compile(r"[$€£¥]\s?$")
# A number after a capitalised word names a day or a thing ("December 31", "Note 4", "P. 65"), after a sentence's
# first determiner it counts ("A 12 year warranty", "The 17 plaintiffs").
_CAPITALISED_BEFORE = re.compile(r"\b(?!(?:A|An|The|All|Some|Its|Our|Their|These|Those)\s?$)[A-Z][\w.]*\s?$")


@dataclass(frozen=True)
class Sentence:
    text: str  # whitespace collapsed
    number: int  # its passage's number in the prompt, from 1
    position: int  # its order among all the passages' sentences
    terms: Counter
    context: frozenset[str]  # the words of the document title and heading it sits under (a row's: and its
    # table's caption and column headings)
    row: table_rows.Row | None = None  # the labelled row of figures it is, if it is one
    continued: bool = False  # it opens its passage (or a chunk merged into it) inside a sentence begun before

    def mentions(self, term: str) -> bool:
        """The sentence, or the document, section or table it comes from, uses the word."""
        return term in self.terms or term in self.context

    def names_a_row(self, wanted: Counter) -> bool:
        """It is a row of figures whose label's every word the question uses."""
        label = self.row.label_terms() if self.row is not None else line_label(self.text)
        return bool(label) and all(word in wanted for word in label)


@dataclass(frozen=True)
class Reply:
    text: str
    answered: bool  # False when the passages do not support an answer: the message counts as unanswered


class ExtractiveGenerator:
    mode = "extractive"
    model = ""

    @staticmethod
    def options_from_settings() -> dict:
        return {}

    def generate(self, *, prompt: Prompt, question: str, chatbot) -> "QuotedAnswer":
        return QuotedAnswer(compose(question, prompt.passages, fallback=chatbot.fallback_message))

    def prepare(self) -> None:
        """Nothing to load: composing an answer needs only this module, imported with the backend."""


class QuotedAnswer:
    mode = "extractive"
    model = ""
    # No model reads or writes anything, so no tokens are spent.
    prompt_tokens = 0
    completion_tokens = 0

    def __init__(self, reply: Reply):
        self.text = reply.text
        self.answered = reply.answered

    async def __aiter__(self):
        for piece in _PIECES.findall(self.text):
            yield piece
            await asyncio.sleep(0)  # let the other visitors' answers through between words


def compose(question: str, passages: list[Passage], *, fallback: str) -> Reply:
    sentences = _abbreviating(question, _spelled_out(question, _passage_sentences(passages)))
    wanted = _wanted(question, passages)
    weights = _informative(wanted, sentences, specific=_specific_terms(question, wanted))
    locations = [passage.location for passage in passages]
    candidates = _sharing(sentences, weights)
    chosen = _best(question, wanted, candidates, locations)
    leading: set[int] = set()  # the positions of the quotes an answer opens with
    if (counted := _counted_terms(question)) is not None:
        # "How many" is answered by a count of what it asks about, not by an amount, a share or a date: the quotes
        # that state one lead; if none does, the best of those that do are quoted
        if not (leading := {s.position for s in chosen if _counts(s, wanted, counted)}):
            chosen = _best(question, wanted, [s for s in candidates if _counts(s, wanted, counted)], locations)
            leading = {s.position for s in chosen}
        chosen.sort(key=lambda s: s.position not in leading)
    if (quarter := _named_quarter(question)) is not None:
        chosen = [s for s in chosen if not _tells_other_quarters(s, wanted, quarter)]
    parts = _parts(question, weights)
    if (chosen and max(_support(sentence, part) for sentence in chosen for part in parts) >= SUPPORT_FLOOR
            and all(any(_states(sentence, number, passages) for sentence in chosen)
                    for number in _named_numbers(wanted))):
        most = _row_figures_most(chosen)
        return Reply("\n\n".join(_told(group, passages, wanted, most) for group in _grouped(chosen, leading)),
                     answered=True)
    # Weak support: the closest sentence, at best one that shares only a word common to the passages.
    closest = chosen or _best(question, wanted, _sharing(sentences, wanted), locations)
    if not closest:
        return Reply(fallback, answered=False)
    return Reply(NOT_FOUND + _told(closest[:1], passages, wanted, _row_figures_most(closest[:1])), answered=False)


def quotes(question: str, passages: list[Passage]) -> list[str]:
    """Every sentence and row of the passages as an answer to `question` could quote it, with where it comes from,
    a row once with as many figures as it shows among other quotes and once as many as it shows alone: what
    `compose` chooses from, for measuring how well it chooses (bench/answer_measures.py, `figure_ceiling`)."""
    wanted = _wanted(question, passages)
    told: dict[str, None] = {}  # in order, each once
    for sentence in _passage_sentences(passages):
        for most in ((ROW_FIGURES, ROW_FIGURES_ALONE) if sentence.row is not None else (ROW_FIGURES,)):
            told[_told([sentence], passages, wanted, most)] = None
    return list(told)


def _passage_sentences(passages: list[Passage]) -> list[Sentence]:
    """The passages' sentences and rows, in order, without their documents' running headers and footers."""
    running = _running_lines(passages)
    return [sentence for number, passage in enumerate(passages, start=1)
            for sentence in split_sentences(passage.text, number, running.get(passage.file_name, set()))]


def _wanted(question: str, passages: list[Passage]) -> Counter:
    """The question's words, as the passages spell its abbreviations, but for the words that ask rather than name."""
    asked = spelled_out(question, [passage.text for passage in passages])
    return Counter(term for term in tokenize(asked) if term not in QUESTION_WORDS)


def _row_figures_most(quotes: list[Sentence]) -> int:
    """How many figures each row of an answer made of `quotes` shows: more when it is the whole answer."""
    return ROW_FIGURES_ALONE if len(quotes) == 1 else ROW_FIGURES


def split_sentences(text: str, number: int, running: set[str] = frozenset()) -> list[Sentence]:
    """A passage's sentences and table rows, without its context line (document title › heading, see
    datasources/chunk_format.py), which names where the passage is, not what it says, nor a table's
    unit line, which its rows carry, nor its document's `running` headers and footers. A row also sits
    under its table's caption, the line before it."""
    context, lines = chunk_format.context_and_body(text)
    if not lines:  # a single line is all body
        context, lines = "", [context]
    if running:
        lines = [line for line in lines if _running_form(line) not in running]
    context_terms = frozenset(tokenize(context))
    sentences: list[Sentence] = []
    caption, caption_terms, unit = "", None, None
    # The last line that may hold the column headings of an unruled table: it heads the rows after it, in the
    # passage's next chunk too, until prose.
    columns = ""
    opening = True  # the block opens the passage's text, or a chunk's
    for block in _blocks(lines):
        if _context_line(block):  # the context line of a chunk merged into the passage
            context_terms, caption, caption_terms, unit = frozenset(tokenize(block)), "", None, None
            opening = True
            continue
        continued, opening = opening and _CONTINUED.match(block) is not None, opening and not block
        if (stated := chunk_format.stated_unit(block)) is not None:
            unit = stated
            continue
        row = table_rows.parse(block, unit)
        if row is None and not chunk_format.is_table_row(block):
            caption, caption_terms, unit = block, None, None
            if block.endswith((".", "!", "?")):  # prose ends a table
                columns = ""
            elif table_rows.heads_columns(block):  # not a group's name over some of its rows, nor a line of figures
                columns = block
                if table_rows.only_headings(block):  # it names the columns of the rows under it, which carry it
                    continue
            elif table_rows.one_heading_repeated(block):  # the columns' headings are in the line above it
                continue
        if row is not None and not row.headed and columns and (
                headings := table_rows.column_headings(columns, len(row.figures))):
            row = table_rows.with_headings(row, headings)
        if _navigates(block) or (row is None and _leads_in(block)):
            continue
        if row is not None and caption_terms is None:  # read once for all the rows of a table
            caption_terms = frozenset(tokenize(caption))
        for index, piece in enumerate([block] if chunk_format.is_table_row(block) else _sentences(block)):
            terms = Counter(tokenize(row.words() if row is not None else piece))
            if sum(terms.values()) >= 2:
                under = context_terms | caption_terms | row.heading_terms() if row is not None else context_terms
                sentences.append(Sentence(piece, number, len(sentences), terms, under, row,
                                          continued=continued and row is None and index == 0))
    return sentences


def _sentences(block: str) -> list[str]:
    """A block's sentences; a period after an initial or a common abbreviation ("Dr. A.", "Simmons v.
    South Carolina", "No. 21–846") ends none."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(block):
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def _blocks(lines: list[str]) -> list[str]:
    """The lines, whitespace collapsed, a sentence running on to the next line of a page joined up, across blank
    lines too when it goes on in lower case (OCR and page layouts break sentences so: "… COVID-19 vaccination of
    health", "", "care workers."; "Do not submit", "", "originals."). A table row ("Region: West; Revenue: 1,204",
    "Inventories; 4,779; 5,159"), a unit line and the context line of a chunk merged into the passage always stand
    alone: a sentence left open at a chunk's end does not run on into the next chunk's title and heading (the block
    would be taken for a context line, and the text after it lost with it)."""
    blocks: list[str] = []
    open_sentence = False  # the last block is a sentence the next line may continue
    blank = False  # blank lines came after it
    for line in lines:
        line = " ".join(line.split())
        if not line and open_sentence:
            blank = True
            continue
        alone = _stands_alone(line) or _context_line(line)
        if open_sentence and line and not alone and (not blank or _goes_on(blocks[-1], line)):
            blocks[-1] += " " + line
        else:
            if blank:
                blocks.append("")
            blocks.append(line)
        blank = False
        open_sentence = bool(line) and not alone and not blocks[-1].endswith((".", "!", "?", ":"))
    return blocks


def _goes_on(block: str, line: str) -> bool:
    """After a blank line, the line goes on with the sentence `block` left open: it starts in lower case, after a
    word that is not capitalised (not a heading's: "Instructions" / "e Include a check …")."""
    return line[0].islower() and not block.split()[-1][0].isupper()


def _context_line(line: str) -> bool:
    """A chunk's context line, "title › heading" (datasources/chunk_format.py)."""
    return chunk_format.CONTEXT_SEPARATOR in line


def _stands_alone(line: str) -> bool:
    """A row, a unit line, or a line of figures without words: none is part of a sentence."""
    return (chunk_format.is_table_row(line) or reads_as_row(line) or _WORD.search(line) is None
            or chunk_format.stated_unit(line) is not None)


def _navigates(line: str) -> bool:
    """A line of a table of contents or index, or a page's number: it says where things are, not what.
    A row of words ending in a bare page number ("Overview; Getting started; 20") is one too."""
    if _DOT_LEADERS.search(line) or _PAGE_LINE.match(line):
        return True
    cells = chunk_format.cells(line)
    return (len(cells) >= 3 and _PAGE_NUMBER.match(cells[-1].strip()) is not None
            and table_rows.parse(chunk_format.row_text(cells[:-1])) is None)


def _leads_in(block: str) -> bool:
    """A line that only announces what follows it ("Cash flows from operating activities:", "Expenses for the
    three months ended July 1, 2023 were as follows:"): it says nothing itself, and a row under it keeps it as
    its caption. A line ending so after an amount ("Total 2015 MRD for this account: $6,097.82 … information:")
    says something."""
    return block.endswith(":") and not _amounts(block)


def _running_lines(passages: list[Passage]) -> dict[str, set[str]]:
    """Each document's short lines that recur on more than one of its pages, page numbers aside (written
    by `_running_form`): its running headers and footers. Table rows and lines holding more than two
    numbers are left alone: a header holds a page number and a date at most, and two tables may share a
    row."""
    pages: dict[tuple[str, str], set] = {}
    for passage in passages:
        for line in chunk_format.context_and_body(passage.text)[1]:
            if len(line) <= RUNNING_LINE_CHARS and len(_DIGITS.findall(line)) <= 2 and not _stands_alone(line):
                pages.setdefault((passage.file_name, _running_form(line)), set()).add((passage.page_number,
                                                                                       passage.sheet))
    running: dict[str, set[str]] = {}
    for (file_name, line), seen in pages.items():
        if len(seen) > 1:
            running.setdefault(file_name, set()).add(line)
    return running


def _running_form(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()))


def _informative(wanted: Counter, sentences: list[Sentence], *, specific: set[str]) -> dict[str, float]:
    """The question's informative words, each with its weight: BM25's IDF over the sentences, so that a
    word few sentences use weighs more. A word no sentence uses counts, at STRANGER_WEIGHT times the greatest
    weight, when it is `specific` (the question may be about something else), and not otherwise (the
    question words it in its own way). A word used by more than COMMON_SHARE of the sentences (of FEW_SENTENCES or more)
    is left out, unless every word of the question is."""
    count = len(sentences)
    used = {term: sum(1 for s in sentences if s.mentions(term)) for term in wanted}
    weights = {term: math.log(1 + (count - n + 0.5) / (n + 0.5)) * (1 if n else STRANGER_WEIGHT)
               for term, n in used.items() if n or term in specific}
    if count < FEW_SENTENCES:
        return weights
    informative = {term: weight for term, weight in weights.items() if used[term] <= COMMON_SHARE * count}
    return informative or weights


def _sharing(sentences: list[Sentence], words) -> list[Sentence]:
    return [sentence for sentence in sentences if any(term in sentence.terms for term in words)]


def _support(sentence: Sentence, weights: dict[str, float]) -> float:
    """The share of the question's informative weight the sentence holds, with the title, heading, caption
    and column headings it sits under."""
    total = sum(weights.values())
    return sum(weight for term, weight in weights.items() if sentence.mentions(term)) / total if total else 0.0


def _parts(question: str, weights: dict[str, float]) -> list[dict[str, float]]:
    """The informative weights of the whole question, and of each of its parts when it asks several things ("How
    have inventory levels changed, and what might this indicate about the supply chain?"): a quote answering one
    part well is supported, though the question's other part weighs against it as a share of the whole. A part
    needs two informative words of its own to count."""
    parts = [set(tokenize(part)) for part in _QUESTION_PARTS.split(question) if part.strip()]
    if len(parts) < 2:
        return [weights]
    return [weights, *(part_weights for terms in parts
                       if len(part_weights := {term: weights[term] for term in terms if term in weights}) >= 2)]


def _name_terms(question: str) -> set[str]:
    return {term for name in named_things(question) for term in tokenize(name)}


def _named_numbers(wanted: Counter) -> set[str]:
    """The numbers of NAMED_NUMBER_DIGITS digits or more the question names: a year, a model's or a form's
    number, an amount. Not "Q3"'s 3 nor a day of the month, which a document writes in many ways."""
    return {term for term in wanted if term[0].isdigit() and len(term) >= NAMED_NUMBER_DIGITS}


def _states(sentence: Sentence, number: str, passages: list[Passage]) -> bool:
    """The quote states the number: it, or the title, heading, caption or column headings it sits under, mention it, or
    it is a year that a line of its passage gives a period in ("1 February to 1 March, 2019")."""
    if sentence.mentions(number):
        return True
    return _YEAR.fullmatch(number) is not None and any(
        number in tokenize(line) for line in passages[sentence.number - 1].text.split("\n") if _PERIOD.search(line))


def _specific_terms(question: str, wanted: Counter) -> set[str]:
    """The question's words that name one thing: a name's, and numbers (a year, a model, an amount)."""
    return _name_terms(question) | {term for term in wanted if term[0].isdigit()}


def _best(question: str, wanted: Counter, sentences: list[Sentence], locations: list[str]) -> list[Sentence]:
    """The best few sentences, best first, that fit in an answer (`locations`: each passage's)."""
    scores = _scores(question, wanted, sentences)
    defining = _definition(question)
    named = [sentence.names_a_row(wanted) or (defining is not None and defining.search(sentence.text) is not None)
             for sentence in sentences]
    judged = _named_rows_first(scores, named)
    decayed = [score * RANK_DECAY ** (sentence.number - 1) for score, sentence in zip(scores, sentences, strict=True)]
    ordered = _named_rows_first(decayed, named)
    floor = RELATIVE_FLOOR * max(judged, default=0.0)
    ranked = sorted(((order, sentence) for order, score, sentence in zip(ordered, judged, sentences, strict=True)
                     if score > 0 and score >= floor), key=lambda pair: (-pair[0], pair[1].position))
    chosen: list[Sentence] = []
    told: set[str] = set()  # the figures the chosen quotes show
    length = figures = 0
    for _, sentence in ranked:
        if len(chosen) == MAX_QUOTES:
            break
        quote_length = len(_row_told(sentence.row, wanted)) if sentence.row is not None else min(
            len(sentence.text), MAX_QUOTE_CHARS)
        quoted = _figures_shown(sentence, wanted)
        shown = len(quoted)
        if all(kept.number != sentence.number for kept in chosen):
            shown += len(_amounts(locations[sentence.number - 1]))
        if (any(sentence.text in kept.text or kept.text in sentence.text for kept in chosen)
                or (quoted and set(quoted) <= told)  # the same figures again (a table and its summary elsewhere)
                or figures + shown > MAX_FIGURES
                or (chosen and length + quote_length > MAX_ANSWER_CHARS)):
            continue
        chosen.append(sentence)
        told.update(quoted)
        length, figures = length + quote_length, figures + shown
    return chosen


def _scores(question: str, wanted: Counter, sentences: list[Sentence]) -> list[float]:
    scores = _bm25(wanted, sentences)
    if _FIGURE_QUESTION.search(question):
        scores = [score * FIGURE_BONUS if re.search(r"\d", s.text) else score for score, s in zip(scores, sentences,
                                                                                                  strict=True)]
    names = _name_terms(question)
    naming = {s.number for s in sentences if any(s.mentions(term) for term in names)}
    if naming:
        scores = [score if s.number in naming else score * UNNAMED_PENALTY
                  for score, s in zip(scores, sentences, strict=True)]
    return scores


def _named_rows_first(scores: list[float], named: list[bool]) -> list[float]:
    """A row of figures whose label the question names in full ("Inventories; 4,779; 5,159" for "How have
    inventory levels changed?") is what it asks for, as in retrieval, and so is a sentence defining what the
    question asks the meaning of (`_definition`): such sentences (`named`) score above all the others, so they
    are quoted first."""
    lead = max(scores, default=0.0)
    return [lead + score if score and is_named else score for score, is_named in zip(scores, named, strict=True)]


def _definition(question: str) -> re.Pattern | None:
    """For a question asking what something means ("What does the EAI figure mean?", "How does the bank define
    its efficiency ratio?"), how a sentence defining it reads: one of its words, then "is a/an/the", "means",
    "stands for", "refers to" or "represents" ("EAI is an estimate of annual income …", not "EAI is not shown
    for amounts under $10"). None for other questions."""
    match = _DEFINITION_QUESTION.search(question)
    if match is None:
        return None
    words = [word for word in _WORD.findall(next(group for group in match.groups() if group)) if tokenize(word)]
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + ")" + _DEFINING, re.IGNORECASE) if words else None


def _quarters(text: str) -> set[int]:
    """The quarters of a year a text names: "Q3", "3Q 2024", "3Q24", "the third quarter"."""
    return {int(digit or other) if (digit or other) else _ORDINALS[word.lower()]
            for digit, other, word in _QUARTER.findall(text)}


def _named_quarter(question: str) -> int | None:
    quarters = _quarters(question)
    return quarters.pop() if len(quarters) == 1 else None


def _tells_other_quarters(sentence: Sentence, wanted: Counter, quarter: int) -> bool:
    """A row whose figures, as the answer shows them, are all under headings naming other quarters than the one
    the question names ("3Q 2024: $15,383" for "the first quarter of 2024"): it does not answer it."""
    if sentence.row is None:
        return False
    named = [_quarters(figure.heading) for figure in _row_figures(sentence.row, wanted)]
    return bool(named) and all(quarters and quarter not in quarters for quarters in named)


def _spelled_out(question: str, sentences: list[Sentence]) -> list[Sentence]:
    """The sentences, those that spell out an abbreviation of the question's that none writes ("Chief Executive
    Officer" for "CEO") using it too."""
    for abbreviation in _ABBREVIATED.findall(question):
        term = tokenize(abbreviation)
        if len(term) != 1 or any(term[0] in sentence.terms for sentence in sentences):
            continue
        spelled = re.compile(r"\b" + r"\S*\s+".join(abbreviation) + r"[a-z]")
        sentences = [replace(sentence, terms=sentence.terms + Counter(term)) if spelled.search(sentence.text)
                     else sentence for sentence in sentences]
    return sentences


def _abbreviating(question: str, sentences: list[Sentence]) -> list[Sentence]:
    """The sentences, those that abbreviate ABBREVIATED_NAMES or more of the question's names that no sentence
    writes in full ("Indl Dev Agy" for "Industrial Development Agency", as securities, agencies and accounts are
    listed) using them too. A word abbreviates a name when it is capitalised, two to five letters long and at least
    two shorter than the name, and holds the name's first letter, then others of its letters in their order."""
    unwritten = [name for name in _name_terms(question)
                 if len(name) >= ABBREVIATED_NAME_LETTERS and name.isalpha()
                 and not any(name in sentence.terms for sentence in sentences)]
    if len(unwritten) < ABBREVIATED_NAMES:
        return sentences
    abbreviated = []
    for sentence in sentences:
        words = [word.lower() for word in _SHORT_CAPITALISED.findall(sentence.text)]
        names = {name for name in unwritten if any(_abbreviates(word, name) for word in words)}
        abbreviated.append(replace(sentence, terms=sentence.terms + Counter(names))
                           if len(names) >= ABBREVIATED_NAMES else sentence)
    return abbreviated


def _abbreviates(word: str, name: str) -> bool:
    letters = iter(name[1:])
    return word[0] == name[0] and len(word) <= len(name) - 2 and all(letter in letters for letter in word[1:])


def _counted_terms(question: str) -> set[str] | None:
    """The words of what a "how many" question counts ("foreign accounts" in "how many foreign accounts did …");
    None for a question that asks for no count."""
    match = _COUNT_QUESTION.search(question)
    return set(tokenize(f"{match.group(1)} {match.group(2) or ''}")) if match else None


def _counts(sentence: Sentence, wanted: Counter, counted: set[str]) -> bool:
    """The quote, as the answer shows it, states how many of the `counted` things there are: a row of them (not of
    shares or amounts) holding a count, or a count within COUNTED_WITHIN_WORDS words of one of their words."""
    row = sentence.row
    if row is not None and (_SHARE_OR_MONEY.search(f"{row.label} {row.unit or ''}")
                            or not any(sentence.mentions(term) for term in counted)):
        return False
    shown = _row_told(row, wanted) if row is not None else _shortened(sentence.text, wanted)
    for match in _COUNT.finditer(shown):
        number, before = match.group(1), shown[:match.start()]
        if number[0].isdigit() and (_YEAR.fullmatch(number) or _MONEY_BEFORE.search(before)
                                    or _CAPITALISED_BEFORE.search(before)):
            continue  # an amount, a year, a date's day or a note's number
        if row is not None:
            return True
        near = before.split()[-COUNTED_WITHIN_WORDS:] + shown[match.end():].split()[:COUNTED_WITHIN_WORDS]
        if counted & set(tokenize(" ".join(near))):
            return True
    return False


def _figures_shown(sentence: Sentence, wanted: Counter) -> list[str]:
    if sentence.row is not None:
        return [amount for figure in _row_figures(sentence.row, wanted) for amount in _amounts(figure.value)]
    return _amounts(_shortened(sentence.text, wanted))


def _amounts(text: str) -> list[str]:
    """The figures a text shows, digits only: numbers of three digits or more (so not a day, a page or a
    note's number), years aside."""
    digits = (re.sub(r"\D", "", number) for number in _NUMBER.findall(text) if not _YEAR.fullmatch(number))
    return [number for number in digits if len(number.lstrip("0")) >= 3]


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


def _grouped(chosen: list[Sentence], leading: set[int] = frozenset()) -> list[list[Sentence]]:
    """The quotes by passage, the passage of the best quote first; each passage's in reading order, those at the
    `leading` positions first."""
    groups: dict[int, list[Sentence]] = {}
    for sentence in chosen:
        groups.setdefault(sentence.number, []).append(sentence)
    return [sorted(group, key=lambda s: (s.position not in leading, s.position)) for group in groups.values()]


def _told(group: list[Sentence], passages: list[Passage], wanted: Counter, most: int = ROW_FIGURES) -> str:
    """One passage's quotes and rows, then where they come from: `"…" "…" (report.pdf page 2) [1]`."""
    number = group[0].number
    parts = [_row_told(s.row, wanted, most) if s.row is not None
             else f'"{OMISSION.lstrip() if s.continued else ""}{_shortened(s.text, wanted)}"' for s in group]
    joiner = "\n" if any(s.row is not None for s in group) else " "
    return f"{joiner.join(parts)} ({passages[number - 1].location}) [{number}]"


def _row_told(row: table_rows.Row, wanted: Counter, most: int = ROW_FIGURES) -> str:
    return table_rows.told(row, _row_figures(row, wanted, most))


def _row_figures(row: table_rows.Row, wanted: Counter, most: int = ROW_FIGURES) -> list[table_rows.Figure]:
    return table_rows.chosen_figures(row, set(wanted), most)


def _shortened(text: str, wanted: Counter) -> str:
    """A long sentence cut to MAX_QUOTE_CHARS: its first clause, then the ones that share most words
    with the question, in their order, gaps marked " … "."""
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
