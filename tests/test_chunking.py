"""Chunks sized for all-MiniLM-L6-v2, counted by its real tokenizer, that say where they came from."""

import itertools
from pathlib import Path

import pytest

from datasources.chunking import CHUNK_MAX_TOKENS, chunk_document, wordpiece_counter
from datasources.extractors import Extraction, Section
from datasources.extractors.pdf import extract_pdf

pytestmark = pytest.mark.backend_free

PDFS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pdf"
MINILM_MAX_TOKENS = 254  # 256 word pieces, less [CLS] and [SEP]


@pytest.fixture(scope="module")
def count_tokens():
    return wordpiece_counter()


def chunk(extraction, count_tokens, max_tokens=MINILM_MAX_TOKENS):
    return chunk_document(extraction, file_name="report.pdf", count_tokens=count_tokens, max_tokens=max_tokens)


def sales_rows(count: int) -> list[Section]:
    return [Section(text=f"Region: Region {n}; Revenue: {1000 + n:,}; Quarter: Q{n % 4 + 1}", heading="Sales",
                    sheet="Sales", row_number=n + 2, table=1, caption="Sales by region, fiscal 2024")
            for n in range(count)]


def test_every_chunk_fits_what_the_model_reads(count_tokens):
    extraction = extract_pdf(PDFS / "federal-register-2020-17221.pdf", "federal-register-2020-17221.pdf")
    drafts = chunk(extraction, count_tokens)
    assert len(drafts) > 30
    assert all(draft.token_count == count_tokens(draft.text) <= MINILM_MAX_TOKENS for draft in drafts)
    assert sum(draft.token_count for draft in drafts) / len(drafts) > MINILM_MAX_TOKENS / 2  # not crumbs


def test_models_that_read_more_still_get_passages_of_a_few_hundred_tokens(count_tokens):
    extraction = extract_pdf(PDFS / "federal-register-2020-17221.pdf", "federal-register-2020-17221.pdf")
    drafts = chunk(extraction, count_tokens, max_tokens=8191)
    assert max(draft.token_count for draft in drafts) <= CHUNK_MAX_TOKENS


def test_each_pdf_chunk_names_its_page_document_and_heading(count_tokens):
    extraction = extract_pdf(PDFS / "cupertino_usd_4-6-16.pdf", "agenda.pdf")
    drafts = chunk(extraction, count_tokens)
    assert all(draft.metadata["page_number"] == 1 for draft in drafts)
    assert all(draft.metadata["file_name"] == "report.pdf" for draft in drafts)
    for draft in drafts:
        context = " › ".join(filter(None, ["SPECIAL BOARD AGENDA 040616", draft.metadata["heading"]]))
        assert draft.text.startswith(context + "\n")
    assert {draft.metadata["heading"] for draft in drafts} == {"", "AGENDA"}
    closed_session = next(draft for draft in drafts if "Superintendent Wendy Gudalewicz" in draft.text)
    assert "\nSection 54957\n" in closed_session.text  # a later heading of the page, in its place


def test_table_rows_are_packed_under_their_caption_and_never_cut(count_tokens):
    rows = sales_rows(60)
    drafts = chunk(Extraction(title="sales", sections=rows, row_count=60), count_tokens)
    assert 1 < len(drafts) < 20  # many rows to a chunk, not one chunk per row
    for draft in drafts:
        lines = draft.text.split("\n")
        assert lines[:2] == ["sales › Sales", "Sales by region, fiscal 2024"]
        assert all(line.startswith("Region: Region ") for line in lines[2:])  # whole rows only
    assert [row for draft in drafts for row in draft.text.split("\n")[2:]] == [row.text for row in rows]
    assert drafts[0].metadata == {"file_name": "report.pdf", "title": "sales", "heading": "Sales", "sheet": "Sales",
                                  "row_start": 2, "row_end": drafts[0].metadata["row_end"]}
    assert drafts[1].metadata["row_start"] == drafts[0].metadata["row_end"] + 1


