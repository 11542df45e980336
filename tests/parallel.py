"""The suite spread over the cores with pytest-xdist (`make test`): what each worker keeps to itself.

Loaded with `-p` (pyproject's addopts) so that it runs before pytest-django imports the settings. Each worker,
and every Docent process one of its tests starts (they inherit its environment), then uses a Redis database
and key prefix of its own: tests empty their Redis database between tests (tests/conftest.py), which must not
wipe another worker's cache, counts or channel layer mid-test. The test databases are per worker already
(pytest-django suffixes the PostgreSQL name with the worker id; on SQLite the settings name it by process id),
and so are clamd, ports (chosen by the kernel) and every test's files (under the worker's tmp_path).

The route guard (tests/test_isolation_guard.py) judges what the whole run exercised: the workers send the
routes their cross-company checks hit to the controller, which judges them once every worker has finished.
"""

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

REDIS_DATABASES = 16  # Redis's default `databases`
HIT_ROUTES_KEY = "isolation_hit_routes"


def worker_number() -> int | None:
    """0 for xdist's worker gw0, 1 for gw1…; None when this process is not an xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return int(worker.removeprefix("gw")) if worker else None


def redis_url_for_worker(url: str, number: int) -> str:
    """The worker's own database on the same Redis: the URL's database plus the worker's number, wrapping."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///path/to/redis.sock?db=N
        query = dict(parse_qsl(parts.query))
        query["db"] = str((int(query.get("db", 0)) + number) % REDIS_DATABASES)
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"
    database = (int(parts.path.strip("/") or 0) + number) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config):
    number = worker_number()
    if number is None:
        return
    if number >= REDIS_DATABASES:
        raise pytest.UsageError(f"At most {REDIS_DATABASES} xdist workers: each takes a Redis database of its own.")
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"], number)
    os.environ["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', 'docent')}-gw{number}"


def pytest_sessionfinish(session):
    from tests import isolation

    if worker_number() is not None:
        session.config.workeroutput[HIT_ROUTES_KEY] = sorted(isolation.HIT_ROUTES)
        return
    if _spread_over_workers(session.config):
        _judge_routes(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests import isolation

    isolation.HIT_ROUTES.update(getattr(node, "workeroutput", {}).get(HIT_ROUTES_KEY, ()))


def _spread_over_workers(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and config.option.dist != "no"


def _judge_routes(session) -> None:
    from tests.test_isolation_guard import GUARD_FAILURE, unguarded_routes, whole_suite_ran

    if not whole_suite_ran(session.config):
        return
    missing = unguarded_routes()
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.ensure_newline()
        reporter.write_sep("=", "isolation guard (tests/test_isolation_guard.py)", red=True)
        reporter.write_line(f"{GUARD_FAILURE}\n{missing}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
