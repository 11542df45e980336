"""How a cited passage reads on the dashboard: its table rows as a table under their headings."""

from django import template

from datasources.chunk_format import markdown_passage

register = template.Library()


@register.filter
def passage_for_reading(text: str) -> str:
    return markdown_passage(text)
