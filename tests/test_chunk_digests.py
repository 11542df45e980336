"""Every file of ../shared/corpus/ (and the CSV, Word, HTML, Markdown and text documents derived from
it) gives exactly the chunks recorded in bench/chunk_digests.json: extraction and chunking can be
restructured, not changed by accident. `make bench-chunks` also checks the benchmark's filings."""

import pytest

from bench import chunk_digests

pytestmark = pytest.mark.backend_free


def test_every_corpus_file_gives_the_chunks_of_the_reference(local_models, tmp_path):
    found = chunk_digests.records(tmp_path)
    assert len(found) == 57  # 16 PDFs, 13 workbooks, 16 sheets as CSV, 3 documents in 4 formats each
    assert chunk_digests.differences(found) == []
