"""Retrieval over real embeddings (the local all-MiniLM-L6-v2) of real chunks: scope, ranking, merging, floor."""

import pytest

from chat.retrieval import Scope, fuse, proximity, retrieve, spelled_out
from chat.retrieval.passages import Candidate, build_passages
from chatbots.models import Chatbot
from datasources import chunk_format
from datasources.indexes import index_chunks, lexical
from datasources.models import Chunk, DataSource
from datasources.pipeline import process
from datasources.services import datasource_upload
from tests.chatting import CANARY, CANARY_QUESTION, WAREHOUSE, add_source, bot
from tests.ingestion import CORPUS

pytestmark = pytest.mark.usefixtures("local_models")


def texts(passages) -> str:
    return "\n".join(passage.text for passage in passages)


# --- scope ---------------------------------------------------------------------------------------

def test_it_never_returns_another_companys_chunks(company_a, company_b):
    canary_b = add_source(company_b, "vault.pdf", [CANARY, *WAREHOUSE])
    own = add_source(company_a, "handbook.pdf", WAREHOUSE)
    # Even a company-A chatbot wrongly linked to company B's data source stays in company A.
    chatbot_a = bot(company_a, own)
    Chatbot.data_sources.through.objects.create(chatbot=chatbot_a, data_source=canary_b)
    assert "QUOKKA" not in texts(retrieve(chatbot=chatbot_a, question=CANARY_QUESTION))
    # The same question through company B's own chatbot finds it: the canary is findable.
    found = retrieve(chatbot=bot(company_b, canary_b), question=CANARY_QUESTION)
    assert found[0].text == CANARY and found[0].data_source_id == canary_b.id


def test_it_only_searches_the_chatbots_own_ready_data_sources(company_a):
    attached = add_source(company_a, "handbook.pdf", WAREHOUSE)
    detached = add_source(company_a, "vault.pdf", [CANARY])
    processing = add_source(company_a, "vault-copy.pdf", [CANARY], status=DataSource.Status.PROCESSING)
    chatbot = bot(company_a, attached, processing)
    assert "QUOKKA" not in texts(retrieve(chatbot=chatbot, question=CANARY_QUESTION))
    chatbot.data_sources.add(detached)
    assert retrieve(chatbot=chatbot, question=CANARY_QUESTION)[0].data_source_id == detached.id


# --- ranking -------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_question_finds_the_file_and_page_that_answer_it(company_a):
    sources = []
    for name in ("federal-register-2020-17221.pdf", "cupertino_usd_4-6-16.pdf", "senate-expenditures.pdf"):
        source = datasource_upload(company=company_a, user=None, path=CORPUS / "pdf" / name, name=name,
                                   enqueue=False).data_source
        process(str(source.id))
        sources.append(source)
    chatbot = bot(company_a, *sources)
    best = retrieve(chatbot=chatbot, question="How many work-hours does the stabilizer wiring change take, "
                                              "and what does it cost?")[0]
    assert best.location == "federal-register-2020-17221.pdf page 6"
    assert "79 work-hours" in best.text
    board = retrieve(chatbot=chatbot, question="When does the school board hold its special meeting?")[0]
    assert board.file_name == "cupertino_usd_4-6-16.pdf"


def test_an_exact_code_is_found_by_the_lexical_side(company_a):
    parts = [f"Spare part {code} fits the conveyor belt motor of line {line}."
             for line, code in enumerate(["KX-2231", "KX-4471", "KX-9035", "KX-1187", "KX-5520"], start=1)]
    source = add_source(company_a, "parts.pdf", parts)
    chatbot = bot(company_a, source)
    question = "Which line does part KX-9035 fit?"
    lexical_best = Scope.of(chatbot).lexical(question, 5)[0]
    assert lexical_best.chunk_id == chunk_format.chunk_id(source.id, 2)
    assert retrieve(chatbot=chatbot, question=question)[0].text == parts[2]


def test_a_question_naming_a_company_finds_that_companys_document(company_a):
    """The figures' table never names its company: the rest of its document does."""

    def report(company: str, revenue: str) -> list[str]:
        return [f"{company} quarterly report. {company} designs and sells kitchen appliances.",
                f"Results of operations\nTotal revenue; {revenue}; Cost of sales; 4,100",
                f"{company} employs 3,000 people in its factories."]

    northwind = add_source(company_a, "report-a.pdf", report("Northwind", "9,310"))
    contoso = add_source(company_a, "report-b.pdf", report("Contoso", "7,245"))
    chatbot = bot(company_a, northwind, contoso, top_k=4)

    def revenue_row(question: str) -> str:
        return next(p.text for p in retrieve(chatbot=chatbot, question=question) if "Total revenue" in p.text)

    assert "7,245" in revenue_row("What was Contoso's total revenue?")
    assert "9,310" in revenue_row("What was Northwind's total revenue?")


