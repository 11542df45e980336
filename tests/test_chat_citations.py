"""The passages staff read beside an answer (console, API, conversation page)."""

import uuid

from chat.retrieval import Passage
from chat.services import Answer

STORED = ("Field guide › Harvest\nUnit: in tonnes\n"
          "Crop: Barley; Spring 2024: 1,204; Spring 2023: 998\n"
          "Crop: Oats; Spring 2024: 310; Spring 2023: 287\nYields were measured at the mill.")


def _answer_citing(text: str) -> Answer:
    passage = Passage(chunk_id="c1", data_source_id=uuid.uuid4(), file_name="guide.pdf", page_number=3, sheet=None,
                      row_start=None, row_end=None, text=text, score=0.5, rank=1)
    return Answer(passages=[passage], parts=["Barley — Spring 2024: 1,204 [1]"])


def test_a_cited_table_reads_as_a_table_under_its_headings():
    shown = _answer_citing(STORED).citations()[0]["text"]
    assert "| Crop | Spring 2024 | Spring 2023 |" in shown
    assert "| Barley | 1,204 | 998 |" in shown
    assert "Unit: in tonnes" in shown and "Yields were measured at the mill." in shown


def test_the_passage_keeps_its_stored_text():
    answer = _answer_citing(STORED)
    answer.citations()
    assert answer.passages[0].text == STORED
