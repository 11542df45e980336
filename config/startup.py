"""A web process's start: the embedding model and the answer backend first, then the companies' indexes, in a side
thread.

As soon as the process starts it loads the model, then imports the answer backend's code (the openai SDK takes about
0.7 s, which a first question would wait for) and prepares it (a chat model's client: its TLS settings and HTTP
client's asyncio support, about 60 ms more), and the answer cache (its client loaded and connected, the code's
digest read); /readyz answers 503 until the model has loaded (config.health), so a load balancer, or `make run`,
sends no question before one can be answered at once. The indexes
follow once the process is ready: loading them takes time in proportion to the data (about a minute
for a million chunks), which must not delay start-up; a question for a company not warmed yet loads
that company's indexes itself, as before. Companies are warmed least recently asked first, so that
when the caches cannot hold them all, the busiest stay.
"""

import logging
import sys
import threading

from django.db import connection
from django.db.models import Exists, F, OuterRef, Subquery

from accounts.models import Company
from chat import answer_cache
from chat.generators import get_generator
from chat.models import Conversation
from config import rls
from datasources.embedders import get_embedder
from datasources.models import DataSource
from datasources.services import company_indexes_warm

logger = logging.getLogger(__name__)

# Why the model did not load, for /readyz; empty while it loads and once it has.
model_failure = ""


def start_web_process() -> threading.Thread:
    thread = threading.Thread(target=_prepare, name="docent-start", daemon=True)
    thread.start()
    return thread


def model_readiness() -> None:
    """Raises, saying why, until this process's embedding model is loaded (a /readyz check)."""
    if not get_embedder().prepared:
        raise RuntimeError(model_failure or "the embedding model is still loading")


def _prepare() -> None:
    global model_failure
    try:
        get_embedder().prepare()
    except Exception as exc:  # the process keeps serving what needs no model, and /readyz says why
        if _stopping():  # stopped (Ctrl-C) while the model loaded: nothing went wrong
            return
        logger.exception("The embedding model did not load")
        model_failure = f"the embedding model did not load: {type(exc).__name__}: {exc}"
        return
    try:
        # Imports the configured answer backend's code and loads what its first answer would wait for, before a
        # visitor's first question can.
        get_generator().prepare()
    except Exception:  # the first question tries again, and says what went wrong
        if _stopping():
            return
        logger.exception("The answer backend did not load")
    try:
        answer_cache.prepare()
    except Exception:  # the first question tries again; its answer is not cached if the cache is down
        if _stopping():
            return
        logger.warning("The answer cache could not be prepared", exc_info=True)
    try:
        warm_indexes()
    finally:
        connection.close()  # this thread's own connection


def _stopping() -> bool:
    """The process is on its way out: its main thread has returned, or the interpreter is shutting down,
    which makes a load still going on in this thread fail on the way."""
    return sys.is_finalizing() or not threading.main_thread().is_alive()


def warm_indexes() -> int:
    """Load every company's indexes that has ready data sources, least recently asked first; how many."""
    warmed = 0
    with rls.dangerously_all_companies(rls.WayAround.WARM_UP):
        companies = companies_least_recently_asked_first()
    for company_id in companies:
        try:
            with rls.company_transaction(company_id):
                company_indexes_warm(company_id=company_id)
            warmed += 1
        except Exception:  # a company left cold loads its indexes at its first question, as before
            logger.warning("Warming the indexes of company %s failed", company_id, exc_info=True)
    return warmed


def companies_least_recently_asked_first() -> list:
    last_question = Conversation.objects.filter(company=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    searchable = DataSource.objects.filter(company=OuterRef("pk"), status=DataSource.Status.READY)
    return list(Company.objects.filter(Exists(searchable)).annotate(asked=Subquery(last_question))
                .order_by(F("asked").asc(nulls_first=True)).values_list("id", flat=True))