def test_the_latest_period_is_preferred_when_the_question_asks_for_it(company_a):
    def report(ended: str, revenue: str) -> list[str]:
        return [f"Quarterly report of Fabrikam for the period ended {ended}.",
                f"Results of operations\nTotal revenue; {revenue}; Cost of sales; 4,100"]

    older = add_source(company_a, "fabrikam-1.pdf", report("March 31, 2023", "6,010"))
    newer = add_source(company_a, "fabrikam-2.pdf", report("June 30, 2023", "6,480"))
    chatbot = bot(company_a, older, newer, top_k=4)
    passages = retrieve(chatbot=chatbot, question="What was Fabrikam's total revenue in the latest quarter?")
    assert "6,480" in next(p.text for p in passages if "Total revenue" in p.text)


def test_top_k_comes_from_the_chatbot(company_a):
    source = add_source(company_a, "handbook.pdf", WAREHOUSE, pages=[1, 2, 3])
    question = "What are the rules of the warehouse?"
    assert len(retrieve(chatbot=bot(company_a, source, top_k=2), question=question)) == 2
    assert len(retrieve(chatbot=bot(company_a, source, top_k=2), question=question, top_k=1)) == 1


# --- passages ------------------------------------------------------------------------------------

def test_adjacent_chunks_of_one_page_become_one_passage(company_a):
    context = "Forklift manual › Battery care"
    first = f"{context}\nCharge the battery only in the ventilated charging room. Never smoke near it."
    second = f"{context}\nNever smoke near it. Top up the battery water weekly with distilled water."
    elsewhere = f"{context}\nBattery warranties are handled by the supplier."
    source = add_source(company_a, "forklift.pdf", [first, second, elsewhere], pages=[7, 7, 8])
    passages = retrieve(chatbot=bot(company_a, source), question="How do I charge and water the forklift battery?")
    merged = next(p for p in passages if p.page_number == 7)
    assert merged.chunk_ids == [chunk_format.chunk_id(source.id, 0), chunk_format.chunk_id(source.id, 1)]
    assert merged.text == (f"{context}\nCharge the battery only in the ventilated charging room. Never smoke near it. "
                           "Top up the battery water weekly with distilled water.")
    assert merged.location == "forklift.pdf page 7"
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert sum(p.page_number == 8 for p in passages) <= 1  # the next page stays its own passage


TABLE_CONTEXT = "Quarterly report › Operating expenses"
TABLE_START = (f"{TABLE_CONTEXT}\nOperating expenses for the quarter were as follows (dollars in millions):\n"
               "Research and development; 7,442; 6,797")
TABLE_REST = (f"{TABLE_CONTEXT}\nSelling, general and administrative; 5,973; 6,012\n"
              "Total operating expenses; 13,415; 12,809\nOperating income; 22,998; 23,076")


@pytest.mark.parametrize("after, joins", [(TABLE_REST, True),
                                          (f"{TABLE_CONTEXT}\nHeadcount grew in engineering and sales.", False)])
def test_a_table_that_goes_on_in_the_next_chunk_is_given_whole(company_a, after, joins):
    source = add_source(company_a, "report.pdf", [TABLE_START, after], pages=[4, 4])
    [passage] = build_passages(company_a.id, [Candidate(chunk_format.chunk_id(source.id, 0), 0.9)], top_k=1)
    assert ("Total operating expenses; 13,415" in passage.text) is joins
    assert ("Headcount" in passage.text) is False


@pytest.mark.parametrize("pages, joins", [([4, 4], True), ([3, 4], False)])
def test_the_chunk_before_a_passage_on_its_page_is_given_with_it(company_a, pages, joins):
    """A table's caption and first rows sit in the chunk before the one that matched: read with it, by its id."""
    source = add_source(company_a, "report.pdf", [TABLE_START, TABLE_REST], pages=pages)
    other = add_source(company_a, "other.pdf", [TABLE_START, TABLE_REST], pages=[4, 4])
    [passage] = build_passages(company_a.id, [Candidate(chunk_format.chunk_id(source.id, 1), 0.9)], top_k=1)
    assert ("Operating expenses for the quarter were as follows" in passage.text) is joins
    assert passage.chunk_ids == [chunk_format.chunk_id(source.id, n) for n in ([0, 1] if joins else [1])]
    assert passage.data_source_id == source.id != other.id


