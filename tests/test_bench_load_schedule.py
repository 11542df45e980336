"""What `make bench-load` asks, and when (bench/load_schedule.py): questions made from a filing's chunks, and a
Poisson schedule that the seed fixes, so the floor, one web process and two meet the same arrivals."""

from bench.load_schedule import generated_questions, poisson_times, schedule

CHUNKS = [
    "Apple Inc. (2022 Q3 AAPL) › Note 9 – Segment Information\n"
    "Unit: in millions\n"
    "Operating income; Three Months Ended June 25, 2022: $ 2,367; Nine Months Ended June 25, 2022: $ 9,185",
    "AMAZON.COM, INC. (2022 Q3 AMZN) › Item 2. Operating Expenses\n"
    "Fulfillment costs rose because of higher sales volumes and expanded capacity. Yes ☐ No ☒",
    "A page with no filing named in its heading\nOperating income; 2022: $ 1",
]


def test_questions_name_a_table_row_and_column_or_a_sentence_and_their_filing():
    questions = generated_questions(CHUNKS, seed=1)
    assert {
        "What was Operating income for Three Months Ended June 25, 2022 in AAPL's 2022 Q3 filing?",
        "What was Operating income for Nine Months Ended June 25, 2022 in AAPL's 2022 Q3 filing?",
    } < set(questions)
    (about_costs,) = [question for question in questions if "AMZN" in question]
    assert about_costs.startswith("What does AMZN's 2022 Q3 filing say about ")
    assert len(about_costs.removeprefix("What does AMZN's 2022 Q3 filing say about ").split()) == 5
    assert len(questions) == 3  # the chunk without a filing, the short "Unit" line and "Yes ☐ No ☒" ask nothing


def test_the_seed_fixes_the_questions_and_their_order():
    questions = generated_questions(CHUNKS * 3, seed=7)
    assert questions == generated_questions(CHUNKS * 3, seed=7) != generated_questions(CHUNKS * 3, seed=8)
    assert len(set(questions)) == len(questions)  # a table row seen again is not asked again


def test_arrivals_come_at_the_rate_within_the_time():
    times = poisson_times(40, 60, seed="s")
    assert times == sorted(times) and 0 < times[0] and times[-1] < 60
    assert 2200 < len(times) < 2600  # 2,400 expected; a Poisson count's standard deviation is 49
    assert times == poisson_times(40, 60, seed="s") != poisson_times(40, 60, seed="t")


def test_repeats_ask_earlier_questions_at_the_same_times_as_a_run_without():
    questions = [f"question {n}" for n in range(5000)]
    distinct = schedule([10, 40], 60, questions, repeat_share=0, seed=3)
    repeating = schedule([10, 40], 60, questions, repeat_share=0.3, seed=3)
    assert [a.at_s for a in distinct[40]] == [a.at_s for a in repeating[40]]
    asked = [arrival for rate in (10, 40) for arrival in distinct[rate]]
    assert len({arrival.question for arrival in asked}) == len(asked)
    seen, repeated = set(), 0
    for arrival in (arrival for rate in (10, 40) for arrival in repeating[rate]):
        assert (arrival.question in seen) == arrival.repeated
        seen.add(arrival.question)
        repeated += arrival.repeated
    assert 0.27 < repeated / len(asked) < 0.33
