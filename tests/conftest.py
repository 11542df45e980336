import pytest
import time_machine
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import Company, User
from accounts.roles import Role
from config import sockets
from datasources.indexes.vector.local import LocalVectorIndex
from tests import isolation
from tests.clock import NOON

# `clamd`: a real clamd for virus-scanning tests; `receiver` and `endpoint`: a local webhook receiver.
pytest_plugins = ["tests.clamav", "tests.webhooks", "tests.rowsecurity", "tests.hangs"]

PASSWORD = "correct-horse-battery-staple"


def _user(email: str, company: Company | None, role: str, **extra) -> User:
    return User.objects.create_user(email=email, password=PASSWORD, name=email.split("@")[0],
                                    company=company, role=role, **extra)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores uploads in its own folder, never in the developer's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with empty rate-limit counters, caches (cached answers and question vectors too) and
    open-socket counts, whatever ran before it (a socket a test left open would otherwise count against the
    next test's caps)."""
    _clear_caches()
    sockets.socket_counts_reset()
    yield
    _clear_caches()


def _clear_caches():
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def at_noon():
    """The clock starts at NOON (UTC) and ticks on: "ten minutes later" is still the same day."""
    with time_machine.travel(NOON, tick=True):
        yield


@pytest.fixture
def one_window():
    """The clock stands still at NOON, so a rate limit's window (a minute, ending at a second of its own for each
    counter) cannot end between a test's questions however slow the machine: "the next one is refused" holds."""
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def local_models(settings):
    """The embedded defaults, whatever the environment says: MiniLM, the local index, quoted answers."""
    settings.EMBEDDING_BACKEND = "local"
    settings.VECTOR_BACKEND = "local"
    settings.ANSWER_BACKEND = "extractive"


@pytest.fixture
def language_model(local_models, settings):
    """Answers written by a language model: the local server speaking OpenAI's chat-completions API
    (tests/fakes/openai_server.py), which the test tells what to reply."""
    from tests.fakes.openai_server import running_openai

    with running_openai(api_key="sk-test") as server:
        settings.ANSWER_BACKEND = "openai"
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_CHAT_MODEL = "gpt-test"
        yield server


@pytest.fixture
def web():
    """The local vector index of the process answering questions: it keeps its copy of each company
    between changes, in a cache of its own, as a separate process would."""
    return LocalVectorIndex(cache_mb=64)


@pytest.fixture
def worker():
    """The local vector index of the process writing chunks, with a cache of its own."""
    return LocalVectorIndex(cache_mb=64)


@pytest.fixture
def two_web_processes(settings, tmp_path):
    """Two Daphne processes serving Docent on this test's database and sharing its Redis (channel layer,
    cache, socket counts), as web processes behind a load balancer do; their base URLs. Only with
    PostgreSQL and REDIS_URL (CI's second run); tests using it need `django_db(transaction=True)`."""
    from tests.worker_processes import WorkerProcesses, skip_unless_web_processes_can_share

    skip_unless_web_processes_can_share()

    with WorkerProcesses(tmp_path) as processes:
        yield [processes.serve(), processes.serve()]


@pytest.fixture
def handbook_bot(local_models, company_a):
    """Company A's chatbot over a three-page warehouse handbook (tests.chatting.WAREHOUSE)."""
    from tests.chatting import WAREHOUSE, add_source, bot  # it loads the ASGI app: not before Django is set up

    return bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))


@pytest.fixture
def company_a(db):
    return Company.objects.create(name="Acme Analytics")


@pytest.fixture
def company_b(db):
    return Company.objects.create(name="Bolt Brewing")


@pytest.fixture
def owner_a(company_a):
    return _user("owner@acme.test", company_a, Role.OWNER)


@pytest.fixture
def admin_a(company_a):
    return _user("admin@acme.test", company_a, Role.ADMIN)


@pytest.fixture
def member_a(company_a):
    return _user("member@acme.test", company_a, Role.MEMBER)


@pytest.fixture
def owner_b(company_b):
    return _user("owner@bolt.test", company_b, Role.OWNER)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@docent.test", password=PASSWORD)


@pytest.fixture
def api_client():
    """An API client logged in as the given user (Django session, as the browsable API uses)."""

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def outsider(owner_b, api_client) -> APIClient:
    """Company B's owner: every company-A object must answer 404 to this client."""
    return api_client(owner_b)


def pytest_collection_modifyitems(session, config, items):
    """The isolation guard reads what the whole run recorded, so it runs last."""
    items.sort(key=lambda item: item.nodeid.startswith(isolation.GUARD_NODE_PREFIX))