PROSE_BEFORE = f"{TABLE_CONTEXT}\nWe manage our costs closely and review every line of spending each quarter."
COMMENT = f"{TABLE_CONTEXT}\nSelling, general and administrative expenses fell as we hired fewer people."


@pytest.mark.parametrize("before, joins", [(TABLE_REST, True), (PROSE_BEFORE, False)])
def test_a_paragraph_is_given_with_the_table_before_it_but_not_with_prose(company_a, before, joins):
    """The figures a paragraph comments on sit in the chunk before it; prose before prose would only take up the
    room of another passage."""
    source = add_source(company_a, "report.pdf", [before, COMMENT], pages=[4, 4])
    [passage] = build_passages(company_a.id, [Candidate(chunk_format.chunk_id(source.id, 1), 0.9)], top_k=1)
    assert passage.chunk_ids == [chunk_format.chunk_id(source.id, n) for n in ([0, 1] if joins else [1])]


def test_a_line_a_better_ranked_passage_of_the_document_gives_is_left_out_but_a_tables_shape_stays(company_a):
    held = "The Fifth Circuit upheld the government's assessment of the penalty in full."
    headings = "Three Months Ended September 30, 2023 2022"
    first = add_source(company_a, "opinion.pdf", [f"Opinion › Syllabus\n{held}\nUnit: in millions\n{headings}",
                                                  "Opinion › Facts\nBittner filed his reports late.",
                                                  f"Opinion › Opinion\n{held}\nUnit: in millions\n{headings}\n"
                                                  "Penalties; 2,720; 50"])
    second = add_source(company_a, "brief.pdf", [f"Brief › Argument\n{held}"])
    ranked = [Candidate(chunk_format.chunk_id(first.id, 0), 0.9), Candidate(chunk_format.chunk_id(second.id, 0), 0.8),
              Candidate(chunk_format.chunk_id(first.id, 2), 0.7)]
    syllabus, brief, opinion = build_passages(company_a.id, ranked, top_k=3)
    assert held in syllabus.text and held in brief.text  # another document's passage says it again
    assert opinion.text == f"Opinion › Opinion\nUnit: in millions\n{headings}\nPenalties; 2,720; 50"
    # A passage left with nothing of its own is not given at all
    again = add_source(company_a, "again.pdf", [f"Notes › One\n{held}\nBittner filed late.",
                                                "Notes › Two\nPenalties were assessed in 2017.",
                                                f"Notes › Three\nUnit: in millions\n{held}"])
    passages = build_passages(company_a.id, [Candidate(chunk_format.chunk_id(again.id, n), 1 - n / 10)
                                             for n in (0, 2)], top_k=2)
    assert [p.chunk_ids for p in passages] == [[chunk_format.chunk_id(again.id, 0)]]


def test_a_line_holding_the_questions_words_together_counts_more_than_words_apart():
    weights = {"total": 1.0, "operating": 2.0, "expense": 2.0}
    row = f"{TABLE_CONTEXT}\nNet sales; 81,797\nTotal operating expenses; 13,415; 12,809"
    scattered = f"{TABLE_CONTEXT}\nOperating margins improved.\nTravel expenses fell in total."
    assert proximity(row, weights) == 1.0
    assert proximity(scattered, weights) == pytest.approx(3 / 5)
    assert proximity(f"{TABLE_CONTEXT}\nNothing related here.", weights) == 0.0  # the context line is not counted


BALANCE_SHEET = ("Quarterly report › Condensed balance sheet\nCash and cash equivalents; 3,389; 3,100\n"
                 "Accounts receivable; 3,827; 3,600\nInventories; 4,779; 5,159\nInventory reserves; 212; 198\n"
                 "Prepaid expenses and other current assets; 1,389; 791")
SUPPLY_CHAIN = [
    "Quarterly report › Supply chain\nChanges in inventory levels during these quarters indicate how we manage "
    "our supply chain: we place orders with suppliers well ahead of demand.",
    "Quarterly report › Risk factors\nSupply chain management is complex; if inventory levels change quickly we "
    "may hold excess inventory or face shortages during the following quarters.",
    "Quarterly report › Supply chain\nWe monitor inventory levels and supply chain constraints every quarter and "
    "adjust purchase commitments when these levels change.",
]
INVENTORY_QUESTION = ("How have inventory levels changed during these quarters, and what might this indicate "
                      "regarding supply chain management?")


