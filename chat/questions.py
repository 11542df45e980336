"""What makes two questions the same one: the one rule behind every count of questions (chat's
Unanswered page, analytics' Top questions and its daily roll-up) and behind the answer cache's keys."""

import unicodedata

MAX_QUESTION_CHARS = 300  # what is kept of a long question: plenty to tell two apart, and bounded to store
_EDGES = " \t\n?!.,;:¿¡\"'"
# Phones type a typographic apostrophe (don’t) where keyboards type a straight one (don't).
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'"})


def normalized_question(text: str, *, limit: int | None = MAX_QUESTION_CHARS) -> str:
    """One spelling for the same question asked twice: case, spacing, the punctuation around it, Unicode
    compatibility forms (full-width letters, ligatures) and typographic apostrophes ignored. Every word
    stays, so "Can I return it?" and "Can I not return it?" remain two questions. Counts keep the first
    `limit` characters; the answer cache keeps them all (None), since two long questions may differ late."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return " ".join(text.split())[:limit].strip(_EDGES)