def test_a_long_caption_is_given_whole_once_and_its_opening_words_after(count_tokens):
    caption = ("(In millions) Three Months Ended Nine Months Ended June 25, 2022 June 26, 2021 "
               "Operating expenses by segment, as reported to the chief operating decision maker, excluding ") * 2
    rows = [Section(text=f"Segment {n}; {1000 + n:,}; {2000 + n:,}", heading="Segments", page_number=4, table=1,
                    caption=caption.strip()) for n in range(80)]
    drafts = chunk(Extraction(title="Filing", sections=rows, page_count=4), count_tokens)
    assert len(drafts) > 2
    first, *later = (draft.text.split("\n") for draft in drafts)
    assert first[1] in caption and count_tokens(first[1]) > 40  # the lines nearest the table, in full
    for lines in later:
        assert lines[1] == "(In millions) Three Months Ended Nine Months Ended June 25, 2022"
        assert all(line.startswith("Segment ") for line in lines[2:])
    assert [line for lines in [first, *later] for line in lines[2:]] == [row.text for row in rows]


def test_a_row_longer_than_the_budget_is_split_and_each_part_names_the_row(count_tokens):
    cells = "; ".join(f"Month {n}: {n * 1234:,}" for n in range(1, 120))
    row = Section(text=f"Product: Widget; {cells}", heading="Sales", sheet="Sales", row_number=7, table=1)
    drafts = chunk(Extraction(title="sales", sections=[row]), count_tokens)
    assert len(drafts) > 1
    for draft in drafts:
        assert draft.token_count <= MINILM_MAX_TOKENS
        assert draft.text.split("\n")[1].startswith("Product: Widget; Month ")
        assert (draft.metadata["row_start"], draft.metadata["row_end"]) == (7, 7)
    assert "Month 119: 146,846" in drafts[-1].text


def test_prose_chunks_overlap_a_little_and_end_at_sentences(count_tokens):
    sentences = [f"Sentence {n} says that the river rose by {n} centimetres overnight." for n in range(200)]
    section = Section(text=" ".join(sentences), heading="Floods", page_number=3)
    drafts = chunk(Extraction(title="Hydrology", sections=[section]), count_tokens)
    assert len(drafts) > 3
    for previous, following in itertools.pairwise(drafts):
        last_sentence = previous.text.rsplit("Sentence ", 1)[1]
        assert last_sentence.endswith("overnight.")
        assert "Sentence " + last_sentence in following.text  # carried over as overlap


def test_a_sentence_longer_than_the_budget_is_cut_between_words(count_tokens):
    section = Section(text="word " * 2000, page_number=1)
    drafts = chunk(Extraction(title="Words", sections=[section]), count_tokens)
    assert all(draft.token_count <= MINILM_MAX_TOKENS for draft in drafts)
    assert sum(draft.text.count("word") for draft in drafts) >= 2000


def test_chunks_never_span_two_pages(count_tokens):
    sections = [Section(text=f"Short note on page {page}.", page_number=page) for page in (1, 2)]
    drafts = chunk(Extraction(title="Notes", sections=sections), count_tokens)
    assert [(draft.text, draft.metadata["page_number"]) for draft in drafts] == [
        ("Notes\nShort note on page 1.", 1), ("Notes\nShort note on page 2.", 2)]


def test_a_new_heading_on_the_page_starts_a_chunk_when_there_is_a_choice(count_tokens):
    claims = " ".join(f"Claim {n} was settled in full." for n in range(20))  # about 160 tokens
    premiums = " ".join(f"Premium {n} rose by 4%." for n in range(20))
    sections = [Section(text=claims, heading="Claims", page_number=1),
                Section(text=premiums, heading="PREMIUMS", page_number=1)]
    drafts = chunk(Extraction(title="Report", sections=sections), count_tokens)
    assert [draft.metadata["heading"] for draft in drafts] == ["Claims", "PREMIUMS"]
    assert drafts[0].text == f"Report › Claims\n{claims}"
    assert drafts[1].text == f"Report › PREMIUMS\n{premiums}"


def test_nothing_to_read_gives_no_chunks(count_tokens):
    assert chunk(Extraction(title="Empty"), count_tokens) == []


def test_every_chunk_of_a_table_repeats_its_unit_line_before_its_rows(count_tokens):
    rows = [Section(text=f"Segment {n}; Three Months Ended July 1, 2023: {1000 + n:,}; "
                         f"Three Months Ended June 25, 2022: {900 + n:,}", heading="Results", page_number=2,
                    table=1, unit="In millions") for n in range(60)]
    chunks = chunk(Extraction(title="Quarterly report", sections=rows), count_tokens)
    assert len(chunks) > 2
    for draft in chunks:
        lines = draft.text.split("\n")
        assert lines[1] == "Unit: In millions"
        assert all(line.startswith("Segment ") for line in lines[2:])
        assert draft.token_count <= MINILM_MAX_TOKENS
