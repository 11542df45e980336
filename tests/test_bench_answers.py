"""The answer measures of `make bench-answers` (bench/answers.py) on answers written by hand: a figure or
span found or not, within the first characters or further on, padding and refusals counted as misses."""

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
from bench.measures import Question, figures_in
from bench.mixed_docs import SpanQuestion

REVENUE = Question(text="What was the revenue?", source_patterns=("*ACME*",),
                   figures=figures_in("Revenue was $14,514 million, up from $3,833 million."))
RENT = SpanQuestion(id="t-1", text="How much was the monthly rent?", file="statement.pdf",
                    span="Monthly Apartment Rent        987.33")


def test_an_answer_holding_every_figure_scores_one():
    reply = Reply("Revenue — three months ended July 30, 2023: $14,514 million; a year earlier: $3,833 million.", True)
    assert figure_share(REVENUE, reply, ANSWER_HEAD) == 1.0


def test_a_figure_past_the_first_600_characters_counts_for_the_whole_answer_only():
    reply = Reply("Revenue rose. " + "Demand for data center products grew. " * 20 + "It was $14,514 million.", True)
    assert figure_share(REVENUE, reply, ANSWER_HEAD) == 0.0
    assert figure_share(REVENUE, reply) == 0.5


def test_an_answer_with_the_span_in_another_layout_finds_it():
    assert span_in_answer(RENT, Reply("28 February: Monthly Apartment Rent; £987.33 [1]", True), ANSWER_HEAD)
    assert not span_in_answer(RENT, Reply("28 February: the rent was paid [1]", True), ANSWER_HEAD)


def test_an_answer_showing_more_than_twelve_figures_is_a_miss():
    padding = "; ".join(f"{100 + n}.5" for n in range(MAX_FIGURES))
    reply = Reply(f"Monthly Apartment Rent 987.33; {padding}", True)
    assert reply.figures == MAX_FIGURES + 1
    assert not span_in_answer(RENT, reply)
    assert figure_share(REVENUE, Reply(f"$14,514 million; $3,833 million; {padding}", True)) == 0.0


def test_a_refusal_is_a_miss_even_when_it_quotes_the_answer():
    weak = Reply("I could not find this exactly; the closest passage is: Monthly Apartment Rent 987.33", False)
    assert not span_in_answer(RENT, weak)
    assert refused([weak, Reply("Monthly Apartment Rent 987.33", True)]) == 1


def test_the_ceiling_is_the_best_answer_the_quotes_make_within_the_first_600_characters():
    latest = "Revenue — three months ended July 30, 2023: $14,514 million (report.pdf page 2) [1]"
    earlier = "Revenue — three months ended July 31, 2022: $3,833 million (report.pdf page 9) [4]"
    assert figure_ceiling(REVENUE, [latest, earlier, "Demand grew. (report.pdf page 2) [1]"]) == 1.0
    assert figure_ceiling(REVENUE, [latest]) == 0.5
    assert figure_ceiling(REVENUE, [latest, "Demand grew. " * 50 + earlier]) == 0.5  # past the first 600 characters
    padding = "; ".join(f"{100 + n}.5" for n in range(MAX_FIGURES))
    assert figure_ceiling(REVENUE, [f"{earlier}; {padding}", latest]) == 0.5  # no answer shows 13 figures


def test_the_span_ceiling_needs_one_quote_holding_the_span():
    assert span_ceiling(RENT, ["28 February: Monthly Apartment Rent; £987.33 (statement.pdf page 1) [1]"])
    assert not span_ceiling(RENT, ["28 February: Monthly Apartment Rent (statement.pdf page 1) [1]", "£987.33"])
