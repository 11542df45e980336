"""Spread over xdist workers, each worker empties only its own Redis database between tests (tests/parallel.py)."""

import os

import pytest
from django.conf import settings

from tests.parallel import redis_url_for_worker, worker_number


@pytest.mark.parametrize(("url", "number", "expected"), [
    ("redis://127.0.0.1:6379/14", 0, "redis://127.0.0.1:6379/14"),
    ("redis://127.0.0.1:6379/14", 1, "redis://127.0.0.1:6379/15"),
    ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/0"),
    ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/2"),
    ("rediss://user:secret@cache.internal:6380/3", 1, "rediss://user:secret@cache.internal:6380/4"),
    ("unix:///run/redis.sock?db=5", 1, "unix:///run/redis.sock?db=6"),
])
def test_each_worker_takes_the_next_redis_database(url, number, expected):
    assert redis_url_for_worker(url, number) == expected


def test_a_worker_and_the_processes_it_starts_use_its_own_database_and_prefix():
    number = worker_number()
    if number is None:
        pytest.skip("not an xdist worker (`make test` runs the suite on several)")
    assert settings.CACHE_KEY_PREFIX.endswith(f"-gw{number}")
    assert os.environ["CACHE_KEY_PREFIX"] == settings.CACHE_KEY_PREFIX  # what a started Daphne or worker reads
    if settings.REDIS_URL:
        assert os.environ["REDIS_URL"] == settings.REDIS_URL == settings.CACHES["default"]["LOCATION"]