def test_a_row_of_figures_is_named_when_the_question_uses_every_word_of_its_label():
    index = lexical.SourceIndex.build([("sheet", BALANCE_SHEET), *((f"prose-{n}", text)
                                                                   for n, text in enumerate(SUPPLY_CHAIN))])
    weights = lexical.idf([index], lexical.tokenize(INVENTORY_QUESTION))
    # "Inventories" (folded to "inventory") is named; "Inventory reserves" is not: the question never says
    # "reserves"; prose is no row of figures, however many of the question's words it holds.
    assert index.named_rows(weights) == {"sheet": pytest.approx(weights["inventory"])}
    assert index.named_rows(lexical.idf([index], lexical.tokenize("What were the inventory reserves?"))) == {
        "sheet": pytest.approx(sum(lexical.idf([index], ["inventory", "reserve"]).values()))}
    assert index.named_rows(lexical.idf([index], lexical.tokenize("What did the company say about cash?"))) == {}


@pytest.mark.parametrize("line, label", [
    ("Inventories; 4,779; 5,159", ["inventory"]),
    ("Data Center; Three Months Ended July 1, 2023: $ 14,514; Three Months Ended June 25, 2022: $ 3,833",
     ["data", "center"]),  # the column headings name the columns, not the row
    ("Research and development 4,109 4,362", ["research", "development"]),
    ("iPhone $ 39,669 $ 40,665", ["iphone"]),
    ("Q1 2022 Q1 2023", None),  # a header of periods: years are not figures
    ("during the period 28 (19) (7) (11)", None),  # a sentence's words, in lower case
    ("Other, net (264) (172)", None),  # "other" is no connective: a phrase, not a name
    ("Revenue was $530 million, up $80 million from Q3 2022 and operating income grew.", None),
    ("Total net sales; 81,797", None),  # one figure
    ("2The flight control system for 737 MAX airplanes", None),  # a sentence's first line, with a footnote mark
])
def test_a_row_of_figures_is_a_capitalised_label_of_a_few_words_before_two_figures(line, label):
    assert lexical.row_label(line) == label


def test_a_table_row_the_question_names_comes_before_prose_that_shares_more_of_its_words(company_a):
    source = add_source(company_a, "report.pdf", [*SUPPLY_CHAIN, BALANCE_SHEET])
    chatbot = bot(company_a, source, top_k=2)
    scope = Scope.of(chatbot)
    # Both searches prefer the prose, which repeats the question's wording …
    searched = fuse(scope.dense(INVENTORY_QUESTION, 10), scope.lexical(INVENTORY_QUESTION, 10))
    assert searched[0].chunk_id != chunk_format.chunk_id(source.id, 3)
    # … but the figures the question asks about are in the balance sheet's row.
    best = retrieve(chatbot=chatbot, question=INVENTORY_QUESTION)[0]
    assert "Inventories; 4,779; 5,159" in best.text


REPORT_WITH_RD = [
    "Quarterly report › Statement of operations\nNet revenue 11,715 18,353\nCost of sales 7,707 9,109\n"
    "Research and development 4,109 4,362\nMarketing, general and administrative 1,303 1,700",
    "Quarterly report › Spending\nOur expenditure on research and development rose as we hired engineers, and "
    "expenditure on marketing fell as we ran fewer campaigns.",
    "Quarterly report › Capital return\nOur expenditure on repurchases and dividends was lower than a year ago, "
    "and expenditure on capital projects rose: what we spend reflects our plans for the quarter.",
    "Quarterly report › Outlook\nWe expect our expenditure in the next quarter to match this quarter's "
    "expenditure, as our plans for the year are unchanged.",
]


def test_an_abbreviation_of_joined_words_is_searched_for_as_the_documents_spell_it_most(company_a):
    chatbot = bot(company_a, add_source(company_a, "report.pdf", REPORT_WITH_RD), top_k=1)
    # "R&D" gives the searches no word; the documents write it "research and development" more often than any
    # other "r… and d…", and the statement's row of that name answers
    passages = retrieve(chatbot=chatbot, question="What was the R&D expenditure this quarter?")
    assert "Research and development 4,109 4,362" in passages[0].text, texts(passages)


