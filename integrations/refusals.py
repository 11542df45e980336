"""Sites recently refused a chatbot's widget, for the notice on its Embed & keys page.

When a page on a site not (yet) in an integration's allowed origins opens the chatbot, its visitor
sees a neutral message and the owner reads here which site tried. An `Origin` header can be forged
by anyone holding the publishable key, so the list is short and capped, kept in the cache (a flood
of forged origins costs no database writes and pushes out only other forged entries), and the page
shows the origins as text to type into the allowed origins, never as links or a one-click add.
"""

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from integrations.models import Integration

KEPT = 5
KEPT_SECONDS = 7 * 24 * 3600


def _key(integration: Integration) -> str:
    return f"integration-refusals:{integration.pk}"


def refusal_record(*, integration: Integration, origin: str) -> None:
    """`origin` (already normalised) was refused: it goes first, once, in the capped list."""
    earlier = [entry for entry in cache.get(_key(integration), []) if entry["origin"] != origin]
    entry = {"origin": origin, "at": timezone.now().isoformat()}
    cache.set(_key(integration), [entry, *earlier][:KEPT], KEPT_SECONDS)


def recent_refusals(*, integration: Integration) -> list[dict]:
    """The refused origins, newest first, without those allowed since."""
    return [{"origin": entry["origin"], "at": datetime.fromisoformat(entry["at"])}
            for entry in cache.get(_key(integration), []) if entry["origin"] not in integration.allowed_origins]
