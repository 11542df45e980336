"""The two indexes of a data source's chunks: `vector/` (nearness in meaning) and `lexical.py` (BM25)."""