def test_an_abbreviation_is_spelled_out_as_most_of_the_texts_write_it_or_left_as_it_is():
    texts_ = ["We spent less on repurchases and dividends.", "Research and development rose.",
              "research  and\ndevelopment costs", "M&A activity slowed."]
    assert spelled_out("What was the R&D expenditure?", texts_) == "What was the research and development expenditure?"
    assert spelled_out("Any M&A news?", texts_) == "Any M&A news?"  # no text spells it
    assert spelled_out("What did AT&T report?", texts_) == "What did AT&T report?"  # a name of more letters


def test_a_repeated_passage_is_given_once(company_a):
    one = add_source(company_a, "handbook.pdf", WAREHOUSE)
    copy = add_source(company_a, "handbook-copy.pdf", [WAREHOUSE[1]])
    passages = retrieve(chatbot=bot(company_a, one, copy), question="What must forklift drivers wear?")
    assert sum("high-visibility vest" in p.text for p in passages) == 1


# --- the floor and lexical-only mode ----------------------------------------------------------

def test_an_unrelated_question_gets_nothing(company_a):
    chatbot = bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))
    assert retrieve(chatbot=chatbot, question="How do I bake sourdough bread?") == []
    assert retrieve(chatbot=chatbot, question="What must forklift drivers wear?")


def test_a_question_about_someone_the_documents_never_mention_gets_nothing(company_a):
    chatbot = bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))
    assert retrieve(chatbot=chatbot, question="When does Globex collect parcels from the warehouse?") == []
    assert retrieve(chatbot=chatbot, question="When does the courier collect parcels from the warehouse?")


AUDIT = ["Safety policy › Audits\nThe chief executive officer of Northwind signs off the yearly safety audit "
         "in March, after the site managers have reviewed it."]


def test_one_word_no_document_uses_does_not_refuse_a_question_about_what_they_cover(company_a):
    # "CEO": the policy spells the title out; Northwind, which it names, tells what the question is about.
    chatbot = bot(company_a, add_source(company_a, "policy.pdf", AUDIT))
    assert "signs off the yearly safety audit" in texts(retrieve(chatbot=chatbot, question="When does the Northwind "
                                                                                           "CEO sign off the audit?"))


def test_a_question_naming_only_what_no_document_mentions_gets_nothing(company_a):
    chatbot = bot(company_a, add_source(company_a, "policy.pdf", AUDIT))
    assert retrieve(chatbot=chatbot, question="When does the Initech CEO sign off the audit?") == []


def test_a_deployment_may_raise_the_embedders_relevance_floor(company_a, settings):
    chatbot = bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))
    settings.RELEVANCE_FLOOR = 0.95  # no question is that close to a chunk of the handbook
    assert retrieve(chatbot=chatbot, question="What must forklift drivers wear?") == []


def test_a_chatbot_without_ready_documents_gets_nothing(company_a):
    assert retrieve(chatbot=bot(company_a), question="What must forklift drivers wear?") == []


def test_lexical_only_mode_finds_passages_without_any_vectors(company_a, settings):
    settings.EMBEDDING_BACKEND = "none"
    source = add_source(company_a, "handbook.pdf", WAREHOUSE)
    assert not Chunk.objects.filter(data_source=source, embedding__isnull=False).exists()
    chatbot = bot(company_a, source)
    best = retrieve(chatbot=chatbot, question="When does the courier collect parcels?")[0]
    assert best.chunk_id == chunk_format.chunk_id(source.id, 2)
    assert retrieve(chatbot=chatbot, question="How do I bake sourdough bread?") == []


def test_a_reprocessed_data_source_is_searched_with_its_new_chunks(company_a, settings):
    settings.EMBEDDING_BACKEND = "none"
    source = add_source(company_a, "handbook.pdf", WAREHOUSE)
    chatbot = bot(company_a, source)
    question = "Where are returned crates inspected?"
    assert retrieve(chatbot=chatbot, question=question) == []
    Chunk.objects.filter(data_source=source, position=2).update(text="Returned crates are inspected in hangar nine.")
    # As a processing run does: its index step writes the new chunks to both indexes, and it ends by
    # saving the data source, which moves its updated_at.
    index_chunks(source, list(Chunk.objects.filter(data_source=source).order_by("position")))
    source.save()
    assert retrieve(chatbot=chatbot, question=question)[0].text == "Returned crates are inspected in hangar nine."
