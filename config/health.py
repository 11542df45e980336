"""/healthz: the process answers. /readyz: every dependency answers, the embedding model is loaded, and which
engines are on."""

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django_tasks_db.models import DBTaskResult

from chat.engines import engines
from config import startup
from config.middleware import outside_company_transaction
from config.public import public
from datasources.sandbox import ocr_notices

HEALTH = "a health probe: reports only whether services answer, no company data"


@public(HEALTH)
@outside_company_transaction
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache():
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("value written was not read back")
    cache.delete(key)


def _check_channel_layer():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "readyz.ping"})
    if async_to_sync(layer.receive)(channel).get("type") != "readyz.ping":
        raise RuntimeError("message sent was not received")


def _check_task_backend():
    DBTaskResult.objects.exists()


def _check_storage():
    default_storage.exists("readyz-probe")


CHECKS = {
    "database": _check_database,
    "cache": _check_cache,
    "channel_layer": _check_channel_layer,
    "task_backend": _check_task_backend,
    "storage": _check_storage,
    "embedding_model": startup.model_readiness,
}


@public(HEALTH)
@outside_company_transaction
@never_cache
def readyz(request):
    checks = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # a probe reports any failure instead of raising it
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        else:
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    ready = all(check["ok"] for check in checks.values())
    # What works less well than it could, without making the process unready.
    notices = ocr_notices()
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, "engines": engines(), "notices": notices},
        status=200 if ready else 503,
    )
