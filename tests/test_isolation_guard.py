"""Fails for any route that no cross-company test exercised in this run, unless marked public."""

from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config.public import PUBLIC_NAMESPACES
from config.routing import websocket_urlpatterns
from tests.isolation import HIT_ROUTES, normalize_route
from tests.parallel import worker_number

TESTS_DIR = Path(__file__).resolve().parent
GUARD_FAILURE = ("These routes were not exercised by any cross-company test (tests/isolation.py helpers); "
                 "add one, or mark the view public with a reason (config.public.public).")


def _http_routes(patterns, prefix="", namespace=None):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _http_routes(entry.url_patterns, route, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield normalize_route(route), entry.callback, namespace


def whole_suite_ran(config) -> bool:
    args = [Path(arg.split("::")[0]).resolve() for arg in config.args] or [TESTS_DIR]
    return args == [TESTS_DIR] and not config.option.keyword and not config.option.markexpr


def unguarded_routes() -> list[str]:
    missing = set()
    for route, callback, namespace in _http_routes(get_resolver().url_patterns):
        if namespace in PUBLIC_NAMESPACES or getattr(callback, "public_reason", None):
            continue
        if route not in HIT_ROUTES:
            missing.add(route)
    for entry in websocket_urlpatterns:
        callback = getattr(entry, "callback", None)
        route = "ws:" + normalize_route(str(entry.pattern))
        if not getattr(callback, "public_reason", None) and route not in HIT_ROUTES:
            missing.add(route)
    return sorted(missing)


def test_every_route_has_a_cross_company_test(request):
    if not whole_suite_ran(request.config):
        pytest.skip("the guard judges only a run of the whole suite")
    if worker_number() is not None:
        pytest.skip("spread over xdist workers, the controller judges the routes once every worker has finished "
                    "(tests/parallel.py)")
    assert unguarded_routes() == [], GUARD_FAILURE


def test_guard_names_a_route_that_no_test_exercised(monkeypatch):
    monkeypatch.setattr("tests.test_isolation_guard.HIT_ROUTES", set())
    assert "api/company" in unguarded_routes()
    assert "healthz" not in unguarded_routes()  # marked public, with a reason
